"""Catalog bytes per stored vector for each encoding and page size (the storage decision)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np

from tests.benchmarks.conftest import print_table

DIM, COUNT = 512, 5000


def _bytes_per_vector(path: Path, dtype: str, page_size: int) -> float:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA page_size = {page_size}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "CREATE TABLE embeddings (id INTEGER PRIMARY KEY, model_id INTEGER, fingerprint TEXT, "
        "vector BLOB, UNIQUE (model_id, fingerprint))"
    )
    vectors = np.random.default_rng(0).standard_normal((COUNT, DIM)).astype(dtype)
    rows = [
        (1, f"{i:x}-{hashlib.blake2b(str(i).encode(), digest_size=16).hexdigest()}", v.tobytes())
        for i, v in enumerate(vectors)
    ]
    conn.executemany(
        "INSERT INTO embeddings (model_id, fingerprint, vector) VALUES (?, ?, ?)", rows
    )
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path.stat().st_size / COUNT


def test_vector_storage_cost(tmp_path: Path) -> None:
    rows = []
    for dtype in ("float32", "float16"):
        for page_size in (4096, 8192, 16384, 65536):
            size = _bytes_per_vector(tmp_path / f"{dtype}-{page_size}.db", dtype, page_size)
            payload = DIM * np.dtype(dtype).itemsize
            rows.append([dtype, page_size, round(size), payload, f"{payload / size:.0%}"])
    print_table(
        f"catalog bytes per {DIM}-d vector ({COUNT} rows)",
        ["encoding", "page", "bytes/vector", "payload", "efficiency"],
        rows,
    )
    chosen = next(r for r in rows if r[0] == "float16" and r[1] == 16384)
    naive = next(r for r in rows if r[0] == "float32" and r[1] == 4096)
    assert chosen[2] < naive[2] / 3
