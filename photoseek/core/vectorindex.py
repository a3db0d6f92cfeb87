"""The vector index: an hnswlib HNSW graph (cosine space) over one model's vectors.

The index is a *cache* derived from the catalog: the hnsw label of a vector is
the catalog photo id, and everything in the index can be rebuilt from the
catalog (:func:`open_or_rebuild`). Losing or corrupting the file loses no data.

Files
-----
``<path>`` is the file hnswlib writes; ``<path>.json`` (the *sidecar*) describes
it: format version, dim, metric, graph parameters, model key, counts, the
deleted labels, the labels the graph cannot reach, and the size and BLAKE2b
checksum of the index file it belongs to. :meth:`VectorIndex.load` verifies the
sidecar and the checksum *before* hnswlib reads the file, because hnswlib
trusts its input and may crash on a damaged one.

Atomic save
-----------
Both files are written to temporaries in the same directory
(``<name>.tmp-<pid>``), checked (hnswlib ignores write errors, so a full disk
shows up as a short file), fsynced, then renamed into place: the index first,
then the sidecar, then the directory is fsynced. Because the sidecar names the
exact size and checksum of its index file, every state a crash (or a power
cut that persists only one of the renames) can leave behind is either a
matching pair (all old or all new) or a mismatch that :meth:`~VectorIndex.load`
rejects with :class:`IndexCorruptError`, after which the caller rebuilds from
the catalog. The order of the two renames is therefore not what keeps the pair
consistent; the checksum is.

Exactness
---------
The search layer asks for ``k`` candidates and re-scores them exactly, so the
index must return the true top-``k``. Two things make that hold:

* :meth:`VectorIndex.choose_ef` picks a generous ``ef`` (see its docstring and
  ``tests/core/test_vectorindex.py::test_recall_matches_brute_force``).
* HNSW graphs built with the pruning heuristic leave a few nodes with no
  incoming edge: no ``ef`` finds them (measured: 4-18 of 50,000 clustered
  512-d vectors with M=16). After every :meth:`VectorIndex.add` the new
  vectors are searched for themselves; those the graph does not return are kept
  in a small *unreachable* list that every query scores exhaustively and merges
  into the result. A full pass (:meth:`VectorIndex.check_reachability`) runs
  after a rebuild, because later inserts can orphan earlier nodes.

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

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import operator
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hnswlib
import numpy as np
import numpy.typing as npt

from photoseek.core.errors import IndexCorruptError, LibraryError

log = logging.getLogger(__name__)

FloatMatrix = npt.NDArray[np.float32]
LabelArray = npt.NDArray[np.int64]
FetchVectors = Callable[[list[int]], npt.NDArray[Any]]

FORMAT_VERSION = 1
METRIC = "cosine"
MAX_LABEL = 2**63 - 1

_INITIAL_CAPACITY = 1024
_CHUNK = 4096
_REACH_EF = 128
_REACH_K = 4
_EF_FLOOR = 512
_EF_PER_K = 8
_SPACE_FACTOR = 1.05
_SPACE_MARGIN = 16 * 1024 * 1024
_HASH_DIGEST = 32
_LOAD_ATTEMPTS = 3
_REBUILD_DELETED_FRACTION = 0.25
_REBUILD_DELETED_MIN = 1000


class IndexMissingError(IndexCorruptError):
    """No saved index exists at the path (a first run, or the files were removed)."""


class _FileChangedError(IndexCorruptError):
    """The index file was replaced while it was being loaded (a writer saved)."""


@dataclass(frozen=True)
class IndexParams:
    """HNSW graph parameters, fixed when an index is built (stored in the sidecar)."""

    M: int = 16
    ef_construction: int = 200


@dataclass(frozen=True)
class _Sidecar:
    """The validated content of ``<path>.json``."""

    dim: int
    model_key: str
    params: IndexParams
    count: int
    element_count: int
    capacity: int
    file_size: int
    checksum: str
    deleted: frozenset[int] = field(default_factory=frozenset)
    unreachable: frozenset[int] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, Any]:
        """The sidecar as a JSON object."""
        return {
            "format_version": FORMAT_VERSION,
            "dim": self.dim,
            "metric": METRIC,
            "M": self.params.M,
            "ef_construction": self.params.ef_construction,
            "model_key": self.model_key,
            "count": self.count,
            "element_count": self.element_count,
            "capacity": self.capacity,
            "deleted": sorted(self.deleted),
            "unreachable": sorted(self.unreachable),
            "file_size": self.file_size,
            "checksum": self.checksum,
        }

    @classmethod
    def from_json(cls, data: object) -> _Sidecar:
        """Parse and type-check a sidecar; raise IndexCorruptError if malformed."""
        if not isinstance(data, dict):
            raise IndexCorruptError("search index sidecar is not a JSON object")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexCorruptError(f"search index format version {version!r} is unknown")
        if data.get("metric") != METRIC:
            raise IndexCorruptError(f"search index metric {data.get('metric')!r} is not cosine")
        params = IndexParams(_json_int(data, "M"), _json_int(data, "ef_construction"))
        if params.M < 2 or params.ef_construction < 1:
            raise IndexCorruptError(f"search index sidecar has invalid parameters {params}")
        return cls(
            dim=_json_int(data, "dim"),
            model_key=_json_str(data, "model_key"),
            params=params,
            count=_json_int(data, "count"),
            element_count=_json_int(data, "element_count"),
            capacity=_json_int(data, "capacity"),
            file_size=_json_int(data, "file_size"),
            checksum=_json_str(data, "checksum"),
            deleted=frozenset(_json_labels(data, "deleted")),
            unreachable=frozenset(_json_labels(data, "unreachable")),
        )


def _json_int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise IndexCorruptError(f"search index sidecar field {key!r} is missing or invalid")
    return value


def _json_str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise IndexCorruptError(f"search index sidecar field {key!r} is missing or invalid")
    return value


def _json_labels(data: dict[str, Any], key: str) -> list[int]:
    values = data.get(key)
    if not isinstance(values, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_LABEL for v in values
    ):
        raise IndexCorruptError(f"search index sidecar field {key!r} is missing or invalid")
    return values


class VectorIndex:
    """An in-memory HNSW index of unit vectors keyed by catalog photo id."""

    def __init__(
        self,
        dim: int,
        model_key: str,
        params: IndexParams = IndexParams(),
        *,
        capacity: int = _INITIAL_CAPACITY,
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
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            self._add(chunk, fetch_vectors(chunk), check=True)
        return len(missing), len(extra)

    def sync(self, live: Mapping[int, npt.NDArray[Any]]) -> tuple[int, int]:
        """:meth:`catch_up` from a mapping of label to vector; return ``(added, removed)``."""
        return self.catch_up(set(live), lambda ids: np.stack([live[i] for i in ids]))

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
        query = self._as_query(vector)
        with self._lock:
            k = min(k, len(self._live))
            if k == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            ef = self.choose_ef(k, len(self._live)) if ef is None else ef
            labels, sims = self._search(query, k, max(ef, k))
            if self._unreachable:
                labels, sims = self._merge_unreachable(query[0], labels, sims, k)
            return labels, sims

    @staticmethod
    def choose_ef(k: int, count: int) -> int:
        """The ``ef`` that makes the top ``k`` of ``count`` vectors equal an exact search.

        ``ef = max(8 * k, 512)``, at most ``count`` (once ``ef >= count`` the
        search already visits every reachable node), and never below ``k``.
        Measured on 20,000-50,000 clustered 512-d unit vectors (M=16): the
        worst query needed ef=64/96 for k=10/50 on isotropic clusters and
        ef=384/512 on anisotropic, Zipf-sized clusters, while ef=512 costs
        about 0.5-1 ms a query. The test ``test_recall_matches_brute_force``
        checks the rule against a brute-force search.
        """
        k = max(k, 1)
        return max(k, min(max(_EF_PER_K * k, _EF_FLOOR), count))

    def check_reachability(self, labels: Iterable[int] | None = None) -> int:
        """Search each label's own vector; track those the graph does not return.

        Checks ``labels`` (default: every live label), in chunks so that
        queries from other threads interleave. Returns the number of
        unreachable labels now tracked.
        """
        with self._lock:
            todo = sorted(self._live if labels is None else set(labels) & self._live)
        for start in range(0, len(todo), _CHUNK):
            with self._lock:
                self._check_chunk(todo[start : start + _CHUNK])
        with self._lock:
            return len(self._unreachable)

    # -- persistence ----------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the index and its sidecar atomically (see the module docstring).

        Raises LibraryError if the disk lacks space or the write fails; the
        files previously at ``path`` are then left untouched.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_index, tmp_sidecar = _temp_path(path), _temp_path(sidecar_path(path))
        with self._save_lock:
            _remove_stale_temps(path)
            started = time.perf_counter()
            try:
                self._save_files(path, tmp_index, tmp_sidecar)
            except OSError as exc:
                raise LibraryError(f"could not save the search index to {path}: {exc}") from exc
            finally:
                tmp_index.unlink(missing_ok=True)
                tmp_sidecar.unlink(missing_ok=True)
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
        for _attempt in range(_LOAD_ATTEMPTS):
            try:
                return cls._load_once(path, dim, model_key, threads)
            except _FileChangedError:
                log.info("search index %s changed while loading; retrying", path)
        raise IndexCorruptError(f"search index {path} kept changing while it was loaded")

    # -- internals: changes ------------------------------------------------------------

    def _add(self, labels: Sequence[int], vectors: npt.NDArray[Any], *, check: bool) -> None:
        ids = _as_labels(labels)
        data = self._as_vectors(vectors, len(ids))
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
            target = max(needed, 2 * capacity, _INITIAL_CAPACITY)
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
        found = self._self_search(vectors, min(_REACH_K, len(self._live)))
        hit = (found == np.asarray(chunk, dtype=np.int64)[:, None]).any(axis=1)
        missed = {label for label, ok in zip(chunk, hit.tolist(), strict=True) if not ok}
        if missed != self._unreachable.intersection(chunk):
            self._unreachable.difference_update(chunk)
            self._unreachable |= missed
            self._unreachable_cache = None
        if missed:
            log.debug(
                "%d of %d checked labels are unreachable in the graph", len(missed), len(chunk)
            )

    def _self_search(self, vectors: FloatMatrix, k: int) -> LabelArray:
        self._native.set_ef(max(_REACH_EF, k))
        try:
            labels, _ = self._native.knn_query(vectors, k=k, num_threads=self._threads)
            return np.asarray(labels, dtype=np.uint64).astype(np.int64)
        except RuntimeError:  # fewer than k reachable for some row: go one by one
            rows = np.full((len(vectors), k), -1, dtype=np.int64)
            for row, vector in enumerate(vectors):
                found, _ = self._search(vector[None, :], k, _REACH_EF)
                rows[row, : len(found)] = found
            return rows

    # -- internals: queries ---------------------------------------------------------------

    def _as_query(self, vector: npt.NDArray[Any]) -> FloatMatrix:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape != (self.dim,):
            raise ValueError(f"query vector has shape {np.shape(vector)}, expected ({self.dim},)")
        norm = float(np.linalg.norm(query))
        if not np.isfinite(norm) or norm == 0.0:
            raise ValueError("query vector is zero or not finite")
        return (query / norm)[None, :]

    def _search(self, query: FloatMatrix, k: int, ef: int) -> tuple[LabelArray, FloatMatrix]:
        """knn_query; if the graph cannot give ``k`` live nodes, search wider, then return fewer."""
        for attempt_ef in (ef, max(ef, int(self._native.element_count))):
            with contextlib.suppress(RuntimeError):
                return self._knn(query, k, attempt_ef)
        while k > 1:
            k //= 2
            with contextlib.suppress(RuntimeError):
                return self._knn(query, k, max(ef, int(self._native.element_count)))
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)

    def _knn(self, query: FloatMatrix, k: int, ef: int) -> tuple[LabelArray, FloatMatrix]:
        self._native.set_ef(ef)
        labels, distances = self._native.knn_query(query, k=k, num_threads=1)
        sims = (1.0 - np.asarray(distances[0], dtype=np.float32)).astype(np.float32)
        return np.asarray(labels[0], dtype=np.uint64).astype(np.int64), sims

    def _merge_unreachable(
        self, query: FloatMatrix, labels: LabelArray, sims: FloatMatrix, k: int
    ) -> tuple[LabelArray, FloatMatrix]:
        extra_labels, extra_vectors = self._unreachable_vectors()
        all_labels = np.concatenate([labels, extra_labels])
        all_sims = np.concatenate([sims, (extra_vectors @ query).astype(np.float32)])
        order = np.lexsort((all_labels, -all_sims))
        all_labels, all_sims = all_labels[order], all_sims[order]
        _, first = np.unique(all_labels, return_index=True)
        keep = np.sort(first)[:k]
        return all_labels[keep], all_sims[keep]

    def _unreachable_vectors(self) -> tuple[LabelArray, FloatMatrix]:
        if self._unreachable_cache is None:
            ids = sorted(self._unreachable)
            vectors = np.asarray(self._native.get_items(ids, return_type="numpy"), np.float32)
            self._unreachable_cache = (np.asarray(ids, dtype=np.int64), vectors)
        return self._unreachable_cache

    def _as_vectors(self, vectors: npt.NDArray[Any], n: int) -> FloatMatrix:
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        if data.ndim != 2 or data.shape != (n, self.dim):
            raise ValueError(f"vectors have shape {data.shape}, expected ({n}, {self.dim})")
        if not np.isfinite(data).all():
            raise ValueError("vectors contain NaN or infinity")
        return data

    # -- internals: persistence -----------------------------------------------------------

    def _save_files(self, path: Path, tmp_index: Path, tmp_sidecar: Path) -> None:
        sidecar = self._write_native(tmp_index)
        _fsync_file(tmp_index)
        sidecar = dataclasses.replace(sidecar, checksum=_checksum(tmp_index))
        _write_json(tmp_sidecar, sidecar.to_json())
        tmp_index.replace(path)  # from here until the next line, the sidecar mismatches
        tmp_sidecar.replace(sidecar_path(path))
        _fsync_dir(path.parent)

    def _write_native(self, tmp_index: Path) -> _Sidecar:
        """hnswlib's save into ``tmp_index`` plus a snapshot of the metadata, under the lock."""
        with self._lock:
            expected = int(self._native.index_file_size())
            _ensure_free_space(tmp_index.parent, expected)
            self._native.save_index(str(tmp_index))
            sidecar = self._sidecar(expected)
        try:
            written = tmp_index.stat().st_size
        except FileNotFoundError:
            written = 0
        if written != expected:
            raise LibraryError(
                f"could not write the search index in {tmp_index.parent}: wrote {written} of "
                f"{expected} bytes (is the disk full?)"
            )
        return sidecar

    def _sidecar(self, file_size: int) -> _Sidecar:
        return _Sidecar(
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
        side_identity = _file_identity(sidecar_path(path)) if sidecar_path(path).exists() else None
        sidecar = _read_sidecar(path)
        _check_identity(sidecar, dim, model_key)
        try:
            identity = _verify_file(path, sidecar)
        except IndexCorruptError:
            if side_identity is not None and _file_identity(sidecar_path(path)) != side_identity:
                raise _FileChangedError(f"search index {path} was saved while loading") from None
            raise
        index = cls(dim, model_key, sidecar.params, capacity=1, threads=threads)
        index._native = _load_native(path, dim, _plausible_capacity(sidecar))
        if _file_identity(path) != identity:
            raise _FileChangedError(f"search index {path} changed while loading")
        index._restore(sidecar)
        log.info("loaded search index %s: %d vectors", path, len(index))
        return index

    def _restore(self, sidecar: _Sidecar) -> None:
        native = self._native
        if int(native.element_count) != sidecar.element_count or (
            int(native.M),
            int(native.ef_construction),
        ) != (sidecar.params.M, sidecar.params.ef_construction):
            raise IndexCorruptError("search index file does not match its sidecar")
        ids = {int(i) for i in native.get_ids_list()}
        live = ids - sidecar.deleted
        if (
            len(ids) != sidecar.element_count
            or not sidecar.deleted <= ids
            or len(live) != sidecar.count
            or not sidecar.unreachable <= live
        ):
            raise IndexCorruptError("search index labels do not match its sidecar")
        self._live, self._deleted = live, set(sidecar.deleted)
        self._unreachable = set(sidecar.unreachable)


def sidecar_path(path: Path) -> Path:
    """The JSON sidecar that describes the index file at ``path``."""
    return path.with_name(path.name + ".json")


def _temp_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.tmp-{os.getpid()}")


def _remove_stale_temps(path: Path) -> None:
    """Remove temporaries left by a crashed save (one writer process at a time)."""
    prefixes = (f"{path.name}.tmp-", f"{sidecar_path(path).name}.tmp-")
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            if entry.name.startswith(prefixes) and entry.is_file(follow_symlinks=False):
                log.info("removing stale temporary file %s", entry.path)
                Path(entry.path).unlink(missing_ok=True)


def _ensure_free_space(directory: Path, size: int) -> None:
    need = int(size * _SPACE_FACTOR) + _SPACE_MARGIN
    free = shutil.disk_usage(directory).free
    if free < need:
        raise LibraryError(
            f"not enough disk space to save the search index: need {need / 1e6:.0f} MB "
            f"in {directory} ({free / 1e6:.0f} MB free)"
        )


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    """Persist renames in ``directory`` (not possible, nor needed, on Windows)."""
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _checksum(path: Path) -> str:
    with path.open("rb") as handle:
        return _checksum_handle(handle)


def _checksum_handle(handle: io.BufferedReader) -> str:
    digest = hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=_HASH_DIGEST))
    return f"blake2b-256:{digest.hexdigest()}"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())


