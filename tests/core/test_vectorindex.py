"""The hnswlib vector index: changes, queries, atomic save, validated load, rebuild."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from photoseek.core.errors import IndexCorruptError, LibraryError
from photoseek.core.vectors import files as indexfiles
from photoseek.core.vectors import hnsw as hnswsearch
from photoseek.core.vectors import opening
from photoseek.core.vectors.index import (
    IndexMissingError,
    IndexParams,
    VectorIndex,
    sidecar_path,
)
from photoseek.core.vectors.opening import open_or_rebuild

DIM = 32
KEY = "ViT-test/none/sha256:0123"
BIG = 2**62  # labels are catalog ids: arbitrary, large, not contiguous

Floats = npt.NDArray[np.float32]


def unit(array: npt.ArrayLike) -> Floats:
    a = np.asarray(array, dtype=np.float32)
    out: Floats = (a / np.linalg.norm(a, axis=-1, keepdims=True)).astype(np.float32)
    return out


def random_unit(n: int, dim: int = DIM, seed: int = 0) -> Floats:
    return unit(np.random.default_rng(seed).standard_normal((n, dim)))


def clustered(
    n: int, dim: int, *, centres: int, noise: float, queries: int, seed: int
) -> tuple[Floats, Floats]:
    """Unit vectors around gaussian cluster centres (like CLIP embeddings), plus queries."""
    rng = np.random.default_rng(seed)
    centre = unit(rng.standard_normal((centres, dim)))
    scale = noise / np.sqrt(dim)
    data = unit(centre[rng.integers(0, centres, n)] + rng.standard_normal((n, dim)) * scale)
    near = centre[rng.integers(0, centres, queries)]
    return data, unit(near + rng.standard_normal((queries, dim)) * scale)


def labels_for(n: int, start: int = 0) -> list[int]:
    return [BIG + 7919 * (start + i) for i in range(n)]


def built(n: int = 300, seed: int = 0, **kwargs: Any) -> tuple[VectorIndex, list[int], Floats]:
    index = VectorIndex(DIM, KEY, **kwargs)
    labels, vectors = labels_for(n), random_unit(n, seed=seed)
    index.add(labels, vectors)
    return index, labels, vectors


def brute_force(vectors: Floats, labels: list[int], query: Floats, k: int) -> list[int]:
    sims = vectors @ unit(query)
    return [labels[i] for i in np.argsort(-sims, kind="stable")[:k]]


def assert_exact_top(got: npt.NDArray[Any], sims: Floats, k: int, tol: float = 1e-5) -> None:
    """``got`` (row positions) is an exact top-k of ``sims``, allowing exact ties at the cut."""
    kth = np.sort(sims)[::-1][k - 1]
    assert len(set(got.tolist())) == k
    assert set(np.flatnonzero(sims > kth + tol).tolist()) <= set(got.tolist())
    assert sims[got].min() >= kth - tol


# -- changes and queries ---------------------------------------------------------------


def test_empty_index_gives_empty_arrays() -> None:
    index = VectorIndex(DIM, KEY)
    labels, sims = index.query(random_unit(1)[0], 10)
    assert labels.dtype == np.int64 and sims.dtype == np.float32
    assert labels.shape == sims.shape == (0,)
    assert len(index) == 0 and index.labels() == set()


def test_query_returns_nearest_labels_and_cosine_similarities() -> None:
    index, labels, vectors = built()
    query = unit(vectors[17] + 0.1 * random_unit(1, seed=9)[0])
    got, sims = index.query(query, 10)
    assert got.dtype == np.int64 and sims.dtype == np.float32
    assert got.tolist() == brute_force(vectors, labels, query, 10)
    positions = [labels.index(int(label)) for label in got]
    np.testing.assert_allclose(sims, vectors[positions] @ query, atol=1e-5)
    assert np.all(np.diff(sims) <= 0)


def test_labels_are_arbitrary_large_ints() -> None:
    index = VectorIndex(DIM, KEY)
    labels = [2**63 - 1, 0, 2**40 + 3, 12345678901234]
    vectors = random_unit(4, seed=3)
    index.add(labels, vectors)
    assert index.labels() == set(labels)
    for label, vector in zip(labels, vectors, strict=True):
        got, sims = index.query(vector, 1)
        assert got.tolist() == [label]
        assert sims[0] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("labels", "vectors"),
    [
        ([-1], random_unit(1)),
        ([2**63], random_unit(1)),
        ([1.5], random_unit(1)),
        ([1, 1], random_unit(2)),
        ([1, 2], random_unit(3)),
        ([1], random_unit(1, dim=DIM + 1)),
        ([1], np.full((1, DIM), np.nan, dtype=np.float32)),
    ],
    ids=["negative", "too-big", "float", "duplicate", "count", "dim", "nan"],
)
def test_bad_batches_are_refused_and_change_nothing(labels: list[Any], vectors: Floats) -> None:
    index, before, _ = built(20)
    with pytest.raises(ValueError):
        index.add(labels, vectors)
    assert index.labels() == set(before)


def test_bad_queries_are_refused() -> None:
    index, _, _ = built(20)
    with pytest.raises(ValueError):
        index.query(np.zeros(DIM, dtype=np.float32), 5)
    with pytest.raises(ValueError):
        index.query(random_unit(1, dim=DIM + 1)[0], 5)
    with pytest.raises(ValueError):
        index.query(random_unit(1)[0], -1)


def test_k_is_clipped_to_live_count() -> None:
    index, labels, vectors = built(30)
    index.remove(labels[:10])
    got, sims = index.query(vectors[0], 100)
    assert sorted(got.tolist()) == sorted(labels[10:])
    assert len(sims) == 20


def test_remove_hides_labels_and_ignores_unknown_ones(tmp_path: Path) -> None:
    index, labels, vectors = built(100)
    gone = labels[:40]
    index.remove(gone)
    index.remove([*gone[:5], 424242])  # already deleted and unknown: ignored
    index.remove(np.asarray(labels[40:42], dtype=np.int64))
    assert len(index) == 58 and index.deleted_count == 42
    assert index.labels() == set(labels[42:])
    for vector in vectors[:42]:
        got, _ = index.query(vector, 10)
        assert not set(got.tolist()) & set(labels[:42])
    index.save(tmp_path / "i.hnsw")  # numpy labels were stored as ints
    assert VectorIndex.load(tmp_path / "i.hnsw", dim=DIM, model_key=KEY).deleted_count == 42


def test_labels_returns_a_copy() -> None:
    index, labels, _ = built(10)
    index.labels().clear()
    assert index.labels() == set(labels)


def test_readding_a_deleted_label_revives_it_with_the_new_vector() -> None:
    index, labels, vectors = built(100)
    index.remove([labels[5]])
    fresh = random_unit(1, seed=77)
    index.add([labels[5]], fresh)
    assert labels[5] in index.labels() and len(index) == 100 and index.deleted_count == 0
    got, sims = index.query(fresh[0], 1)
    assert got.tolist() == [labels[5]] and sims[0] == pytest.approx(1.0, abs=1e-5)
    got, _ = index.query(vectors[5], 1)
    assert got.tolist() != [labels[5]]  # the old vector is gone


def test_adding_a_live_label_replaces_its_vector() -> None:
    index, labels, _ = built(100)
    fresh = random_unit(1, seed=99)
    index.add([labels[3]], fresh)
    assert len(index) == 100
    got, sims = index.query(fresh[0], 1)
    assert got.tolist() == [labels[3]] and sims[0] == pytest.approx(1.0, abs=1e-5)


def test_capacity_grows_by_doubling_past_the_initial_size() -> None:
    index = VectorIndex(DIM, KEY, capacity=16)
    vectors, labels = random_unit(1500, seed=4), labels_for(1500)
    index.add(labels[:70], vectors[:70])
    assert index.capacity == 1024  # never grows in tiny steps
    for start in range(70, 1500, 143):
        index.add(labels[start : start + 143], vectors[start : start + 143])
    assert len(index) == 1500 and index.capacity == 2048
    for position in range(0, 1500, 50):
        assert index.query(vectors[position], 1)[0].tolist() == [labels[position]]


def test_choose_ef_rule() -> None:
    assert VectorIndex.choose_ef(10, 100) == 100  # small collections: every node
    assert VectorIndex.choose_ef(10, 100_000) == 512
    assert VectorIndex.choose_ef(50, 100_000) == 512
    assert VectorIndex.choose_ef(100, 100_000) == 800
    assert VectorIndex.choose_ef(300, 200) == 300  # never below k
    assert VectorIndex.choose_ef(10, 249_999) == 512
    assert VectorIndex.choose_ef(10, 250_000) == 1024  # large libraries search wider
    assert VectorIndex.choose_ef(200, 1_000_000) == 1600
    for k in (1, 10, 50, 100, 1000):
        for count in (1, 50, 5000, 10**6):
            assert VectorIndex.choose_ef(k, count) >= k


# -- unreachable nodes -----------------------------------------------------------------


class HidingNative:
    """Wraps hnswlib's index so graph searches never return ``hidden``: an orphan node."""

    def __init__(self, native: Any, hidden: int) -> None:
        self._native = native
        self._hidden = hidden

    def __getattr__(self, name: str) -> Any:
        return getattr(self._native, name)

    def knn_query(self, data: Floats, k: int, num_threads: int = -1) -> tuple[Any, Any]:
        wider = min(k + 1, self._native.get_current_count())
        labels, dists = self._native.knn_query(data, k=wider, num_threads=num_threads)
        keep = [
            [j for j in range(wider) if labels[i, j] != self._hidden][:k]
            for i in range(len(labels))
        ]
        if any(len(row) < k for row in keep):
            raise RuntimeError("Cannot return the results in a contiguous 2D array")
        rows = np.arange(len(labels))[:, None]
        return labels[rows, keep], dists[rows, keep]


