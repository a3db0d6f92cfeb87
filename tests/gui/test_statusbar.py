"""The status bar: indexing progress and state, a watch service's work, the model, messages."""

from __future__ import annotations

import time

import pytest
from PySide6.QtGui import QAction

from photoseek.core.library import ServiceStatus
from photoseek.core.progress import ClusterLoad, NodeLoad, Phase, Progress
from photoseek.gui.views.progresstext import (
    duration_text,
    progress_text,
    service_text,
    size_text,
    writer_text,
)
from photoseek.gui.views.statusbar import StatusBar


@pytest.fixture
def bar(qtbot) -> StatusBar:  # type: ignore[no-untyped-def]
    pause = QAction("Pause Indexing")
    pause.setCheckable(True)
    widget = StatusBar(pause)
    widget._pause_action = pause  # type: ignore[attr-defined]  # keep it alive
    qtbot.addWidget(widget)
    widget.resize(1400, 30)
    widget.show()
    return widget


def test_words_for_durations_sizes_and_progress() -> None:
    assert [duration_text(s) for s in (0.2, 40, 61, 300, 3600, 4800)] == [
        "1 s",
        "40 s",
        "2 min",
        "5 min",
        "1 h",
        "1 h 20 min",
    ]
    assert [size_text(n) for n in (512, 1500, 120_000_000, 605_000_000, 1_700_000_000)] == [
        "512 B",
        "1.5 kB",
        "120 MB",
        "605 MB",
        "1.7 GB",
    ]
    indexing = Progress(Phase.INDEXING, 1204, 5310, rate=12.4, eta_s=300)
    assert progress_text(indexing) == "indexing 1,204 / 5,310 · 12.4/s · ETA 5 min"
    switching = Progress(Phase.SWITCHING_MODEL, 1204, 5310, rate=12.4, eta_s=300)
    assert progress_text(switching) == (
        "re-embedding for the new model 1,204 / 5,310 · 12.4/s · ETA 5 min"
    )
    download = Progress(Phase.DOWNLOADING_MODEL, 120_000_000, 605_000_000, unit="bytes")
    assert progress_text(download) == "downloading the model: 120 MB of 605 MB"
    assert progress_text(Progress(Phase.LOADING_MODEL)) == "loading the model"
    assert progress_text(Progress(Phase.SCANNING, 40, None, unit="files")).endswith("40 files")
    assert progress_text(Progress(Phase.DONE, problems=2)) == "up to date · 2 skipped"
    cluster = ClusterLoad("auto", 1, 1.0, 8.0, (NodeLoad("gpu-box", 40, 20.5, "cuda", 1),))
    on_cluster = Progress(Phase.INDEXING, 40, 100, rate=20.0, eta_s=3, cluster=cluster)
    assert progress_text(on_cluster) == (
        "indexing 40 / 100 · 20.0/s · ETA 3 s · on the cluster: "
        "1 actor, 1 GPU, 8 CPUs: gpu-box 20.5/s (cuda)"
    )


def test_indexing_progress_shows_counts_rate_eta_bar_and_file(bar: StatusBar) -> None:
    bar.show_state("indexing")
    current = "/photos/2019/a very long folder name/IMG_0042.jpg"
    bar.show_progress(Progress(Phase.INDEXING, 1204, 5310, rate=12.4, eta_s=300, current=current))
    assert bar.activity_text() == "indexing 1,204 / 5,310 · 12.4/s · ETA 5 min"
    assert bar.bar.isVisible() and bar.bar.value() == round(1000 * 1204 / 5310)
    assert bar.current.full_text() == current
    bar.show_state("watching")
    assert bar.activity_text() == "up to date" and not bar.bar.isVisible()


def test_paused_keeps_the_counts_and_the_button_follows_the_action(bar: StatusBar) -> None:
    bar.show_state("indexing")
    bar.show_progress(Progress(Phase.INDEXING, 120, 4000))
    bar.show_state("paused")
    assert bar.activity_text() == "indexing paused at 120 / 4,000"
    assert bar.pause.defaultAction() is bar._pause_action  # type: ignore[attr-defined]
    bar.show_state("paused: on battery")
    assert bar.activity_text().startswith("indexing paused: on battery")


def test_a_watch_service_writing_is_shown_from_its_status(bar: StatusBar) -> None:
    bar.show_state("reader")
    status = ServiceStatus(
        running=True,
        pid=42,
        state="indexing",
        updated_at=time.time(),
        detail={"done": 120, "total": 4000, "current": "/p/x.jpg"},
    )
    bar.show_service(status)
    assert bar.activity_text() == "watch service: indexing 120/4,000"
    assert bar.bar.isVisible() and bar.current.full_text() == "/p/x.jpg"
    assert service_text(ServiceStatus(True, 42, "watching", time.time())) == (
        "watch service: up to date"
    )
    stale = ServiceStatus(True, 42, "watching", time.time() - 3600)
    assert service_text(stale).endswith("(not heard from for minutes)")
    indexer = ServiceStatus(False, writer={"pid": 7, "purpose": "indexing"})
    assert service_text(indexer) == writer_text({"pid": 7, "purpose": "indexing"})
    assert "pid 7, indexing" in service_text(indexer)
    bar.show_state("watching")
    assert bar.activity_text() == "up to date"


def test_the_model_download_then_load_then_ready(bar: StatusBar) -> None:
    bar.show_model_progress(Progress(Phase.DOWNLOADING_MODEL, 1_000_000, 4_000_000, unit="bytes"))
    assert bar.model.text() == "downloading the model: 1.0 MB of 4.0 MB"
    assert bar.model_bar.isVisible() and bar.model_bar.value() == 250
    bar.show_progress(Progress(Phase.LOADING_MODEL))  # from the worker: the same place
    assert bar.model.text() == "loading the model"
    bar.model_ready()
    assert not bar.model.isVisible() and not bar.model_bar.isVisible()
    bar.model_failed("the weights cannot be downloaded")
    assert bar.model.text() == "model not loaded"


def test_messages_pass_and_the_count_stays(bar: StatusBar, qtbot) -> None:  # type: ignore[no-untyped-def]
    bar.show_message("Added “Pictures”", timeout_ms=50)
    assert bar.message.full_text() == "Added “Pictures”"
    qtbot.waitUntil(lambda: bar.message.full_text() == "", timeout=60000)
    bar.set_count("1,204 photos")
    assert bar.count.text() == "1,204 photos"