def _read_sidecar(path: Path) -> _Sidecar:
    side = sidecar_path(path)
    if not side.exists():
        if not path.exists():
            raise IndexMissingError(f"no saved search index at {path}")
        raise IndexCorruptError(f"search index sidecar {side.name} is missing")
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"search index sidecar {side.name} is unreadable: {exc}") from exc
    return _Sidecar.from_json(data)


def _check_identity(sidecar: _Sidecar, dim: int, model_key: str) -> None:
    if sidecar.dim != dim:
        raise IndexCorruptError(f"search index has dim {sidecar.dim}, expected {dim}")
    if sidecar.model_key != model_key:
        raise IndexCorruptError(
            f"search index belongs to model {sidecar.model_key!r}, expected {model_key!r}"
        )


_FileIdentity = tuple[int, int, int, int]


def _file_identity(path: Path) -> _FileIdentity:
    try:
        st = path.stat()
    except OSError as exc:
        raise _FileChangedError(f"search index {path} disappeared while loading") from exc
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _verify_file(path: Path, sidecar: _Sidecar) -> _FileIdentity:
    """Check the size and checksum of ``path``; return the identity of the file checked."""
    try:
        with path.open("rb") as handle:
            st = os.fstat(handle.fileno())
            if st.st_size != sidecar.file_size:
                raise IndexCorruptError(
                    f"search index file is {st.st_size} bytes, its sidecar says "
                    f"{sidecar.file_size} (truncated, or from another save)"
                )
            checksum = _checksum_handle(handle)
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"search index file {path.name} is missing") from exc
    except OSError as exc:
        raise IndexCorruptError(f"search index file {path.name} is unreadable: {exc}") from exc
    if checksum != sidecar.checksum:
        raise IndexCorruptError("search index checksum does not match its sidecar")
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _plausible_capacity(sidecar: _Sidecar) -> int:
    """The saved capacity, unless implausibly large (0: as many slots as elements).

    The sidecar is not checksummed itself, and hnswlib allocates every slot up
    front, so a damaged ``capacity`` must not become a huge allocation.
    """
    if sidecar.capacity <= 2 * sidecar.element_count + _INITIAL_CAPACITY:
        return sidecar.capacity
    return 0