def test_unreachable_labels_are_tracked_and_still_found(tmp_path: Path) -> None:
    index, labels, vectors = built(200)
    orphan = labels[42]
    index._native = HidingNative(index._native, orphan)
    assert index.check_reachability() == 1 and index.unreachable() == {orphan}
    got, sims = index.query(vectors[42], 5)
    assert got[0] == orphan and sims[0] == pytest.approx(1.0, abs=1e-5)
    assert got.tolist() == brute_force(vectors, labels, vectors[42], 5)
    index.save(tmp_path / "i.hnsw")
    assert VectorIndex.load(tmp_path / "i.hnsw", dim=DIM, model_key=KEY).unreachable() == {orphan}
    index.remove([orphan])
    assert index.unreachable() == set()
    assert orphan not in index.query(vectors[42], 5)[0].tolist()


class HidingBelowEf(HidingNative):
    """Graph searches below ``ef`` never return ``hidden``: a node that is hard, not lost."""

    def __init__(self, native: Any, hidden: int, ef: int) -> None:
        super().__init__(native, hidden)
        self._below, self._ef = ef, 0

    def set_ef(self, ef: int) -> None:
        self._ef = ef
        self._native.set_ef(ef)

    def knn_query(self, data: Floats, k: int, num_threads: int = -1) -> tuple[Any, Any]:
        if self._ef >= self._below:
            return self._native.knn_query(data, k=k, num_threads=num_threads)
        return super().knn_query(data, k, num_threads)


