"""Vector index: build, save, load, size, query latency and recall against brute force.

Run with ``python -m pytest -m benchmark -s tests/benchmarks/test_bench_vectorindex.py``.
Two synthetic stand-ins for CLIP embeddings (512-d unit vectors):

* ``iso``: 200 isotropic gaussian clusters of equal size (the unit tests' data);
* ``clip``: a shared mean direction, 20 super-clusters, 200 clusters of Zipf
  sizes and varying spread: anisotropic like real CLIP embeddings, and harder
  for HNSW because within-cluster noise is full-dimensional.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from photoseek.core.vectors.index import IndexParams, VectorIndex
from photoseek.core.vectors.opening import open_or_rebuild
from tests.benchmarks.conftest import print_table

pytestmark = pytest.mark.benchmark

DIM, QUERIES, KEY = 512, 200, "bench/none/sha256:00"
Floats = npt.NDArray[np.float32]


def _unit(a: npt.ArrayLike) -> Floats:
    array = np.asarray(a, dtype=np.float32)
    out: Floats = (array / np.linalg.norm(array, axis=-1, keepdims=True)).astype(np.float32)
    return out


def _iso(n: int, rng: np.random.Generator) -> tuple[Floats, Floats]:
    centres = _unit(rng.standard_normal((200, DIM)))
    scale = 0.8 / np.sqrt(DIM)
    data = _unit(centres[rng.integers(0, 200, n)] + rng.standard_normal((n, DIM)) * scale)
    near = centres[rng.integers(0, 200, QUERIES)]
    return data, _unit(near + rng.standard_normal((QUERIES, DIM)) * scale)


def _clip(n: int, rng: np.random.Generator) -> tuple[Floats, Floats]:
    mean = _unit(rng.standard_normal(DIM))
    supers = _unit(mean + rng.standard_normal((20, DIM)) * (1.2 / np.sqrt(DIM)))
    centres = _unit(
        supers[rng.integers(0, 20, 200)] + rng.standard_normal((200, DIM)) * (0.8 / np.sqrt(DIM))
    )
    weights = 1.0 / np.arange(1, 201) ** 0.8
    weights /= weights.sum()
    which = rng.choice(200, n, p=weights)
    spread = rng.uniform(0.6, 1.2, 200)[which][:, None] / np.sqrt(DIM)
    data = _unit(centres[which] + rng.standard_normal((n, DIM)) * spread)
    near = centres[rng.choice(200, QUERIES, p=weights)]
    return data, _unit(near + rng.standard_normal((QUERIES, DIM)) / np.sqrt(DIM))


def _recall(index: VectorIndex, data: Floats, queries: Floats, k: int) -> tuple[float, float]:
    """Mean recall@k and the share of queries whose top-k is exactly right (ties allowed)."""
    exact = queries @ data.T
    found, perfect = 0.0, 0
    for row, query in enumerate(queries):
        got, _ = index.query(query, k, ef=VectorIndex.choose_ef(k, len(index)))
        kth = np.sort(exact[row])[::-1][k - 1]
        truth = set(np.flatnonzero(exact[row] >= kth - 1e-5).tolist())
        hits = len(set(got.tolist()) & truth)
        found += min(hits, k) / k
        perfect += hits >= k
    return found / len(queries), perfect / len(queries)


def _latency_ms(run: object, queries: Floats) -> tuple[float, float]:
    times = []
    for query in queries:
        started = time.perf_counter()
        run(query)  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1e3)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def _row(kind: str, n: int, m: int, tmp_path: Path) -> list[object]:
    rng = np.random.default_rng(n)
    data, queries = (_iso if kind == "iso" else _clip)(n, rng)
    path = tmp_path / f"{kind}-{n}-{m}.hnsw"
    started = time.perf_counter()
    index, _ = open_or_rebuild(
        path,
        dim=DIM,
        model_key=KEY,
        live_labels=set(range(n)),
        fetch_vectors=lambda i: data[i],
        params=IndexParams(M=m),
    )
    build = time.perf_counter() - started
    started = time.perf_counter()
    index.save(path)
    save = time.perf_counter() - started
    started = time.perf_counter()
    loaded = VectorIndex.load(path, dim=DIM, model_key=KEY)
    load = time.perf_counter() - started
    k = 50
    ef = VectorIndex.choose_ef(k, n)
    p50, p95 = _latency_ms(lambda q: loaded.query(q, k, ef=ef), queries)
    brute50, _ = _latency_ms(lambda q: np.argpartition(-(data @ q), k)[:k], queries)
    r10, exact10 = _recall(loaded, data, queries, 10)
    r50, exact50 = _recall(loaded, data, queries, 50)
    return [
        kind,
        n,
        m,
        f"{build:.1f}",
        len(index.unreachable()),
        f"{save:.2f}",
        f"{load:.2f}",
        f"{path.stat().st_size / 1e6:.0f}",
        ef,
        f"{p50:.2f}",
        f"{p95:.2f}",
        f"{brute50:.2f}",
        f"{r10:.4f} ({exact10:.0%})",
        f"{r50:.4f} ({exact50:.0%})",
    ]


def test_vector_index_speed_size_and_recall(tmp_path: Path) -> None:
    cases = [(kind, n, 16) for kind in ("iso", "clip") for n in (10_000, 50_000)]
    rows = [_row(kind, n, m, tmp_path) for kind, n, m in [*cases, ("clip", 50_000, 32)]]
    print_table(
        f"vector index, {DIM}-d, ef_construction=200, k=50, {QUERIES} queries "
        "(recall: mean recall@k vs brute force, and the share of queries exactly right)",
        [
            "data",
            "N",
            "M",
            "build s",
            "unreach",
            "save s",
            "load s",
            "file MB",
            "ef",
            "q p50 ms",
            "q p95 ms",
            "brute ms",
            "recall@10",
            "recall@50",
        ],
        rows,
    )
    for row in rows:
        assert float(str(row[12]).split()[0]) >= 0.99
