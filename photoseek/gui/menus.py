"""The window's menus; platform shortcuts with a fallback; where the pane's actions go.

``QKeySequence.StandardKey`` gives each platform its own convention (Cmd+Q
on macOS, Ctrl+Q on Linux); where a platform has none (Windows has no Quit
key), the fallback applies. The search pane's photo actions are split
between the Edit menu (copy, select all, delete ...: the standard editing
keys, or an action whose ``menu`` property is ``"edit"``) and the Photo menu.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu

from photoseek.gui.settings import THUMBNAIL_SIZES

if TYPE_CHECKING:
    from photoseek.gui.mainwindow import MainWindow

_EDIT_KEYS = (
    QKeySequence.StandardKey.Copy,
    QKeySequence.StandardKey.Cut,
    QKeySequence.StandardKey.Paste,
    QKeySequence.StandardKey.SelectAll,
    QKeySequence.StandardKey.Delete,
    QKeySequence.StandardKey.Undo,
    QKeySequence.StandardKey.Redo,
    QKeySequence.StandardKey.Deselect,
)


def add_shortcuts(action: QAction, standard: QKeySequence.StandardKey, fallback: str) -> None:
    """Give ``action`` the platform's shortcuts for ``standard``, else ``fallback``."""
    bindings = QKeySequence.keyBindings(standard)
    action.setShortcuts(bindings if bindings else [QKeySequence(fallback)])


def is_edit_action(action: QAction) -> bool:
    """Whether an action belongs in the Edit menu."""
    if action.property("menu") == "edit":
        return True
    shortcuts = {key.toString() for key in action.shortcuts() if not key.isEmpty()}
    edit_keys = {
        key.toString() for standard in _EDIT_KEYS for key in QKeySequence.keyBindings(standard)
    }
    return bool(shortcuts & edit_keys)


def split_photo_actions(actions: list[QAction]) -> tuple[list[QAction], list[QAction]]:
    """(Edit menu actions, Photo menu actions), each in the order given."""
    edit = [action for action in actions if is_edit_action(action)]
    return edit, [action for action in actions if action not in edit]


def build_menus(
    window: MainWindow, pane_actions: tuple[list[QAction], list[QAction]]
) -> dict[int, QAction]:
    """The window's menu bar: File, Edit, Photo, View, Library, Help; returns the View
    menu's thumbnail-size actions by size."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(window.add_folder_action)
    file_menu.addAction(window.save_album_action)
    file_menu.addSeparator()
    file_menu.addAction(window.settings_action)
    file_menu.addSeparator()
    file_menu.addActions([window.close_action, window.quit_action])
    edit_actions, photo_actions = pane_actions
    edit_menu = bar.addMenu("&Edit")
    edit_menu.addActions(edit_actions)
    if edit_actions:
        edit_menu.addSeparator()
    edit_menu.addAction(window.find_action)
    photo_menu = bar.addMenu("&Photo")
    photo_menu.addActions(photo_actions)
    photo_menu.setEnabled(bool(photo_actions))
    sizes = _build_view_menu(window, bar.addMenu("&View"))
    library_menu = bar.addMenu("&Library")
    library_menu.addActions([window.pause_action, window.rescan_action, window.retry_action])
    library_menu.addSeparator()
    library_menu.addAction(window.folders_action)
    library_menu.addActions(window.panel.actions_for_menu()[1:])
    library_menu.addSeparator()
    library_menu.addAction(window.duplicates_action)
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(window.about_action)
    return sizes


def _build_view_menu(window: MainWindow, menu: QMenu) -> dict[int, QAction]:
    menu.addAction(window.preview_action)
    sizes = menu.addMenu("Thumbnail Size")
    group = QActionGroup(window)  # kept by its parent, the window
    by_size: dict[int, QAction] = {}
    for size in THUMBNAIL_SIZES:
        action = sizes.addAction(f"{size} px")
        action.setCheckable(True)
        action.setChecked(size == window.settings.thumbnail_size)
        action.triggered.connect(lambda _checked=False, s=size: window.set_thumbnail_size(s))
        group.addAction(action)
        by_size[size] = action
    menu.addActions([window.larger_action, window.smaller_action])
    menu.addSeparator()
    menu.addAction(window.full_screen_action)
    window.addActions([window.find_action, window.folders_action, window.full_screen_action])
    return by_size
