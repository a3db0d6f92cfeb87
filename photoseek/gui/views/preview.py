"""The preview pane: the current photo scaled to fit, and what is known about it.

The photo is decoded through core off the GUI thread at about the pane's size
(the grid's thumbnail stands in meanwhile) and decoded again, larger, only
when the pane grows well past what was loaded. Below it: the name, the path
(``display_path``: one line, exact even for undecodable names), dimensions,
date, file size, format and score, the tags, and the camera RAW a JPEG or
HEIF was shot with (its *original*: a RAW beside it, of the same stem, which
the library indexes as this photo). Tags and the original are read off the
GUI thread and handed in (:meth:`PreviewPane.set_tags`,
:meth:`PreviewPane.set_original`). Arrow keys step through the results
(``step_requested``); Enter opens the viewer (``open_requested``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeyEvent, QPixmap, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QFormLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from photoseek.gui.models.results import ResultRow, format_size, photo_date
from photoseek.gui.workers.thumbnails import ImageLoader
from photoseek.pathtext import display_path

__all__ = ["ElidedLabel", "PhotoImage", "PreviewPane"]

_RELOAD_GROWTH = 1.25  # decode again when the pane is this much larger than the loaded image
_RESIZE_REST_MS = 150


class ElidedLabel(QLabel):
    """One line of text elided in the middle to fit; the whole text is its tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def full_text(self) -> str:
        """The text before eliding."""
        return self._full

    def set_full_text(self, text: str) -> None:
        """Show ``text`` (elided to the width)."""
        self._full = text
        self.setToolTip(text)
        self.setAccessibleDescription(text)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), 40)
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, width))


