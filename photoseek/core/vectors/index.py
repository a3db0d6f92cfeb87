"""The vector index: an hnswlib HNSW graph (cosine space) over one model's vectors.

The index is a *cache* derived from the catalog: the hnsw label of a vector is
the catalog photo id, and everything in the index can be rebuilt from the
catalog (:mod:`photoseek.core.vectors.opening`). Losing or corrupting the file
loses no data.

Files
-----
:meth:`VectorIndex.save` writes ``<path>`` and its sidecar ``<path>.json``
atomically, and :meth:`VectorIndex.load` verifies both before hnswlib reads the
file; :mod:`photoseek.core.vectors.files` describes the format and the protocol.

Exactness
---------
The search layer asks for ``k`` candidates and re-scores them exactly, so the
index must return the true top-``k``. Two things make that hold:

* :meth:`VectorIndex.choose_ef` picks a generous ``ef`` (see its docstring and
  ``tests/core/test_vectorindex.py::test_recall_matches_brute_force``).
* HNSW graphs built with the pruning heuristic leave a few nodes with no
  incoming edge: no ``ef`` finds them (measured: 4-18 of 50,000 clustered
  512-d vectors with M=16). After every :meth:`VectorIndex.add` the new
  vectors are searched for themselves, at ef 128 and those missed again at
  the queries' ef floor (512); those the graph still does not return are kept
  in a small *unreachable* list that every query scores exhaustively and merges
  into the result. A full pass (:meth:`VectorIndex.check_reachability`) runs
  after a rebuild, because later inserts can orphan earlier nodes. (The
  second pass matters at scale: on a million clustered vectors with M=32,
  2.0 % of the nodes are missed at ef 128, 0.65 % at ef 512, and every
  query scores the list.)

Threads
-------
hnswlib is not safe for ``knn_query`` concurrently with ``add_items``,
``resize_index`` or ``mark_deleted``, and ``set_ef`` is index-wide state, so
every call into the native index holds one :class:`threading.RLock` (queries
too; a query takes well under a millisecond). Inserting new vectors uses all
cores (``threads=0``); the resulting graph then depends on thread scheduling,
which is harmless because exactness rests on ``ef`` and the unreachable list,
not on a particular graph. Pass ``threads=1`` for a reproducible graph.
Replacing existing vectors always runs on one thread.
"""

from __future__ import annotations

import logging
import operator
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoseek.core.errors import IndexCorruptError
from photoseek.core.lazyimport import lazy_module
from photoseek.core.vectors import files as indexfiles
from photoseek.core.vectors import hnsw as hnswsearch
from photoseek.core.vectors.files import (
    METRIC,
    IndexMissingError,
    IndexParams,
    Sidecar,
    sidecar_path,
)
from photoseek.core.vectors.hnsw import FloatMatrix, LabelArray

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:
    np = lazy_module("numpy")

__all__ = [
    "FetchVectors",
    "FloatMatrix",
    "IndexMissingError",
    "IndexParams",
    "LabelArray",
    "RebuildProgress",
    "VectorIndex",
    "sidecar_path",
]

log = logging.getLogger(__name__)

FetchVectors = Callable[[list[int]], "npt.NDArray[Any]"]
RebuildProgress = Callable[[int, int], None]

INITIAL_CAPACITY = 1024
"""Slots a new index starts with (it grows as vectors are added)."""
ADD_CHUNK = 4096
"""Vectors added (and checked for reachability) per call into hnswlib."""
_REACH_K = 4
_DEFAULT_PARAMS = IndexParams()


