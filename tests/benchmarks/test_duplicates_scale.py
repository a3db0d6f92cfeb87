"""The duplicate finder at 100,000 photos: time per step, and the planted copies it finds.

Run with ``python -m pytest -m benchmark -s tests/benchmarks/test_duplicates_scale.py``
(``PHOTOSEEK_DUPLICATES_PHOTOS``, default 100,000). Synthetic CLIP-like 512-d
vectors in clusters of Zipf sizes; 5 % of the photos are near-copies of
another photo (a little noise on its vector, cosine about 0.97-0.99, and its
pHash with two bits flipped), and the rest have random pHashes. The HNSW
index is built like the product's (M 32); its build time is printed apart.
The finder's own time (neighbours, candidates, tests, components, keep
rule) is what a user waits for once the index is open.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from photoseek.core.catalog.phashes import DuplicateRow
from photoseek.core.duplicates.service import find_groups
from photoseek.core.duplicates.thresholds import Thresholds
from photoseek.core.progress import Progress
from photoseek.core.vectors.index import VectorIndex
from tests.benchmarks.conftest import print_table

pytestmark = pytest.mark.benchmark

DIM = 512


def _vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    mean = rng.standard_normal(DIM)
    centres = mean + rng.standard_normal((200, DIM)) * 0.8
    weights = 1.0 / np.arange(1, 201) ** 0.8
    which = rng.choice(200, n, p=weights / weights.sum())
    data = centres[which] + rng.standard_normal((n, DIM)) * rng.uniform(0.6, 1.2, (n, 1))
    return (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)


def test_duplicates_at_scale() -> None:
    n = int(os.environ.get("PHOTOSEEK_DUPLICATES_PHOTOS", "100000"))
    rng = np.random.default_rng(0)
    vectors = _vectors(n, rng)
    copies = rng.choice(n, n // 20, replace=False)
    sources = rng.choice(np.setdiff1d(np.arange(n), copies), len(copies))
    noisy = vectors[sources] + rng.standard_normal((len(copies), DIM)).astype(np.float32) * 0.006
    vectors[copies] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    hashes = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64) << np.uint64(1)
    flips = np.uint64(0b101) << rng.integers(1, 61, len(copies)).astype(np.uint64)
    hashes[copies] = hashes[sources] ^ flips
    ids = np.arange(1, n + 1)
    started = time.perf_counter()
    index = VectorIndex(DIM, "bench/duplicates")
    for start in range(0, n, 20_000):
        index.add(ids[start : start + 20_000].tolist(), vectors[start : start + 20_000])
    built = time.perf_counter() - started
    rows = [
        DuplicateRow(int(i), f"/p/{i // 500}/IMG_{i}.jpg".encode(), f"fp{i}", 1, int(i), "jpeg",
                     4000, 3000, "2024-01-01T00:00:00", int(h), True)
        for i, h in zip(ids, hashes, strict=True)
    ]  # fmt: skip
    marks: list[tuple[str, float]] = []
    last = time.perf_counter()

    def note(progress: Progress) -> None:
        nonlocal last
        if progress.done == progress.total:
            marks.append(("neighbours", time.perf_counter() - last))
            last = time.perf_counter()

    started = time.perf_counter()
    groups = find_groups(rows, index, Thresholds(0.95, 6), on_progress=note)
    total = time.perf_counter() - started
    marks.append(("candidates, tests, groups, keep rule", time.perf_counter() - last))
    together = {}
    for number, group in enumerate(groups):
        for photo in group.photos:
            together[photo.id] = number
    found = sum(
        together.get(int(c) + 1, -1) == together.get(int(s) + 1, -2)
        for c, s in zip(copies, sources, strict=True)
    )
    print_table(
        f"duplicates among {n:,} photos ({len(copies):,} planted copies)",
        ["step", "seconds"],
        [["build the HNSW index (not part of a search)", built]]
        + [[name, seconds] for name, seconds in marks]
        + [["find_groups in all", total]],
    )
    share = found / len(copies)
    print(f"planted copies found with their source: {share:.2%}; groups {len(groups):,}")
    assert share > 0.99
