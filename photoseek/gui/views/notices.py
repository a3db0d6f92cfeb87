"""Non-modal messages above the content: one sentence, an optional button, a close box.

The app never stops on an error and never blocks on a dialog it was not
asked for: a vanished folder, a full disk, a library another process
writes, a model that cannot be loaded each become one :class:`Notice` in
the :class:`NoticeBar`. A notice with a ``key`` replaces the one shown with
the same key (and :meth:`NoticeBar.dismiss` takes it away when the cause is
gone); the same sentence is never shown twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

ERROR, WARNING, INFO = "error", "warning", "info"
_TINTS = {ERROR: "#d64545", WARNING: "#d9a21b", INFO: "#3d7ed6"}


class Notice(QFrame):
    """One message row."""

    closed = Signal()

    def __init__(
        self,
        text: str,
        level: str = ERROR,
        action: tuple[str, Callable[[], None]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.text = text
        self.level = level
        self.setObjectName("notice")
        self.setAccessibleName(f"{level}: {text}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self._tint()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel(text, self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self.button: QPushButton | None = None
        if action is not None:
            caption, callback = action
            self.button = QPushButton(caption, self)
            self.button.setAccessibleName(caption)
            self.button.clicked.connect(callback)
            layout.addWidget(self.button)
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAccessibleName("Dismiss this message")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.closed.emit)
        layout.addWidget(self.close_button)

    def _tint(self) -> None:
        """A background between the window colour and the level's colour (from the palette)."""
        palette = QPalette(QApplication.palette(self))
        base = palette.color(QPalette.ColorRole.Window)
        tint = QColor(_TINTS.get(self.level, _TINTS[INFO]))
        mixed = QColor(
            (base.red() * 4 + tint.red()) // 5,
            (base.green() * 4 + tint.green()) // 5,
            (base.blue() * 4 + tint.blue()) // 5,
        )
        palette.setColor(QPalette.ColorRole.Window, mixed)
        self.setPalette(palette)

    def event(self, event: QEvent) -> bool:
        """Re-tint when the app's palette changes (a light/dark switch)."""
        if event.type() == QEvent.Type.ApplicationPaletteChange:
            self._tint()
        return super().event(event)


class NoticeBar(QWidget):
    """A stack of notices; hidden when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Messages")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 6, 6, 0)
        self._layout.setSpacing(4)
        self._notices: dict[str, Notice] = {}
        self.setVisible(False)

    def show_notice(
        self,
        text: str,
        *,
        key: str | None = None,
        level: str = ERROR,
        action: tuple[str, Callable[[], None]] | None = None,
    ) -> Notice:
        """Show ``text`` (replacing the notice with the same key, or the same text)."""
        key = key or text
        existing = self._notices.get(key)
        if existing is not None and existing.text == text:
            return existing
        self.dismiss(key)
        notice = Notice(text, level, action, self)
        notice.closed.connect(lambda: self.dismiss(key))
        self._notices[key] = notice
        self._layout.addWidget(notice)
        self.setVisible(True)
        log.info("notice (%s): %s", level, text)
        return notice

    def dismiss(self, key: str) -> None:
        """Take the notice with ``key`` away (no-op if there is none)."""
        notice = self._notices.pop(key, None)
        if notice is not None:
            self._layout.removeWidget(notice)
            notice.hide()
            notice.deleteLater()
        self.setVisible(bool(self._notices))

    def texts(self) -> list[str]:
        """The sentences shown, oldest first."""
        return [notice.text for notice in self._notices.values()]

    def notice(self, key: str) -> Notice | None:
        """The notice shown under ``key``."""
        return self._notices.get(key)
