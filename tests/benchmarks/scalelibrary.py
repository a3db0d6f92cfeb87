"""A synthetic library of any size for the scale benchmark: catalog rows and the HNSW index.

:func:`scale_library` writes ``size`` indexed photos of one vector set
(:data:`KINDS`) straight into a new catalog (bulk SQL, 10,000 rows a
transaction, as :mod:`.biglibrary` does), then lets the product build its
vector index from that catalog exactly as it does for a user whose index is
missing: ``Library.vector_index`` reads every vector from the catalog, adds
them to hnswlib with all cores, checks reachability, and saves the index
atomically. Both steps are timed when the library is built; the library is
kept under the system's temp folder (``photoseek-bench/scale-<size>-<kind>-g<n>``)
and reused by later runs (``PHOTOSEEK_SCALE_REBUILD=1`` builds it again).

The model is never loaded: the library's settings name a placeholder weights
file whose digest the catalog knows, so the product finds the model's
identity, and opens its index, without torch (what the app does at start-up
with weights downloaded before: ``Library.preload_index``). No thumbnails are
written: thumbnails live in the cache, keyed by content, and are reported
apart from the library's size.

Vectors are 512-d unit vectors, stored as float16 as the product stores them,
generated chunk by chunk from seeds, so that :func:`vector_chunks` gives the
very vectors the catalog holds again (for an exact search) without reading them
back, in bounded memory.

``python -m tests.benchmarks.scalelibrary ROOT [--matrix]`` opens a built
library in a fresh process and prints, as one JSON line, what opening it costs
(time, RSS growth) and the first browse of the newest 200 photos: see
:func:`measure_open`. ``... ROOT --catch-up N`` first makes a copy of the
library whose catalog has ``N`` photos more than its saved index (as after a
crash, or photos indexed by another computer's run), then opens the copy the
same way: the open includes the index catching up (:func:`catch_up_copy`).
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from photoseek.core.catalog.pathcodec import to_db
from photoseek.core.library import Library
from photoseek.core.model.embedder import DEFAULT_ARCH, ModelSettings
from photoseek.core.model.naming import expected_model
from photoseek.core.records import ModelIdentity
from photoseek.core.vectors import codec
from photoseek.paths import AppPaths, resolve_paths

log = logging.getLogger(__name__)

Floats = npt.NDArray[np.float32]

DIM = 512
KINDS = ("clip", "iso", "uniform")
FOLDERS = 20  # one top folder a year
CHUNK = 10_000
GENERATOR = 1  # bump when the vectors or rows change: a new cache key
SEED = 20_240_611
REBUILD_ENV = "PHOTOSEEK_SCALE_REBUILD"
_RECORD = "built.json"
_WEIGHTS = "scale-placeholder.safetensors"


@dataclass(frozen=True)
class BuildRecord:
    """How a cached library was built."""

    size: int
    kind: str
    catalog_s: float
    index_s: float
    cpu_count: int
    built_at: str


@dataclass(frozen=True)
class ScaleLibrary:
    """A built library: where it is, how it was built, and whether this run built it."""

    root: Path
    kind: str
    size: int
    record: BuildRecord
    built_now: bool

    @property
    def paths(self) -> AppPaths:
        """The library's folders (the ``--data-dir`` layout under ``root/data``)."""
        return resolve_paths(self.root / "data")

    @property
    def settings(self) -> ModelSettings:
        """Model settings naming the placeholder weights: the model is never loaded."""
        return settings_for(self.root)

    def open(self) -> Library:
        """The library as the app opens it (the caller closes it)."""
        return Library(self.paths, self.settings)


def settings_for(root: Path) -> ModelSettings:
    """The settings of the library under ``root``: the default architecture, placeholder weights."""
    return ModelSettings(DEFAULT_ARCH, str(root / "weights" / _WEIGHTS), "cpu")


def scale_library(size: int, kind: str) -> ScaleLibrary:
    """The library of ``size`` photos with ``kind`` vectors, built now or found in the cache."""
    if kind not in KINDS:
        raise ValueError(f"unknown vector set {kind!r} (use {', '.join(KINDS)})")
    root = Path(tempfile.gettempdir()) / "photoseek-bench" / f"scale-{size}-{kind}-g{GENERATOR}"
    record_file = root / _RECORD
    if record_file.is_file() and os.environ.get(REBUILD_ENV, "") in ("", "0"):
        record = BuildRecord(**json.loads(record_file.read_text(encoding="utf-8")))
        log.info("using the cached %s library of %d photos at %s", kind, size, root)
        return ScaleLibrary(root, kind, size, record, built_now=False)
    shutil.rmtree(root, ignore_errors=True)
    record = _build(root, size, kind)
    record_file.write_text(json.dumps(asdict(record)), encoding="utf-8")
    return ScaleLibrary(root, kind, size, record, built_now=True)


