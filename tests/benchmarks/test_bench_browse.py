"""Browsing and following a 100,000-photo library: costs that must not grow with it.

Run: ``python -m pytest -m benchmark -s tests/benchmarks/test_bench_browse.py``.

Builds a catalog of 100,000 indexed photos in 20 top folders (512-d float16
vectors, as the default model stores them), then measures:

* ``browse`` newest first: the first page, a page 50,000 photos deep (by
  cursor), and one folder's first page;
* what a *follower* pays in the catalog after the writer commits one batch
  of 8 photos: the change-log read, the liveness check and the vectors of
  what changed, against reading every live id (what following cost before
  the change log). Adding 8 vectors to the in-memory HNSW graph comes on
  top and does not depend on the follow mechanism; building a 100,000-vector
  graph for this benchmark would take longer than the rest together.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from photoseek.core.catalog.changes import INDEX_KINDS
from photoseek.core.catalog.pathcodec import to_db
from photoseek.core.catalog.reads import BrowseCursor
from photoseek.core.catalog.store import Catalog
from photoseek.core.records import ModelIdentity
from photoseek.core.search.nameindex import NameIndex
from photoseek.core.vectors import codec
from tests.benchmarks.conftest import print_table

PHOTOS, FOLDERS, DIM = 100_000, 20, 512
IDENTITY = ModelIdentity("bench", "none", "x", DIM)


def _build(path: Path) -> tuple[Catalog, int]:
    catalog = Catalog(path)
    model = catalog.model_id(IDENTITY)
    assert model is not None
    rng = np.random.default_rng(0)
    with catalog.transaction() as tx:
        for f in range(FOLDERS):
            tx.execute(
                "INSERT INTO folders (id, path, added_at) VALUES (?, ?, 0)",
                (f + 1, to_db(Path(f"/photos/f{f:02d}"))),
            )
        rows = []
        for i in range(PHOTOS):
            day = f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}T12:{i % 60:02d}:00"
            rows.append(
                (
                    i % FOLDERS + 1,
                    to_db(Path(f"/photos/f{i % FOLDERS:02d}/{i:06d}.jpg")),
                    i,
                    i,
                    f"fp{i}",
                    day,
                )
            )
        tx.executemany(
            "INSERT INTO photos (folder_id, path, size, mtime_ns, fingerprint, format, width, "
            "height, sort_date, status, added_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'jpeg', 4000, 3000, ?, 'indexed', 0, 0)",
            rows,
        )
        vectors = codec.normalize(rng.standard_normal((PHOTOS, DIM)))
        tx.executemany(
            "INSERT INTO embeddings (model_id, fingerprint, vector, decoder) "
            "VALUES (?, ?, ?, 'jpeg/1;prep/1')",
            ((model, f"fp{i}", codec.encode(vectors[i])) for i in range(PHOTOS)),
        )
    return catalog, model


def _ms(action, repeat: int = 20) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def test_browse_and_follow_at_100k(tmp_path: Path) -> None:
    writer, model = _build(tmp_path / "catalog.sqlite3")
    reader = Catalog(tmp_path / "catalog.sqlite3", read_only=True)
    first = reader.browse(limit=200)
    middle = reader.browse(limit=1, after=None)
    deep_rows = reader._query(
        "SELECT sort_date, id FROM photos ORDER BY sort_date DESC, id DESC LIMIT 1 OFFSET 50000"
    )
    deep = BrowseCursor(str(deep_rows[0][0]), int(deep_rows[0][1]))
    rows = [
        ["browse, first page of 200", f"{_ms(lambda: reader.browse(limit=200)):.2f}"],
        [
            "browse, page of 200 at 50,000 (cursor)",
            f"{_ms(lambda: reader.browse(limit=200, after=deep)):.2f}",
        ],
        [
            "browse one top folder, first 200",
            f"{_ms(lambda: reader.browse(folder_id=7, limit=200)):.2f}",
        ],
    ]
    assert len(first) == 200 and middle

    seq = reader.change_seq()
    follow_times = []
    for batch in range(5):
        with writer.transaction() as tx:  # the writer commits a batch of 8 new photos
            base = PHOTOS + batch * 8
            tx.executemany(
                "INSERT INTO photos (folder_id, path, size, mtime_ns, fingerprint, format, "
                "width, height, sort_date, status, added_at, updated_at) VALUES "
                "(1, ?, 1, 1, ?, 'jpeg', 1, 1, '2030-01-01T00:00:00', 'indexed', 0, 0)",
                [
                    (to_db(Path(f"/photos/f00/new{base + k}.jpg")), f"new{base + k}")
                    for k in range(8)
                ],
            )
            vectors = codec.normalize(np.random.default_rng(batch).standard_normal((8, DIM)))
            tx.executemany(
                "INSERT INTO embeddings (model_id, fingerprint, vector, decoder) "
                "VALUES (?, ?, ?, 'jpeg/1;prep/1')",
                [(model, f"new{base + k}", codec.encode(vectors[k])) for k in range(8)],
            )
        started = time.perf_counter()  # what IndexKeeper.sync asks the catalog
        found = reader.changes_after(seq)
        assert found is not None
        seq, touched = found
        relevant = [i for i, kinds in touched.items() if kinds & INDEX_KINDS]
        live = sorted(reader.live_among(model, relevant))
        reader.vectors(model, live, DIM)
        follow_times.append(time.perf_counter() - started)
        assert len(live) == 8
    full_read = _ms(lambda: reader.live_ids(model), repeat=5)
    rows.append(
        [
            "follow one committed batch of 8 (change log, liveness, vectors)",
            f"{statistics.median(follow_times) * 1000:.2f}",
        ]
    )
    rows.append(["for comparison: read every live id (before the change log)", f"{full_read:.2f}"])
    rows += _name_match_rows(reader, writer)
    print_table(
        f"catalog of {PHOTOS:,} indexed photos in {FOLDERS} folders",
        ["operation", "ms (median)"],
        rows,
    )
    reader.close()
    writer.close()


def _name_match_rows(reader: Catalog, writer: Catalog) -> list[list[str]]:
    """Name matches as the search box asks them, and the catalog scan they replaced."""
    names = NameIndex(reader)
    started = time.perf_counter()
    assert names.matching(["f07"], None, 200)  # the first query loads every path
    first = (time.perf_counter() - started) * 1000
    absent = _ms(lambda: names.matching(["kite", "red"], None, 200))
    common = _ms(lambda: names.matching(["jpg"], None, 200))
    folder = _ms(lambda: names.matching(["f07"], Path("/photos/f07"), 200))
    with writer.transaction() as tx:  # a batch lands: the next query reads only it
        tx.execute(
            "UPDATE photos SET path = ? WHERE id = 1", (to_db(Path("/photos/f00/kite.jpg")),)
        )
    started = time.perf_counter()
    assert len(names.matching(["kite"], None, 200)) == 1
    after_change = (time.perf_counter() - started) * 1000
    scan = _ms(  # what name matching did before: a catalog scan per query
        lambda: reader._query(
            "SELECT p.id FROM photos p JOIN folders f ON f.id = p.folder_id "
            "WHERE p.status = 'indexed' AND instr(lower(p.path), ?) > 0 "
            "ORDER BY p.sort_date DESC, p.id DESC LIMIT 5000",
            ("kite",),
        ),
        repeat=5,
    )
    return [
        ["name match, first query (loads every path)", f"{first:.1f}"],
        ["name match, words no photo has", f"{absent:.2f}"],
        ["name match, a word every photo has (first 200)", f"{common:.2f}"],
        ["name match, one folder's photos", f"{folder:.2f}"],
        ["name match, first query after a change", f"{after_change:.2f}"],
        ["for comparison: the catalog scan name matching used before", f"{scan:.1f}"],
    ]
