"""Paints one grid cell: the thumbnail (aspect kept, centred), offline badge, selection.

The delegate only paints what the model hands it; a row whose thumbnail has
not arrived yet gets a quiet placeholder, so scrolling never waits.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from photoseek.gui.models.results import ResultsModel

__all__ = ["ThumbnailDelegate"]

PADDING = 6
_RADIUS = 6.0
_BADGE_TEXT = "offline"

_Index = QModelIndex | QPersistentModelIndex


class ThumbnailDelegate(QStyledItemDelegate):
    """Thumbnails in square cells of a chosen size."""

    def __init__(self, size: int = 160, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._size = size

    @property
    def size(self) -> int:
        """The thumbnail's box in logical pixels (the cell adds padding)."""
        return self._size

    def set_size(self, size: int) -> None:
        """Change the thumbnail box (the view relayouts on ``sizeHintChanged``)."""
        self._size = size

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        side = self._size + 2 * PADDING
        return QSize(side, side)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        cell = QRectF(option.rect).adjusted(1, 1, -1, -1)
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(cell, _RADIUS, _RADIUS)
        box = option.rect.adjusted(PADDING, PADDING, -PADDING, -PADDING)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            target = _fitted(box, pixmap)
            painter.drawPixmap(target, pixmap)
        else:
            target = _placeholder_rect(box)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Mid).lighter(130))
            painter.drawRoundedRect(QRectF(target), 3, 3)
        if index.data(ResultsModel.OfflineRole):
            self._paint_offline(painter, target, palette)
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(palette.color(QPalette.ColorRole.Highlight).darker(130))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(cell, _RADIUS, _RADIUS)
        painter.restore()

    def _paint_offline(self, painter: QPainter, target: QRect, palette: QPalette) -> None:
        painter.fillRect(target, QColor(0, 0, 0, 90))  # dimmed: the file cannot be opened now
        metrics = painter.fontMetrics()
        width, height = metrics.horizontalAdvance(_BADGE_TEXT) + 10, metrics.height() + 4
        badge = QRectF(target.left() + 4, target.bottom() - height - 3, width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(30, 30, 30, 210))
        painter.drawRoundedRect(badge, height / 2, height / 2)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, _BADGE_TEXT)


def _fitted(box: QRect, pixmap: QPixmap) -> QRect:
    """The largest rectangle of the pixmap's aspect inside ``box`` (never enlarged), centred."""
    size = pixmap.deviceIndependentSize().toSize()
    if size.width() > box.width() or size.height() > box.height():
        size = size.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
    rect = QRect(0, 0, size.width(), size.height())
    rect.moveCenter(box.center())
    return rect


def _placeholder_rect(box: QRect) -> QRect:
    """A 3:2 placeholder centred in ``box``."""
    rect = QRect(0, 0, box.width(), box.width() * 2 // 3)
    rect.moveCenter(box.center())
    return rect