def test_a_node_the_queries_ef_finds_is_not_scored_exhaustively() -> None:
    index, labels, _vectors = built(200)
    index._native = HidingBelowEf(index._native, labels[7], hnswsearch.RECHECK_EF)
    assert index.check_reachability() == 0
    index._native = HidingBelowEf(index._native._native, labels[7], hnswsearch.RECHECK_EF + 1)
    assert index.check_reachability() == 1 and index.unreachable() == {labels[7]}


# -- save and load -----------------------------------------------------------------------


def saved(tmp_path: Path, n: int = 300) -> tuple[Path, VectorIndex, list[int], Floats]:
    index, labels, vectors = built(n)
    index.remove(labels[:25])
    path = tmp_path / "model.hnsw"
    index.save(path)
    return path, index, labels, vectors


def test_save_load_round_trip_keeps_labels_deletions_and_results(tmp_path: Path) -> None:
    path, index, labels, vectors = saved(tmp_path)
    loaded = VectorIndex.load(path, dim=DIM, model_key=KEY)
    assert loaded.labels() == index.labels() == set(labels[25:])
    assert loaded.deleted_count == 25 and loaded.params == index.params
    for vector in vectors[::10]:
        want_labels, want_sims = index.query(vector, 20)
        got_labels, got_sims = loaded.query(vector, 20)
        assert got_labels.tolist() == want_labels.tolist()
        np.testing.assert_allclose(got_sims, want_sims, atol=1e-6)
    loaded.add([labels[0]], vectors[:1])  # a deletion restored from the sidecar revives
    loaded.remove([labels[30]])
    assert labels[0] in loaded.labels() and labels[30] not in loaded.labels()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.hnsw", "model.hnsw.json"]


