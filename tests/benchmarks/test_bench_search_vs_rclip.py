"""A search in process, photoseek beside rclip 4.0.8, at 100,000 photos.

    python -m pytest -m benchmark -s tests/benchmarks/test_bench_search_vs_rclip.py

Timed as rclip's own search function is timed inside rclip's process: the
process started, the library open and the text tower loaded (one untimed
query each), then each query from the call to the answer's rows.

* **photoseek**: ``Library.search(text, limit=10)``, the CLI's and the app's
  search: the text tower on ONNX Runtime, HNSW knn (100 candidates with their
  exact cosines), the rows of the shown ones read from the catalog (those no
  longer indexed dropped). A *new* text is one never
  asked before; a *repeated* one was asked just before (its vector is
  cached). An *example photo* is ``Library.similar_to(photo id)``: an indexed
  photo's stored vector, knn and rows (no model).
* **rclip**: ``RClip.search(text, directory, top_k=10)`` from rclip's own
  module in its own virtual environment: its ONNX text tower, then a scan of
  every stored vector.

Both libraries hold 100,000 photos with 512-d unit vectors drawn from the
same clustered directions (:mod:`.biglibrary`; rclip's database is written
with rclip's own schema from the same vectors): what a search costs depends
on the count and the vectors, not on where they came from. Same random
``ViT-B-32-256`` weights for both text towers.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from photoseek.core.library import Library
from photoseek.core.model.embedder import DEFAULT_ARCH, ModelSettings
from photoseek.core.search.searcher import SearchOptions
from photoseek.paths import resolve_paths
from tests.benchmarks.biglibrary import big_library
from tests.benchmarks.conftest import print_table
from tests.benchmarks.rclipsetup import ROOT, rclip_datadir, rclip_executable
from tests.benchmarks.weightsfile import random_weights_file

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(3600)]

PHOTOS = 100_000
QUERIES = [
    f"a photo of {thing}, picture {n}"
    for n, thing in enumerate(
        (
            "a dog",
            "a cat",
            "food",
            "a beach",
            "a red kite",
            "children playing",
            "a bus",
            "snow",
            "a kitchen",
            "a laptop",
            "a bicycle",
            "a giraffe",
            "a pizza",
            "a train",
            "flowers",
            "a boat",
            "mountains",
            "a wedding",
            "a birthday cake",
            "a city at night",
        )
    )
]
SETTINGS = ModelSettings(DEFAULT_ARCH, str(random_weights_file(DEFAULT_ARCH)), "cpu")

_RCLIP_DB = """
import sys, numpy as np
from pathlib import Path
from rclip import db
vectors = np.load(sys.argv[2])
database = db.DB(Path(sys.argv[1]))
rows = ((f"{sys.argv[3]}/{i:06d}.jpg", 1700000000.0 + i, 1000 + i, vectors[i].tobytes(), f"h{i}")
        for i in range(len(vectors)))
database._con.executemany(
    "INSERT INTO images(deleted, indexing, filepath, modified_at, size, vector, hash) "
    "VALUES (NULL, NULL, ?, ?, ?, ?, ?)", rows)
database._con.commit()
"""

_RCLIP_TIMED = """
import json, sys, time
from rclip.main import init_rclip
directory, queries = sys.argv[1], json.loads(sys.argv[2])
rclip, _model, _db = init_rclip(directory, 8, no_indexing=True)
rclip.search("warm up", directory, top_k=10)
seconds = []
for query in queries:
    started = time.perf_counter()
    rclip.search(query, directory, top_k=10)
    seconds.append(time.perf_counter() - started)
