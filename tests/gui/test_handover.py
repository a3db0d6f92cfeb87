"""The writer role moves between the app and a watch service started later, and back."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from photoseek.core.watch.service import ServiceOptions
from photoseek.gui.workers.background import APP_PURPOSE, READER, WRITER, BackgroundWorker
from photoseek.gui.workers.follower import Follower
from tests.conftest import make_photos, tiny_library
from tests.gui.test_follower import start_service, stop_service

WAIT = 180000
FAST = ServiceOptions(stable_s=0.5, folder_check_s=0.5, tick_s=0.1, reconcile_interval_s=3600)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_the_app_hands_over_to_a_service_and_writes_again_when_it_stops(
    qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "pics"
    make_photos(folder, 6)
    library = tiny_library(tmp_path / "data")
    library.add_folder(folder)
    worker = BackgroundWorker(library, options=FAST)
    follower = Follower(library, interval_s=0.3)
    worker.role_changed.connect(follower.set_role)
    roles: list[str] = []
    worker.role_changed.connect(roles.append)
    messages: list[str] = []
    worker.message.connect(messages.append)
    service = None
    try:
        worker.start()
        follower.start()
        qtbot.waitUntil(lambda: worker.role == WRITER and worker.state == "watching", timeout=WAIT)
        assert library.catalog.status_counts().get("indexed", 0) == 6
        assert library.writer_lock.held
        service = start_service(library.paths.data_dir)  # started at login: it waits
        qtbot.waitUntil(lambda: worker.role == READER, timeout=WAIT)
        assert any("watch service" in m for m in messages)
        qtbot.waitUntil(lambda: library.service_status().pid == service.pid, timeout=WAIT)
        assert library.service_status().running
        qtbot.waitUntil(lambda: follower.reading, timeout=WAIT)
        assert service.poll() is None  # it writes now, and stays
        assert not library.writer_lock.held
        stop_service(service)
        qtbot.waitUntil(lambda: worker.role == WRITER, timeout=WAIT)
        qtbot.waitUntil(lambda: library.writer_lock.held, timeout=WAIT)
        assert library.writer_lock.holder()["purpose"] == APP_PURPOSE  # type: ignore[index]
        assert roles[:3] == [WRITER, READER, WRITER]
    finally:
        if service is not None and service.poll() is None:
            stop_service(service)
        assert worker.stop(timeout_s=60)
        assert follower.stop()
        library.close()
