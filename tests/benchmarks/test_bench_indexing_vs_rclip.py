"""photoseek beside rclip 4.0.8: indexing, whole processes, on the same photos.

    python -m pytest -m benchmark -s tests/benchmarks/test_bench_indexing_vs_rclip.py

Two photo sets: the 363 COCO photos of ``../shared/photos`` (640 px), and 48
camera-size JPEGs (2,000-6,000 px): the 8 of ``../shared/photos/large``, 6
copies each made byte-distinct by a different trailing comment after the
image's end (decoders ignore it; rclip skips duplicate content, so copies
must differ). Both tools run the same random-weight ``ViT-B-32-256`` weights
(random numbers cost what the real ones cost) on the CPU, in alternation,
:data:`ROUNDS` rounds, each with a fresh library:

* **photoseek** fp32 and int8 (the fast mode): ``photoseek add DIR``, then
  ``photoseek index --timings``, then ``photoseek search QUERY``: the wall
  times of the three processes summed, the model load included. Its models
  folder is as after any earlier run (weights digest cached, the light
  towers recorded), as rclip's data folder holds its exported towers.
* **rclip**: ``rclip -f -t 1 QUERY`` in the photos' folder, its database
  deleted first: one process that indexes, then answers.

The ratio is the median of each round's rclip/photoseek time (above 1:
photoseek is faster). The **work bound** is measured on the same photos, in a
fresh process set up as ``photoseek index``'s is (4 KB pages, where this
benchmark's own process has the app's huge pages): the fp32 image tower's
CPU-seconds for them in batches of 32, plus decoding and preparing each
(single-threaded, draft-mode JPEG decode as both tools do), divided by the
cores, once in each round; the median of each round's bound over its indexing
phase is printed. The int8 tower's cosine to fp32 and its top-10 neighbour
agreement with fp32 (image to image, over the COCO photos) are printed as its
quality note. The last round's stage table says where photoseek's time went.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from photoseek.core.model.embedder import DEFAULT_ARCH
from tests.benchmarks.conftest import print_table
from tests.benchmarks.rclipsetup import ROOT, rclip_datadir, rclip_executable
from tests.benchmarks.test_bench_vs_rclip import Measured, photoseek_environment, run_measured
from tests.benchmarks.weightsfile import random_weights_file
from tests.conftest import REPO, SHARED_PHOTOS

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(7200)]

ROUNDS = int(os.environ.get("PHOTOSEEK_BENCH_ROUNDS", "3"))
COPIES = 6
QUERY = "a dog on a beach"


def _python() -> str:
    import sys

    return sys.executable


@pytest.fixture(scope="module")
def weights() -> Path:
    return random_weights_file(DEFAULT_ARCH)


@pytest.fixture(scope="module")
def coco() -> Path:
    source = SHARED_PHOTOS / "coco" / "images"
    if not source.is_dir():
        pytest.skip("../shared/photos/coco is absent")
    return _copied(sorted(source.glob("*.jpg")), ROOT / "index-coco", copies=1)


@pytest.fixture(scope="module")
def camera() -> Path:
    source = SHARED_PHOTOS / "large"
    if not source.is_dir():
        pytest.skip("../shared/photos/large is absent")
    return _copied(sorted(source.glob("*.jpg")), ROOT / "index-camera", copies=COPIES)


def _copied(photos: list[Path], target: Path, copies: int) -> Path:
    """``copies`` byte-distinct copies of each photo in ``target`` (made once)."""
    if target.is_dir() and len(list(target.iterdir())) == len(photos) * copies:
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for photo in photos:
        data = photo.read_bytes()
        for n in range(copies):
            trailer = f"photoseek benchmark copy {n}".encode() if copies > 1 else b""
            (target / f"{photo.stem}-{n}{photo.suffix}").write_bytes(data + trailer)
    return target


@pytest.fixture(scope="module")
def warm_models(weights: Path, coco: Path) -> Iterator[Path]:
    """A models folder as after an earlier run: one full-model load recorded the light paths."""
    from photoseek.core.model import imagepath
    from photoseek.core.model.embedder import ModelSettings

    data = ROOT / "index-warm-models"
    models = data / "cache" / "models"
    settings = ModelSettings(DEFAULT_ARCH, str(weights), "cpu")
    if not imagepath.has_light_path(settings, models):  # none yet, or one for older graphs
        shutil.rmtree(data, ignore_errors=True)
        few = ROOT / "index-few"
        _copied(sorted(coco.glob("*.jpg"))[:4], few, copies=1)
        env = photoseek_environment(weights, data)
        run_measured([_python(), "-m", "photoseek", "add", str(few)], env, REPO)
        run_measured([_python(), "-m", "photoseek", "index"], env, REPO)
    yield models


def _fresh_library(weights: Path, warm_models: Path, name: str) -> dict[str, str]:
    """A new library whose models folder is the warm one (hard links: no copying 250 MB)."""
    data = ROOT / f"index-run-{name}"
    shutil.rmtree(data, ignore_errors=True)
    (data / "cache").mkdir(parents=True)
    shutil.copytree(warm_models, data / "cache" / "models", copy_function=os.link)
    return photoseek_environment(weights, data)


def _photoseek_round(env: dict[str, str], photos: Path, precision: str) -> list[Measured]:
    base = [_python(), "-m", "photoseek", "--precision", precision]
    return [
        run_measured([*base, "add", str(photos)], env, REPO),
        run_measured([*base, "index", "--timings"], env, REPO),
        run_measured([*base, "search", QUERY, "--json"], env, REPO),
    ]


def _rclip_round(executable: Path, env: dict[str, str], photos: Path) -> Measured:
    (Path(env["RCLIP_DATADIR"]) / "db.sqlite3").unlink(missing_ok=True)
    return run_measured([str(executable), "-f", "-t", "1", QUERY], env, photos)


@pytest.fixture(scope="module")
def rclip(weights: Path) -> tuple[Path, dict[str, str]]:
    executable = rclip_executable()
    if executable is None:
        pytest.skip("rclip cannot be installed here (it needs Python >= 3.12)")
    source = rclip_datadir(weights, DEFAULT_ARCH)
    datadir = ROOT / "index-rclip-data"  # its own database, the same towers
    shutil.rmtree(datadir, ignore_errors=True)
    datadir.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.name != "db.sqlite3" and not entry.name.startswith("indexed-"):
            (datadir / entry.name).symlink_to(entry)
    env = {**os.environ, "RCLIP_DATADIR": str(datadir)}
    for name in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV"):
        env.pop(name, None)
    return executable, env


def _indexing_seconds(stderr_report: str) -> float | None:
    match = re.search(r"^\s+indexing\s+([\d.]+) s", stderr_report, re.MULTILINE)
    return float(match.group(1)) if match else None


@pytest.mark.parametrize("photo_set", ["coco", "camera"])
def test_indexing_beside_rclip(
    photo_set: str,
    request: pytest.FixtureRequest,
    weights: Path,
    warm_models: Path,
    rclip: tuple[Path, dict[str, str]],
) -> None:
    photos: Path = request.getfixturevalue(photo_set)
    count = len(list(photos.iterdir()))
    executable, rclip_env = rclip
    runs: dict[str, list[list[Measured]]] = {"fp32": [], "int8": []}
    theirs: list[Measured] = []
    bounds: list[float] = []  # one per round, beside it: the machine's speed drifts
    for n in range(ROUNDS):
        for precision in ("fp32", "int8"):
            env = _fresh_library(weights, warm_models, f"{photo_set}-{precision}")
            runs[precision].append(_photoseek_round(env, photos, precision))
        theirs.append(_rclip_round(executable, rclip_env, photos))
        bounds.append(work_bound_as_index_runs(photos, weights))
        print(
            f"round {n + 1}: "
            + ", ".join(f"{p} {sum(m.seconds for m in runs[p][-1]):.1f} s" for p in runs)
            + f", rclip {theirs[-1].seconds:.1f} s, work bound {bounds[-1]:.2f} s"
        )
    rows = [_rclip_row(theirs, count)]
    for precision, rounds in runs.items():
        rows.append(_photoseek_row(precision, rounds, theirs, count, bounds))
    bound = statistics.median(bounds)
    rows.append(["work bound (fp32)", f"{bound:.1f} s", f"{count / bound:.2f}/s", "", "", ""])
    print_table(
        f"indexing, {count} {photo_set} photos, {DEFAULT_ARCH} random weights, CPU, "
        f"{os.cpu_count()} cores, {ROUNDS} alternating rounds, fresh libraries",
        ["process", "wall (median)", "photos/s", "vs rclip", "vs work bound", "peak RSS"],
        rows,
    )
    print("\nphotoseek fp32, last round, `index --timings`:\n" + runs["fp32"][-1][1].stderr_tail)


def _rclip_row(theirs: list[Measured], count: int) -> list[object]:
    wall = statistics.median(m.seconds for m in theirs)
    peak = max(m.peak_mib for m in theirs)
    return [
        "rclip -f -t 1 (index + search)",
        f"{wall:.1f} s",
        f"{count / wall:.2f}/s",
        "1.00x",
        "",
        f"{peak:,.0f} MiB",
    ]


def _photoseek_row(
    precision: str,
    rounds: list[list[Measured]],
    theirs: list[Measured],
    count: int,
    bounds: list[float],
) -> list[object]:
    totals = [sum(m.seconds for m in r) for r in rounds]
    ratio = statistics.median(t.seconds / s for s, t in zip(totals, theirs, strict=True))
    phases = [_indexing_seconds(r[1].stderr_tail) for r in rounds]
    share = ""
    if all(phases):  # the median of each round's bound / its indexing phase
        shares = [b / p for b, p in zip(bounds, phases, strict=True) if p]
        phase = statistics.median(p for p in phases if p)
        share = f"{statistics.median(shares):.0%} (indexing phase {phase:.1f} s)"
    wall = statistics.median(totals)
    return [
        f"photoseek {precision} add + index + search",
        f"{wall:.1f} s",
        f"{count / wall:.2f}/s",
        f"{ratio:.2f}x",
        share if precision == "fp32" else "",
        f"{max(r[1].peak_mib for r in rounds):,.0f} MiB",
    ]


def work_bound_as_index_runs(photos: Path, weights: Path) -> float:
    """:func:`work_bound` in a fresh process set up as ``photoseek index``'s is (4 KB pages:
    a one-shot command does not restart with huge pages, while this benchmark's own process
    is the app's, which does; see :mod:`photoseek.hugepages`)."""
    code = (
        "import sys; from pathlib import Path; "
        "from tests.benchmarks.test_bench_indexing_vs_rclip import work_bound; "
        "print(work_bound(Path(sys.argv[1]), Path(sys.argv[2])))"
    )
    done = subprocess.run(
        [_python(), "-c", code, str(photos), str(weights)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    print(done.stdout.strip().splitlines()[-2])  # the bound's two parts
    return float(done.stdout.strip().splitlines()[-1])


def work_bound(photos: Path, weights: Path) -> float:
    """Seconds the fp32 work on ``photos`` needs at best: (model + decode CPU-s) / cores."""
    from photoseek.core.imaging.decode import decode_image
    from photoseek.core.imaging.pixels import fit_for_model
    from photoseek.core.model import imagepath
    from photoseek.core.model.onnxvision import OnnxImageTower
    from photoseek.core.model.visionspec import ImagePrep, VisionTowerSpec

    record = next(
        iter(imagepath.read_records(ROOT / "index-warm-models" / "cache" / "models").values())
    )
    spec, prep = VisionTowerSpec.from_json(record["spec"]), ImagePrep.from_json(record["prep"])
    decode_cpu, pixels = 0.0, []
    for path in sorted(photos.iterdir()):
        started = time.thread_time()
        image = decode_image(path, min_side=spec.image_size).image
        pixels.append(prep(fit_for_model(image)))
        decode_cpu += time.thread_time() - started
    tower = OnnxImageTower(spec, imagepath.vision_tensors(weights), "fp32")
    tower.encode(np.stack(pixels[:2]))  # warm
    before = _process_cpu()
    for start in range(0, len(pixels), 32):
        tower.encode(np.stack(pixels[start : start + 32]))
    model_cpu = _process_cpu() - before
    print(
        f"work bound: model {model_cpu:.2f} CPU-s + decode and prepare {decode_cpu:.2f} CPU-s, "
        f"{os.cpu_count()} cores"
    )
    return (model_cpu + decode_cpu) / (os.cpu_count() or 1)


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def test_fast_mode_quality_note(coco: Path, weights: Path, warm_models: Path) -> None:
    """The fast mode's int8 graph (as the record picks it on this computer) beside fp32 on
    the COCO photos: cosine, and top-10 neighbour agreement; the other graph too."""
    from photoseek.core.imaging.decode import decode_image
    from photoseek.core.imaging.pixels import fit_for_model
    from photoseek.core.model import imagepath
    from photoseek.core.model.onnxvision import OnnxImageTower
    from photoseek.core.model.visionspec import ImagePrep, VisionTowerSpec

    record = next(iter(imagepath.read_records(warm_models).values()))
    spec, prep = VisionTowerSpec.from_json(record["spec"]), ImagePrep.from_json(record["prep"])
    pixels = np.stack(
        [
            prep(fit_for_model(decode_image(p, min_side=spec.image_size).image))
            for p in sorted(coco.iterdir())
        ]
    )
    tensors = imagepath.vision_tensors(weights)
    chosen = imagepath.fast_graph(record)
    fp32 = _encode_all(OnnxImageTower(spec, tensors, "fp32"), pixels)
    rows: list[list[object]] = []
    least = {}
    for graph, key in (("int8-full", "int8_full_cosine"), ("int8", "int8_cosine")):
        vectors = _encode_all(OnnxImageTower(spec, tensors, graph), pixels)
        cosine = (fp32 * vectors).sum(axis=1)
        least[graph] = float(cosine.min())
        mark = " (the fast mode's here)" if graph == chosen else ""
        rows += [
            [
                f"{graph}{mark}: cosine to fp32, min / median",
                f"{cosine.min():.4f} / {np.median(cosine):.4f}",
            ],
            [
                f"{graph}: top-10 image neighbours shared with fp32",
                f"{_top10_agreement(fp32, vectors):.1%}",
            ],
            [f"{graph}: probe-image cosine recorded", f"{record.get(key, 0.0):.4f}"],
        ]
    print_table(
        f"fast mode beside fp32, {len(pixels)} COCO photos, {DEFAULT_ARCH} random weights "
        f"(int8-full is chosen at probe cosine >= {imagepath.MIN_INT8_FULL_COSINE}, "
        f"int8 at >= {imagepath.MIN_INT8_COSINE})",
        ["measure", "value"],
        rows,
    )
    assert chosen is not None and least[chosen] >= 0.99


def _encode_all(tower: object, pixels: np.ndarray) -> np.ndarray:
    rows = [tower.encode(pixels[i : i + 32]) for i in range(0, len(pixels), 32)]  # type: ignore[attr-defined]
    return np.concatenate(rows)


def _top10_agreement(a: np.ndarray, b: np.ndarray) -> float:
    def top(v: np.ndarray) -> np.ndarray:
        scores = v @ v.T
        np.fill_diagonal(scores, -np.inf)
        return np.argsort(-scores, axis=1)[:, :10]

    ta, tb = top(a), top(b)
    return float(np.mean([len(set(x) & set(y)) / 10 for x, y in zip(ta, tb, strict=True)]))