def _build(root: Path, size: int, kind: str) -> BuildRecord:
    """Write the catalog, then let the product build and save the index; both timed."""
    weights = root / "weights" / _WEIGHTS
    weights.parent.mkdir(parents=True, exist_ok=True)
    weights.write_bytes(f"photoseek scale benchmark placeholder, {kind}\n".encode())
    paths, settings = resolve_paths(root / "data"), settings_for(root)
    log.info("building the %s library of %d photos at %s", kind, size, root)
    started = time.perf_counter()
    with Library(paths, settings) as library:
        model_id = library.catalog.model_id(_identity(paths, settings))
        assert model_id is not None
        _write_catalog(library, size, kind, model_id)
        catalog_s = time.perf_counter() - started
        log.info("catalog of %d photos written in %.1f s; building the index", size, catalog_s)
        started = time.perf_counter()
        _ = library.vector_index  # rebuilt from the catalog, then saved (the product's path)
        index_s = time.perf_counter() - started
    log.info(
        "index of %d vectors built and saved in %.1f s (peak RSS so far %.0f MB)",
        size,
        index_s,
        peak_rss() / 1e6,
    )
    return BuildRecord(size, kind, catalog_s, index_s, os.cpu_count() or 1, time.ctime())


def _identity(paths: AppPaths, settings: ModelSettings) -> ModelIdentity:
    """The identity the product expects for ``settings`` (found without loading the model)."""
    expected = expected_model(settings.arch, settings.pretrained, paths.models_dir)
    assert expected.digest is not None
    return ModelIdentity(expected.arch, expected.pretrained, expected.digest, DIM)


