"""How the command line draws progress: every phase shown, counted right, said once."""

from __future__ import annotations

import io

import pytest

from photoseek.cli_output import plural, progress_printer
from photoseek.core.indexing.tracker import Tracker
from photoseek.core.progress import ClusterLoad, NodeLoad, Phase, Progress

RUN = [
    Progress(Phase.SCANNING, 0, None, unit="files"),
    Progress(Phase.SCANNING, 500, None, unit="files"),
    Progress(Phase.SCANNING, 731, 731, unit="files"),
    Progress(Phase.LOADING_MODEL, 0, 1, unit="steps"),
    Progress(Phase.LOADING_MODEL, 1, 1, unit="steps"),
    Progress(Phase.INDEXING, 0, 12, rate=0.0),
    Progress(Phase.INDEXING, 12, 12, rate=6.0, eta_s=0.0, problems=1),
    Progress(Phase.DONE, 12, 12, problems=1),
]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_show_each_phase_and_how_it_ended() -> None:
    stream = io.StringIO()
    with progress_printer(stream) as show:
        for progress in RUN:
            show(progress)
    assert stream.getvalue().splitlines() == [
        "scanning: 0 files",
        "scanning: 731/731 files",
        "loading model...",
        "loading model: done",
        "indexing: 0/12 photos (0.0/s), 0 problems",
        "indexing: 12/12 photos (6.0/s, ETA 0s), 1 problem",
    ]  # and no "done" line: the command prints its one summary


def test_bars_on_a_terminal_count_files_and_photos() -> None:
    stream = _Terminal()
    with progress_printer(stream) as show:
        for progress in RUN:
            show(progress)
    text = stream.getvalue()
    assert "scanning: 731 files" in text and ": : 0photo" not in text
    assert "indexing: 100%" in text and "12/12" in text and "problems=1" in text
    assert "done" not in text


def test_the_rate_clock_starts_with_the_work_not_before(monkeypatch: pytest.MonkeyPatch) -> None:
    from photoseek.core.indexing import tracker as tracker_module

    now = [1000.0]
    monkeypatch.setattr(tracker_module.time, "monotonic", lambda: now[0])
    tracker = Tracker(total=100)
    now[0] += 8.0  # a model load before the work: not part of the rate
    tracker.start()
    now[0] += 2.0
    tracker.record(10, current="a")
    assert tracker.rate() == 5.0  # 10 photos in 2 s, not in 10 s
    assert tracker.snapshot(Phase.INDEXING).eta_s == 18.0
    now[0] += 3600.0  # an idle watch service ...
    tracker.start()
    now[0] += 1.0
    tracker.record(3, current="b")
    assert tracker.rate() > 1.0  # ... does not report an hour-long average


def test_plural() -> None:
    assert [plural(n, "problem") for n in (0, 1, 2, 1204)] == [
        "0 problems",
        "1 problem",
        "2 problems",
        "1,204 problems",
    ]


CLUSTER = ClusterLoad(
    "ray://gpu-box:10001",
    actors=2,
    gpus=2.0,
    cpus=16.0,
    nodes=(NodeLoad("gpu-box", 900, 41.0, "cuda", 2), NodeLoad("nas", 60, 3.2, "cpu", 0)),
)


def test_a_cluster_run_shows_its_actors_gpus_and_each_nodes_rate() -> None:
    assert CLUSTER.summary() == "2 actors, 2 GPUs, 16 CPUs: gpu-box 41.0/s (cuda), nas 3.2/s (cpu)"
    one = ClusterLoad("local", 1, 0.0, 2.0)
    assert one.summary() == "1 actor, no GPU, 2 CPUs"
    stream = io.StringIO()
    with progress_printer(stream) as show:
        show(Progress(Phase.INDEXING, 960, 2000, rate=44.2, eta_s=24.0, cluster=CLUSTER))
    assert stream.getvalue().splitlines() == [
        "indexing: 960/2,000 photos (44.2/s, ETA 24s), 0 problems; cluster: " + CLUSTER.summary()
    ]
    terminal = _Terminal()
    with progress_printer(terminal) as show:
        show(Progress(Phase.INDEXING, 960, 2000, rate=44.2, cluster=CLUSTER))
    assert f"cluster: {CLUSTER.summary()}" in terminal.getvalue()
