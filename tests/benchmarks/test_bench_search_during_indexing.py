"""A search typed while the library indexes: latency against the same search on an idle library.

Run: ``python -m pytest -m benchmark -s tests/benchmarks/test_bench_search_during_indexing.py``.

One process, one library, the real default architecture with random weights
(the same cost as the real ones). Every query is new text (no cached vector),
so each one pays the text tower, the HNSW query and the exact re-scoring.
First a round of searches on the idle library, then the same number while
another thread indexes photos (``../shared/photos`` when present, else
generated JPEGs), both in this one run. The target (issue 6): p50 while
indexing <= 2x the idle p50.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import pytest

from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.library import Library
from photoseek.core.model.embedder import DEFAULT_ARCH, ModelSettings
from photoseek.core.search.searcher import SearchOptions
from photoseek.paths import resolve_paths
from tests.benchmarks.conftest import print_table
from tests.conftest import SHARED_PHOTOS, make_photo, run_index

SETTINGS = ModelSettings(DEFAULT_ARCH, "none", "cpu")
SEARCHES = 40
GAP_S = 0.15  # a person typing: one new query every few keystrokes
THINGS = ("dog", "cat", "beach", "kite", "bus", "snow", "kitchen", "pizza", "train", "flower")


def _photos(tmp_path: Path, count: int, start: int) -> list[Path]:
    coco = SHARED_PHOTOS / "coco" / "images"
    if coco.is_dir():
        return sorted(coco.glob("*.jpg"))[start : start + count]
    return [
        make_photo(tmp_path / "gen" / f"{i}.jpg", i, size=(640, 480))
        for i in range(start, start + count)
    ]


def _link(paths: list[Path], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        (folder / path.name).symlink_to(path)


def _latencies(
    library: Library, round_name: str, stop: threading.Event | None = None
) -> list[float]:
    times: list[float] = []
    for i in range(SEARCHES):
        if stop is not None and stop.is_set():
            break
        query = f"a photo of a {THINGS[i % len(THINGS)]}, {round_name} {i}"  # always new text
        started = time.perf_counter()
        library.search(query, SearchOptions(limit=50))
        times.append(time.perf_counter() - started)
        time.sleep(GAP_S)
    return times


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def test_search_latency_while_indexing(tmp_path: Path) -> None:
    library = Library(
        resolve_paths(tmp_path / "data"), SETTINGS, indexer_options=IndexerOptions(batch_size=32)
    )
    _link(_photos(tmp_path, 100, 0), tmp_path / "pics" / "first")
    library.add_folder(tmp_path / "pics")
    run_index(library)  # a library to search, and the model loaded
    library.search("warm up")
    idle = _latencies(library, "idle")

    _link(_photos(tmp_path, 260, 100), tmp_path / "pics" / "more")
    indexing_done = threading.Event()
    batches: list[float] = []
    real = library.embedder.encode_images

    def timed(tensors):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return real(tensors)
        finally:
            batches.append(time.perf_counter() - started)

    library.embedder.encode_images = timed  # type: ignore[method-assign]

    def index() -> None:
        try:
            run_index(library)
        finally:
            indexing_done.set()

    worker = threading.Thread(target=index)
    worker.start()
    while not batches:  # searches start once the model is busy with a batch
        time.sleep(0.05)
    busy = _latencies(library, "busy", stop=indexing_done)
    finished_during = indexing_done.is_set()
    worker.join()
    library.close()

    rows = [
        ["idle library", len(idle), f"{_p(idle, 0.5):.0f}", f"{_p(idle, 0.99):.0f}", ""],
        [
            "while indexing",
            len(busy),
            f"{_p(busy, 0.5):.0f}",
            f"{_p(busy, 0.99):.0f}",
            f"{_p(busy, 0.5) / _p(idle, 0.5):.2f}x idle p50",
        ],
    ]
    print_table(
        f"new-text search, {DEFAULT_ARCH} random weights on the CPU, a batch of 32 takes "
        f"p50 {statistics.median(batches):.2f} s",
        ["round", "searches", "p50 ms", "p99 ms", "ratio"],
        rows,
    )
    if finished_during:
        pytest.skip("indexing ended before the busy round finished: add photos")
    assert len(busy) == SEARCHES
