"""Indexing and search speed with the real default architecture (random weights cost the same).

Run: ``python -m pytest -m benchmark -s tests/benchmarks/test_bench_indexing.py``.
Uses ../shared/photos (COCO 640 px and camera-size photos) when present,
otherwise generated 1600x1200 JPEGs.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from photoseek.core.imaging.decode import decode_image
from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.library import Library
from photoseek.core.model.embedder import DEFAULT_ARCH, ModelSettings, load_embedder
from photoseek.core.search.searcher import SearchOptions
from photoseek.paths import resolve_paths
from tests.benchmarks.conftest import print_table
from tests.conftest import SHARED_PHOTOS, make_photo, run_index

SETTINGS = ModelSettings(DEFAULT_ARCH, "none", "auto")
QUERY_THINGS = (
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
)


def _corpus(tmp_path: Path) -> list[Path]:
    coco = SHARED_PHOTOS / "coco" / "images"
    if coco.is_dir():
        return sorted(coco.glob("*.jpg"))[:200] + sorted((SHARED_PHOTOS / "large").glob("*.jpg"))
    return [make_photo(tmp_path / f"{i}.jpg", i, size=(1600, 1200)) for i in range(120)]


def _decode_rate(paths: list[Path], min_side: int | None) -> float:
    started = time.perf_counter()
    for path in paths:
        decode_image(path, min_side=min_side)
    return len(paths) / (time.perf_counter() - started)


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory):
    return load_embedder(SETTINGS, tmp_path_factory.mktemp("models"))


def test_indexing_throughput(embedder, tmp_path: Path) -> None:
    paths = _corpus(tmp_path)
    large = [p for p in paths if p.parent.name == "large"]
    rows: list[list[object]] = []
    for label, subset in (("all", paths), ("camera-size only", large)):
        if subset:
            full = _decode_rate(subset, None)
            draft = _decode_rate(subset, embedder.image_size)
            rows.append([f"decode {label}", f"{full:.1f}", f"{draft:.1f}", f"{draft / full:.1f}x"])
    tensors = [embedder.preprocess(decode_image(p, min_side=256).image) for p in paths[:64]]
    embedder.encode_images(tensors[:8])  # warm up
    started = time.perf_counter()
    for start in range(0, 64, 32):
        embedder.encode_images(tensors[start : start + 32])
    model_rate = 64 / (time.perf_counter() - started)
    rows.append(["model only (batch 32)", "", f"{model_rate:.1f}", ""])

    folder = tmp_path / "library-photos"
    folder.mkdir()
    for path in paths:
        (folder / path.name).symlink_to(path)
    library = Library(resolve_paths(tmp_path / "data"), SETTINGS, indexer_options=IndexerOptions())
    library._embedder = embedder
    library.add_folder(folder)
    started = time.perf_counter()
    last = run_index(library)
    e2e = last.done / (time.perf_counter() - started)
    rows.append(["end to end index", "", f"{e2e:.1f}", f"{e2e / model_rate:.0%} of model"])

    queries = [f"a photo of {thing}" for thing in QUERY_THINGS]
    library.search("warm up")
    for label in ("search, new text (encode + knn + re-score)", "search, repeated text (cached)"):
        latencies = []
        for query in queries:
            started = time.perf_counter()
            library.search(query, SearchOptions(limit=50))
            latencies.append(time.perf_counter() - started)
        p50, worst = statistics.median(latencies) * 1000, max(latencies) * 1000
        rows.append([label, "", f"p50 {p50:.1f} ms", f"max {worst:.1f} ms"])
    print_table(
        f"indexing speed, {DEFAULT_ARCH} random weights on {embedder.device}, {len(paths)} photos",
        ["stage", "full decode /s", "draft decode /s (or rate)", "ratio"],
        rows,
    )
    library.close()
    assert last.problems == 0
