"""The thumbnail grid (and the one-row strip of name matches): a ``QListView`` in icon mode.

Uniform item sizes and batched layout keep a grid of 100,000 photos cheap:
Qt asks the model's data only for the rows on screen, which is what makes
the model load only visible thumbnails. Keyboard: arrows, Page Up/Down,
Home/End, Shift and Ctrl for ranges and toggles, Ctrl+A (Qt's own); Enter
asks to open the current photo, Space to toggle the preview, Ctrl+wheel to
resize the thumbnails. Selected photos drag out as files (copy).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import (
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from photoseek.gui.views.delegate import PADDING, ThumbnailDelegate

__all__ = ["ThumbnailGrid"]

_SPACING = 4


class ThumbnailGrid(QListView):
    """Photos as thumbnails; ``strip=True`` makes one horizontal row."""

    open_requested = Signal(QModelIndex)  # Enter, or a double click
    preview_toggle_requested = Signal()  # Space
    zoom_requested = Signal(int)  # +1 bigger, -1 smaller (Ctrl+wheel)

    def __init__(self, parent: QWidget | None = None, *, strip: bool = False) -> None:
        super().__init__(parent)
        self._strip = strip
        self._empty_text = ""
        self._delegate = ThumbnailDelegate(parent=self)
        self.setItemDelegate(self._delegate)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSpacing(_SPACING)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionRectVisible(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        if strip:
            self.setFlow(QListView.Flow.LeftToRight)
            self.setWrapping(False)
            self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.doubleClicked.connect(self.open_requested)
        self.set_thumbnail_size(self._delegate.size)

    @property
    def thumbnail_size(self) -> int:
        """The thumbnail box in logical pixels."""
        return self._delegate.size

    def set_thumbnail_size(self, size: int) -> None:
        """Resize every cell (the model is told separately, to load sharper thumbnails)."""
        self._delegate.set_size(size)
        cell = size + 2 * PADDING
        if self._strip:
            self.setFixedHeight(
                cell + 2 * _SPACING + self.horizontalScrollBar().sizeHint().height()
            )
        self._set_grid_size()
        self.scheduleDelayedItemsLayout()

    def _set_grid_size(self) -> None:
        """Cells of the thumbnail's size; in the grid, widened to share the row's spare width
        (the columns fill the view instead of leaving a gap on the right)."""
        cell = self._delegate.size + 2 * PADDING + _SPACING
        width = cell
        if not self._strip:
            available = self.viewport().width() - _SPACING
            columns = max(1, available // cell)
            width = max(cell, available // columns)
        if self.gridSize() != QSize(width, cell):
            self.setGridSize(QSize(width, cell))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._set_grid_size()

    def set_empty_text(self, text: str) -> None:
        """What the grid says while it has no photos ("No photos match.")."""
        self._empty_text = text
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if self._empty_text and (model is None or model.rowCount() == 0):
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(
                self.viewport().rect().adjusted(20, 20, -20, -20), flags, self._empty_text
            )

    def selected_rows(self) -> list[int]:
        """The selected rows in order."""
        selection = self.selectionModel()
        return sorted(i.row() for i in selection.selectedIndexes()) if selection else []

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        plain = not (event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier)
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and plain:
            if self.currentIndex().isValid():
                self.open_requested.emit(self.currentIndex())
            return
        if key == Qt.Key.Key_Space and plain:
            self.preview_toggle_requested.emit()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            step = event.angleDelta().y()
            if step:
                self.zoom_requested.emit(1 if step > 0 else -1)
            event.accept()
            return
        super().wheelEvent(event)
