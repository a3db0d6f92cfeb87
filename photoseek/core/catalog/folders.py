"""The library's top folders: add (absorbing folders inside), remove, state."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from photoseek.core.catalog.base import CatalogBase
from photoseek.core.catalog.pathcodec import from_db, is_below, to_db
from photoseek.core.catalog.values import safe_text
from photoseek.core.errors import LibraryError
from photoseek.core.records import Folder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FolderAdded:
    """What ``add_folder`` did: the folder, whether it was new, the folders it absorbed."""

    folder: Folder
    created: bool
    absorbed: list[Path] = field(default_factory=list)


class FolderTable(CatalogBase):
    """Queries and writes of the ``folders`` table."""

    def folders(self) -> list[Folder]:
        """Every top folder with its count of photos (indexed or pending; not problems)."""
        rows = self._query(
            "SELECT f.id, f.path, f.device, f.status, f.status_reason, "
            "(SELECT COUNT(*) FROM photos p WHERE p.folder_id = f.id "
            " AND p.status IN ('indexed', 'pending')), f.excludes FROM folders f ORDER BY f.path"
        )
        return [
            Folder(int(r[0]), from_db(r[1]), r[2], str(r[3]), r[4], int(r[5]), _patterns(r[6]))
            for r in rows
        ]

    def folder_counts(self) -> dict[int, dict[str, int]]:
        """Folder id -> photo rows per status (tombstones left out)."""
        rows = self._query(
            "SELECT folder_id, status, COUNT(*) FROM photos WHERE status != 'deleted' "
            "GROUP BY folder_id, status"
        )
        counts: dict[int, dict[str, int]] = {}
        for folder_id, status, count in rows:
            counts.setdefault(int(folder_id), {})[str(status)] = int(count)
        return counts

    def set_excludes(self, folder_id: int, patterns: Sequence[str]) -> None:
        """Store a folder's exclude patterns (the next scan applies them)."""
        with self.transaction() as tx:
            tx.execute(
                "UPDATE folders SET excludes = ? WHERE id = ?",
                (json.dumps(list(patterns)), folder_id),
            )

    def relocate_folder(self, folder: Folder, new_path: Path, device: int | None) -> None:
        """Give a top folder and every photo in it a new location, in one transaction.

        Ids, fingerprints and vectors stay; the next scan finds the files with
        the sizes and mtimes it knows, so nothing is read again.
        """
        old_prefix, new_prefix = to_db(folder.path), to_db(new_path)
        rows = self._query("SELECT id, path FROM photos WHERE folder_id = ?", (folder.id,))
        moved = [
            (new_prefix + bytes(path)[len(old_prefix) :], int(photo_id))
            for photo_id, path in rows
            if bytes(path).startswith(old_prefix)
        ]
        with self.transaction() as tx:
            tx.execute(
                "UPDATE folders SET path = ?, device = ?, status = 'ok', status_reason = NULL "
                "WHERE id = ?",
                (new_prefix, device, folder.id),
            )
            tx.executemany("UPDATE photos SET path = ? WHERE id = ?", moved)

    def retry_problems(self) -> int:
        """Make every file that failed to decode pending again; return how many."""
        with self.transaction() as tx:
            cursor = tx.execute(
                "UPDATE photos SET status = 'pending', error = NULL, decoder = NULL, "
                "fingerprint = NULL WHERE status = 'error' AND COALESCE(decoder, '') != 'scan'"
            )
            return cursor.rowcount

    def folder_by_path(self, path: Path) -> Folder | None:
        """The top folder at exactly ``path``."""
        return next((f for f in self.folders() if f.path == path), None)

    def folder_containing(self, path: Path) -> Folder | None:
        """The top folder that ``path`` lies in (or is)."""
        return next((f for f in self.folders() if is_below(path, f.path)), None)

    def add_folder(self, path: Path, device: int | None) -> FolderAdded:
        """Add a top folder; folders inside it that were added before are absorbed.

        Raises :class:`LibraryError` when ``path`` lies inside a folder already added.
        """
        existing = self.folders()
        for folder in existing:
            if folder.path == path:
                return FolderAdded(folder, created=False)
            if is_below(path, folder.path):
                raise LibraryError(f"{path} is already in the library (inside {folder.path})")
        inner = [f for f in existing if is_below(f.path, path)]
        with self.transaction() as tx:
            cursor = tx.execute(
                "INSERT INTO folders (path, device, added_at) VALUES (?, ?, ?)",
                (to_db(path), device, time.time()),
            )
            new_id = int(cursor.lastrowid or 0)
            for folder in inner:
                tx.execute(
                    "UPDATE photos SET folder_id = ? WHERE folder_id = ?", (new_id, folder.id)
                )
                tx.execute("DELETE FROM folders WHERE id = ?", (folder.id,))
                log.info("folder %s absorbed into %s", folder.path, path)
        added = self.folder_by_path(path)
        if added is None:  # pragma: no cover - the insert above committed it
            raise LibraryError(f"could not add {path}")
        return FolderAdded(added, created=True, absorbed=[f.path for f in inner])

    def remove_folder(self, path: Path) -> int:
        """Forget a top folder and its photos; return how many photos were dropped."""
        folder = self.folder_by_path(path)
        if folder is None:
            raise LibraryError(f"{path} is not a folder of this library")
        with self.transaction() as tx:
            count = tx.execute(
                "SELECT COUNT(*) FROM photos WHERE folder_id = ? AND status != 'deleted'",
                (folder.id,),
            )
            dropped = int(count.fetchone()[0])
            tx.execute("DELETE FROM photos WHERE folder_id = ?", (folder.id,))
            tx.execute("DELETE FROM folders WHERE id = ?", (folder.id,))
            prune_orphan_embeddings(tx)
        return dropped

    def set_folder_state(
        self, folder_id: int, status: str, reason: str | None, device: int | None = None
    ) -> None:
        """Mark a folder ``ok`` (recording its device) or ``unavailable`` with a reason."""
        with self.transaction() as tx:
            tx.execute(
                "UPDATE folders SET status = ?, status_reason = ?, scanned_at = ?, "
                "device = COALESCE(?, device) WHERE id = ?",
                (status, safe_text(reason), time.time(), device, folder_id),
            )


def _patterns(raw: object) -> tuple[str, ...]:
    try:
        values = json.loads(str(raw or "[]"))
    except ValueError:
        return ()
    return tuple(str(v) for v in values) if isinstance(values, list) else ()


def prune_orphan_embeddings(tx: sqlite3.Connection) -> None:
    """Drop vectors whose content no photo row has any more (inside a transaction)."""
    tx.execute(
        "DELETE FROM embeddings WHERE fingerprint NOT IN "
        "(SELECT fingerprint FROM photos WHERE fingerprint IS NOT NULL)"
    )