class VectorIndex:
    """An in-memory HNSW index of unit vectors keyed by catalog photo id."""

    def __init__(
        self,
        dim: int,
        model_key: str,
        params: IndexParams = _DEFAULT_PARAMS,
        *,
        capacity: int = INITIAL_CAPACITY,
        threads: int = 0,
    ) -> None:
        """Create an empty index for ``dim``-dimensional vectors of model ``model_key``.

        ``capacity`` is the initial number of slots (it grows by doubling);
        ``threads`` is the number of threads used to insert new vectors
        (0: all cores; 1: a reproducible graph).
        """
        if dim < 1 or params.M < 2 or params.ef_construction < 1:
            raise ValueError(f"invalid index dimensions or parameters: dim={dim}, {params}")
        if not model_key:
            raise ValueError("model_key must not be empty")
        self.dim = dim
        self.model_key = model_key
        self.params = params
        self._threads = threads if threads > 0 else -1
        self._lock = threading.RLock()
        self._save_lock = threading.Lock()
        import hnswlib  # here, not at start-up: it imports numpy (0.25 s)

        self._native = hnswlib.Index(space=METRIC, dim=dim)
        self._native.init_index(
            max_elements=max(capacity, 1), M=params.M, ef_construction=params.ef_construction
        )
        self._live: set[int] = set()
        self._deleted: set[int] = set()
        self._unreachable: set[int] = set()
        self._unreachable_cache: tuple[LabelArray, FloatMatrix] | None = None

    # -- size and contents ------------------------------------------------------

    def __len__(self) -> int:
        """The number of live (not deleted) labels."""
        with self._lock:
            return len(self._live)

    def labels(self) -> set[int]:
        """A copy of the live labels."""
        with self._lock:
            return set(self._live)

    def __contains__(self, label: object) -> bool:
        """Whether ``label`` is live in the index."""
        with self._lock:
            return label in self._live

    @property
    def capacity(self) -> int:
        """Slots allocated in the native index (live + deleted + free)."""
        with self._lock:
            return int(self._native.get_max_elements())

    @property
    def deleted_count(self) -> int:
        """Deleted labels still occupying slots (they are revived by :meth:`add`)."""
        with self._lock:
            return len(self._deleted)

    def unreachable(self) -> set[int]:
        """Live labels the graph search cannot reach; queries score them exhaustively."""
        with self._lock:
            return set(self._unreachable)

    # -- changes ------------------------------------------------------------------

    def add(self, labels: Sequence[int], vectors: npt.NDArray[Any]) -> None:
        """Add or replace vectors (float32, shape (n, dim), L2-normalised).

        A label that is live gets the new vector; a deleted label is revived
        with it. The capacity doubles as needed. Raises ValueError on bad
        labels (negative, not integers, duplicated) or bad vectors (shape,
        NaN or infinity).
        """
        self._add(labels, vectors, check=True)

    def add_unchecked(self, labels: Sequence[int], vectors: npt.NDArray[Any]) -> None:
        """Like :meth:`add`, without the reachability check: a rebuild checks every node
        once at the end (:meth:`check_reachability`)."""
        self._add(labels, vectors, check=False)

    def remove(self, labels: Iterable[int]) -> None:
        """Mark labels deleted; unknown or already deleted labels are ignored."""
        with self._lock:
            for label in map(operator.index, labels):  # numpy ints become ints
                if label in self._live:
                    self._native.mark_deleted(label)
                    self._live.discard(label)
                    self._deleted.add(label)
                    self._forget_unreachable(label)

    def catch_up(self, live_labels: set[int], fetch_vectors: FetchVectors) -> tuple[int, int]:
        """Make the live labels equal ``live_labels``; return ``(added, removed)``.

        Labels missing from the index are added with vectors from
        ``fetch_vectors(labels)`` (called with chunks of at most 4096 labels,
        it must return an ``(len(labels), dim)`` array in the same order);
        labels not in ``live_labels`` are removed. Existing vectors are kept.
        """
        present = self.labels()
        extra = present - live_labels
        missing = sorted(live_labels - present)
        self.remove(extra)
        for start in range(0, len(missing), ADD_CHUNK):
            chunk = missing[start : start + ADD_CHUNK]
            self._add(chunk, fetch_vectors(chunk), check=True)
        return len(missing), len(extra)

    # -- queries ------------------------------------------------------------------

    def query(
        self, vector: npt.NDArray[Any], k: int, *, ef: int | None = None
    ) -> tuple[LabelArray, FloatMatrix]:
        """The ``k`` nearest live labels to ``vector`` and their cosine similarities.

        Returns ``(labels int64, similarities float32)``, best first; ``k`` is
        clipped to ``len(self)``, and an empty index gives empty arrays. ``ef``
        defaults to :meth:`choose_ef`. Raises ValueError on a malformed,
        zero or non-finite vector.
        """
        if k < 0:
            raise ValueError(f"k must not be negative: {k}")
        query = hnswsearch.as_query(vector, self.dim)
        with self._lock:
            k = min(k, len(self._live))
            if k == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            ef = self.choose_ef(k, len(self._live)) if ef is None else ef
            labels, sims = hnswsearch.search(self._native, query, k, max(ef, k))
            if self._unreachable:
                labels, sims = hnswsearch.merge_exact(
                    query[0], labels, sims, self._unreachable_vectors(), k
                )
            return labels, sims

    choose_ef = staticmethod(hnswsearch.choose_ef)

    def neighbours(
        self, labels: Sequence[int] | LabelArray, k: int, *, ef: int | None = None
    ) -> tuple[LabelArray, FloatMatrix]:
        """Each label's ``k`` nearest other live labels and their cosine similarities.

        For the near-duplicate finder: one batched query of the labels' own
        vectors on every thread the index inserts with, at ``ef`` (default
        16, at least ``k + 1``): what matters there is the nearest few, not
        an exact top ``k`` (on 20,000 clustered 512-d vectors with planted
        near-copies, ef 16 found every true nearest neighbour and 99.9 % of
        the top 12, at 0.11 ms a query against 0.26 ms at ef 64).

        Returns ``(labels, similarities)`` of shape ``(len(labels), k)``,
        nearest first; a label that is not live, and places the graph cannot
        fill, get label -1 and similarity NaN. An unreachable label is not
        found by the others' queries, but its own query finds its
        neighbours. Call it with chunks of labels: the index is locked
        meanwhile (a fraction of a millisecond a label).
        """
        if k < 1:
            raise ValueError(f"k must be at least 1: {k}")
        ids = hnswsearch.as_labels(labels)
        found = np.full((len(ids), k), -1, dtype=np.int64)
        sims = np.full((len(ids), k), np.nan, dtype=np.float32)
        with self._lock:
            live = np.fromiter((int(i) in self._live for i in ids), bool, len(ids))
            want = min(k + 1, len(self._live))
            if not live.any() or want < 2:
                return found, sims
            rows = np.flatnonzero(live)
            vectors = np.asarray(self._native.get_items(ids[rows], return_type="numpy"), np.float32)
            got, near = self._knn_many(vectors, want, max(ef or 16, want))
        is_self = got == ids[rows][:, None]
        order = np.argsort(is_self | (got < 0), axis=1, kind="stable")[:, :k]  # self, gaps: last
        got = np.take_along_axis(got, order, axis=1)
        near = np.take_along_axis(near, order, axis=1)
        gone = (got < 0) | (got == ids[rows][:, None])
        width = got.shape[1]
        found[rows, :width] = np.where(gone, -1, got)
        sims[rows, :width] = np.where(gone, np.nan, near)
        return found, sims

    def check_reachability(self, labels: Iterable[int] | None = None) -> int:
        """Search each label's own vector; track those the graph does not return.

        Checks ``labels`` (default: every live label), in chunks so that
        queries from other threads interleave. Returns the number of
        unreachable labels now tracked.
        """
        with self._lock:
            todo = sorted(self._live if labels is None else set(labels) & self._live)
        for start in range(0, len(todo), ADD_CHUNK):
            with self._lock:
                self._check_chunk(todo[start : start + ADD_CHUNK])
        with self._lock:
            return len(self._unreachable)

    # -- persistence ----------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the index and its sidecar atomically (see :mod:`photoseek.core.vectors.files`).

        Raises LibraryError if the disk lacks space or the write fails; the
        files previously at ``path`` are then left untouched.
        """
        path = Path(path)
        with self._save_lock:
            started = time.perf_counter()
            indexfiles.save_atomically(path, self._snapshot)
        log.info("saved search index %s in %.2fs", path, time.perf_counter() - started)

    @classmethod
    def load(cls, path: Path, *, dim: int, model_key: str, threads: int = 0) -> VectorIndex:
        """Load and verify a saved index; raise IndexCorruptError with the reason if unusable.

        The sidecar, its versions, dim, metric and model key, and the index
        file's size and checksum are all checked before hnswlib reads the
        file. Raises IndexMissingError (an IndexCorruptError) if neither file
        exists.
        """
        path = Path(path)
        for _attempt in range(indexfiles.LOAD_ATTEMPTS):
            try:
                return cls._load_once(path, dim, model_key, threads)
            except indexfiles.FileChangedError:
                log.info("search index %s changed while loading; retrying", path)
        raise IndexCorruptError(f"search index {path} kept changing while it was loaded")

    # -- internals: changes ------------------------------------------------------------

    def _add(self, labels: Sequence[int], vectors: npt.NDArray[Any], *, check: bool) -> None:
        ids = hnswsearch.as_labels(labels)
        data = hnswsearch.as_vectors(vectors, len(ids), self.dim)
        if len(ids) == 0:
            return
        with self._lock:
            self._insert(ids, data)
            if check:
                self._check_chunk(ids.tolist())

    def _insert(self, ids: LabelArray, data: FloatMatrix) -> None:
        known = np.fromiter(
            (int(i) in self._live or int(i) in self._deleted for i in ids), bool, len(ids)
        )
        self._grow(int((~known).sum()))
        if known.any():  # replacements and revivals: hnswlib unmarks deleted labels itself
            self._native.add_items(data[known], ids[known], num_threads=1)
        if (~known).any():
            self._native.add_items(data[~known], ids[~known], num_threads=self._threads)
        added = set(ids.tolist())
        self._live |= added
        self._deleted -= added
        for label in added & self._unreachable:
            self._forget_unreachable(label)

    def _grow(self, new: int) -> None:
        capacity = int(self._native.get_max_elements())
        needed = int(self._native.element_count) + new
        if needed > capacity:
            target = max(needed, 2 * capacity, INITIAL_CAPACITY)
            log.debug("growing search index from %d to %d slots", capacity, target)
            self._native.resize_index(target)

    def _forget_unreachable(self, label: int) -> None:
        if label in self._unreachable:
            self._unreachable.discard(label)
            self._unreachable_cache = None

    def _check_chunk(self, chunk: list[int]) -> None:
        chunk = [label for label in chunk if label in self._live]
        if not chunk:
            return
        vectors = np.asarray(self._native.get_items(chunk, return_type="numpy"), np.float32)
        missed = self._missed(chunk, vectors, hnswsearch.REACH_EF)
        if missed:  # again at the queries' ef: most are found there (the first pass is cheap)
            again = [n for n, label in enumerate(chunk) if label in missed]
            missed = self._missed([chunk[n] for n in again], vectors[again], hnswsearch.RECHECK_EF)
        if missed != self._unreachable.intersection(chunk):
            self._unreachable.difference_update(chunk)
            self._unreachable |= missed
            self._unreachable_cache = None
        if missed:
            log.debug(
                "%d of %d checked labels are unreachable in the graph", len(missed), len(chunk)
            )

    def _missed(self, labels: list[int], vectors: FloatMatrix, ef: int) -> set[int]:
        """The labels a search for their own vector at ``ef`` does not return."""
        found = hnswsearch.self_search(
            self._native, vectors, min(_REACH_K, len(self._live)), self._threads, ef
        )
        hit = (found == np.asarray(labels, dtype=np.int64)[:, None]).any(axis=1)
        return {label for label, ok in zip(labels, hit.tolist(), strict=True) if not ok}

    # -- internals: queries ---------------------------------------------------------------

    def _knn_many(self, vectors: FloatMatrix, k: int, ef: int) -> tuple[LabelArray, FloatMatrix]:
        """Labels (-1 for none) and cosines of each row's ``k`` nearest (under the lock)."""
        self._native.set_ef(ef)
        try:
            labels, distances = self._native.knn_query(vectors, k=k, num_threads=self._threads)
            found = np.asarray(labels, dtype=np.uint64).astype(np.int64)
            return found, (1.0 - np.asarray(distances, dtype=np.float32)).astype(np.float32)
        except RuntimeError:  # fewer than k reachable for some row: go one by one
            found = np.full((len(vectors), k), -1, dtype=np.int64)
            sims = np.full((len(vectors), k), np.nan, dtype=np.float32)
            for row, vector in enumerate(vectors):
                one, near = hnswsearch.search(self._native, vector[None, :], k, ef)
                found[row, : len(one)], sims[row, : len(one)] = one, near
            return found, sims

    def _unreachable_vectors(self) -> tuple[LabelArray, FloatMatrix]:
        if self._unreachable_cache is None:
            ids = sorted(self._unreachable)
            vectors = np.asarray(self._native.get_items(ids, return_type="numpy"), np.float32)
            self._unreachable_cache = (np.asarray(ids, dtype=np.int64), vectors)
        return self._unreachable_cache

    # -- internals: persistence -----------------------------------------------------------

    def _snapshot(self, tmp_index: Path) -> Sidecar:
        """hnswlib's save into ``tmp_index`` plus a snapshot of the metadata, under the lock."""
        with self._lock:
            file_size = indexfiles.write_native(self._native, tmp_index)
            return Sidecar(
                dim=self.dim,
                model_key=self.model_key,
                params=self.params,
                count=len(self._live),
                element_count=int(self._native.element_count),
                capacity=int(self._native.get_max_elements()),
                file_size=file_size,
                checksum="",
                deleted=frozenset(self._deleted),
                unreachable=frozenset(self._unreachable),
            )

    @classmethod
    def _load_once(cls, path: Path, dim: int, model_key: str, threads: int) -> VectorIndex:
        sidecar, identity = indexfiles.read_verified(path, dim, model_key)
        index = cls(dim, model_key, sidecar.params, capacity=1, threads=threads)
        capacity = indexfiles.plausible_capacity(sidecar, INITIAL_CAPACITY)
        index._native = indexfiles.load_native(path, dim, capacity)
        indexfiles.check_unchanged(path, identity)
        index._live = indexfiles.check_labels(index._native, sidecar)
        index._deleted = set(sidecar.deleted)
        index._unreachable = set(sidecar.unreachable)
        log.info("loaded search index %s: %d vectors", path, len(index))
        return index
