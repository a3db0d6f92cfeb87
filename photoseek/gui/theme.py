"""The app's look: the system's light or dark scheme, and the app icon.

Qt 6.5+ tells the system's colour scheme (``QStyleHints.colorScheme()``)
and when it changes (``colorSchemeChanged``). Most platform themes already
give a matching palette; where the style's palette does not match the
scheme (some Linux desktops, the Windows "vista" style), :class:`ThemeFollower`
sets a light or dark palette of its own. Views take every colour from the
palette, so they follow at once.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from photoseek.resources import ICON_SVG, icon_files, resource

log = logging.getLogger(__name__)

_Role = QPalette.ColorRole
_Group = QPalette.ColorGroup

_DARK = {
    _Role.Window: "#232427",
    _Role.WindowText: "#e6e6e6",
    _Role.Base: "#1b1c1f",
    _Role.AlternateBase: "#26282c",
    _Role.ToolTipBase: "#2d2f33",
    _Role.ToolTipText: "#e6e6e6",
    _Role.PlaceholderText: "#8b8d92",
    _Role.Text: "#e6e6e6",
    _Role.Button: "#2d2f33",
    _Role.ButtonText: "#e6e6e6",
    _Role.BrightText: "#ff6b6b",
    _Role.Light: "#3a3c41",
    _Role.Midlight: "#33353a",
    _Role.Mid: "#2a2c30",
    _Role.Dark: "#151618",
    _Role.Shadow: "#0b0b0c",
    _Role.Highlight: "#3d7ed6",
    _Role.HighlightedText: "#ffffff",
    _Role.Link: "#6ea8ff",
    _Role.LinkVisited: "#b18cff",
}
_LIGHT = {
    _Role.Window: "#f2f2f3",
    _Role.WindowText: "#1d1d1f",
    _Role.Base: "#ffffff",
    _Role.AlternateBase: "#f5f5f7",
    _Role.ToolTipBase: "#ffffdc",
    _Role.ToolTipText: "#1d1d1f",
    _Role.PlaceholderText: "#7a7a80",
    _Role.Text: "#1d1d1f",
    _Role.Button: "#e9e9eb",
    _Role.ButtonText: "#1d1d1f",
    _Role.BrightText: "#d70015",
    _Role.Light: "#ffffff",
    _Role.Midlight: "#f0f0f0",
    _Role.Mid: "#b8b8bc",
    _Role.Dark: "#a0a0a5",
    _Role.Shadow: "#6e6e73",
    _Role.Highlight: "#2f6fb3",
    _Role.HighlightedText: "#ffffff",
    _Role.Link: "#0a5bc4",
    _Role.LinkVisited: "#6a3fb5",
}
_DISABLED = (_Role.WindowText, _Role.Text, _Role.ButtonText)


def make_palette(dark: bool) -> QPalette:
    """A complete light or dark palette (disabled text dimmed)."""
    palette = QPalette()
    for role, colour in (_DARK if dark else _LIGHT).items():
        palette.setColor(role, QColor(colour))
    dimmed = palette.color(_Role.PlaceholderText)
    for role in _DISABLED:
        palette.setColor(_Group.Disabled, role, dimmed)
    return palette


def is_dark(palette: QPalette) -> bool:
    """Whether a palette draws light text on a dark window."""
    return palette.color(_Role.Window).lightness() < palette.color(_Role.WindowText).lightness()


class ThemeFollower(QObject):
    """Keeps the app's palette on the system's light or dark scheme."""

    changed = Signal(bool)  # dark

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        self.dark = is_dark(app.palette())
        app.styleHints().colorSchemeChanged.connect(self.follow)
        self.follow(app.styleHints().colorScheme())

    def follow(self, scheme: Qt.ColorScheme) -> None:
        """Match ``scheme`` (an unknown scheme keeps what the platform gives)."""
        if scheme == Qt.ColorScheme.Unknown:
            return
        dark = scheme == Qt.ColorScheme.Dark
        if is_dark(self.app.palette()) != dark:
            if dark and self.app.style().name().lower() == "windowsvista":
                self.app.setStyle("Fusion")  # the vista style draws no dark controls
            self.app.setPalette(make_palette(dark))
            log.debug("palette set for the %s scheme", "dark" if dark else "light")
        if dark != self.dark:
            self.dark = dark
            self.changed.emit(dark)


def app_icon() -> QIcon:
    """The app icon: every PNG size, and the SVG for the rest (empty if resources are missing)."""
    icon = QIcon()
    try:
        for size, path in icon_files().items():
            icon.addFile(str(path), QSize(size, size))
        icon.addFile(str(resource(ICON_SVG)))
    except FileNotFoundError as exc:
        log.warning("app icon: %s", exc)
    return icon


def apply_app_identity(app: QGuiApplication) -> None:
    """Names the desktop matches (.desktop file, WM_CLASS, Wayland app id) and the icon."""
    app.setApplicationName("photoseek")
    app.setApplicationDisplayName("photoseek")
    app.setOrganizationName("photoseek")
    app.setDesktopFileName("photoseek")
    app.setWindowIcon(app_icon())