def test_sidecar_describes_the_index(tmp_path: Path) -> None:
    path, index, _, _ = saved(tmp_path)
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["format_version"] == 1 and meta["metric"] == "cosine"
    assert (meta["dim"], meta["model_key"], meta["M"], meta["ef_construction"]) == (
        DIM,
        KEY,
        index.params.M,
        index.params.ef_construction,
    )
    assert (index.params.M, index.params.ef_construction) == (32, 200)
    assert meta["count"] == 275 and meta["element_count"] == 300 and len(meta["deleted"]) == 25
    assert meta["file_size"] == path.stat().st_size and meta["capacity"] == index.capacity
    assert meta["checksum"].startswith("blake2b-256:")


def test_empty_index_round_trips(tmp_path: Path) -> None:
    VectorIndex(DIM, KEY).save(tmp_path / "e.hnsw")
    loaded = VectorIndex.load(tmp_path / "e.hnsw", dim=DIM, model_key=KEY)
    assert len(loaded) == 0
    loaded.add([5], random_unit(1))
    assert loaded.query(random_unit(1)[0], 3)[0].tolist() == [5]


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def flip_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in (100, len(data) // 2, len(data) - 10):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def write_text(path: Path, text: str) -> None:
    path.write_text(text)


def edit_sidecar(**changes: Any) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        meta = json.loads(sidecar_path(path).read_text())
        meta.update(changes)
        sidecar_path(path).write_text(json.dumps(meta))

    return edit


CORRUPTIONS: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (truncate, "bytes"),
    "flipped bytes": (flip_bytes, "checksum"),
    "missing sidecar": (lambda p: sidecar_path(p).unlink(), "sidecar"),
    "missing index file": (lambda p: p.unlink(), "missing"),
    "garbage sidecar": (lambda p: write_text(sidecar_path(p), "{not json"), "unreadable"),
    "other model": (edit_sidecar(model_key="other/model/sha256:ff"), "model"),
    "other dim": (edit_sidecar(dim=DIM * 2), "dim"),
    "unknown version": (edit_sidecar(format_version=2), "version"),
    "other metric": (edit_sidecar(metric="l2"), "metric"),
    "wrong deleted list": (edit_sidecar(deleted=[1, 2]), "labels"),
    "invalid M": (edit_sidecar(M=0), "parameters"),
    "other M": (edit_sidecar(M=16), "does not match"),
    "negative count": (edit_sidecar(count=-1), "count"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_load_refuses_a_damaged_or_foreign_index(tmp_path: Path, name: str) -> None:
    path, _, _, _ = saved(tmp_path)
    damage, reason = CORRUPTIONS[name]
    damage(path)
    with pytest.raises(IndexCorruptError, match=reason):
        VectorIndex.load(path, dim=DIM, model_key=KEY)


def test_load_of_nothing_raises_index_missing(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError):
        VectorIndex.load(tmp_path / "none.hnsw", dim=DIM, model_key=KEY)


def test_load_never_hands_an_unverified_file_to_hnswlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _, _, _ = saved(tmp_path)
    flip_bytes(path)
    calls: list[Path] = []
    monkeypatch.setattr(indexfiles, "load_native", lambda p, dim, cap: calls.append(p))
    with pytest.raises(IndexCorruptError):
        VectorIndex.load(path, dim=DIM, model_key=KEY)
    assert calls == []


def crash_between_renames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the sidecar's rename fail: the state a crash right after the index's rename leaves."""
    real = Path.replace

    def replace(self: Path, target: Any) -> Path:
        if self.name.startswith(Path(target).name + ".tmp-") and str(target).endswith(".json"):
            raise OSError("simulated crash")
        return real(self, target)

    monkeypatch.setattr(Path, "replace", replace)


def test_sidecar_of_another_save_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, index, _, _ = saved(tmp_path)
    index.add(labels_for(50, start=1000), random_unit(50, seed=5))
    crash_between_renames(monkeypatch)
    with pytest.raises(LibraryError):
        index.save(path)
    monkeypatch.undo()
    with pytest.raises(IndexCorruptError, match=r"bytes|checksum"):
        VectorIndex.load(path, dim=DIM, model_key=KEY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.hnsw", "model.hnsw.json"]


# -- failing saves -----------------------------------------------------------------------


class ShortWriteNative:
    """hnswlib on a full disk: save_index silently leaves a short file."""

    def __init__(self, native: Any) -> None:
        self._native = native

    def __getattr__(self, name: str) -> Any:
        return getattr(self._native, name)

    def save_index(self, path: str) -> None:
        self._native.save_index(path)
        truncate(Path(path))


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_short_write_raises_and_keeps_the_previous_index(tmp_path: Path) -> None:
    path, index, _, _ = saved(tmp_path)
    before = snapshot(tmp_path)
    index.add(labels_for(10, start=5000), random_unit(10, seed=6))
    index._native = ShortWriteNative(index._native)
    with pytest.raises(LibraryError, match="disk full"):
        index.save(path)
    assert snapshot(tmp_path) == before
    assert len(VectorIndex.load(path, dim=DIM, model_key=KEY)) == 275


def test_save_refuses_when_the_disk_lacks_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, index, _, _ = saved(tmp_path)
    before = snapshot(tmp_path)

    class Usage:
        free = 1000

    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage())
    with pytest.raises(LibraryError, match="not enough disk space to save the search index"):
        index.save(path)
    assert snapshot(tmp_path) == before


def test_save_removes_temporaries_of_a_crashed_save(tmp_path: Path) -> None:
    path, index, _, _ = saved(tmp_path)
    (tmp_path / "model.hnsw.tmp-99999").write_bytes(b"partial")
    (tmp_path / "model.hnsw.json.tmp-99999").write_text("{")
    (tmp_path / "other.hnsw.tmp-99999").write_bytes(b"not ours")
    index.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model.hnsw",
        "model.hnsw.json",
        "other.hnsw.tmp-99999",
    ]


# -- open_or_rebuild ---------------------------------------------------------------------


class Catalog:
    """The catalog's vectors, with a log of what was fetched."""

    def __init__(self, labels: list[int], vectors: Floats) -> None:
        self.vectors = dict(zip(labels, vectors, strict=True))
        self.fetched: list[int] = []

    def fetch(self, ids: list[int]) -> Floats:
        self.fetched.extend(ids)
        return np.stack([self.vectors[i] for i in ids])


def test_open_or_rebuild_builds_when_nothing_is_saved(tmp_path: Path) -> None:
    labels, vectors = labels_for(200), random_unit(200)
    catalog = Catalog(labels, vectors)
    index, note = open_or_rebuild(
        tmp_path / "i.hnsw",
        dim=DIM,
        model_key=KEY,
        live_labels=set(labels),
        fetch_vectors=catalog.fetch,
    )
    assert note.startswith("rebuilt: no saved search index")
    assert index.labels() == set(labels) and sorted(catalog.fetched) == sorted(labels)
    assert index.query(vectors[7], 1)[0].tolist() == [labels[7]]


@pytest.mark.parametrize("name", ["truncated", "flipped bytes", "missing sidecar", "other model"])
def test_open_or_rebuild_rebuilds_a_bad_index_from_the_catalog(
    tmp_path: Path, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    path, _, labels, vectors = saved(tmp_path)
    CORRUPTIONS[name][0](path)
    catalog = Catalog(labels[25:], vectors[25:])
    with caplog.at_level(logging.WARNING, logger="photoseek.core.vectors.index"):
        index, note = open_or_rebuild(
            path, dim=DIM, model_key=KEY, live_labels=set(labels[25:]), fetch_vectors=catalog.fetch
        )
    assert note.startswith("rebuilt: ")
    assert any("rebuilding the search index" in r.getMessage() for r in caplog.records)
    assert index.labels() == set(labels[25:]) and index.deleted_count == 0
    assert index.query(vectors[100], 1)[0].tolist() == [labels[100]]


def test_open_or_rebuild_loads_an_up_to_date_index_without_fetching(tmp_path: Path) -> None:
    path, _, labels, vectors = saved(tmp_path)
    catalog = Catalog(labels, vectors)
    index, note = open_or_rebuild(
        path, dim=DIM, model_key=KEY, live_labels=set(labels[25:]), fetch_vectors=catalog.fetch
    )
    assert note == "loaded" and catalog.fetched == [] and len(index) == 275


def test_open_or_rebuild_catches_up_an_index_that_is_behind(tmp_path: Path) -> None:
    path, _, labels, vectors = saved(tmp_path)
    new_labels, new_vectors = labels_for(12, start=9000), random_unit(12, seed=8)
    catalog = Catalog(labels + new_labels, np.concatenate([vectors, new_vectors]))
    live = (set(labels[25:]) - set(labels[25:28])) | set(new_labels) | {labels[0]}
    index, note = open_or_rebuild(
        path, dim=DIM, model_key=KEY, live_labels=live, fetch_vectors=catalog.fetch
    )
    assert note == "caught up: +13 -3"
    assert sorted(catalog.fetched) == sorted([*new_labels, labels[0]])
    assert index.labels() == live
    assert index.query(new_vectors[4], 1)[0].tolist() == [new_labels[4]]


def test_open_or_rebuild_rebuilds_an_index_that_is_mostly_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opening, "_REBUILD_DELETED_MIN", 10)
    index, labels, vectors = built(100)
    index.remove(labels[:60])
    index.save(tmp_path / "i.hnsw")
    catalog = Catalog(labels[60:], vectors[60:])
    rebuilt, note = open_or_rebuild(
        tmp_path / "i.hnsw",
        dim=DIM,
        model_key=KEY,
        live_labels=set(labels[60:]),
        fetch_vectors=catalog.fetch,
    )
    assert note == "rebuilt: 60 of 100 entries are deleted"
    assert rebuilt.deleted_count == 0 and rebuilt.labels() == set(labels[60:])


# -- threads -----------------------------------------------------------------------------


def test_queries_while_another_thread_adds_and_removes() -> None:
    index = VectorIndex(DIM, KEY, capacity=64)
    labels, vectors = labels_for(3000), random_unit(3000, seed=11)
    index.add(labels[:100], vectors[:100])
    known = set(labels)
    errors: list[BaseException] = []
    done = threading.Event()

    def search(seed: int) -> None:
        queries = random_unit(50, seed=seed)
        try:
            while not done.is_set():
                for query in queries:
                    got, sims = index.query(query, 20)
                    assert set(got.tolist()) <= known and len(got) == min(20, len(got))
                    assert np.all(np.diff(sims) <= 1e-6) and np.all(np.abs(sims) <= 1.0001)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=search, args=(s,)) for s in range(4)]
    for thread in threads:
        thread.start()
    try:
        for start in range(100, 3000, 100):
            index.add(labels[start : start + 100], vectors[start : start + 100])
            index.remove(labels[start - 50 : start - 40])
            time.sleep(0.001)
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(index) == 3000 - 290
    assert index.query(vectors[2999], 1)[0].tolist() == [labels[2999]]


