"""Thumbnails: loaded only for rows on screen, stale requests dropped, sharp on HiDPI."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QPixmap

from photoseek.core.library import Library
from photoseek.gui.context import AppContext
from photoseek.gui.imageio import load_thumbnail_file
from photoseek.gui.models.results import ResultRow, ResultsModel
from photoseek.gui.views.grid import ThumbnailGrid
from photoseek.gui.workers.thumbnails import ThumbnailLoader


class CountingThumbnails:
    """Stands in for ``Library.thumbnail``: records each call; can hold calls on an event."""

    def __init__(self, library: Library) -> None:
        self._real = library.thumbnail
        self.calls: list[tuple[int, int | None]] = []
        self.release = threading.Event()
        self.release.set()
        self._lock = threading.Lock()

    def __call__(self, photo_id: int, size: int | None = None) -> Path | None:
        with self._lock:
            self.calls.append((photo_id, size))
        assert self.release.wait(60), "the test never released the thumbnail calls"
        return self._real(photo_id, size)

    def ids(self) -> set[int]:
        with self._lock:
            return {photo_id for photo_id, _ in self.calls}


@pytest.fixture
def counting(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> CountingThumbnails:
    fake = CountingThumbnails(context.library)
    monkeypatch.setattr(context.library, "thumbnail", fake)
    return fake


def rows_of(context: AppContext) -> list[ResultRow]:
    return [ResultRow(p) for p in context.library.browse(limit=500).photos]


def visible_ids(grid: ThumbnailGrid, model: ResultsModel) -> set[int]:
    area = grid.viewport().rect()
    return {
        model.row_at(r).record.id
        for r in range(model.rowCount())
        if grid.visualRect(model.index(r)).intersects(area)
    }


def test_only_rows_on_screen_are_loaded(qtbot, context: AppContext, counting) -> None:
    loader = ThumbnailLoader(context.library)
    model = ResultsModel(loader)
    model.reset_rows(rows_of(context), more=False)
    grid = ThumbnailGrid()
    qtbot.addWidget(grid)
    grid.setModel(model)
    grid.resize(260, 260)
    grid.show()
    qtbot.waitExposed(grid)
    on_screen = visible_ids(grid, model)
    assert 0 < len(on_screen) < model.rowCount()
    qtbot.waitUntil(
        lambda: all(model.cached_pixmap(model.row_at(model.row_of(i)).record) for i in on_screen),
        timeout=60000,
    )
    assert counting.ids() <= on_screen | visible_ids(grid, model)
    assert len(counting.calls) == len(counting.ids())  # each asked once
    pixmap = model.index(model.row_of(min(on_screen))).data(ResultsModel.ThumbnailRole)
    assert isinstance(pixmap, QPixmap) and max(pixmap.width(), pixmap.height()) <= 160
    loader.shutdown()


def test_a_new_query_drops_stale_requests(qtbot, context: AppContext, counting) -> None:
    counting.release.clear()  # hold every call in the library
    loader = ThumbnailLoader(context.library, threads=2)
    model = ResultsModel(loader)
    rows = rows_of(context)
    model.reset_rows(rows[:12], more=False)
    for row in range(12):
        model.index(row).data(ResultsModel.ThumbnailRole)  # what a view asks while painting
    qtbot.waitUntil(lambda: len(counting.calls) == 2, timeout=60000)  # both threads busy

    model.reset_rows(rows[12:], more=False)  # the query changed: drop the old requests
    counting.release.set()
    assert loader.wait_idle(60)
    assert len(counting.calls) == 2  # the ten queued requests never reached the library
    assert loader.take_loaded() == []  # the two that ran were stale: nothing delivered
    assert all(model.cached_pixmap(r.record) is None for r in rows[:12])

    model.index(0).data(ResultsModel.ThumbnailRole)  # the new rows load as usual
    qtbot.waitUntil(lambda: model.cached_pixmap(rows[12].record) is not None, timeout=60000)
    loader.shutdown()


def test_thumbnails_are_sharp_on_hidpi_screens(qtbot, context: AppContext, counting) -> None:
    loader = ThumbnailLoader(context.library)
    model = ResultsModel(loader)
    rows = rows_of(context)
    model.reset_rows(rows[:1], more=False)
    model.set_thumbnail_size(60, 2.0)
    assert model.index(0).data(ResultsModel.ThumbnailRole) is None  # a placeholder meanwhile
    qtbot.waitUntil(lambda: model.cached_pixmap(rows[0].record) is not None, timeout=60000)
    pixmap = model.cached_pixmap(rows[0].record)
    assert counting.calls == [(rows[0].record.id, 120)]  # device pixels asked for
    assert pixmap.devicePixelRatio() == 2.0
    assert (pixmap.width(), pixmap.height()) == (120, 90)  # the photos are 4:3
    assert pixmap.deviceIndependentSize().width() == 60
    loader.shutdown()


def test_a_photo_without_thumbnail_is_asked_once(qtbot, context, monkeypatch) -> None:
    calls: list[int] = []

    def unreadable(photo_id: int, size: int | None = None) -> None:
        calls.append(photo_id)
        return None  # an offline disk: no thumbnail

    monkeypatch.setattr(context.library, "thumbnail", unreadable)
    loader = ThumbnailLoader(context.library)
    model = ResultsModel(loader)
    rows = rows_of(context)
    model.reset_rows(rows[:1], more=False)
    with qtbot.waitSignal(model.dataChanged, timeout=60000):
        model.index(0).data(ResultsModel.ThumbnailRole)
    assert model.index(0).data(ResultsModel.ThumbnailRole) is None
    assert calls == [rows[0].record.id]
    loader.shutdown()


def test_the_pixmap_cache_keeps_the_most_recent(qtbot, context: AppContext) -> None:
    loader = ThumbnailLoader(context.library)
    model = ResultsModel(loader, cache_size=3)
    rows = rows_of(context)
    model.reset_rows(rows[:5], more=False)
    for row in range(5):
        model.index(row).data(ResultsModel.ThumbnailRole)
        qtbot.waitUntil(
            lambda r=row: model.cached_pixmap(rows[r].record) is not None, timeout=60000
        )
    assert [model.cached_pixmap(r.record) is not None for r in rows[:5]] == [False, False] + [
        True
    ] * 3
    loader.shutdown()


def test_a_fast_scroll_keeps_only_the_newest_requests(qtbot, context, counting) -> None:
    counting.release.clear()  # the one thread holds the first request
    loader = ThumbnailLoader(context.library, threads=1, backlog=3)
    ids = [r.record.id for r in rows_of(context)[:10]]
    loader.request(ids[0], 160)
    qtbot.waitUntil(lambda: len(counting.calls) == 1, timeout=60000)
    for photo_id in ids[1:]:  # a screen scrolled past, then another
        loader.request(photo_id, 160)
    loader.request(ids[0], 160)  # the one loading now is not queued again
    loader.request(ids[7], 160)  # asked again: queued once, now the newest
    counting.release.set()
    assert loader.wait_idle(60)
    assert [photo_id for photo_id, _ in counting.calls] == [ids[0], ids[7], ids[9], ids[8]]
    loader.request(ids[1], 160)  # dropped, painted again: asked again
    assert loader.wait_idle(60)
    assert [photo_id for photo_id, _ in counting.calls][-1] == ids[1]
    loader.shutdown()


def test_finished_thumbnails_reach_the_gui_thread_in_one_batch(qtbot, context, counting) -> None:
    counting.release.clear()
    loader = ThumbnailLoader(context.library, threads=1)
    model = ResultsModel(loader)
    rows = rows_of(context)[:6]
    model.reset_rows(rows, more=False)
    signals: list[int] = []
    loader.ready.connect(lambda: signals.append(1))
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, _roles: changed.append((top.row(), bottom.row())))
    for row in (0, 1, 2, 4, 5):  # row 3 is not on screen
        assert model.index(row).data(ResultsModel.ThumbnailRole) is None
    counting.release.set()
    assert loader.wait_idle(60)  # all five finished while the GUI thread was busy
    QCoreApplication.processEvents()
    assert signals == [1]  # one delivery
    assert changed == [(0, 2), (4, 5)]  # one repaint per run of adjacent rows
    assert model.cached_pixmap(rows[3].record) is None
    rows = rows[:3] + rows[4:]
    assert all(model.cached_pixmap(r.record) is not None for r in rows)
    loader.shutdown()


def test_a_cached_thumbnail_file_is_read_to_fit_its_box(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "thumb.jpg"
    Image.new("RGB", (512, 256), (200, 30, 40)).save(path, "JPEG", quality=90)
    image = load_thumbnail_file(path, 160)
    assert image is not None and (image.width(), image.height()) == (160, 80)
    red = image.pixelColor(80, 40)
    assert red.red() > 180 and red.green() < 60 and red.blue() < 70
    small = load_thumbnail_file(path, 1024)  # never scaled up
    assert small is not None and (small.width(), small.height()) == (512, 256)
    grey = tmp_path / "grey.jpg"
    Image.new("L", (64, 64), 90).save(grey, "JPEG")
    assert load_thumbnail_file(grey, 160) is not None  # any mode becomes RGB
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(path.read_bytes()[:40])
    assert load_thumbnail_file(broken, 160) is None
    assert load_thumbnail_file(tmp_path / "gone.jpg", 160) is None
