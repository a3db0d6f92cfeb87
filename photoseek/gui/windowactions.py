"""The main window's own actions: File, View and Help entries with their shortcuts.

Apart from :mod:`.mainwindow` so that the window module keeps to its wiring;
:func:`build_window_actions` makes each action an attribute of the window
(the menus, the tray and the tests find them there). The photo actions are
the search pane's (:mod:`.actions`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle

from photoseek.gui.albumsave import AlbumSaver
from photoseek.gui.menus import add_shortcuts

if TYPE_CHECKING:
    from photoseek.gui.mainwindow import MainWindow

__all__ = ["build_window_actions"]


def _action(window: MainWindow, text: str, slot: Callable[[], object] | None = None) -> QAction:
    """A window action named ``text`` that calls ``slot`` when triggered."""
    action = QAction(text, window)
    if slot is not None:
        action.triggered.connect(lambda _checked=False: slot())
    return action


def build_window_actions(window: MainWindow) -> None:
    """Make the window's own actions (its menus' entries and shortcuts) as its attributes."""
    window.add_folder_action = window.panel.add_action
    window.add_folder_action.setShortcut(QKeySequence("Ctrl+Shift+O"))  # Open opens photos
    window.albums = AlbumSaver(
        window,
        window.context.library,
        window.calls,
        lambda text: window.notices.show_notice(text, key="album"),
        lambda _album: window.panel.refresh(),
    )
    window.save_album_action = _action(
        window, "Save Search as Album…", lambda: window.albums.save(window.pane.request())
    )
    window.settings_action = _action(window, "Settings…", window.open_settings)
    window.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
    add_shortcuts(window.settings_action, QKeySequence.StandardKey.Preferences, "Ctrl+,")
    window.close_action = _action(window, "Close Window", window.close)
    add_shortcuts(window.close_action, QKeySequence.StandardKey.Close, "Ctrl+W")
    window.quit_action = _action(window, "Quit photoseek", window.request_quit)
    window.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    add_shortcuts(window.quit_action, QKeySequence.StandardKey.Quit, "Ctrl+Q")
    window.find_action = _action(window, "Find…", window.pane.focus_search)
    add_shortcuts(window.find_action, QKeySequence.StandardKey.Find, "Ctrl+F")
    window.folders_action = _action(window, "Go to Folders", window.panel.focus_folders)
    window.folders_action.setShortcut(QKeySequence("Ctrl+L"))
    window.pause_action = _action(window, "Pause Indexing")
    window.pause_action.setCheckable(True)
    window.pause_action.setToolTip("Pause or resume indexing (changes on disk are still followed)")
    window.pause_action.setIcon(window.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))
    window.pause_action.toggled.connect(window._pause_toggled)
    window.rescan_action = _action(window, "Rescan Folders", window.rescan)
    window.rescan_action.setToolTip("Compare every folder with the disk now")
    window.retry_action = _action(window, "Try Problem Files Again", window.panel.retry_problems)
    window.duplicates_action = _action(window, "Find Duplicates…", window.open_duplicates)
    window.preview_action = _action(window, "Show Preview")
    window.preview_action.setCheckable(True)
    window.preview_action.setChecked(window.settings.preview_visible)
    window.preview_action.toggled.connect(window._preview_toggled)
    window.preview_action.setShortcut(QKeySequence("Ctrl+I"))
    window.larger_action = _action(window, "Larger Thumbnails", lambda: window._step_thumbnails(1))
    add_shortcuts(window.larger_action, QKeySequence.StandardKey.ZoomIn, "Ctrl++")
    window.larger_action.setShortcuts([*window.larger_action.shortcuts(), QKeySequence("Ctrl+=")])
    window.smaller_action = _action(
        window, "Smaller Thumbnails", lambda: window._step_thumbnails(-1)
    )
    add_shortcuts(window.smaller_action, QKeySequence.StandardKey.ZoomOut, "Ctrl+-")
    window.full_screen_action = _action(window, "Full Screen", window.toggle_full_screen)
    window.full_screen_action.setCheckable(True)
    add_shortcuts(window.full_screen_action, QKeySequence.StandardKey.FullScreen, "F11")
    window.about_action = _action(window, "About photoseek", window.about)
    window.about_action.setMenuRole(QAction.MenuRole.AboutRole)
