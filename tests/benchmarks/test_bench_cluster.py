"""Indexing through a local Ray instance against plain local indexing: Ray's overhead, measured.

Run (Ray installed: ``pip install -e '.[cluster]'``)::

    python -m pytest -m benchmark -s tests/benchmarks/test_bench_cluster.py

Whole processes, as a user runs them: a fresh library of the first
``PHOTOSEEK_BENCH_CLUSTER_PHOTOS`` (default 200) COCO photos of
``../shared/photos`` is added, then ``photoseek index`` runs either locally or
with ``--cluster local`` (Ray started for the run on 127.0.0.1 with this
machine's two CPUs: one model actor, decode tasks on the other CPU), in
alternation, ``PHOTOSEEK_BENCH_ROUNDS`` rounds (default 2). The ``index``
process is timed whole: Python start, the scan, the model load (the driver's
and the actor's), Ray's start and stop, decoding, embedding, the commits, the
thumbnails. Same architecture as the product's default (``ViT-B-32-256``), its
seeded random weights read from a ``.safetensors`` file (the cost of real ones).

On one machine a cluster can only cost: the driver still reads and
fingerprints every photo, Ray moves each photo's bytes and pixels between
processes, and the model runs in an actor on the same cores. The table says
by how much; a cluster pays off where its nodes add GPUs or cores. The last
column is the node's own rate as ``index`` prints it at the end (photos/s from
the actor's first answer on: Ray's start and the model's load excluded).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import pytest

from photoseek.core.model.embedder import DEFAULT_ARCH
from tests.benchmarks.conftest import print_table
from tests.benchmarks.test_bench_vs_rclip import Measured, photoseek_environment, run_measured
from tests.benchmarks.weightsfile import random_weights_file
from tests.conftest import SHARED_PHOTOS

pytestmark = pytest.mark.timeout(3600)

REPO = Path(__file__).resolve().parents[2]
ROOT = Path(tempfile.gettempdir()) / "photoseek-bench" / "cluster"
PHOTOS = int(os.environ.get("PHOTOSEEK_BENCH_CLUSTER_PHOTOS", "200"))
ROUNDS = int(os.environ.get("PHOTOSEEK_BENCH_ROUNDS", "2"))
MODES = {"local": [], "--cluster local": ["--cluster", "local"]}


@pytest.fixture(scope="module")
def photos() -> Path:
    pytest.importorskip("ray")
    source = SHARED_PHOTOS / "coco" / "images"
    if not source.is_dir():
        pytest.skip("../shared/photos/coco is absent")
    folder = ROOT / "photos"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for photo in sorted(source.glob("*.jpg"))[:PHOTOS]:
        shutil.copy2(photo, folder / photo.name)
    return folder


def _index_once(photos: Path, mode: str, round_no: int) -> Measured:
    """A fresh library of ``photos``, added, then indexed in ``mode``; the index process."""
    data = ROOT / f"library-{round_no}-{mode.replace(' ', '').replace('-', '')}"
    shutil.rmtree(data, ignore_errors=True)
    env = photoseek_environment(random_weights_file(DEFAULT_ARCH), data)
    command = [sys.executable, "-m", "photoseek"]
    run_measured([*command, "add", str(photos)], env, REPO)
    measured = run_measured([*command, "index", *MODES[mode]], env, REPO)
    assert f"{PHOTOS} photos processed: {PHOTOS} embedded" in measured.stdout, measured.stdout
    shutil.rmtree(data, ignore_errors=True)
    return measured


def _node_rate(stderr: str) -> float:
    """The node's photos/s from the cluster line ``index`` prints (from its first answer on)."""
    line = next(x for x in stderr.splitlines()[::-1] if x.startswith("cluster: "))
    return float(line.rsplit(" ", 2)[-2].removesuffix("/s"))


def test_indexing_through_a_local_ray_instance_against_local(photos: Path) -> None:
    runs: dict[str, list[Measured]] = {mode: [] for mode in MODES}
    for round_no in range(ROUNDS):
        for mode in MODES:  # alternated: the machine's load falls on both alike
            runs[mode].append(_index_once(photos, mode, round_no))
    seconds = {mode: statistics.median(m.seconds for m in ms) for mode, ms in runs.items()}
    steady = [_node_rate(m.stderr_tail) for m in runs["--cluster local"]]
    rows = [
        [
            f"photoseek index {mode}".strip(),
            f"{seconds[mode]:.1f}",
            " / ".join(f"{m.seconds:.1f}" for m in ms),
            f"{PHOTOS / seconds[mode]:.1f}",
            f"{max(m.peak_mib for m in ms):,.0f}",
            f"{seconds[mode] / seconds['local']:.2f}x",
            " / ".join(f"{r:.1f}" for r in steady) if mode != "local" else "",
        ]
        for mode, ms in runs.items()
    ]
    print_table(
        f"indexing {PHOTOS} COCO photos, {DEFAULT_ARCH} fp32 on the CPU, {os.cpu_count()} "
        f"CPUs; whole `index` process, median of {ROUNDS} alternated rounds",
        [
            "command",
            "s",
            "each round s",
            "photos/s",
            "peak RSS MiB (largest)",
            "time vs local",
            "node photos/s after start",
        ],
        rows,
    )
