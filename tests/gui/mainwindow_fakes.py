"""Stand-ins for what the window's tests replace: the search pane, the tray, the dialogs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QWidget

from photoseek.core.records import ChangeSet
from photoseek.gui.context import AppContext
from photoseek.gui.workers.sources import SearchRequest


class StubActions(QObject):
    """The pane's photo actions: one edit action (Copy), one photo action."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        from PySide6.QtGui import QKeySequence

        self.copy = QAction("Copy Image", self)
        self.copy.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Copy))
        self.reveal = QAction("Show in Folder", self)

    def actions(self) -> list[QAction]:
        return [self.copy, self.reveal]


class StubPane(QWidget):
    """The search pane's interface, recording what the window asks of it."""

    status_message = Signal(str)
    count_changed = Signal(str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.folders: list[Path | None] = []
        self.focused = 0
        self.images: list[Path] = []
        self.changes: list[ChangeSet] = []
        self.thumbnail_sizes: list[int] = []
        self.previews: list[bool] = []
        self.shut_down = False
        self.tags_shown: list[str | None] = []
        self.albums_shown: list[object] = []
        self.tag_counts: list[tuple[str, int]] = []
        self.hidden = 0
        self.refreshed = 0
        self._actions = StubActions(self)

    def show_folder(self, folder: Path | None) -> None:
        self.folders.append(folder)

    def show_tag(self, tag: str | None) -> None:
        self.tags_shown.append(tag)

    def show_album(self, album: object) -> None:
        self.albums_shown.append(album)

    def set_tags(self, counts: list[tuple[str, int]]) -> None:
        self.tag_counts = counts

    def set_hidden_count(self, count: int) -> None:
        self.hidden = count

    def request(self) -> SearchRequest:
        return SearchRequest()

    def refresh_request(self) -> None:
        self.refreshed += 1

    def focus_search(self) -> None:
        self.focused += 1

    def search_image(self, path: Path) -> None:
        self.images.append(path)

    def apply_changes(self, changes: ChangeSet) -> None:
        self.changes.append(changes)

    def photo_actions(self) -> StubActions:
        return self._actions

    def set_thumbnail_size(self, size: int) -> None:
        self.thumbnail_sizes.append(size)

    def set_preview_visible(self, visible: bool) -> None:
        self.previews.append(visible)

    def shutdown(self) -> None:
        self.shut_down = True


class FakeTray(QObject):
    """A tray icon that records its notifications (offscreen has no tray)."""

    show_requested = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.visible = False
        self.notifications: list[tuple[str, str]] = []
        self.tooltip = ""
        self.pause_action: QAction | None = None

    def show(self) -> None:
        self.visible = True

    def hide(self) -> None:
        self.visible = False

    def notify(self, title: str, text: str) -> None:
        self.notifications.append((title, text))

    def set_tooltip(self, text: str) -> None:
        self.tooltip = text


def fake_tray_factory(trays: list[FakeTray]):  # type: ignore[no-untyped-def]
    """A TrayFactory making FakeTrays (collected in ``trays``)."""

    def make(icon: QIcon, pause_action: QAction, parent: QObject) -> FakeTray:
        tray = FakeTray(parent)
        tray.pause_action = pause_action
        trays.append(tray)
        return tray

    return make


def no_tray(icon: QIcon, pause_action: QAction, parent: QObject) -> None:
    """A desktop without a system tray."""
    return None


class AnsweringPrompts:
    """FolderPrompts answered by the test."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.remove_answer = True
        self.removal_asked: list[tuple[Path, int]] = []
        self.excludes: list[str] | None = None
        self.excludes_shown: list[list[str]] = []
        self.new_location: Path | None = None

    def choose_folder(self, parent: QWidget) -> Path | None:
        return self.folder

    def confirm_remove(self, parent: QWidget, folder: Path, photos: int) -> bool:
        self.removal_asked.append((folder, photos))
        return self.remove_answer

    def edit_excludes(self, parent: QWidget, folder: Path, patterns: list[str]) -> list[str] | None:
        self.excludes_shown.append(patterns)
        return self.excludes

    def choose_new_location(self, parent: QWidget, folder: Path) -> Path | None:
        return self.new_location
