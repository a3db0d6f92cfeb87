"""Paints one grid cell: the thumbnail (aspect kept, centred), offline badge, selection.

The delegate only paints what the model hands it; a row whose thumbnail has
not arrived yet gets a quiet placeholder, so scrolling never waits.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPixmap
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
        self._badge_pixmap: QPixmap | None = None
        self._badge_ratio = 0.0

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
        # Python per cell on the GUI thread: a screen holds dozens of cells and a
        # scroll repaints them all, so one model call, no scaling (thumbnails
        # arrive at the device size) and antialiasing for the rounded shapes only.
        painter.save()
        cell = QRectF(option.rect).adjusted(1, 1, -1, -1)
        palette = option.palette
        state = option.state
        if state & QStyle.StateFlag.State_Selected:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(cell, _RADIUS, _RADIUS)
        box = option.rect.adjusted(PADDING, PADDING, -PADDING, -PADDING)
        pixmap, offline = index.data(ResultsModel.CellRole) or (None, False)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            target = _fitted(box, pixmap)
            if target.size() != pixmap.deviceIndependentSize().toSize():
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(target, pixmap)
        else:
            target = _placeholder_rect(box)
            painter.fillRect(target, palette.color(QPalette.ColorRole.Mid).lighter(130))
        if offline:
            self._paint_offline(painter, target)
        if state & QStyle.StateFlag.State_HasFocus:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(palette.color(QPalette.ColorRole.Highlight).darker(130))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(cell, _RADIUS, _RADIUS)
        painter.restore()

    def _paint_offline(self, painter: QPainter, target: QRect) -> None:
        painter.fillRect(target, QColor(0, 0, 0, 90))  # dimmed: the file cannot be opened now
        badge = self._badge(painter)
        size = badge.deviceIndependentSize()
        painter.drawPixmap(QPointF(target.left() + 4, target.bottom() - size.height() - 3), badge)

    def _badge(self, painter: QPainter) -> QPixmap:
        """The "offline" badge, drawn once per pixel ratio (text is slow to paint)."""
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        if self._badge_pixmap is None or self._badge_ratio != ratio:
            self._badge_pixmap, self._badge_ratio = _badge_pixmap(painter.font(), ratio), ratio
        return self._badge_pixmap


def _badge_pixmap(font: QFont, ratio: float) -> QPixmap:
    metrics = QFontMetrics(font)
    width, height = metrics.horizontalAdvance(_BADGE_TEXT) + 10, metrics.height() + 4
    pixmap = QPixmap(round(width * ratio), round(height * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(font)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(30, 30, 30, 210))
    painter.drawRoundedRect(QRectF(0, 0, width, height), height / 2, height / 2)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter, _BADGE_TEXT)
    painter.end()
    return pixmap


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
