"""How fast a new photo becomes searchable, and what the idle service costs.

Run: ``python -m pytest -m benchmark -s tests/benchmarks/test_bench_watch.py``.
Latency uses the real default architecture (random weights: the same cost)
with the service's default timing (a file must be stable for 2 s). Idle CPU
is measured on a real ``photoseek watch`` process watching 10,000 files.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from PIL import Image

from photoseek.core.library import Library
from photoseek.core.model.embedder import DEFAULT_ARCH, ModelSettings
from photoseek.core.search.searcher import SearchOptions
from photoseek.daemon import ServiceOptions, WatchService, read_state
from photoseek.paths import resolve_paths
from tests.benchmarks.conftest import print_table
from tests.conftest import (
    SHARED_PHOTOS,
    make_photo,
    make_photos,
    run_index,
    tiny_env,
    tiny_settings,
)
from tests.integration.test_watch import wait_for

REAL = ModelSettings(DEFAULT_ARCH, "none", "cpu")
IDLE_SECONDS = 30


def _sources(tmp_path: Path, count: int) -> list[Path]:
    coco = sorted((SHARED_PHOTOS / "coco" / "images").glob("*.jpg"))
    if coco:
        return coco[:count]
    return [make_photo(tmp_path / "src" / f"{i}.jpg", i, size=(640, 480)) for i in range(count)]


def test_landing_to_searchable_latency(tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    make_photos(folder, 20)
    paths = resolve_paths(tmp_path / "data")
    library = Library(paths, REAL)
    library.add_folder(folder)
    run_index(library)
    stop = threading.Event()
    service = WatchService(library, ServiceOptions())  # default timing: stable for 2 s
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    wait_for(lambda: service.state.state == "watching", timeout=300)
    reader = Library(paths, REAL, read_only=True)
    sources = _sources(tmp_path, 30)
    singles = []
    for source in sources[:10]:
        target = folder / source.name
        shutil.copy(source, target)  # wait_for's clock starts as the file lands
        singles.append(wait_for(lambda t=target: _found(reader, t), timeout=60))
    burst_targets = [folder / s.name for s in sources[10:30]]
    started = time.monotonic()
    for source, target in zip(sources[10:30], burst_targets, strict=True):
        shutil.copy(source, target)
    wait_for(lambda: all(_found(reader, t) for t in burst_targets), timeout=120)
    burst = time.monotonic() - started
    stop.set()
    thread.join(timeout=30)
    reader.close()
    library.close()
    print_table(
        f"landing -> searchable by another reader ({DEFAULT_ARCH}, CPU, stable_s=2)",
        ["case", "p50 s", "max s"],
        [
            [
                "one photo at a time (10)",
                f"{statistics.median(singles):.2f}",
                f"{max(singles):.2f}",
            ],
            ["20 photos at once (all found)", f"{burst:.2f}", ""],
        ],
    )


def _found(reader: Library, path: Path) -> bool:
    hits = reader.search("a photo", SearchOptions(limit=200)).hits
    return any(h.photo.path == path for h in hits)


def test_idle_cpu_of_the_service_on_10000_files(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    for i in range(10_000):
        sub = folder / f"d{i // 500:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8), (i % 256, (i // 256) % 256, 3)).save(sub / f"{i:05d}.png")
    data_dir = tmp_path / "data"
    with Library(resolve_paths(data_dir), tiny_settings()) as library:
        library.add_folder(folder)
        run_index(library)
    env = tiny_env(data_dir)
    service = subprocess.Popen(
        [sys.executable, "-m", "photoseek", "watch"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: (read_state(data_dir) or {}).get("state") == "watching", timeout=300)
        time.sleep(2)
        process = psutil.Process(service.pid)
        before = process.cpu_times()
        time.sleep(IDLE_SECONDS)
        after = process.cpu_times()
        rss = process.memory_info().rss / 2**20
    finally:
        service.terminate()
        service.wait(timeout=30)
    cpu = (after.user - before.user) + (after.system - before.system)
    print_table(
        "watch service idle on 10,000 files (tiny model; the model is idle anyway)",
        ["seconds", "CPU seconds", "CPU %", "RSS MB"],
        [[IDLE_SECONDS, f"{cpu:.3f}", f"{100 * cpu / IDLE_SECONDS:.2f}", f"{rss:.0f}"]],
    )
    assert cpu / IDLE_SECONDS < 0.05
