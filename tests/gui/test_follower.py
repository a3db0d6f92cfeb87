"""Reader mode: a watch service in another process writes; the app follows and shows it."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from photoseek.core.library import Library, ServiceStatus
from photoseek.core.records import ChangeSet
from photoseek.core.search.searcher import SearchOptions
from photoseek.core.watch.service import ServiceOptions
from photoseek.gui.views.statusbar import StatusBar
from photoseek.gui.workers.background import READER, BackgroundWorker
from photoseek.gui.workers.follower import ChangeFeed, Follower
from tests.conftest import make_photos, tiny_env, tiny_library

WAIT = 180000
FAST = ServiceOptions(stable_s=0.5, folder_check_s=0.5, tick_s=0.1, reconcile_interval_s=3600)


def start_service(data_dir: Path) -> subprocess.Popen[bytes]:
    """``photoseek watch`` on the tiny model, as a user's login service would run it."""
    return subprocess.Popen(
        [sys.executable, "-m", "photoseek", "watch", "--batch-size", "4"],
        env=tiny_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_service(service: subprocess.Popen[bytes]) -> None:
    if service.poll() is None:
        service.send_signal(signal.SIGTERM)
    try:  # generous: the service runs at low priority, a loaded machine starves it
        assert service.wait(timeout=WAIT / 1000) == 0
    finally:
        if service.poll() is None:
            service.kill()


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    lib = tiny_library(tmp_path / "data")
    yield lib
    lib.close()


def test_the_change_feed_gives_each_change_once(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    make_photos(folder, 3)
    library.add_folder(folder)
    feed = ChangeFeed(library)
    assert feed.take() is None
    for _ in library.index():
        pass
    changes = feed.take()
    assert changes is not None and len(set(changes.new + changes.changed)) == 3
    assert feed.take() is None


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_beside_a_watch_service_the_app_reads_shows_the_service_and_sees_new_photos(
    qtbot, library: Library, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder, staging = tmp_path / "pics", tmp_path / "staging"
    make_photos(folder, 8)
    news = make_photos(staging, 4, start=1000)
    library.add_folder(folder)
    service = start_service(library.paths.data_dir)
    worker = BackgroundWorker(library, options=FAST)
    follower = Follower(library, interval_s=0.3)
    worker.role_changed.connect(follower.set_role)
    bar = StatusBar()
    qtbot.addWidget(bar)
    worker.state_changed.connect(bar.show_state)
    follower.service_changed.connect(bar.show_service)
    statuses: list[ServiceStatus] = []
    follower.service_changed.connect(statuses.append)
    arrived: set[int] = set()

    def collect(changes: ChangeSet) -> None:
        arrived.update(changes.new + changes.changed)

    follower.changed.connect(collect)
    try:
        qtbot.waitUntil(lambda: library.service_status().running, timeout=WAIT)
        worker.start()
        follower.start()
        qtbot.waitUntil(lambda: worker.role == READER, timeout=WAIT)
        assert not library.writer_lock.held
        qtbot.waitUntil(
            lambda: bool(statuses) and statuses[-1].running and statuses[-1].state == "watching",
            timeout=WAIT,
        )
        assert statuses[-1].pid == service.pid
        assert bar.activity_text() == "watch service: up to date"
        assert library.catalog.status_counts().get("indexed", 0) == 8
        for source in news:
            shutil.copy(source, folder / source.name)
        wanted = {folder.resolve() / p.name for p in news}

        def new_photos_arrived() -> bool:
            photos = library.photos(sorted(arrived))
            return wanted <= {p.path for p in photos.values()}

        qtbot.waitUntil(new_photos_arrived, timeout=WAIT)
        hits = library.search("x", SearchOptions(limit=100)).hits  # the index followed the commits
        assert wanted <= {h.photo.path for h in hits}
    finally:
        stop_service(service)
        assert worker.stop(timeout_s=60)
        assert follower.stop()