# -- recall: the ef rule ------------------------------------------------------------------


@pytest.fixture(scope="module")
def clustered_index() -> tuple[VectorIndex, Floats, Floats]:
    """20,000 clustered 512-d unit vectors (200 centres) and 50 queries near clusters."""
    data, queries = clustered(20_000, 512, centres=200, noise=0.8, queries=50, seed=2024)
    index = VectorIndex(512, KEY, IndexParams(M=16, ef_construction=200), capacity=20_000)
    index.add(list(range(len(data))), data)
    return index, data, queries


def test_recall_matches_brute_force(clustered_index: tuple[VectorIndex, Floats, Floats]) -> None:
    """With ``ef=choose_ef(k, count)`` the top-k equals an exact search for every query."""
    index, data, queries = clustered_index
    exact = queries @ data.T
    for k in (10, 50):
        ef = VectorIndex.choose_ef(k, len(index))
        for row, query in enumerate(queries):
            got, sims = index.query(query, k, ef=ef)
            assert_exact_top(got, exact[row], k)
            np.testing.assert_allclose(sims, exact[row][got], atol=1e-5)
    for row, query in enumerate(queries):  # as search does: 100 candidates, 50 shown
        got, _ = index.query(query, 100, ef=VectorIndex.choose_ef(100, len(index)))
        assert_exact_top(got[:50], exact[row], 50)


