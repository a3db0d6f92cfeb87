"""The library panel: "All photos" and the folders (counts, state), their edits, the problems.

Every library call runs off the GUI thread (:class:`OffThread`); the panel
only shows results. It refreshes when folders change (``folders_changed``),
when photos change (``changed``, coalesced to one refresh a second) and when
the background worker's state changes (a scan may find a folder gone).
Selecting a row emits :attr:`LibraryPanel.folder_selected` with its path
(None for "All photos").
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photoseek.core.catalog.folders import FolderAdded
from photoseek.core.errors import PhotoseekError
from photoseek.core.library import Album, FolderStats
from photoseek.core.records import Problem
from photoseek.gui.context import AppContext
from photoseek.gui.models.folders import (
    DETAIL_ROLE,
    PATH_ROLE,
    STATE_ROLE,
    FolderRow,
    FoldersModel,
    count_text,
    folder_label,
)
from photoseek.gui.views.albumspanel import AlbumsPanel
from photoseek.gui.views.folderdialogs import DialogPrompts, FolderPrompts
from photoseek.gui.views.problemslist import ProblemsPanel
from photoseek.gui.views.sectiontitle import section_title
from photoseek.gui.views.tagspanel import TagsPanel
from photoseek.gui.workers.offthread import OffThread
from photoseek.pathtext import display_path

log = logging.getLogger(__name__)

REFRESH_DELAY_MS = 1000
_Index = QModelIndex | QPersistentModelIndex


class FolderDelegate(QStyledItemDelegate):
    """Two lines per row: the name, then its counts or why it is unavailable (palette colours)."""

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        """Room for two lines."""
        line = option.fontMetrics.height()
        return QSize(160, line * 2 + 12)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        """The row's background from the style, then its two lines."""
        self.initStyleOption(option, index)
        widget = option.widget
        style = widget.style() if widget is not None else None
        name = option.text
        option.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = option.palette
        unavailable = index.data(STATE_ROLE) == "unavailable"
        main = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        dim = main if selected else palette.color(QPalette.ColorRole.PlaceholderText)
        rect: QRect = option.rect.adjusted(10, 4, -8, -4)
        half = rect.height() // 2
        painter.save()
        font = QFont(option.font)
        font.setBold(index.data(PATH_ROLE) is None)
        font.setItalic(unavailable)
        painter.setFont(font)
        painter.setPen(dim if unavailable else main)
        top = QRect(rect.left(), rect.top(), rect.width(), half)
        painter.drawText(top, int(Qt.AlignmentFlag.AlignVCenter), _elided(painter, name, top))
        small = QFont(option.font)
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.85))
        painter.setFont(small)
        painter.setPen(dim)
        bottom = QRect(rect.left(), rect.top() + half, rect.width(), rect.height() - half)
        detail = str(index.data(DETAIL_ROLE) or "")
        painter.drawText(
            bottom, int(Qt.AlignmentFlag.AlignVCenter), _elided(painter, detail, bottom)
        )
        painter.restore()


def _elided(painter: QPainter, text: str, rect: QRect) -> str:
    return painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, rect.width())