def _write_catalog(library: Library, size: int, kind: str, model_id: int) -> None:
    """Folders, photo rows and their float16 vectors, one transaction per chunk."""
    with library.catalog.transaction() as tx:
        tx.executemany(
            "INSERT INTO folders (id, path, added_at) VALUES (?, ?, ?)",
            [(f + 1, to_db(_folder(f)), 1.6e9) for f in range(FOLDERS)],
        )
    for start, vectors in vector_chunks(size, kind):
        count = len(vectors)
        with library.catalog.transaction() as tx:
            tx.executemany(
                "INSERT INTO photos (id, folder_id, path, size, mtime_ns, inode, fingerprint, "
                "format, width, height, taken_at, sort_date, status, added_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'jpeg', 4032, 3024, ?, ?, 'indexed', ?, ?)",
                [_photo_row(start + i, size) for i in range(count)],
            )
            tx.executemany(
                "INSERT INTO embeddings (model_id, fingerprint, vector, decoder) "
                "VALUES (?, ?, ?, 'jpeg/1;prep/1')",
                [
                    (model_id, _fingerprint(start + i), codec.encode(vectors[i]))
                    for i in range(count)
                ],
            )
        if (start // CHUNK) % 20 == 0:
            log.info("catalog: %d of %d photos written", start + count, size)


def _folder(f: int) -> Path:
    return Path(f"/home/user/Pictures/{2005 + f}")


def _photo_row(i: int, size: int) -> tuple[object, ...]:
    """Photo ``i`` (catalog id ``i + 1``): dates grow with ``i``, one top folder a year."""
    year = i * FOLDERS // size
    month, day, second = 1 + i % 12, 1 + i % 28, i % 86_400
    stamp = f"{2005 + year}-{month:02d}-{day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}"
    taken = f"{stamp}:{second % 60:02d}"
    compact = taken.replace("-", "").replace(":", "").replace("T", "_")
    path = _folder(year) / f"{taken[:10]} Event {i // 250:05d}" / f"IMG_{compact}_{i:07d}.jpg"
    mtime_ns = (1_100_000_000 + i * 600) * 1_000_000_000
    now = 1.7e9 + i
    fields = (i + 1, year + 1, to_db(path), _file_size(i), mtime_ns, 10_000_000 + i)
    return (*fields, _fingerprint(i), taken, taken, now, now)


def _file_size(i: int) -> int:
    return 2_000_000 + (i * 7919) % 6_000_000


def _fingerprint(i: int) -> str:
    """A product-shaped fingerprint, ``<size hex>-<128-bit hex>``, distinct for every ``i``."""
    mixed = (i * 0x9E3779B97F4A7C15F39CC0605CEDC835 + 1) % 2**128  # an odd multiplier: a bijection
    return f"{_file_size(i):x}-{mixed:032x}"


# -- vectors --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """A vector set's cluster centres, their weights and spreads (empty centres: uniform)."""

    centres: Floats
    weights: npt.NDArray[np.float64]
    spread: npt.NDArray[np.float64]


def _unit(a: npt.ArrayLike) -> Floats:
    array = np.asarray(a, dtype=np.float32)
    out: Floats = (array / np.linalg.norm(array, axis=-1, keepdims=True)).astype(np.float32)
    return out


def clusters_for(size: int) -> int:
    """How many clusters a vector set of ``size`` has: about 1,000 photos each, at least 200."""
    return max(200, size // 1000)


def _shape(size: int, kind: str) -> _Shape:
    """The clusters of ``kind`` (as in ``test_bench_vectorindex``, scaled by :func:`clusters_for`).

    ``clip``: a shared mean direction, 20 super-clusters, Zipf-sized clusters
    of varying spread (anisotropic, like CLIP embeddings); ``iso``: isotropic
    gaussian clusters of equal size; ``uniform``: no clusters at all.
    """
    rng = np.random.default_rng([SEED, KINDS.index(kind)])
    n = clusters_for(size)
    if kind == "uniform":
        return _Shape(np.zeros((0, DIM), np.float32), np.zeros(0), np.zeros(0))
    if kind == "iso":
        centres = _unit(rng.standard_normal((n, DIM)))
        return _Shape(centres, np.full(n, 1.0 / n), np.full(n, 0.8 / np.sqrt(DIM)))
    mean = _unit(rng.standard_normal(DIM))
    supers = _unit(mean + rng.standard_normal((20, DIM)) * (1.2 / np.sqrt(DIM)))
    centres = _unit(
        supers[rng.integers(0, 20, n)] + rng.standard_normal((n, DIM)) * (0.8 / np.sqrt(DIM))
    )
    weights = 1.0 / np.arange(1, n + 1) ** 0.8
    return _Shape(centres, weights / weights.sum(), rng.uniform(0.6, 1.2, n) / np.sqrt(DIM))


def _draw(shape: _Shape, count: int, rng: np.random.Generator, query: bool) -> Floats:
    """``count`` unit vectors of ``shape``; queries sit near cluster centres instead."""
    noise = rng.standard_normal((count, DIM))
    if len(shape.centres) == 0:
        return _unit(noise)
    which = rng.choice(len(shape.centres), count, p=shape.weights)
    spread = (1.0 / np.sqrt(DIM)) if query else shape.spread[which][:, None]
    return _unit(shape.centres[which] + noise * spread)


def vector_chunks(size: int, kind: str) -> Iterator[tuple[int, Floats]]:
    """``(first photo index, vectors)`` chunk by chunk, rounded as the catalog stores them."""
    shape = _shape(size, kind)
    for start in range(0, size, CHUNK):
        rng = np.random.default_rng([SEED, KINDS.index(kind), start // CHUNK])
        vectors = _draw(shape, min(CHUNK, size - start), rng, query=False)
        yield start, codec.quantize(vectors)


def queries(size: int, kind: str, count: int) -> Floats:
    """``count`` query vectors for the ``kind`` set of ``size`` (none of them a photo's own)."""
    rng = np.random.default_rng([SEED, KINDS.index(kind), 2**32])
    return _draw(_shape(size, kind), count, rng, query=True)


# -- opening in a fresh process -----------------------------------------------------------


def measure_open(root: Path, *, matrix: bool, catch_up: bool = False) -> dict[str, float]:
    """Open the library under ``root`` as the app does at start, in this (fresh) process.

    Figures: ``open_s`` (``Library(...)`` + ``preload_index``: sidecar and
    checksum, hnswlib's load, the catch-up check against the catalog),
    ``rss_growth`` and ``peak_growth`` in bytes (RSS after the open, and the
    peak RSS, less the RSS before it; numpy, hnswlib and photoseek imported
    before), ``browse_ms`` (the first ``Library.browse(limit=200)`` after the
    open), and with ``matrix``, ``matrix_growth`` and ``matrix_s`` (the bytes
    the exact-scan matrix adds, and the seconds it takes, when the first search
    with a relevance cut-off builds it; both 0 without). Raises RuntimeError
    unless the saved index was loaded as it is (not rebuilt; caught up only
    with ``catch_up``).
    """
    import hnswlib  # noqa: F401  # imported before the baseline: its import is not the library's
    import psutil

    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    library = Library(resolve_paths(root / "data"), settings_for(root))
    if not library.preload_index():
        raise RuntimeError(f"no usable index in {root}: preload_index found none")
    open_s = time.perf_counter() - started
    after = process.memory_info().rss
    health = library.index_health()
    wanted = "caught up: +" if catch_up else "(loaded)"
    if wanted not in health:
        raise RuntimeError(f"the saved index was not opened as expected ({health}): rebuild it")
    started = time.perf_counter()
    page = library.browse(limit=200)
    browse_ms = (time.perf_counter() - started) * 1e3
    peak = peak_rss()
    matrix_s, with_matrix = 0.0, after
    if matrix:
        started = time.perf_counter()
        _ = library._index_keeper().matrix()  # what the first search with a cut-off builds
        matrix_s, with_matrix = time.perf_counter() - started, process.memory_info().rss
    library.close()
    return {
        "open_s": open_s,
        "rss_growth": after - before,
        "peak_growth": peak - before,
        "browse_ms": browse_ms,
        "browsed": len(page.photos),
        "matrix_growth": with_matrix - after,
        "matrix_s": matrix_s,
    }


def catch_up_copy(root: Path, size: int, kind: str, added: int) -> Path:
    """A copy of the library under ``root`` with ``added`` photos the saved index lacks.

    The copy's files are hard links (the product replaces files, never
    writes into them), except the catalog, which is copied and then gains
    ``added`` photo rows with vectors of the same set (:func:`_draw`).
    """
    copy = root.with_name(root.name + "-catchup")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, copy_function=os.link)
    catalog = resolve_paths(copy / "data").catalog
    for path in catalog.parent.glob(catalog.name + "*"):  # the db, and -wal/-shm if any
        path.unlink()
        shutil.copy2(resolve_paths(root / "data").catalog.parent / path.name, path)
    rng = np.random.default_rng([SEED, KINDS.index(kind), 2**33])
    vectors = codec.quantize(_draw(_shape(size, kind), added, rng, query=False))
    with Library(resolve_paths(copy / "data"), settings_for(copy)) as library:
        model_id = library.known_model_id()
        with library.catalog.transaction() as tx:
            tx.executemany(
                "INSERT INTO photos (id, folder_id, path, size, mtime_ns, inode, fingerprint, "
                "format, width, height, taken_at, sort_date, status, added_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'jpeg', 4032, 3024, ?, ?, 'indexed', ?, ?)",
                [_photo_row(size + i, size + added) for i in range(added)],
            )
            tx.executemany(
                "INSERT INTO embeddings (model_id, fingerprint, vector, decoder) "
                "VALUES (?, ?, ?, 'jpeg/1;prep/1')",
                [
                    (model_id, _fingerprint(size + i), codec.encode(vectors[i]))
                    for i in range(added)
                ],
            )
    return copy


def peak_rss() -> int:
    """This process's peak RSS in bytes: ``VmHWM`` where ``/proc`` has it, else ``ru_maxrss``.

    Linux carries ``ru_maxrss`` over ``fork`` and ``exec``: in a child of a larger
    process (pytest) it reports the parent's peak. ``VmHWM`` is this process's own.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB else


def main(argv: list[str]) -> int:
    """``python -m tests.benchmarks.scalelibrary ROOT [--matrix | --catch-up N]``, JSON."""
    logging.basicConfig(level=logging.WARNING)
    root = Path(argv[0])
    if "--catch-up" in argv:
        record = json.loads((root / _RECORD).read_text(encoding="utf-8"))
        added = int(argv[argv.index("--catch-up") + 1])
        copy = catch_up_copy(root, int(record["size"]), str(record["kind"]), added)
        try:
            figures = measure_open(copy, matrix=False, catch_up=True)
        finally:
            shutil.rmtree(copy, ignore_errors=True)
        sys.stdout.write(json.dumps({**figures, "added": added}) + "\n")
        return 0
    figures = measure_open(root, matrix="--matrix" in argv[1:])
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
