"""photoseek beside rclip 4.0.8: a cold text search, whole processes, on the same photos.

    python -m pytest -m benchmark -s tests/benchmarks/test_bench_vs_rclip.py

What it measures, for the COCO photos of ``../shared/photos`` (363 photos,
640 px) indexed by both with the same random-weight ``ViT-B-32-256`` weights
(random numbers cost what the real ones cost):

* **cold search**: ``photoseek search "a dog on a beach" --json`` with no
  service running, and ``rclip --no-indexing -f -t 10 "a dog on a beach"``,
  each a whole process (interpreter start, imports, the model's text tower
  loaded, the query encoded, the search, the results printed), run in
  alternation :data:`RUNS` times after one untimed run each (the page cache
  warm, as for a user's second search). photoseek runs twice per round: with
  its exported text tower on ONNX Runtime (the default) and with the torch
  text tower (``PHOTOSEEK_TEXT_RUNTIME=torch``). The ratio is the median of
  each round's photoseek/rclip ratio, so both sides of a ratio saw the same
  machine load.
* **peak RSS** of those same processes (the kernel's ``ru_maxrss`` for each).
* ``photoseek --help`` and ``photoseek status``, whole processes.

rclip runs from its own virtual environment (installed from the registry,
Python >= 3.12); its model files are made offline by :mod:`.rclipsetup`. The
benchmark skips when the photos, a Python 3.12 or rclip cannot be had.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from photoseek.core.model.embedder import DEFAULT_ARCH
from tests.benchmarks.conftest import print_table
from tests.benchmarks.rclipsetup import ROOT, rclip_datadir, rclip_executable
from tests.benchmarks.weightsfile import random_weights_file
from tests.conftest import REPO, SHARED_PHOTOS

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(3600)]

RUNS = 7
QUERY = "a dog on a beach"
COCO = SHARED_PHOTOS / "coco" / "images"


@dataclass(frozen=True)
class Measured:
    """One whole process: its wall seconds, its peak RSS and what it printed."""

    seconds: float
    peak_mib: float
    stdout: str
    stderr_tail: str = ""


def run_measured(command: list[str], env: dict[str, str], cwd: Path) -> Measured:
    """Run ``command`` to its end under GNU ``time`` for its peak RSS; fail on a non-zero exit.

    Not this process's own ``wait4``: a child forked from pytest starts with pytest's
    pages mapped, and the kernel counts them into the child's peak.
    """
    timer = shutil.which("time")
    if timer is None:
        pytest.skip("GNU time is needed for the peak RSS (Debian: apt install time)")
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as peak:
        started = time.perf_counter()
        done = subprocess.run(
            [timer, "-f", "%M", "-o", peak.name, *command],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=600,
        )
        seconds = time.perf_counter() - started
        assert done.returncode == 0, f"{command} failed: {done.stderr[-2000:]}"
        kib = int(Path(peak.name).read_text().split()[-1])
    return Measured(seconds, kib / 1024, done.stdout, done.stderr[-4000:])


@pytest.fixture(scope="module")
def photos() -> Path:
    """A private copy of the COCO photos (rclip indexes its working folder)."""
    if not COCO.is_dir():
        pytest.skip("../shared/photos/coco is absent")
    target = ROOT / "coco-photos"
    if not target.is_dir() or len(list(target.iterdir())) != len(list(COCO.glob("*.jpg"))):
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for photo in sorted(COCO.glob("*.jpg")):
            shutil.copy2(photo, target / photo.name)
    return target


@pytest.fixture(scope="module")
def weights() -> Path:
    return random_weights_file(DEFAULT_ARCH)


def photoseek_environment(weights: Path, data: Path) -> dict[str, str]:
    """The CLI's environment for the library in ``data`` on ``weights``, CPU, searches cold."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HNSWLIB_NO_NATIVE": "1",
        "PHOTOSEEK_DATA_DIR": str(data),
        "PHOTOSEEK_MODEL": DEFAULT_ARCH,
        "PHOTOSEEK_PRETRAINED": str(weights),
        "PHOTOSEEK_DEVICE": "cpu",
        "PHOTOSEEK_NO_WARM": "1",
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # pip compiles a user's bytecode at install
    for name in ("PHOTOSEEK_TEXT_RUNTIME", "PHOTOSEEK_IMAGE_RUNTIME", "PHOTOSEEK_PRECISION"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def photoseek_env(photos: Path, weights: Path) -> Iterator[dict[str, str]]:
    """photoseek's environment, its library of ``photos`` indexed (once, kept between runs)."""
    data = ROOT / f"photoseek-data-{weights.stem}"
    env = photoseek_environment(weights, data)
    env.pop("PHOTOSEEK_NO_WARM")  # the warm search below needs it unset
    marker = data / "benchmark-indexed.txt"
    if not marker.is_file():
        shutil.rmtree(data, ignore_errors=True)
        photoseek = [sys.executable, "-m", "photoseek"]
        run_measured([*photoseek, "add", str(photos)], env, REPO)
        run_measured([*photoseek, "index"], env, REPO)
        marker.write_text("indexed\n", encoding="utf-8")
    yield env


@pytest.fixture(scope="module")
def rclip_env(photos: Path, weights: Path) -> tuple[Path, dict[str, str]]:
    """rclip and its environment, ``photos`` indexed (once)."""
    executable = rclip_executable()
    if executable is None:
        pytest.skip("rclip cannot be installed here (it needs Python >= 3.12)")
    datadir = rclip_datadir(weights, DEFAULT_ARCH)
    env = {**os.environ, "RCLIP_DATADIR": str(datadir)}
    for name in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV"):
        env.pop(name, None)
    marker = datadir / f"indexed-{photos.name}.txt"
    if not marker.is_file():
        run_measured([str(executable), "-f", "-t", "1", "anything"], env, photos)
        marker.write_text("indexed\n", encoding="utf-8")
    return executable, env


def _row(label: str, runs: list[Measured], includes: str) -> list[object]:
    seconds = [m.seconds for m in runs]
    return [
        label,
        f"median {statistics.median(seconds):.2f} s "
        f"(min {min(seconds):.2f}, max {max(seconds):.2f})",
        f"{max(m.peak_mib for m in runs):,.0f} MiB",
        includes,
    ]


def _median_ratio(ours: list[Measured], theirs: list[Measured]) -> float:
    return statistics.median(o.seconds / t.seconds for o, t in zip(ours, theirs, strict=True))


def test_a_cold_search_beside_rclip(
    photos: Path,
    photoseek_env: dict[str, str],
    rclip_env: tuple[Path, dict[str, str]],
) -> None:
    rclip, rclip_environment = rclip_env
    search = [sys.executable, "-m", "photoseek", "search", QUERY, "--json"]
    torch_env = {**photoseek_env, "PHOTOSEEK_TEXT_RUNTIME": "torch"}
    rclip_search = [str(rclip), "--no-indexing", "-f", "-t", "10", QUERY]

    def round_of() -> tuple[Measured, Measured, Measured]:
        onnx = run_measured(search, photoseek_env, REPO)
        torch = run_measured(search, torch_env, REPO)
        theirs = run_measured(rclip_search, rclip_environment, photos)
        return onnx, torch, theirs

    first = round_of()  # untimed: the page cache warm, the exported tower checked to exist
    assert len(first[0].stdout.strip()) > 2 and len(first[2].stdout.splitlines()) == 10
    rounds = [round_of() for _ in range(RUNS)]
    onnx, torch, theirs = (list(side) for side in zip(*rounds, strict=True))
    ratio_onnx = _median_ratio(onnx, theirs)
    ratio_torch = _median_ratio(torch, theirs)
    helps = [run_measured([*search[:3], "--help"], photoseek_env, REPO) for _ in range(5)]
    status = [run_measured([*search[:3], "status"], photoseek_env, REPO) for _ in range(5)]
    includes = "whole process: start, imports, text tower, encode, search, print"
    print_table(
        f"cold text search, {len(list(photos.iterdir()))} COCO photos, {DEFAULT_ARCH} random "
        f"weights from a file, CPU, {os.cpu_count()} cores, {RUNS} alternating rounds",
        ["process", "wall", "peak RSS", "includes"],
        [
            _row("photoseek search (ONNX text tower)", onnx, includes),
            _row("photoseek search (torch text tower)", torch, includes),
            _row(f"rclip {QUERY!r} --no-indexing", theirs, includes),
            ["photoseek / rclip, ONNX", f"{ratio_onnx:.2f}x", "", "median of per-round ratios"],
            ["photoseek / rclip, torch", f"{ratio_torch:.2f}x", "", "median of per-round ratios"],
            _row("photoseek --help", helps, "whole process (target <= 0.5 s)"),
            _row("photoseek status", status, "whole process (target <= 0.5 s)"),
        ],
    )


def test_a_warm_search_through_the_watch_service(photoseek_env: dict[str, str]) -> None:
    """``photoseek search`` while ``photoseek watch`` runs: answered over the local socket."""
    from photoseek.warm.address import socket_path

    data = Path(photoseek_env["PHOTOSEEK_DATA_DIR"])
    sock = socket_path(os.path.realpath(data))
    if sock is None:
        pytest.skip("no Unix sockets here")
    service = subprocess.Popen(
        [sys.executable, "-m", "photoseek", "watch"],
        env=photoseek_env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not Path(sock).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert Path(sock).exists(), "the service never listened"
        search = [sys.executable, "-m", "photoseek", "search"]
        run_measured([*search, "warm up", "--json"], photoseek_env, REPO)  # untimed
        new = [
            run_measured([*search, f"{QUERY} {n}", "--json"], photoseek_env, REPO)
            for n in range(RUNS)
        ]
        again = [run_measured([*search, QUERY, "--json"], photoseek_env, REPO) for _ in range(RUNS)]
    finally:
        service.terminate()
        service.wait(60)
    includes = "whole process: start, ask the service over its socket, print"
    print_table(
        "warm text search: photoseek watch running, the same library",
        ["process", "wall", "peak RSS", "includes"],
        [
            _row("photoseek search, a new text (target <= 0.15 s)", new, includes),
            _row("photoseek search, a repeated text", again, includes),
        ],
    )