def _load_native(path: Path, dim: int, capacity: int) -> Any:
    native = hnswlib.Index(space=METRIC, dim=dim)
    try:
        native.load_index(str(path), max_elements=capacity)
    except (RuntimeError, MemoryError) as exc:
        raise IndexCorruptError(f"hnswlib could not load the search index: {exc}") from exc
    return native


def _as_labels(labels: Iterable[int]) -> LabelArray:
    raw = np.asarray(list(labels))
    if raw.size and (raw.ndim != 1 or raw.dtype.kind not in "iu"):
        raise ValueError("labels must be a flat sequence of integers")
    ids = raw.astype(np.int64) if raw.size else np.zeros(0, dtype=np.int64)
    if ids.size and (ids.min() < 0 or (raw.dtype.kind == "u" and raw.max() > MAX_LABEL)):
        raise ValueError(f"labels must be in [0, {MAX_LABEL}]")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("labels must not repeat within one batch")
    return ids


def open_or_rebuild(
    path: Path,
    *,
    dim: int,
    model_key: str,
    live_labels: set[int],
    fetch_vectors: FetchVectors,
    params: IndexParams = IndexParams(),
    threads: int = 0,
) -> tuple[VectorIndex, str]:
    """The index at ``path``, loaded and caught up, or rebuilt from ``fetch_vectors``.

    Returns the index and what happened: ``"loaded"``, ``"caught up: +12 -3"``
    or ``"rebuilt: <reason>"`` (a rebuild of an existing index logs a
    warning). Nothing is saved here: a writer calls :meth:`VectorIndex.save`
    afterwards; a read-only process just uses the index in memory.
    ``params`` only applies to a rebuild; a loaded index keeps its own.
    """
    index, reason = _load_usable(path, dim, model_key, threads)
    if index is None:
        rebuilt = _rebuild(dim, model_key, params, threads, live_labels, fetch_vectors)
        return rebuilt, f"rebuilt: {reason}"
    added, removed = index.catch_up(live_labels, fetch_vectors)
    if added or removed:
        return index, f"caught up: +{added} -{removed}"
    return index, "loaded"


