"""The search pane: search box, filters, name matches, thumbnail grid, preview and viewer.

It only assembles: the logic lives in
:class:`~photoseek.gui.workers.search.SearchSession` (what to run, paging,
generations, library changes), :class:`~photoseek.gui.models.results.ResultsModel`,
the loaders in :mod:`photoseek.gui.workers.thumbnails`, the widgets in
:mod:`photoseek.gui.views` and :class:`~photoseek.gui.actions.PhotoActions`.

What the user sees:

* An empty search box shows the library (or the folder picked in the sidebar
  or the filter bar) newest first; typing searches as you type; dropping or
  pasting an image, or "Find Similar", adds an image chip; text and chips
  form one query. The first search waits for the model with "Loading the
  model…" under the box; the window never waits.
* **Name matches** (photos whose file or folder name holds the words) show
  as a compact "Names" strip above the grid when there are any, newest
  first, with the same actions as the grid.
* **Library changes** (:meth:`SearchPane.apply_changes`, connected by the
  main window to ``context.events.changed``): while browsing the grid
  follows the library in place; while searching removed photos disappear
  and changed ones repaint, and new photos bring up a "New photos were
  added. Search again" bar instead of reshuffling ranked results under the
  user's eyes.
* Enter (or a double click) opens the viewer in place of the grid; Esc
  returns. Space toggles the preview pane; arrows there step through results.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from photoseek.core.library import Album
from photoseek.core.records import ChangeSet, Folder, PhotoRecord
from photoseek.core.zeroshot.templates import DEFAULT_TEMPLATES, template_set
from photoseek.gui.actions import ChooseFolder, Confirm, PhotoActions, ask_confirmation, ask_folder
from photoseek.gui.context import AppContext
from photoseek.gui.desktop import Desktop
from photoseek.gui.models.results import ResultsModel
from photoseek.gui.settings import THUMBNAIL_SIZES
from photoseek.gui.views.filterbar import FilterBar
from photoseek.gui.views.grid import ThumbnailGrid
from photoseek.gui.views.imagequeries import ImageQueryInput
from photoseek.gui.views.preview import PreviewPane
from photoseek.gui.views.searchbar import SearchBar
from photoseek.gui.views.viewer import PhotoViewer
from photoseek.gui.views.viewersteps import ViewerSteps
from photoseek.gui.workers.search import SearchRequest, SearchSession
from photoseek.gui.workers.thumbnails import ThumbnailLoader, grid_thumbnail_threads

log = logging.getLogger(__name__)

__all__ = ["SearchPane"]

NAMES_THUMBNAIL = 96


class SearchPane(ViewerSteps, ImageQueryInput, QWidget):
    """Everything about finding and looking at photos, in one widget."""

    status_message = Signal(str)  # one sentence for the status bar
    count_changed = Signal(str)  # "1,204 photos" / "37 matches above 0.25"
    preview_visibility_changed = Signal(bool)  # the preview pane was shown or hidden
    thumbnail_size_changed = Signal(int)  # the user resized thumbnails (slider, Ctrl+wheel)

    def __init__(
        self,
        context: AppContext,
        parent: QWidget | None = None,
        *,
        desktop: Desktop | None = None,
        confirm: Confirm = ask_confirmation,
        choose_folder: ChooseFolder = ask_folder,
        view_shortcuts: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Search")
        self.setAcceptDrops(True)
        self._context = context
        self._closed = False
        self._thumbnails = ThumbnailLoader(context.library, self, threads=grid_thumbnail_threads())
        self._name_thumbnails = ThumbnailLoader(context.library, self, threads=1)
        self.results = ResultsModel(self._thumbnails, self)
        self.names = ResultsModel(self._name_thumbnails, self)
        self.session = SearchSession(context, self.results, self.names, self)
        self._make_widgets()
        self._active: ThumbnailGrid = self.grid
        self._photo_actions = PhotoActions(
            context,
            self._selected_records,
            self,
            desktop=desktop,
            confirm=confirm,
            choose_folder=choose_folder,
            view_shortcuts=view_shortcuts,
        )
        self._layout()
        self._connect()
        self.set_thumbnail_size(context.settings.thumbnail_size)
        self.set_preview_visible(context.settings.preview_visible)
        self._reload_folders()
        self._run(force=True)

    # -- building -----------------------------------------------------------------------

    def _make_widgets(self) -> None:
        self.search_bar = SearchBar(self._context.settings, self)
        self.filter_bar = FilterBar(self)
        self.names_label = QLabel("Names", self)
        self.names_strip = ThumbnailGrid(self, strip=True)
        self.names_strip.setAccessibleName("Photos matching by name")
        self.names_strip.setModel(self.names)
        self.new_photos_label = QLabel("New photos were added to the library.", self)
        self.search_again = QPushButton("Search Again", self)
        self.search_again.setAccessibleName("Search again")
        self.grid = ThumbnailGrid(self)
        self.grid.setAccessibleName("Photos")
        self.grid.setModel(self.results)
        self.preview = PreviewPane(self)
        self.viewer = PhotoViewer(self)
        self.stack = QStackedWidget(self)
        self.context_menu = QMenu(self)
        self.context_menu.setAccessibleName("Photo actions")

    def _layout(self) -> None:
        self._new_photos_bar = _row(self, self.new_photos_label, self.search_again)
        self._new_photos_bar.setVisible(False)
        self._names_box = QWidget(self)
        names_column = QVBoxLayout(self._names_box)
        names_column.setContentsMargins(0, 0, 0, 0)
        names_column.setSpacing(0)
        names_column.addWidget(self.names_label)
        names_column.addWidget(self.names_strip)
        self._names_box.setVisible(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.grid)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        browse = QWidget(self)
        column = QVBoxLayout(browse)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        for widget in (self.search_bar, self.filter_bar, self._new_photos_bar, self._names_box):
            column.addWidget(widget)
        column.addWidget(self.splitter, 1)
        self._browse_page = browse
        self.stack.addWidget(browse)
        self.stack.addWidget(self.viewer)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.stack)
        QWidget.setTabOrder(self.search_bar.field, self.grid)

    def _connect(self) -> None:
        bar, filters, session, acts = (
            self.search_bar,
            self.filter_bar,
            self.session,
            self._photo_actions,
        )
        bar.query_changed.connect(lambda _text: self._run())
        bar.query_submitted.connect(lambda _text: self._run(force=True))
        bar.chips.changed.connect(lambda: self._run())
        bar.image_pasted.connect(self._paste_image)
        bar.files_pasted.connect(self._search_files)
        bar.escaped.connect(lambda: self.grid.setFocus(Qt.FocusReason.OtherFocusReason))
        filters.changed.connect(lambda: self._run())
        filters.thumbnail_size_changed.connect(self._resize_thumbnails)
        session.state_changed.connect(bar.show_state)
        session.count_changed.connect(self._count)
        session.message.connect(self.status_message)
        session.names_changed.connect(self._names_found)
        session.new_photos_changed.connect(self._new_photos_bar.setVisible)
        self.search_again.clicked.connect(session.rerun)
        for view in (self.grid, self.names_strip):
            self._connect_view(view)
        self.results.dataChanged.connect(self._rows_changed)
        self.names.dataChanged.connect(self._rows_changed)
        self.preview.step_requested.connect(self._step)
        self.preview.open_requested.connect(self._open_preview_photo)
        self.viewer.closed.connect(self._close_viewer)
        self.viewer.step_requested.connect(self._step)
        acts.view_requested.connect(self._view_record)
        acts.similar_requested.connect(self._find_similar)
        acts.trashed.connect(self._trashed)
        acts.message.connect(self.status_message)
        acts.paste_query.triggered.connect(self._paste_from_clipboard)
        acts.select_all.triggered.connect(lambda: self._active.selectAll())
        acts.find.triggered.connect(self.focus_search)
        acts.toggle_preview.toggled.connect(self.set_preview_visible)
        acts.zoom_in.triggered.connect(lambda: self._step_thumbnail_size(1))
        acts.zoom_out.triggered.connect(lambda: self._step_thumbnail_size(-1))
        self._context.events.folders_changed.connect(self._reload_folders)

    def _connect_view(self, view: ThumbnailGrid) -> None:
        selection = view.selectionModel()
        selection.currentChanged.connect(
            lambda current, _previous: self._current_changed(view, current)
        )
        selection.selectionChanged.connect(lambda *_: self._selection_changed(view))
        view.open_requested.connect(lambda index: self._open_viewer(view, index))
        view.preview_toggle_requested.connect(self.toggle_preview)
        view.zoom_requested.connect(self._step_thumbnail_size)
        view.customContextMenuRequested.connect(lambda pos: self._context_menu(view, pos))

    # -- the API the main window uses -----------------------------------------------------

    def show_folder(self, folder: Path | None) -> None:
        """Show all photos (None) or one folder's (the sidebar's choice)."""
        self._close_viewer()
        self.filter_bar.set_folder(folder)

    def show_tag(self, tag: str | None) -> None:
        """Show only photos with the tag ``tag`` (None: any; the sidebar's tag list)."""
        self._close_viewer()
        self.filter_bar.set_tag(tag)

    def set_tags(self, counts: list[tuple[str, int]]) -> None:
        """The library's tags with counts (the filter bar's tag menu)."""
        self.filter_bar.set_tags(counts)

    def set_hidden_count(self, count: int) -> None:
        """How many photos the content filter hides (the "Show hidden" toggle)."""
        self.filter_bar.set_hidden_count(count)

    def show_album(self, album: Album) -> None:
        """Run an album's saved search: its query, filters and cut-off in the pane's controls."""
        self._close_viewer()
        self.search_bar.chips.clear()
        self.filter_bar.apply(album.filters, album.min_score)
        self.search_bar.set_text(album.query)
        self._run(force=True)

    def focus_search(self) -> None:
        """Put the cursor in the search field."""
        self._close_viewer()
        self.search_bar.focus()

    def search_image(self, path: Path) -> None:
        """Search by an image (dropped on the window, pasted, or "Find Similar"): a chip."""
        self._close_viewer()
        if not self.search_bar.chips.add_image(path):
            self._run(force=True)

    def apply_changes(self, changes: ChangeSet) -> None:
        """The library changed: update the rows shown, without a reset."""
        self.session.apply_changes(changes)
        viewed = self.viewer.row()
        if self.is_viewing() and viewed is not None and viewed.record.id in changes.removed:
            self._close_viewer()

    def photo_actions(self) -> PhotoActions:
        """The actions for the main window's menus (``actions()``, ``view_actions()``)."""
        return self._photo_actions

    def shutdown(self) -> None:
        """Stop every worker and drop pending work (the app is closing)."""
        if self._closed:
            return
        self._closed = True
        self.search_bar.chips.shutdown()
        self.session.shutdown()
        self._thumbnails.shutdown()
        self._name_thumbnails.shutdown()
        self.preview.shutdown()
        self.viewer.shutdown()
        self._photo_actions.shutdown()

    # -- running queries ----------------------------------------------------------------

    def request(self) -> SearchRequest:
        """What the search box, the chips and the filters ask for now."""
        return SearchRequest(
            text=self.search_bar.text(),
            images=self.search_bar.chips.images(),
            filters=self.filter_bar.filters(),
            min_score=self.filter_bar.min_score(),
            sort=self.filter_bar.sort(),
            show_hidden=self.filter_bar.show_hidden(),
            short_query_templates=self._short_query_templates(),
        )

    def _short_query_templates(self) -> tuple[str, ...]:
        """The templates a one- or two-word search goes through (the setting; none: off)."""
        if not self._context.settings.short_query_prompts:
            return ()
        return template_set(DEFAULT_TEMPLATES).templates

    def refresh_request(self) -> None:
        """Search again if a setting changed what the controls ask for."""
        self._run()

    def _run(self, *, force: bool = False) -> None:
        if self._closed:
            return
        request = self.request()
        self.filter_bar.set_browsing(request.is_browse)
        if force or request != self.session.request:
            self.session.run(request)

    def _count(self, text: str) -> None:
        self.filter_bar.set_count(text)
        self.count_changed.emit(text)
        self.grid.set_empty_text(self._empty_text())

    def _empty_text(self) -> str:
        request = self.session.request
        if request.is_browse and request.filters.is_empty():
            return "No photos yet: add a folder, and its photos appear here as they are indexed."
        if request.is_browse:
            return "No photos pass these filters."
        if request.min_score is not None:
            return "No photos at or above the cut-off. Lower it to see more."
        return "No photos match."

    def _names_found(self, count: int) -> None:
        self.names_label.setText(f"Names ({count:,})" if count else "Names")
        self._names_box.setVisible(count > 0)

    # -- selection, preview, viewer -----------------------------------------------------

    def _model_of(self, view: ThumbnailGrid) -> ResultsModel:
        return self.names if view is self.names_strip else self.results

    def _selected_records(self) -> list[PhotoRecord]:
        if self.stack.currentWidget() is self.viewer and self.viewer.row() is not None:
            return [self.viewer.row().record]  # type: ignore[union-attr]
        model = self._model_of(self._active)
        return [model.row_at(r).record for r in self._active.selected_rows()]

    def _selection_changed(self, view: ThumbnailGrid) -> None:
        if view.selectionModel().hasSelection():
            self._activate(view)
        self._photo_actions.update_enabled()

    def _activate(self, view: ThumbnailGrid) -> None:
        if view is self._active:
            return
        other = self.grid if view is self.names_strip else self.names_strip
        other.selectionModel().clearSelection()
        self._active = view

    def _current_changed(self, view: ThumbnailGrid, current: QModelIndex) -> None:
        if current.isValid():
            self._activate(view)
        if view is not self._active:
            return
        model = self._model_of(view)
        row = model.row_at(current.row()) if current.isValid() else None
        placeholder = model.cached_pixmap(row.record) if row is not None else None
        self.preview.show_row(row, placeholder)
        if row is not None:
            photo_id = row.record.id
            self.session.read(
                lambda: self._context.library.photo_tags(photo_id),
                lambda tags: self.preview.set_tags(photo_id, tags),
            )
            self.session.read(
                lambda: self._context.library.raw_original(photo_id),
                lambda original: self.preview.set_original(photo_id, original),
            )

    def _rows_changed(self, top: QModelIndex, bottom: QModelIndex, *_: object) -> None:
        shown = self.preview.row()
        model = self._model_of(self._active)
        if shown is None or self.sender() is not model:
            return
        row = model.row_of(shown.record.id)
        if row is not None and top.row() <= row <= bottom.row():
            self.preview.show_row(model.row_at(row), model.cached_pixmap(shown.record))

    def event(self, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Show, QEvent.Type.DevicePixelRatioChange):
            self._sharpen_thumbnails()  # on the screen now (or another one): its pixel ratio
        return super().event(event)

    def _sharpen_thumbnails(self) -> None:
        ratio = self.grid.devicePixelRatioF()
        self.results.set_thumbnail_size(self.grid.thumbnail_size, ratio)
        self.names.set_thumbnail_size(NAMES_THUMBNAIL, ratio)

    def _trashed(self, ids: list[int]) -> None:
        self.results.remove_ids(ids)
        self.names.remove_ids(ids)
        viewed = self.viewer.row()
        if viewed is not None and viewed.record.id in ids:
            self._close_viewer()

    def _context_menu(self, view: ThumbnailGrid, pos: QPoint) -> None:
        index = view.indexAt(pos)
        if index.isValid() and not view.selectionModel().isSelected(index):
            view.setCurrentIndex(index)
        self._activate(view)
        self._photo_actions.update_enabled()
        self.context_menu.clear()
        self._photo_actions.populate_menu(self.context_menu)
        self.context_menu.popup(view.viewport().mapToGlobal(pos))

    # -- view settings ------------------------------------------------------------------

    def toggle_preview(self) -> None:
        """Show or hide the preview pane (Space in the grid)."""
        self.set_preview_visible(not self.preview.isVisibleTo(self))

    def set_preview_visible(self, visible: bool) -> None:
        """Show or hide the preview pane (stored in the settings)."""
        changed = visible != self.preview.isVisibleTo(self)
        self.preview.setVisible(visible)
        self._context.settings.preview_visible = visible
        action = self._photo_actions.toggle_preview
        if action.isChecked() != visible:
            action.setChecked(visible)
        if changed:
            self.preview_visibility_changed.emit(visible)

    def _resize_thumbnails(self, size: int) -> None:
        """The user picked a size here (slider, Ctrl+wheel): apply it and tell the window."""
        if size != self.grid.thumbnail_size:
            self.set_thumbnail_size(size)
            self.thumbnail_size_changed.emit(size)

    def set_thumbnail_size(self, size: int) -> None:
        """Show thumbnails of ``size`` logical pixels (stored in the settings)."""
        self._context.settings.thumbnail_size = size
        ratio = self.grid.devicePixelRatioF()
        self.grid.set_thumbnail_size(size)
        self.results.set_thumbnail_size(size, ratio)
        self.names_strip.set_thumbnail_size(NAMES_THUMBNAIL)
        self.names.set_thumbnail_size(NAMES_THUMBNAIL, ratio)
        self.filter_bar.set_thumbnail_size(size)

    def _step_thumbnail_size(self, step: int) -> None:
        sizes = THUMBNAIL_SIZES
        at = min(range(len(sizes)), key=lambda i: abs(sizes[i] - self.grid.thumbnail_size))
        target = min(max(at + step, 0), len(sizes) - 1)
        self._resize_thumbnails(sizes[target])

    def _reload_folders(self) -> None:
        self.session.read(self._context.library.folders, self._folders_loaded)

    def _folders_loaded(self, folders: list[Folder]) -> None:
        if not self._closed:
            self.filter_bar.set_folders(folders)


def _row(parent: QWidget, *widgets: QWidget) -> QWidget:
    box = QWidget(parent)
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return box
