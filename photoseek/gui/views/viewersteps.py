"""The full-window viewer of a search pane: open, step through the results, close (a mixin).

Arrow keys step through the results while the preview or the viewer shows a
photo; Enter or a double click opens the viewer, Esc closes it. The pane
provides ``stack``, ``viewer``, ``preview``, ``_browse_page``, ``_active``,
``_photo_actions``, ``_model_of`` and ``_activate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt

from photoseek.core.records import PhotoRecord
from photoseek.gui.models.results import ResultRow

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStackedWidget, QWidget

    from photoseek.gui.actions import PhotoActions
    from photoseek.gui.models.results import ResultsModel
    from photoseek.gui.views.grid import ThumbnailGrid
    from photoseek.gui.views.preview import PreviewPane
    from photoseek.gui.views.viewer import PhotoViewer

__all__ = ["ViewerSteps"]


class ViewerSteps:
    """Stepping through results and the full-window viewer, for the search pane."""

    stack: QStackedWidget
    viewer: PhotoViewer
    preview: PreviewPane
    _browse_page: QWidget
    _active: ThumbnailGrid
    _photo_actions: PhotoActions

    def _model_of(self, view: ThumbnailGrid) -> ResultsModel:
        raise NotImplementedError

    def _activate(self, view: ThumbnailGrid) -> None:
        raise NotImplementedError

    def _step(self, delta: int) -> None:
        view, model = self._active, self._model_of(self._active)
        current = view.currentIndex().row() if view.currentIndex().isValid() else -1
        target = current + delta
        if target >= model.rowCount() and model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())
        if not 0 <= target < model.rowCount():
            return
        index = model.index(target)
        view.setCurrentIndex(index)
        view.scrollTo(index)
        if self.stack.currentWidget() is self.viewer:
            self._show_in_viewer(view, index)

    def _open_viewer(self, view: ThumbnailGrid, index: QModelIndex) -> None:
        if not index.isValid():
            return
        self._activate(view)
        if view.currentIndex() != index:
            view.setCurrentIndex(index)
        self._show_in_viewer(view, index)
        self.stack.setCurrentWidget(self.viewer)
        self.viewer.canvas.setFocus(Qt.FocusReason.OtherFocusReason)
        for action in (self._photo_actions.zoom_in, self._photo_actions.zoom_out):
            action.setEnabled(False)  # Ctrl +/- zoom the photo now
        self._photo_actions.update_enabled()

    def _show_in_viewer(self, view: ThumbnailGrid, index: QModelIndex) -> None:
        model = self._model_of(view)
        row = model.row_at(index.row())
        placeholder = None
        shown = self.preview.row()
        if shown is not None and shown.record.id == row.record.id:
            placeholder = self.preview.image.source()
        placeholder = placeholder or model.cached_pixmap(row.record)
        position = f"{index.row() + 1:,} of {model.rowCount():,}"
        self.viewer.show_row(row, placeholder, position)

    def _open_preview_photo(self) -> None:
        index = self._active.currentIndex()
        self._open_viewer(self._active, index)

    def _view_record(self, record: PhotoRecord) -> None:
        model = self._model_of(self._active)
        row = model.row_of(record.id)
        if row is not None:
            self._open_viewer(self._active, model.index(row))
        else:  # the viewer's own photo (already open)
            self.viewer.show_row(ResultRow(record))

    def _close_viewer(self) -> None:
        if self.stack.currentWidget() is not self.viewer:
            return
        self.stack.setCurrentWidget(self._browse_page)
        for action in (self._photo_actions.zoom_in, self._photo_actions.zoom_out):
            action.setEnabled(True)
        self._active.setFocus(Qt.FocusReason.OtherFocusReason)
        self._photo_actions.update_enabled()

    def is_viewing(self) -> bool:
        """Whether the viewer is shown instead of the grid."""
        return self.stack.currentWidget() is self.viewer
