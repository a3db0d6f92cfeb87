"""What a scan writes: new, changed and vanished files, problems, and moves.

A vanished file becomes a *tombstone* (status ``deleted``), kept for
:data:`TOMBSTONE_DAYS` so that the same content arriving elsewhere (a move
or rename) takes over the old row and keeps the photo's id, vector and
tags. A changed file keeps its last fingerprint and metadata while pending,
so content that did not really change (only its mtime) reuses its vector.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from photoseek.core.catalog.base import CatalogBase
from photoseek.core.catalog.batchwrites import move_into
from photoseek.core.catalog.changes import TRIMMED_KEY
from photoseek.core.catalog.folders import prune_orphan_embeddings
from photoseek.core.catalog.pathcodec import from_db, prefix_range, to_db
from photoseek.core.catalog.values import mtime_date, safe_text
from photoseek.core.catalog.work import SCAN_PROBLEM_TAG
from photoseek.core.records import PhotoState

log = logging.getLogger(__name__)

TOMBSTONE_DAYS = 7
CHANGE_LOG_KEEP = 200_000

NewFile = tuple[Path, int, int, int]  # path, size, mtime_ns, inode
ChangedFile = tuple[int, int, int]  # id, size, mtime_ns


@dataclass(frozen=True)
class MoveCandidate:
    """A photo row that may be one end of a move (``fingerprint`` known for tombstones)."""

    id: int
    path: Path
    size: int
    inode: int | None
    fingerprint: str | None

    @classmethod
    def of(cls, row: sqlite3.Row) -> MoveCandidate:
        """Build from (id, path, size, inode, fingerprint)."""
        return cls(int(row[0]), from_db(row[1]), int(row[2]), row[3], row[4])


class ScanWrites(CatalogBase):
    """Reads and writes of a reconciling scan."""

    def photo_states(self, folder_id: int) -> dict[Path, PhotoState]:
        """Path -> state of every non-deleted photo row in a folder."""
        rows = self._query(
            "SELECT path, id, size, mtime_ns, status FROM photos "
            "WHERE folder_id = ? AND status != 'deleted'",
            (folder_id,),
        )
        return {from_db(r[0]): PhotoState(int(r[1]), int(r[2]), int(r[3]), str(r[4])) for r in rows}

    def photo_states_under(
        self, folder_id: int, directory: Path, *, recursive: bool
    ) -> dict[Path, PhotoState]:
        """Like :meth:`photo_states`, for the files in (or below) one directory."""
        low, high = prefix_range(directory)
        rows = self._query(
            "SELECT path, id, size, mtime_ns, status FROM photos WHERE folder_id = ? "
            "AND status != 'deleted' AND path >= ? AND path < ?",
            (folder_id, low, high),
        )
        states = {
            from_db(r[0]): PhotoState(int(r[1]), int(r[2]), int(r[3]), str(r[4])) for r in rows
        }
        if recursive:
            return states
        return {path: state for path, state in states.items() if path.parent == directory}

    def record_scan(
        self,
        folder_id: int,
        new: Iterable[NewFile],
        changed: Iterable[ChangedFile],
        vanished: Iterable[int],
        problems: Iterable[tuple[Path, str]],
    ) -> None:
        """Apply one folder's scan in one transaction.

        ``new`` files are inserted as pending (a tombstone at the same path is
        revived, keeping its id and last fingerprint); ``changed`` rows become
        pending again with their new size and mtime; ``vanished`` ids become
        tombstones; ``problems`` are paths that cannot be photos (FIFOs, broken
        links), recorded with their reason.
        """
        now = time.time()
        with self.transaction() as tx:
            tx.executemany(
                "INSERT INTO photos (folder_id, path, size, mtime_ns, inode, sort_date, status, "
                "added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET folder_id = excluded.folder_id, "
                "size = excluded.size, mtime_ns = excluded.mtime_ns, inode = excluded.inode, "
                "sort_date = COALESCE(photos.taken_at, excluded.sort_date), status = 'pending', "
                "error = NULL, decoder = NULL, updated_at = excluded.updated_at",
                [
                    (folder_id, to_db(p), size, mtime, ino, mtime_date(mtime), now, now)
                    for p, size, mtime, ino in new
                ],
            )
            tx.executemany(
                "UPDATE photos SET size = ?, mtime_ns = ?, sort_date = COALESCE(taken_at, ?), "
                "status = 'pending', error = NULL, decoder = NULL, updated_at = ? WHERE id = ?",
                [(size, mtime, mtime_date(mtime), now, pid) for pid, size, mtime in changed],
            )
            tx.executemany(
                "UPDATE photos SET status = 'deleted', updated_at = ? WHERE id = ?",
                [(now, pid) for pid in vanished],
            )
            tx.executemany(
                "INSERT INTO photos (folder_id, path, size, mtime_ns, status, error, decoder, "
                "added_at, updated_at) VALUES (?, ?, 0, 0, 'error', ?, ?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET status = 'error', error = excluded.error, "
                "decoder = excluded.decoder, updated_at = excluded.updated_at",
                [
                    (folder_id, to_db(p), safe_text(reason), SCAN_PROBLEM_TAG, now, now)
                    for p, reason in problems
                ],
            )

    def purge_tombstones(self, max_age_days: float = TOMBSTONE_DAYS) -> int:
        """Drop old tombstones, vectors nobody uses and the oldest change-log rows."""
        cutoff = time.time() - max_age_days * 86400
        with self.transaction() as tx:
            cursor = tx.execute(
                "DELETE FROM photos WHERE status = 'deleted' AND updated_at < ?", (cutoff,)
            )
            prune_orphan_embeddings(tx)
            _trim_change_log(tx)
            return cursor.rowcount

    def move_candidates(self) -> tuple[list[MoveCandidate], list[MoveCandidate]]:
        """New pending rows, and tombstones of photos with a size among theirs."""
        new = self._query(
            "SELECT id, path, size, inode, NULL FROM photos WHERE status = 'pending' "
            "AND fingerprint IS NULL AND size IN "
            "(SELECT size FROM photos WHERE status = 'deleted' AND width IS NOT NULL)"
        )
        if not new:
            return [], []
        tombs = self._query(
            "SELECT id, path, size, inode, fingerprint FROM photos WHERE status = 'deleted' "
            "AND width IS NOT NULL AND fingerprint IS NOT NULL ORDER BY updated_at DESC"
        )
        return [MoveCandidate.of(r) for r in new], [MoveCandidate.of(r) for r in tombs]

    def adopt(self, moves: Sequence[tuple[int, int]]) -> None:
        """Apply (tombstone id, new row id) pairs: each moved photo keeps its old id."""
        with self.transaction() as tx:
            for tomb_id, photo_id in moves:
                move_into(tx, tomb_id, photo_id)

    def moved_photo(self, fingerprint: str, *, exclude: int) -> int | None:
        """A catalogued photo with this content whose file is gone from its available folder.

        Watchers may report a move's arrival before its departure (two folders,
        two observer threads); the arrival then takes over the old row, so the
        photo keeps its id. Photos in unavailable folders are never taken.
        """
        rows = self._query(
            "SELECT p.id, p.path, p.status, f.path FROM photos p JOIN folders f "
            "ON f.id = p.folder_id WHERE p.fingerprint = ? AND p.id != ? AND p.width IS NOT NULL "
            "AND p.status IN ('indexed', 'deleted') AND f.status = 'ok' "
            "ORDER BY p.status = 'deleted' DESC, p.updated_at DESC",
            (fingerprint, exclude),
        )
        for photo_id, path, status, root in rows:
            if status == "deleted" or (from_db(root).is_dir() and not _exists(from_db(path))):
                return int(photo_id)
        return None

    def reusable_decoder(self, model_id: int, fingerprint: str) -> str | None:
        """The decoder tag of this content's vector, if it has one and known metadata.

        The caller reuses the vector when the tag is current
        (:func:`photoseek.core.imaging.decoders.is_current`).
        """
        rows = self._query(
            "SELECT COALESCE(decoder, '') FROM embeddings WHERE model_id = ? AND fingerprint = ? "
            "AND EXISTS (SELECT 1 FROM photos WHERE fingerprint = ? AND width IS NOT NULL)",
            (model_id, fingerprint, fingerprint),
        )
        return str(rows[0][0]) if rows else None


def _trim_change_log(tx: sqlite3.Connection) -> None:
    """Keep the newest :data:`CHANGE_LOG_KEEP` changes; remember up to where it was trimmed."""
    row = tx.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()
    cut = int(row[0]) - CHANGE_LOG_KEEP
    if cut <= 0:
        return
    if tx.execute("DELETE FROM changes WHERE seq <= ?", (cut,)).rowcount:
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (TRIMMED_KEY, str(cut))
        )


def _exists(path: Path) -> bool:
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):
        return False