class PhotoImage(QLabel):
    """A pixmap scaled to fill the label, aspect kept, centred."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(QSize(120, 90))

    def source(self) -> QPixmap | None:
        """The unscaled pixmap shown."""
        return self._source

    def set_source(self, pixmap: QPixmap | None, text: str = "") -> None:
        """Show ``pixmap`` (None: ``text`` instead)."""
        self._source = pixmap
        if pixmap is None:
            self.clear()
            self.setText(text)
        self._rescale()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._source is None or self._source.isNull():
            return
        ratio = self.devicePixelRatioF()
        box = QSize(round(self.width() * ratio), round(self.height() * ratio))
        scaled = self._source.scaled(
            box, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        scaled.setDevicePixelRatio(ratio)
        self.setPixmap(scaled)


class PreviewPane(QWidget):
    """The side pane showing the current photo and its metadata."""

    open_requested = Signal()
    step_requested = Signal(int)  # -1 previous, +1 next

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Preview")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._row: ResultRow | None = None
        # (photo id, decoded size or None, error) of the photo shown, once decoded
        self.decoded: tuple[int, QSize | None, str] | None = None
        self._ticket = 0
        self._loaded_side = 0
        self._loader = ImageLoader(self)
        self._loader.loaded.connect(self._image_loaded)
        self._resized = QTimer(self)
        self._resized.setSingleShot(True)
        self._resized.setInterval(_RESIZE_REST_MS)
        self._resized.timeout.connect(self._reload_if_grown)
        self.image = PhotoImage(self)
        self.image.setAccessibleName("Preview image")
        self.name_label = ElidedLabel(self)
        self.name_label.setAccessibleName("File name")
        font = self.name_label.font()
        font.setBold(True)
        self.name_label.setFont(font)
        self.path_label = ElidedLabel(self)
        self.path_label.setAccessibleName("Path")
        self.fields: dict[str, QLabel] = {}
        self._layout()
        self.show_row(None)

    def _layout(self) -> None:
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        for name in ("Dimensions", "Date", "Size", "Type", "Score", "Status", "Tags", "Original"):
            label = QLabel(self)
            label.setAccessibleName(name)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[name] = label
            form.addRow(f"{name}:", label)
        column = QVBoxLayout(self)
        column.addWidget(self.image, 1)
        column.addWidget(self.name_label)
        column.addWidget(self.path_label)
        column.addLayout(form)

    # -- public -----------------------------------------------------------------------

    def row(self) -> ResultRow | None:
        """The photo shown."""
        return self._row

    def show_row(self, row: ResultRow | None, placeholder: QPixmap | None = None) -> None:
        """Show ``row`` (None: nothing selected); ``placeholder`` stands in until decoded."""
        same_photo = (
            row is not None
            and self._row is not None
            and row.record.id == self._row.record.id
            and row.record.fingerprint == self._row.record.fingerprint
        )
        self._row = row
        self._fill_fields(row)
        if same_photo:
            return
        self.fields["Tags"].setText("")  # read for the new photo (set_tags)
        self.fields["Original"].setText("")  # likewise (set_original)
        self._ticket += 1
        self._loaded_side = 0
        self.decoded = None
        self._loader.clear()
        if row is None:
            self.image.set_source(None, "No photo selected")
            return
        self.image.set_source(placeholder, "Loading…")
        if self.isVisible():
            self._request()

    def set_tags(self, photo_id: int, tags: list[str]) -> None:
        """The tags of ``photo_id``, once read (ignored if another photo is shown by then)."""
        if self._row is not None and self._row.record.id == photo_id:
            self.fields["Tags"].setText(", ".join(tags))
            self.fields["Tags"].setWordWrap(True)

    def set_original(self, photo_id: int, original: Path | None) -> None:
        """The RAW original of ``photo_id`` (None: it has none), once found (ignored if another
        photo is shown by then)."""
        if self._row is not None and self._row.record.id == photo_id:
            label = self.fields["Original"]
            label.setText("" if original is None else display_path(original))
            label.setToolTip(label.text())
            label.setWordWrap(True)

    def shutdown(self) -> None:
        """Stop decoding."""
        self._loader.shutdown()

    # -- events -----------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self.step_requested.emit(-1)
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self.step_requested.emit(1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_requested.emit()
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._resized.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._row is not None and self._loaded_side == 0:
            self._request()

    # -- internals --------------------------------------------------------------------

    def _wanted_side(self) -> int:
        ratio = self.devicePixelRatioF()
        return max(256, round(max(self.image.width(), self.image.height()) * ratio))

    def _request(self) -> None:
        if self._row is None:
            return
        side = self._wanted_side()
        self._loaded_side = side
        self._loader.request((self._ticket, side), self._row.record.path, side)

    def _reload_if_grown(self) -> None:
        if self._row is not None and self._wanted_side() > self._loaded_side * _RELOAD_GROWTH:
            self._loader.clear()
            self._request()

    def _image_loaded(self, key: object, image: QImage | None, error: str) -> None:
        ticket, _side = key  # type: ignore[misc]
        if ticket != self._ticket:
            return  # a photo the user has moved past
        if self._row is not None:
            self.decoded = (self._row.record.id, None if image is None else image.size(), error)
        if image is None:
            self.image.set_source(None, error or "Cannot show this photo")
            return
        self.image.set_source(QPixmap.fromImage(image))

    def _fill_fields(self, row: ResultRow | None) -> None:
        if row is None:
            self.name_label.set_full_text("")
            self.path_label.set_full_text("")
            for label in self.fields.values():
                label.setText("")
            return
        record = row.record
        self.name_label.set_full_text(display_path(record.path.name))
        self.path_label.set_full_text(display_path(record.path))
        dims = f"{record.width} × {record.height}" if record.width and record.height else "unknown"
        label, when = photo_date(record)
        self.fields["Dimensions"].setText(dims)
        self.fields["Date"].setText(f"{when} ({label.lower()})")
        self.fields["Size"].setText(format_size(record.size))
        self.fields["Type"].setText((record.format or "unknown").upper())
        self.fields["Score"].setText("" if row.score is None else f"{row.score:.3f}")
        self.fields["Status"].setText(
            "available" if record.folder_available else "offline: its disk is not connected"
        )
