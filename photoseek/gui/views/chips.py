"""Image queries shown as removable chips (a tiny picture, the name, and ×) beside the text.

A chip stands for one ``QueryTerm(1.0, image=path)``: a dropped or pasted
image, or "Find similar" on a result (an indexed photo: the core then uses its
stored vector). The chip's picture is decoded through core off the GUI thread.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from photoseek.gui.workers.thumbnails import ImageLoader
from photoseek.pathtext import display_path

__all__ = ["ChipBar", "ImageChip"]

CHIP_PICTURE = 24
_NAME_CHARS = 18


class ImageChip(QFrame):
    """One image query: picture, name, remove button."""

    remove_requested = Signal(object)  # the chip's path

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        name = display_path(path.name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("imageChip")
        self.setAccessibleName(f"Image query {name}")
        self.setToolTip(display_path(path))
        self.picture = QLabel(self)
        self.picture.setFixedSize(QSize(CHIP_PICTURE, CHIP_PICTURE))
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setAccessibleName(f"Picture of {name}")
        short = name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "…"
        self.label = QLabel(short, self)
        self.remove_button = QToolButton(self)
        self.remove_button.setText("×")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setAccessibleName(f"Remove image query {name}")
        self.remove_button.setToolTip("Remove this image from the query")
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.path))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(3, 1, 1, 1)
        layout.setSpacing(3)
        layout.addWidget(self.picture)
        layout.addWidget(self.label)
        layout.addWidget(self.remove_button)

    def set_image(self, image: QImage | None) -> None:
        """Show the chip's picture (None: the file could not be decoded)."""
        if image is None or image.isNull():
            self.picture.setText("?")
            return
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap.fromImage(image).scaled(
            round(CHIP_PICTURE * ratio),
            round(CHIP_PICTURE * ratio),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        pixmap.setDevicePixelRatio(ratio)
        self.picture.setPixmap(pixmap)


class ChipBar(QWidget):
    """The image chips of the current query, in the order they were added."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Image queries")
        self._chips: dict[str, ImageChip] = {}
        self._loader = ImageLoader(self)
        self._loader.loaded.connect(self._picture_loaded)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.setVisible(False)

    def images(self) -> tuple[Path, ...]:
        """The chips' image paths, oldest first."""
        return tuple(chip.path for chip in self._chips.values())

    def chips(self) -> list[ImageChip]:
        """The chip widgets, oldest first."""
        return list(self._chips.values())

    def add_image(self, path: Path) -> bool:
        """Add a chip for ``path`` (False if it is there already)."""
        key = os.fspath(path)
        if key in self._chips:
            return False
        chip = ImageChip(path, self)
        chip.remove_requested.connect(self.remove_image)
        self._chips[key] = chip
        self._layout.addWidget(chip)
        self.setVisible(True)
        self._loader.request(key, path, CHIP_PICTURE * 4)
        self.changed.emit()
        return True

    def remove_image(self, path: Path) -> None:
        """Remove the chip of ``path``."""
        chip = self._chips.pop(os.fspath(path), None)
        if chip is None:
            return
        chip.deleteLater()
        self.setVisible(bool(self._chips))
        self.changed.emit()

    def remove_last(self) -> bool:
        """Remove the newest chip (Backspace in an empty search field); False if none."""
        if not self._chips:
            return False
        self.remove_image(next(reversed(self._chips.values())).path)
        return True

    def clear(self) -> None:
        """Remove every chip (one ``changed``)."""
        if not self._chips:
            return
        for chip in self._chips.values():
            chip.deleteLater()
        self._chips.clear()
        self.setVisible(False)
        self.changed.emit()

    def shutdown(self) -> None:
        """Stop decoding pictures."""
        self._loader.shutdown()

    def _picture_loaded(self, key: object, image: QImage | None, _error: str) -> None:
        chip = self._chips.get(str(key))
        if chip is not None:
            chip.set_image(image)
