"""Menu helpers: platform shortcuts with a fallback, and where the pane's actions go.

``QKeySequence.StandardKey`` gives each platform its own convention (Cmd+Q
on macOS, Ctrl+Q on Linux); where a platform has none (Windows has no Quit
key), the fallback applies. The search pane's photo actions are split
between the Edit menu (copy, select all, delete ...: the standard editing
keys, or an action whose ``menu`` property is ``"edit"``) and the Photo menu.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

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
