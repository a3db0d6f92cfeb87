"""The vector index of one model, kept in step with the catalog.

The index is a cache of the catalog: opened (and caught up) or rebuilt at
first use, then kept current from the catalog's change log. After each batch
a writer commits, and whenever a reading process sees another process
commit, :meth:`IndexKeeper.sync` applies what changed since the last change
it saw: the cost is what changed, not the size of the library. A follower
that fell behind the trimmed part of the log rebuilds once.

Saving is the writer's job, at most every :data:`SAVE_INTERVAL_S` while
watching (a lost save costs only a catch-up at the next start), and always
at the end of an ``index`` run and on close.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from photoseek.core.catalog.changes import INDEX_KINDS
from photoseek.core.catalog.store import Catalog
from photoseek.core.records import ModelIdentity
from photoseek.core.vectors import index as vectorindex
from photoseek.core.vectors import opening
from photoseek.core.vectors.index import RebuildProgress
from photoseek.core.vectors.matrix import VectorMatrix

log = logging.getLogger(__name__)

SAVE_INTERVAL_S = 120.0
_MATRIX_CHUNK = 4096


class IndexKeeper:
    """Owns one model's :class:`VectorIndex`: open, follow the change log, save."""

    def __init__(
        self,
        catalog: Catalog,
        path: Path,
        identity: ModelIdentity,
        model_id: int,
        *,
        on_progress: RebuildProgress | None = None,
    ) -> None:
        self.catalog = catalog
        self.path = path
        self.identity = identity
        self.model_id = model_id
        self._lock = threading.RLock()
        self._seq = catalog.change_seq()  # read first: changes during the load are applied again
        self.index, self.note = opening.open_or_rebuild(
            path,
            dim=identity.dim,
            model_key=identity.key,
            live_labels=catalog.live_ids(model_id),
            fetch_vectors=self._fetch,
            on_progress=on_progress,
        )
        log.info("vector index: %s", self.note)
        self.dirty = self.note != "loaded"
        self._last_save = 0.0
        self._matrix: VectorMatrix | None = None

    def _fetch(self, ids: list[int]) -> vectorindex.FloatMatrix:
        return self.catalog.vectors(self.model_id, ids, self.identity.dim)

    def sync(self) -> tuple[int, int]:
        """Apply the catalog's changes since the last sync; return (added, removed)."""
        with self._lock:
            found = self.catalog.changes_after(self._seq)
            if found is None:
                return self._reload()
            newest, touched = found
            relevant = [i for i, kinds in touched.items() if kinds & INDEX_KINDS]
            live = self.catalog.live_among(self.model_id, relevant)
            gone = [i for i in relevant if i not in live]
            fresh = sorted(i for i in live if i not in self.index or "content" in touched[i])
            self.index.remove(gone)
            vectors = self._fetch(fresh) if fresh else None
            if vectors is not None:
                self.index.add(fresh, vectors)
            if self._matrix is not None:
                self._matrix.remove(gone)
                if vectors is not None:
                    self._matrix.put(fresh, vectors)
            self._seq = newest
            if fresh or gone:
                self.dirty = True
                log.debug("vector index followed the catalog: +%d -%d", len(fresh), len(gone))
            return len(fresh), len(gone)

    def _reload(self) -> tuple[int, int]:
        """The change log no longer reaches back far enough: rebuild from the catalog."""
        log.info("the change log was trimmed past this index; rebuilding it")
        self._seq = self.catalog.change_seq()
        live = self.catalog.live_ids(self.model_id)
        before = self.index.labels()
        self.index = opening.rebuild(self.identity.dim, self.identity.key, live, self._fetch)
        self._matrix = None  # built again on next use
        self.dirty = True
        return len(live - before), len(before - live)

    def matrix(self) -> VectorMatrix:
        """Every live vector in one matrix (built on first use, then kept in step)."""
        with self._lock:
            if self._matrix is None:
                matrix = VectorMatrix(self.identity.dim)
                ordered = sorted(self.catalog.live_ids(self.model_id))
                for start in range(0, len(ordered), _MATRIX_CHUNK):
                    chunk = ordered[start : start + _MATRIX_CHUNK]
                    matrix.put(chunk, self._fetch(chunk))
                self._matrix = matrix
            return self._matrix

    def save_due(self, *, force: bool) -> bool:
        """Whether a save is worth doing now (changed, and forced or not saved lately)."""
        if not self.dirty:
            return False
        return force or time.monotonic() - self._last_save >= SAVE_INTERVAL_S

    def save(self) -> None:
        """Write the index file (the caller holds the writer lock)."""
        with self._lock:
            self.index.save(self.path)
            self._last_save, self.dirty = time.monotonic(), False

    def health(self) -> str:
        """How the index was opened and whether it matches the catalog."""
        live = self.catalog.live_ids(self.model_id)
        state = "in sync" if self.index.labels() == live else "OUT OF SYNC"
        return f"{len(self.index)} vectors, {len(live)} in catalog, {state} ({self.note})"
