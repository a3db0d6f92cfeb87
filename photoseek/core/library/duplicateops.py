"""Near-duplicates through the facade: :meth:`DuplicateOps.duplicates`.

A read of the library, except for one cache it may fill: photos indexed
before pHashes existed get theirs (:mod:`photoseek.core.duplicates.backfill`),
stored in the catalog while this process holds, or can take, the writer
lock. When another process writes the library (a watch service) or the
library is open read-only, they are kept in memory for the next search of
this process instead. Photos of unavailable folders are left out: they can
be neither compared nor reviewed. Nothing here moves or deletes a file.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

from photoseek.core.catalog.pathcodec import from_db
from photoseek.core.duplicates.backfill import hash_missing
from photoseek.core.duplicates.records import DuplicateReport
from photoseek.core.duplicates.service import find_groups
from photoseek.core.duplicates.thresholds import Thresholds, thresholds
from photoseek.core.errors import LibraryError
from photoseek.core.library.base import LibraryBase
from photoseek.core.model.imagepath import base_arch
from photoseek.core.progress import ProgressCallback
from photoseek.core.writerlock import LibraryLockedError

__all__ = ["DuplicateOps"]

log = logging.getLogger("photoseek.core.library")


class DuplicateOps(LibraryBase):
    """Groups of near-identical photos for the chosen model."""

    _phash_memo: dict[str, int] | None = None  # hashes made but not stored (another writer)

    def duplicate_thresholds(
        self, threshold: float | None = None, phash_distance: int | None = None
    ) -> Thresholds:
        """The thresholds a search uses: the values given, else the model's defaults."""
        arch, pretrained = base_arch(self.settings.arch), self.settings.pretrained
        return thresholds(arch, pretrained, threshold, phash_distance)

    def duplicates(
        self,
        threshold: float | None = None,
        *,
        phash_distance: int | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> DuplicateReport:
        """Every group of near-duplicate photos, each in keep-rule order.

        ``threshold`` is the embedding cosine (None: the model's provisional
        default), ``phash_distance`` the pHash bits (None: 6). Slow on a large
        library (seconds; minutes the first time on a library indexed before
        pHashes existed): call it from a worker. Progress comes as
        BUILDING_INDEX (when the index must be rebuilt), HASHING and
        DUPLICATES reports. Raises
        :class:`~photoseek.core.errors.Cancelled` when ``cancel`` is set.
        """
        limits = self.duplicate_thresholds(threshold, phash_distance)
        started = time.perf_counter()
        keeper = self._index_keeper(on_progress, cancel)
        keeper.sync()
        rows = self.catalog.duplicate_rows(keeper.model_id)
        searched = [row for row in rows if row.available]
        memo = self._phash_memo or {}
        missing = {
            row.fingerprint: from_db(row.path)
            for row in searched
            if row.phash is None and row.fingerprint not in memo
        }
        made = hash_missing(
            list(missing.items()),
            self.thumbnails,
            workers=self.indexer_options.workers,
            on_progress=on_progress,
            cancel=cancel,
        )
        stored = self._store_phashes(made)
        known = {**memo, **made}
        searched = [
            replace(row, phash=known.get(row.fingerprint)) if row.phash is None else row
            for row in searched
        ]
        dim = keeper.identity.dim
        groups = find_groups(
            searched,
            keeper.index,
            limits,
            vectors_of=lambda ids: self.catalog.vectors(keeper.model_id, ids, dim),
            on_progress=on_progress,
            cancel=cancel,
        )
        seconds = time.perf_counter() - started
        log.info(
            "found %d duplicate groups among %d photos in %.2f s",
            len(groups),
            len(searched),
            seconds,
        )
        return DuplicateReport(
            groups=groups,
            thresholds=limits,
            photos=len(searched),
            offline=len(rows) - len(searched),
            hashed=len(made),
            stored=stored,
            seconds=seconds,
        )

    def _store_phashes(self, made: dict[str, int]) -> bool:
        """Store new hashes as the writer; else keep them in memory. Whether they were stored."""
        if not made:
            return True
        if not self.read_only:
            try:
                with self.writing("storing perceptual hashes"):
                    self.catalog.store_phashes(made.items())
                return True
            except LibraryLockedError as exc:
                log.info("perceptual hashes kept for this session only: %s", exc)
            except LibraryError as exc:  # a full disk: they are made again next time
                log.warning("perceptual hashes not stored: %s", exc)
        with self._lock:
            self._phash_memo = {**(self._phash_memo or {}), **made}
        return False
