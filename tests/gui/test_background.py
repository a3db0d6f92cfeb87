"""The background worker on a real library: progress, pause and resume, stop, changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from photoseek.core.library import Library
from photoseek.core.progress import Phase, Progress
from photoseek.core.watch.service import ServiceOptions
from photoseek.core.writerlock import WriterLock
from photoseek.gui.context import LibraryEvents
from photoseek.gui.views.statusbar import StatusBar
from photoseek.gui.workers.background import APP_PURPOSE, WRITER, BackgroundWorker
from photoseek.gui.workers.follower import Follower
from tests.conftest import make_photos, tiny_library

WAIT = 120000
FAST = ServiceOptions(stable_s=0.5, folder_check_s=0.5, tick_s=0.1, reconcile_interval_s=3600)


class Embedded:
    """Counts the photos the model embeds; while ``gate`` is clear, each batch waits."""

    def __init__(self, library: Library) -> None:
        self.count = 0
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()
        original = library.embedder.encode_images

        def counting(tensors):  # type: ignore[no-untyped-def]
            if not self.gate.is_set():
                self.waiting.set()
                self.gate.wait()
            self.count += len(tensors)
            return original(tensors)

        library.embedder.encode_images = counting  # type: ignore[method-assign]


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    lib = tiny_library(tmp_path / "data", batch_size=4)
    yield lib
    lib.close()


@pytest.fixture
def folder(tmp_path: Path, library: Library) -> Path:
    path = tmp_path / "pics"
    path.mkdir()
    library.add_folder(path)
    return path


@pytest.fixture
def events() -> LibraryEvents:
    return LibraryEvents()


@pytest.fixture
def worker(qapp, library: Library, events: LibraryEvents) -> Iterator[BackgroundWorker]:  # type: ignore[no-untyped-def]
    background = BackgroundWorker(library, options=FAST, events=events)
    yield background
    assert background.stop(timeout_s=60)


def _indexed(library: Library) -> int:
    return library.catalog.status_counts().get("indexed", 0)


def test_progress_reaches_the_status_bar_then_it_is_up_to_date(
    qtbot, library: Library, folder: Path, worker: BackgroundWorker, events: LibraryEvents
) -> None:  # type: ignore[no-untyped-def]
    make_photos(folder, 12)
    embedded = Embedded(library)
    embedded.gate.clear()  # hold the first batch: the bar shows work in progress
    bar = StatusBar()
    qtbot.addWidget(bar)
    events.progress.connect(bar.show_progress)
    events.state.connect(bar.show_state)
    seen: list[Progress] = []
    events.progress.connect(seen.append)
    worker.start()
    qtbot.waitUntil(embedded.waiting.is_set, timeout=WAIT)
    qtbot.waitUntil(lambda: worker.state == "indexing", timeout=WAIT)
    qtbot.waitUntil(lambda: bar.activity_text().startswith("indexing "), timeout=WAIT)
    assert "/ 12" in bar.activity_text()
    assert worker.role == WRITER
    assert library.writer_lock.holder()["purpose"] == APP_PURPOSE  # type: ignore[index]
    embedded.gate.set()
    qtbot.waitUntil(lambda: _indexed(library) == 12, timeout=WAIT)
    qtbot.waitUntil(lambda: bar.activity_text() == "up to date", timeout=WAIT)
    assert any(p.phase == Phase.INDEXING and p.total == 12 for p in seen)
    assert embedded.count == 12


def test_pause_stops_embedding_while_the_disk_is_still_followed_then_resume_finishes(
    qtbot, library: Library, folder: Path, worker: BackgroundWorker
) -> None:  # type: ignore[no-untyped-def]
    embedded = Embedded(library)
    paused: list[bool] = []
    worker.paused_changed.connect(paused.append)
    worker.start()
    qtbot.waitUntil(lambda: worker.state == "watching", timeout=WAIT)
    worker.pause()
    qtbot.waitUntil(lambda: worker.state == "paused", timeout=WAIT)
    make_photos(folder, 10)
    qtbot.waitUntil(lambda: library.catalog.status_counts().get("pending", 0) == 10, timeout=WAIT)
    assert embedded.count == 0 and worker.state == "paused"
    worker.resume()
    qtbot.waitUntil(lambda: _indexed(library) == 10, timeout=WAIT)
    assert embedded.count == 10 and paused == [True, False]


def test_a_pause_before_the_start_holds_from_the_first_photo(
    qtbot, library: Library, folder: Path, worker: BackgroundWorker
) -> None:  # type: ignore[no-untyped-def]
    make_photos(folder, 4)
    embedded = Embedded(library)
    worker.pause()
    worker.start()
    qtbot.waitUntil(lambda: library.catalog.status_counts().get("pending", 0) == 4, timeout=WAIT)
    qtbot.waitUntil(lambda: worker.state == "paused", timeout=WAIT)
    assert embedded.count == 0
    worker.resume()
    qtbot.waitUntil(lambda: _indexed(library) == 4, timeout=WAIT)


def test_a_held_worker_writes_but_catches_up_only_after_begin(
    qtbot, library: Library, folder: Path, worker: BackgroundWorker
) -> None:  # type: ignore[no-untyped-def]
    make_photos(folder, 4)
    worker.hold()  # as the app does while the model loads
    worker.start()
    qtbot.waitUntil(lambda: worker.role == WRITER, timeout=WAIT)
    assert library.writer_lock.holder()["purpose"] == APP_PURPOSE  # type: ignore[index]
    qtbot.wait(1000)  # a scan, had it started, finds 4 new files in milliseconds
    assert library.catalog.status_counts() == {}
    worker.begin()
    qtbot.waitUntil(lambda: _indexed(library) == 4, timeout=WAIT)


def test_a_held_worker_stops_at_once(qtbot, library: Library, worker: BackgroundWorker) -> None:  # type: ignore[no-untyped-def]
    worker.hold()
    worker.start()
    qtbot.waitUntil(lambda: worker.role == WRITER, timeout=WAIT)
    assert worker.stop(timeout_s=60)
    assert library.writer_lock.holder() is None


def test_stop_commits_the_batch_in_progress_and_releases_the_lock(
    qtbot, library: Library, folder: Path, worker: BackgroundWorker
) -> None:  # type: ignore[no-untyped-def]
    make_photos(folder, 12)
    embedded = Embedded(library)
    embedded.gate.clear()
    roles: list[str] = []
    worker.role_changed.connect(roles.append)
    worker.start()
    qtbot.waitUntil(embedded.waiting.is_set, timeout=WAIT)
    worker.request_stop()
    embedded.gate.set()  # the batch in progress finishes and commits
    assert worker.stop(timeout_s=60)
    assert not library.writer_lock.held
    assert 4 <= _indexed(library) < 12  # that batch, not the rest
    other = WriterLock(library.paths.lock_file)
    other.acquire("test")  # another process could write now
    other.release()
    qtbot.waitUntil(lambda: roles[-1:] == ["stopped"], timeout=WAIT)


def test_rescan_reconciles_at_once(
    qtbot, library: Library, folder: Path, worker: BackgroundWorker
) -> None:  # type: ignore[no-untyped-def]
    make_photos(folder, 3)
    worker.start()
    qtbot.waitUntil(lambda: _indexed(library) == 3, timeout=WAIT)
    qtbot.waitUntil(lambda: worker.state == "watching", timeout=WAIT)
    library.set_excludes(folder, ["photo_00000.jpg"])  # no file event: only a scan applies it
    assert worker.rescan()
    qtbot.waitUntil(lambda: _indexed(library) == 2, timeout=WAIT)  # the excluded photo left


def test_changes_reach_the_grid_while_the_app_writes(
    qtbot, library: Library, folder: Path, worker: BackgroundWorker
) -> None:  # type: ignore[no-untyped-def]
    follower = Follower(library, interval_s=0.2)
    arrived: set[int] = set()
    follower.changed.connect(lambda changes: arrived.update(changes.new + changes.changed))
    follower.start()
    try:
        worker.start()
        qtbot.waitUntil(lambda: worker.state == "watching", timeout=WAIT)
        make_photos(folder, 6)
        qtbot.waitUntil(lambda: _indexed(library) == 6, timeout=WAIT)
        ids = {p.id for p in library.browse(limit=100).photos}
        qtbot.waitUntil(lambda: ids <= arrived, timeout=WAIT)
    finally:
        assert follower.stop()