def _load_usable(
    path: Path, dim: int, model_key: str, threads: int
) -> tuple[VectorIndex | None, str]:
    """The saved index, or None and why it must be rebuilt (logged)."""
    try:
        index = VectorIndex.load(path, dim=dim, model_key=model_key, threads=threads)
    except IndexMissingError as exc:
        log.info("building the search index: %s", exc)
        return None, str(exc)
    except IndexCorruptError as exc:
        log.warning("rebuilding the search index from the catalog: %s", exc)
        return None, str(exc)
    deleted, slots = index.deleted_count, index.deleted_count + len(index)
    if deleted >= _REBUILD_DELETED_MIN and deleted > _REBUILD_DELETED_FRACTION * slots:
        reason = f"{deleted} of {slots} entries are deleted"
        log.warning("rebuilding the search index from the catalog: %s", reason)
        return None, reason
    return index, ""


def _rebuild(
    dim: int,
    model_key: str,
    params: IndexParams,
    threads: int,
    live_labels: set[int],
    fetch_vectors: FetchVectors,
) -> VectorIndex:
    started = time.perf_counter()
    index = VectorIndex(
        dim, model_key, params, capacity=max(len(live_labels), _INITIAL_CAPACITY), threads=threads
    )
    ordered = sorted(live_labels)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        index._add(chunk, fetch_vectors(chunk), check=False)
    unreachable = index.check_reachability()
    log.info(
        "built search index: %d vectors in %.1fs (%d unreachable, scored exhaustively)",
        len(index),
        time.perf_counter() - started,
        unreachable,
    )
    return index
