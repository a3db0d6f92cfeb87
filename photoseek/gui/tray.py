"""The system tray icon: indexing goes on after the window closes.

Its menu: Show photoseek, Pause/Resume indexing (the window's own action),
Quit. The main window reaches the tray only through :class:`Tray` and gets
it from a :data:`TrayFactory`, so tests give it a fake one (offscreen, and
on desktops without a tray, :func:`system_tray` returns None: closing the
window then quits).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, Signal, SignalInstance
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

log = logging.getLogger(__name__)

NOTIFY_MS = 8000


class Tray(Protocol):
    """What the main window needs of a tray icon."""

    show_requested: SignalInstance
    quit_requested: SignalInstance

    def show(self) -> None:
        """Put the icon in the tray."""
        ...

    def hide(self) -> None:
        """Take the icon out of the tray."""
        ...

    def notify(self, title: str, text: str) -> None:
        """A passing notification (a balloon), never a dialog."""
        ...

    def set_tooltip(self, text: str) -> None:
        """What hovering over the icon says (what indexing does)."""
        ...


TrayFactory = Callable[[QIcon, QAction, QObject], "Tray | None"]


class SystemTray(QObject):
    """A :class:`QSystemTrayIcon` with photoseek's menu."""

    show_requested = Signal()
    quit_requested = Signal()

    def __init__(self, icon: QIcon, pause_action: QAction, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(icon, self)
        self.icon.setToolTip("photoseek")
        self.menu = QMenu()
        show = self.menu.addAction("Show photoseek")
        show.triggered.connect(self.show_requested.emit)
        self.menu.addAction(pause_action)
        self.menu.addSeparator()
        quit_action = self.menu.addAction("Quit photoseek")
        quit_action.triggered.connect(self.quit_requested.emit)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_requested.emit()

    def show(self) -> None:
        """Put the icon in the tray."""
        self.icon.show()

    def hide(self) -> None:
        """Take the icon out of the tray."""
        self.icon.hide()

    def notify(self, title: str, text: str) -> None:
        """A tray balloon or desktop notification."""
        self.icon.showMessage(title, text, self.icon.icon(), NOTIFY_MS)

    def set_tooltip(self, text: str) -> None:
        """The icon's tooltip."""
        self.icon.setToolTip(text)


def system_tray(icon: QIcon, pause_action: QAction, parent: QObject) -> Tray | None:
    """The desktop's tray icon, or None where the desktop has no system tray."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        log.info("no system tray on this desktop: closing the window quits")
        return None
    return SystemTray(icon, pause_action, parent)
