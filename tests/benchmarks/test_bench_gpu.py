"""Indexing with the model on a GPU: photos a second, and whether the pipeline keeps it fed.

    python -m pytest -m benchmark -s tests/benchmarks/test_bench_gpu.py

On CUDA the model stops being the bottleneck: a ``ViT-B-32`` embeds thousands
of photos a second, more than the CPU decodes. So the pipeline gives every
core to decoding where the model runs on a GPU (``pipeline._decode_workers``)
and keeps two batches in flight ahead of the model. This benchmark runs the
product's own ``photoseek add`` and ``photoseek index --timings`` as whole
processes on the COCO photos of ``../shared/photos`` (``PHOTOSEEK_BENCH_COPIES``
byte-distinct copies of each, default 4), for each architecture of
``PHOTOSEEK_BENCH_ARCHS`` (default ``ViT-B-32-256,ViT-L-14``) with random
weights read from a file (the same cost as the real ones), and prints:

* the indexing phase's photos a second;
* the model's busy share of that phase: the committing thread's time inside
  the model call, which waits for the GPU's result (an upper bound of the
  GPU's busy share; near 100 % means the GPU is the bottleneck, low means the
  decoding is);
* the decoding's bound: the decode threads' CPU-seconds a photo over the
  cores, the rate at which the CPU can feed any model.

It skips without CUDA. ``PHOTOSEEK_BENCH_DEVICE=cpu`` runs it on the CPU with
the full torch model (``PHOTOSEEK_IMAGE_RUNTIME=torch``), which checks the
benchmark itself where no GPU is lent.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.benchmarks.conftest import print_table
from tests.benchmarks.rclipsetup import ROOT
from tests.benchmarks.test_bench_vs_rclip import photoseek_environment, run_measured
from tests.benchmarks.weightsfile import random_weights_file
from tests.conftest import REPO, SHARED_PHOTOS

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(7200)]

DEVICE = os.environ.get("PHOTOSEEK_BENCH_DEVICE", "cuda")
ARCHS = os.environ.get("PHOTOSEEK_BENCH_ARCHS", "ViT-B-32-256,ViT-L-14").split(",")
COPIES = int(os.environ.get("PHOTOSEEK_BENCH_COPIES", "4"))


def _device_present() -> bool:
    if DEVICE == "cpu":
        return True
    import torch

    return bool(torch.cuda.is_available()) if DEVICE == "cuda" else False


@pytest.fixture(scope="module")
def photos() -> Path:
    source = SHARED_PHOTOS / "coco" / "images"
    if not source.is_dir():
        pytest.skip("../shared/photos/coco is absent")
    target = ROOT / f"gpu-coco-x{COPIES}"
    originals = sorted(source.glob("*.jpg"))
    if not target.is_dir() or len(list(target.iterdir())) != len(originals) * COPIES:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for photo in originals:
            data = photo.read_bytes()
            for n in range(COPIES):
                (target / f"{photo.stem}-{n}.jpg").write_bytes(data + f"copy {n}".encode())
    return target


def stage_row(report: str, stage: str) -> tuple[float, float]:
    """A stage's (busy s, CPU s) from ``index --timings``' table."""
    match = re.search(rf"^\s+{stage}\s+([\d.]+)\s+([\d.]+)", report, re.MULTILINE)
    assert match, report
    return float(match.group(1)), float(match.group(2))


def phase_seconds(report: str) -> float:
    """The indexing phase's wall seconds from ``index --timings``."""
    match = re.search(r"^\s+indexing\s+([\d.]+) s", report, re.MULTILINE)
    assert match, report
    return float(match.group(1))


def test_indexing_keeps_the_gpu_fed(photos: Path) -> None:
    if not _device_present():
        pytest.skip(f"no {DEVICE} device here")
    count = len(list(photos.iterdir()))
    cores = os.cpu_count() or 1
    rows = []
    for arch in ARCHS:
        weights = random_weights_file(arch)
        data = ROOT / f"gpu-run-{DEVICE}-{arch}"
        shutil.rmtree(data, ignore_errors=True)
        env = photoseek_environment(weights, data)
        env.update(PHOTOSEEK_MODEL=arch, PHOTOSEEK_DEVICE=DEVICE, PHOTOSEEK_IMAGE_RUNTIME="torch")
        run_measured([sys.executable, "-m", "photoseek", "add", str(photos)], env, REPO)
        indexed = run_measured([sys.executable, "-m", "photoseek", "index", "--timings"], env, REPO)
        report = indexed.stderr_tail
        phase = phase_seconds(report)
        model_busy, _ = stage_row(report, "model")
        _, decode_cpu = stage_row(report, "decode")
        _, prep_cpu = stage_row(report, "preprocess")
        feed = count / ((decode_cpu + prep_cpu) / cores)
        rows.append(
            [
                arch,
                f"{count / phase:,.1f}/s",
                f"{model_busy / phase:.0%}",
                f"{feed:,.0f}/s",
                f"{indexed.seconds:.1f} s",
                f"{indexed.peak_mib:,.0f} MiB",
            ]
        )
    print_table(
        f"indexing {count} COCO photos on {DEVICE} ({cores} cores decoding), random weights",
        ["model", "indexing phase", "model busy", "decode bound", "index process", "peak RSS"],
        rows,
    )