print(json.dumps(seconds))
"""


def _p50_ms(seconds: list[float]) -> str:
    return f"p50 {statistics.median(seconds) * 1000:.1f} ms (max {max(seconds) * 1000:.1f})"


def _photoseek_times(root: Path) -> tuple[list[float], list[float], list[float]]:
    with Library(resolve_paths(root), SETTINGS) as library:
        if not library.load_text_encoder():
            library.load_model()  # once: the full model records the light text path
    with Library(resolve_paths(root), SETTINGS) as library:
        assert library.preload_index() and library.load_text_encoder()
        library.search("warm up", SearchOptions(limit=10))
        new, again, example = [], [], []
        for query in QUERIES:
            started = time.perf_counter()
            library.search(query, SearchOptions(limit=10))
            new.append(time.perf_counter() - started)
            started = time.perf_counter()
            library.search(query, SearchOptions(limit=10))
            again.append(time.perf_counter() - started)
        for photo_id in np.random.default_rng(5).integers(1, PHOTOS, len(QUERIES)):
            started = time.perf_counter()
            library.similar_to(int(photo_id), SearchOptions(limit=10))
            example.append(time.perf_counter() - started)
    return new, again, example


def _library_vectors(root: Path) -> np.ndarray:
    with Library(resolve_paths(root), SETTINGS) as library:
        model_id = library.model_id
        ids = sorted(library.catalog.live_ids(model_id))
        dim = library.query_encoder().identity.dim
        return np.asarray(library.catalog.vectors(model_id, ids, dim), dtype=np.float32)


def _rclip_times(root: Path) -> list[float]:
    executable = rclip_executable()
    if executable is None:
        pytest.skip("rclip cannot be installed here (it needs Python >= 3.12)")
    python = str(executable.parent / "python")
    datadir = ROOT / f"search-rclip-{PHOTOS}"
    photos = ROOT / f"search-rclip-photos-{PHOTOS}"
    photos.mkdir(parents=True, exist_ok=True)
    source = rclip_datadir(Path(SETTINGS.pretrained), DEFAULT_ARCH)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["RCLIP_DATADIR"] = str(datadir)
    if not (datadir / "db.sqlite3").is_file():
        datadir.mkdir(parents=True, exist_ok=True)
        for entry in source.iterdir():
            if entry.name != "db.sqlite3" and not entry.name.startswith("indexed-"):
                (datadir / entry.name).symlink_to(entry)
        vectors = ROOT / f"search-vectors-{PHOTOS}.npy"
        np.save(vectors, _library_vectors(root))
        script = [python, "-c", _RCLIP_DB, str(datadir / "db.sqlite3"), str(vectors), str(photos)]
        subprocess.run(script, env=env, check=True, capture_output=True)
    timed = subprocess.run(
        [python, "-c", _RCLIP_TIMED, str(photos), json.dumps(QUERIES)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds: list[float] = json.loads(timed.stdout.strip().splitlines()[-1])
    return seconds


def test_search_in_process_beside_rclip() -> None:
    root = big_library(PHOTOS, SETTINGS)
    new, again, example = _photoseek_times(root)
    theirs = _rclip_times(root)
    ratio = statistics.median(new) / statistics.median(theirs)
    print_table(
        f"search in process, {PHOTOS:,} photos, {DEFAULT_ARCH} random weights, CPU, "
        f"{os.cpu_count()} cores, {len(QUERIES)} queries each, limit 10",
        ["search", "time", "target", "includes"],
        [
            [
                "photoseek, a new text",
                _p50_ms(new),
                "<= rclip's",
                "ONNX text tower + HNSW knn (exact cosines) + rows",
            ],
            [
                "rclip, a new text",
                _p50_ms(theirs),
                "",
                "RClip.search: ONNX text tower + scan of every vector + top 10",
            ],
            ["photoseek / rclip, new text (p50)", f"{ratio:.2f}x", "<= 1.00x", ""],
            [
                "photoseek, the same text again",
                _p50_ms(again),
                "<= 5 ms",
                "cached text vector + knn + rows",
            ],
            [
                "photoseek, an indexed example photo",
                _p50_ms(example),
                "<= 20 ms",
                "stored vector + knn + rows (no model)",
            ],
        ],
    )