def test_recall_test_detects_a_too_small_ef(
    clustered_index: tuple[VectorIndex, Floats, Floats],
) -> None:
    """The data set is hard enough: hnswlib's usual ef (= k) misses true neighbours."""
    index, data, queries = clustered_index
    exact = queries @ data.T
    misses = 0
    for row, query in enumerate(queries):
        got, _ = index.query(query, 10, ef=10)
        try:
            assert_exact_top(got, exact[row], 10)
        except AssertionError:
            misses += 1
    assert misses >= 5


def test_pid_named_temporaries_do_not_collide_with_the_index(tmp_path: Path) -> None:
    assert indexfiles.temp_path(tmp_path / "a.hnsw").name == f"a.hnsw.tmp-{os.getpid()}"


def test_load_retries_when_a_writer_saves_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _, _, _ = saved(tmp_path)
    newer, labels, _ = built(40, seed=3)
    real = indexfiles.load_native
    calls: list[int] = []

    def load_native(p: Path, dim: int, capacity: int) -> Any:
        if not calls:
            newer.save(path)  # another process replaced both files after our checks
        calls.append(1)
        return real(p, dim, capacity)

    monkeypatch.setattr(indexfiles, "load_native", load_native)
    loaded = VectorIndex.load(path, dim=DIM, model_key=KEY)
    assert len(calls) == 2 and loaded.labels() == set(labels)


def test_merging_the_unreachable_list_equals_a_full_sort_ties_included() -> None:
    """merge_exact sorts only the extra's best k (and ties) with the graph's result."""
    rng = np.random.default_rng(11)
    query = np.array([1, 0, 0, 0], np.float32)
    for _ in range(300):
        n, k = int(rng.integers(1, 60)), int(rng.integers(1, 20))
        extra_vectors = rng.integers(-3, 4, (n, 4)).astype(np.float32)  # many equal scores
        extra_labels = rng.permutation(100)[:n].astype(np.int64)
        labels = rng.permutation(np.arange(90, 130))[:k].astype(np.int64)  # some in both
        sims = rng.integers(-3, 4, k).astype(np.float32)
        got_labels, got_sims = hnswsearch.merge_exact(
            query, labels, sims, (extra_labels, extra_vectors), k
        )
        every = np.concatenate([labels, extra_labels])
        scores = np.concatenate([sims, extra_vectors @ query])
        order = np.lexsort((every, -scores))
        every, scores = every[order], scores[order]
        _, first = np.unique(every, return_index=True)
        keep = np.sort(first)[:k]
        assert got_labels.tolist() == every[keep].tolist()
        assert got_sims.tolist() == scores[keep].tolist()
