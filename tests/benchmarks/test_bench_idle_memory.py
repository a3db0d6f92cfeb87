"""The watch service's memory: indexing, with a warm search, and idle after it gives the image
tower back.

    python -m pytest -m benchmark -s tests/benchmarks/test_bench_idle_memory.py

A fresh process (so pytest's own pages do not count) runs the watch service
on 64 COCO photos with the default architecture's random weights from a file
(its light paths recorded by a full load in an earlier process, as after any
first run),
``release_after_s`` 10 s instead of 120 s so the benchmark does not wait; it
samples its resident size (``VmRSS``) while indexing, after a warm text
search opened the text tower, and once the idle service released the image
tower.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks.conftest import as_photoseek_process, print_table
from tests.benchmarks.rclipsetup import ROOT
from tests.benchmarks.weightsfile import random_weights_file
from tests.conftest import REPO, SHARED_PHOTOS

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(1800)]

_SERVICE = r"""
import json, os, sys, threading, time
from pathlib import Path
from photoseek.core.library import Library
from photoseek.core.model.embedder import ModelSettings
from photoseek.daemon import ServiceOptions, WatchService
from photoseek.paths import resolve_paths

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024

data, photos, weights = (Path(a) for a in sys.argv[1:4])
settings = ModelSettings("ViT-B-32-256", str(weights), "cpu")
figures = {"started": rss()}
if len(sys.argv) > 4:  # the first run's full load, in a process of its own: records the light paths
    with Library(resolve_paths(data), settings) as library:
        library.load_model()
    sys.exit(0)
with Library(resolve_paths(data), settings) as library:
    library.add_folder(photos)
    service = WatchService(library, ServiceOptions(release_after_s=10, tick_s=0.2))
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,))
    thread.start()
    peak = 0
    while library.status().counts.get("indexed", 0) < 64:
        peak = max(peak, rss())
        time.sleep(0.2)
    figures["indexing (largest sample)"] = peak
    library.search("a dog on a beach")
    figures["after a warm text search"] = rss()
    while library._image_encoder is not None or library._embedder is not None:
        time.sleep(0.5)
    time.sleep(2)
    figures["idle, image tower released"] = rss()
    library.search("a cat on a sofa")
    figures["idle, after another text search"] = rss()
    stop.set()
    thread.join()
print(json.dumps(figures))
"""


def test_idle_service_memory() -> None:
    coco = SHARED_PHOTOS / "coco" / "images"
    if not coco.is_dir():
        pytest.skip("../shared/photos/coco is absent")
    if not Path("/proc/self/status").is_file():
        pytest.skip("reads VmRSS from /proc")
    root = ROOT / "idle-memory"
    subprocess.run(["rm", "-rf", str(root)], check=True)
    photos = root / "photos"
    photos.mkdir(parents=True)
    for path in sorted(coco.glob("*.jpg"))[:64]:
        os.link(path, photos / path.name)
    weights = random_weights_file("ViT-B-32-256")
    env = as_photoseek_process({**os.environ, "PYTHONPATH": str(REPO), "HNSWLIB_NO_NATIVE": "1"})
    command = [sys.executable, "-c", _SERVICE, str(root / "data"), str(photos), str(weights)]
    subprocess.run([*command, "record"], env=env, check=True, capture_output=True, timeout=900)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print_table(
        "watch service RSS, 64 COCO photos, ViT-B-32-256 random weights, light paths recorded",
        ["moment", "RSS"],
        [[moment, f"{mib:,} MiB"] for moment, mib in figures.items()],
    )
