"""The grid's cells: an offline photo is dimmed and badged, and that look is drawn once."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QPixmap

from photoseek.core.records import PhotoRecord
from photoseek.gui.models.results import ResultRow, ResultsModel
from photoseek.gui.views import delegate
from photoseek.gui.views.grid import ThumbnailGrid

WHITE = QColor("white")


def _grid(qtbot, online: list[bool]) -> tuple[ThumbnailGrid, ResultsModel]:
    rows = [
        ResultRow(PhotoRecord(i, Path(f"/p/{i}.jpg"), 1, 1, f"fp{i}", "JPEG", 160, 120, None, up))
        for i, up in enumerate(online)
    ]
    model = ResultsModel(None)
    model.reset_rows(rows, more=False)
    thumbnail = QPixmap(160, 120)
    thumbnail.fill(WHITE)
    for row in rows:
        model._cache.put(model._key(row.record), thumbnail)
    grid = ThumbnailGrid()
    qtbot.addWidget(grid)
    grid.setModel(model)
    grid.resize(600, 300)
    grid.show()
    qtbot.waitExposed(grid)
    return grid, model


def _centre(grid: ThumbnailGrid, model: ResultsModel, row: int) -> QColor:
    image = grid.viewport().grab().toImage()
    return image.pixelColor(grid.visualRect(model.index(row)).center())


def test_an_offline_photo_is_dimmed_and_its_look_drawn_once(qtbot, monkeypatch) -> None:
    made: list[int] = []
    real = delegate.ThumbnailDelegate._dimmed

    def counted(self, pixmap, painter):
        made.append(pixmap.cacheKey())
        return real(self, pixmap, painter)

    monkeypatch.setattr(delegate.ThumbnailDelegate, "_dimmed", counted)
    grid, model = _grid(qtbot, [True, False])
    online, offline = _centre(grid, model, 0), _centre(grid, model, 1)
    assert online == WHITE
    assert offline.value() < 200  # dimmed
    for _ in range(3):
        grid.viewport().repaint()
    assert len(made) == 1  # one thumbnail shown offline: its look drawn once, then reused
