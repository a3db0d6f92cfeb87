"""Opening a model's vector index: the saved file, caught up with the catalog, or rebuilt.

The index is a cache of the catalog (:mod:`photoseek.core.vectors.index`): a
missing or corrupt file, or one with too many deleted entries, is rebuilt from
the catalog's vectors; a usable one is caught up with the catalog's live photos.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from photoseek.core.errors import IndexCorruptError
from photoseek.core.vectors.files import IndexMissingError, IndexParams
from photoseek.core.vectors.index import (
    ADD_CHUNK,
    INITIAL_CAPACITY,
    FetchVectors,
    RebuildProgress,
    VectorIndex,
)

__all__ = ["open_or_rebuild", "rebuild"]

log = logging.getLogger(__name__)

_REBUILD_DELETED_FRACTION = 0.25
_REBUILD_DELETED_MIN = 1000
_DEFAULT_PARAMS = IndexParams()


def open_or_rebuild(
    path: Path,
    *,
    dim: int,
    model_key: str,
    live_labels: set[int],
    fetch_vectors: FetchVectors,
    params: IndexParams = _DEFAULT_PARAMS,
    threads: int = 0,
    on_progress: RebuildProgress | None = None,
) -> tuple[VectorIndex, str]:
    """The index at ``path``, loaded and caught up, or rebuilt from ``fetch_vectors``.

    Returns the index and what happened: ``"loaded"``, ``"caught up: +12 -3"``
    or ``"rebuilt: <reason>"`` (a rebuild of an existing index logs a
    warning). Nothing is saved here: a writer calls :meth:`VectorIndex.save`
    afterwards; a read-only process just uses the index in memory.
    ``params`` only applies to a rebuild; a loaded index keeps its own.
    ``on_progress(done, total)`` is called as vectors are added to a rebuild.
    """
    index, reason = _load_usable(path, dim, model_key, threads)
    if index is None:
        rebuilt = rebuild(
            dim, model_key, live_labels, fetch_vectors, params, threads, on_progress=on_progress
        )
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


def rebuild(
    dim: int,
    model_key: str,
    live_labels: set[int],
    fetch_vectors: FetchVectors,
    params: IndexParams = _DEFAULT_PARAMS,
    threads: int = 0,
    *,
    on_progress: RebuildProgress | None = None,
) -> VectorIndex:
    """A new index of ``live_labels`` with vectors from ``fetch_vectors``."""
    started = time.perf_counter()
    index = VectorIndex(
        dim, model_key, params, capacity=max(len(live_labels), INITIAL_CAPACITY), threads=threads
    )
    ordered = sorted(live_labels)
    for start in range(0, len(ordered), ADD_CHUNK):
        chunk = ordered[start : start + ADD_CHUNK]
        index.add_unchecked(chunk, fetch_vectors(chunk))
        if on_progress is not None:
            on_progress(start + len(chunk), len(ordered))
    unreachable = index.check_reachability()
    log.info(
        "built search index: %d vectors in %.1fs (%d unreachable, scored exhaustively)",
        len(index),
        time.perf_counter() - started,
        unreachable,
    )
    return index