class LibraryPanel(QWidget):
    """The library's folders: browse, add, remove, exclude, relocate; and its problems."""

    folder_selected = Signal(object)  # Path, or None for "All photos"
    folders_loaded = Signal(int)  # how many folders the library has (after each refresh)
    folder_unavailable = Signal(object, str)  # Path, why (a folder that went missing)
    folder_available = Signal(object)  # Path (a missing folder came back, or was removed)
    rescan_requested = Signal()  # excludes or retried problems: a scan should apply them
    error = Signal(str)  # one sentence: something asked for did not work
    tag_selected = Signal(object)  # a tag's name, or None for every photo
    tags_loaded = Signal(list)  # [(tag, count)], after each refresh
    hidden_counted = Signal(int)  # photos the content filter hides, after each refresh
    album_selected = Signal(object)  # an Album to show

    def __init__(
        self,
        context: AppContext,
        calls: OffThread,
        prompts: FolderPrompts | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.library = context.library
        self.calls = calls
        self.prompts: FolderPrompts = prompts or DialogPrompts()
        self.model = FoldersModel(self)
        self._unavailable: dict[Path, str] = {}
        self._loaded = False
        self._build()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        events = context.events
        events.folders_changed.connect(self.refresh)
        events.changed.connect(lambda _changes: self.refresh_soon())
        events.state.connect(lambda _state: self.refresh_soon())

    # -- building -----------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(section_title("Library", self))
        self.view = QListView(self)
        self.view.setAccessibleName("Folders")
        self.view.setModel(self.model)
        self.view.setItemDelegate(FolderDelegate(self.view))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self._build_actions()
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.view.setCurrentIndex(self.model.index(0))
        layout.addWidget(self.view, 1)
        layout.addLayout(self._buttons())
        self.tags = TagsPanel(self)
        self.tags.tag_selected.connect(self.tag_selected)
        layout.addWidget(self.tags)
        self.albums = AlbumsPanel(self)
        self.albums.album_selected.connect(self.album_selected)
        layout.addWidget(self.albums)
        self.problems = ProblemsPanel(self)
        self.problems.retry_requested.connect(self.retry_problems)
        self.problems.retry.setEnabled(not self.library.read_only)
        layout.addWidget(self.problems)

    def _build_actions(self) -> None:
        self.add_action = QAction("Add Folder…", self)
        self.add_action.setToolTip("Add a folder of photos to the library")
        self.add_action.triggered.connect(self.ask_add_folder)
        self.remove_action = QAction("Remove from Library…", self)
        self.remove_action.setToolTip("The photos leave the library; the files stay on disk")
        self.remove_action.triggered.connect(self.ask_remove_folder)
        self.excludes_action = QAction("Exclude Patterns…", self)
        self.excludes_action.setToolTip("Leave files or folders inside this folder out")
        self.excludes_action.triggered.connect(self.ask_excludes)
        self.relocate_action = QAction("Folder Moved…", self)
        self.relocate_action.setToolTip(
            "This folder is somewhere else now: point at its new place (keeps every photo)"
        )
        self.relocate_action.triggered.connect(self.ask_relocate)
        self._update_actions()

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        for action, text, name in (
            (self.add_action, "+", "Add folder"),
            (self.remove_action, "−", "Remove folder"),
        ):
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setText(text)
            button.setAccessibleName(name)
            row.addWidget(button)
        more = QToolButton(self)
        more.setText("…")
        more.setAccessibleName("More folder actions")
        more.setToolTip("More folder actions")
        menu = QMenu(more)
        menu.addActions([self.excludes_action, self.relocate_action])
        more.setMenu(menu)
        more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        row.addWidget(more)
        row.addStretch(1)
        return row

    def actions_for_menu(self) -> list[QAction]:
        """The folder actions, for the window's Library menu."""
        return [self.add_action, self.remove_action, self.excludes_action, self.relocate_action]

    # -- selection ------------------------------------------------------------------------

    def selected_folder(self) -> Path | None:
        """The folder selected (None: "All photos" or nothing)."""
        index = self.view.currentIndex()
        return index.data(PATH_ROLE) if index.isValid() else None

    def selected_row(self) -> FolderRow | None:
        """The selected folder's row (None for "All photos")."""
        index = self.view.currentIndex()
        if not index.isValid() or index.data(PATH_ROLE) is None:
            return None
        return self.model.row_at(index.row())

    def select_folder(self, path: Path | None) -> None:
        """Select the row of ``path`` (None: "All photos")."""
        row = self.model.row_of(path)
        if row >= 0:
            self.view.setCurrentIndex(self.model.index(row))

    def focus_folders(self) -> None:
        """Put the keyboard focus on the folder list (Ctrl+L)."""
        self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_actions()
        self.folder_selected.emit(current.data(PATH_ROLE) if current.isValid() else None)

    def _update_actions(self) -> None:
        writable = not self.library.read_only  # a library this process can only read
        has_folder = self.selected_folder() is not None
        self.add_action.setEnabled(writable)
        for action in (self.remove_action, self.excludes_action, self.relocate_action):
            action.setEnabled(writable and has_folder)

    def _context_menu(self, position: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction(self.add_action)
        if self.selected_folder() is not None:
            menu.addSeparator()
            menu.addActions([self.excludes_action, self.relocate_action, self.remove_action])
        menu.popup(self.view.viewport().mapToGlobal(position))

    # -- refreshing -------------------------------------------------------------------------

    def refresh_soon(self) -> None:
        """Refresh within a second (many changes in a row cost one refresh)."""
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh(self) -> None:
        """Read the folders' counts and the problems again (off the GUI thread)."""
        self._refresh_timer.stop()
        self.calls.call(
            self.library.folder_stats, self._show_stats, self._refresh_failed, key="stats"
        )
        self.calls.call(
            self.library.problems, self._show_problems, self._refresh_failed, key="problems"
        )
        self.calls.call(self._tag_counts, self._show_tags, self._refresh_failed, key="tags")

    def _tag_counts(self) -> tuple[list[tuple[str, int]], int, list[Album]]:
        """Tags with counts, the hidden count, the albums (worker thread: no model needed)."""
        return self.library.tags(), self.library.hidden_count(), self.library.albums()

    def _show_tags(self, result: tuple[list[tuple[str, int]], int, list[Album]]) -> None:
        counts, hidden, albums = result
        self.albums.set_albums(albums)
        self.tags.set_tags(counts)
        self.tags_loaded.emit(counts)
        self.hidden_counted.emit(hidden)

    def _show_stats(self, stats: list[FolderStats]) -> None:
        self.model.set_stats(stats)
        if not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(self.model.index(0))
        self._update_actions()
        self._track_availability(stats)
        self._loaded = True
        self.folders_loaded.emit(len(stats))

    def _track_availability(self, stats: list[FolderStats]) -> None:
        now = {
            s.folder.path: s.folder.status_reason or "not found"
            for s in stats
            if s.folder.status == "unavailable"
        }
        for path in set(self._unavailable) - set(now):
            self.folder_available.emit(path)
        for path, reason in now.items():
            if self._unavailable.get(path) != reason:
                self.folder_unavailable.emit(path, reason)
        self._unavailable = now

    def _show_problems(self, problems: list[Problem]) -> None:
        self.problems.set_problems(problems)

    def _refresh_failed(self, exc: BaseException) -> None:
        log.warning("library panel refresh failed: %s", exc)
        self.error.emit(_sentence(exc))

    # -- edits ------------------------------------------------------------------------------

    def ask_add_folder(self) -> None:
        """Ask for a folder, then add it."""
        folder = self.prompts.choose_folder(self)
        if folder is not None:
            self.add_folder(folder)

    def add_folder(self, folder: Path) -> None:
        """Add ``folder`` to the library (off the GUI thread); the worker indexes it."""
        self.calls.call(
            lambda: self.library.add_folder(folder),
            lambda added: self._added(folder, added),
            self._failed,
        )

    def _added(self, asked: Path, added: FolderAdded) -> None:
        name = folder_label(added.folder.path)
        if not added.created:
            self._say(f"“{name}” is already in the library")
        elif added.absorbed:
            absorbed = ", ".join(folder_label(p) for p in added.absorbed)
            self._say(f"Added “{name}”; it includes {absorbed}, which became part of it")
        else:
            self._say(f"Added “{name}”: its photos are indexed in the background")
        self.context.events.folders_changed.emit()
        self._select_when_listed(added.folder.path)

    def _select_when_listed(self, path: Path) -> None:
        def select(_count: int) -> None:
            self.folders_loaded.disconnect(select)
            self.select_folder(path)

        self.folders_loaded.connect(select)

    def ask_remove_folder(self) -> None:
        """Ask whether to remove the selected folder (saying what it means), then remove it."""
        row = self.selected_row()
        if row is None or row.path is None:
            return
        if self.prompts.confirm_remove(
            self, row.path, row.indexed + row.hidden + row.pending + row.problems
        ):
            self.remove_folder(row.path)

    def remove_folder(self, folder: Path) -> None:
        """Remove ``folder`` from the library (the files stay on disk)."""
        self.calls.call(
            lambda: self.library.remove_folder(folder),
            lambda dropped: self._removed(folder, dropped),
            self._failed,
        )

    def _removed(self, folder: Path, dropped: int) -> None:
        self._say(
            f"Removed “{folder_label(folder)}” from the library: {count_text(dropped, 'photo')} "
            "left it; the files stay on disk"
        )
        self.select_folder(None)
        self.context.events.folders_changed.emit()

    def ask_excludes(self) -> None:
        """Edit the selected folder's exclude patterns."""
        row = self.selected_row()
        if row is None or row.path is None:
            return
        patterns = self.prompts.edit_excludes(self, row.path, list(row.excludes))
        if patterns is not None:
            self.set_excludes(row.path, patterns)

    def set_excludes(self, folder: Path, patterns: list[str]) -> None:
        """Store ``folder``'s exclude patterns; the next scan applies them."""
        self.calls.call(
            lambda: self.library.set_excludes(folder, patterns),
            lambda _folder: self._excludes_set(folder, patterns),
            self._failed,
        )

    def _excludes_set(self, folder: Path, patterns: list[str]) -> None:
        what = count_text(len(patterns), "exclude pattern") if patterns else "no exclude patterns"
        self._say(f"“{folder_label(folder)}” now has {what}; a scan applies them")
        self.context.events.folders_changed.emit()
        self.rescan_requested.emit()

    def ask_relocate(self) -> None:
        """Ask where the selected folder is now, then follow it there."""
        row = self.selected_row()
        if row is None or row.path is None:
            return
        new = self.prompts.choose_new_location(self, row.path)
        if new is not None:
            self.relocate_folder(row.path, new)

    def relocate_folder(self, old: Path, new: Path) -> None:
        """The folder at ``old`` is at ``new`` now: keep its photos, ids and vectors."""
        self.calls.call(
            lambda: self.library.relocate_folder(old, new),
            lambda folder: self._relocated(old, folder.path),
            self._failed,
        )

    def _relocated(self, old: Path, new: Path) -> None:
        self._say(
            f"“{folder_label(old)}” is now followed at {display_path(new)}; every photo was kept"
        )
        self.context.events.folders_changed.emit()
        self._select_when_listed(new)

    def retry_problems(self) -> None:
        """Make the skipped files pending again; the next scan tries them."""
        self.calls.call(self.library.retry_problems, self._retried, self._failed)

    def _retried(self, count: int) -> None:
        self._say(f"{count_text(count, 'skipped file')} will be tried again")
        self.context.events.folders_changed.emit()
        self.rescan_requested.emit()

    def _failed(self, exc: BaseException) -> None:
        log.info("folder edit failed: %s", exc)
        self.error.emit(_sentence(exc))

    def _say(self, text: str) -> None:
        self.context.events.message.emit(text)


def _sentence(exc: BaseException) -> str:
    """The one sentence to show for a failed call (the core's errors are one already)."""
    if isinstance(exc, PhotoseekError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    return f"something went wrong: {exc}"
