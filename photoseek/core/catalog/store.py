"""The catalog: SQLite (WAL), the one source of truth of a library.

Every write runs in an explicit transaction (:meth:`Catalog.transaction`); the
indexer commits one batch per transaction, so a killed process loses at most
the batch in flight. The connection may be used from several threads; an
internal lock serialises access.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from photoseek.core.catalog.batchwrites import move_into
from photoseek.core.catalog.migrations import migrate
from photoseek.core.catalog.reads import SearchReads
from photoseek.core.errors import LibraryError
from photoseek.core.records import (
    Folder,
    ModelIdentity,
    PhotoState,
    Problem,
    WorkItem,
)

log = logging.getLogger(__name__)

TOMBSTONE_DAYS = 7


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
        return cls(int(row[0]), Path(row[1]), int(row[2]), row[3], row[4])


class Catalog(SearchReads):
    """Typed access to the catalog database at ``path``."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()
        self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.read_only:
                if not self.path.exists():
                    raise LibraryError(f"no photoseek library at {self.path.parent}")
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                conn = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30
                )
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False, timeout=30
                )
                migrate(conn, self.path)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            return conn
        except sqlite3.DatabaseError as exc:
            raise LibraryError(f"cannot open catalog {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the connection (checkpointing the WAL when writable)."""
        with self._lock:
            if not self.read_only:
                try:
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error as exc:  # a reader may hold the WAL; not fatal
                    log.debug("wal checkpoint skipped: %s", exc)
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cursor = self._conn.execute(sql, params)
            rows: list[sqlite3.Row] = cursor.fetchall()
            return rows

    def integrity_check(self) -> str:
        """SQLite's integrity check: ``"ok"`` or what is wrong."""
        rows = self._query("PRAGMA integrity_check")
        return "; ".join(str(r[0]) for r in rows)

    # -- meta and models ------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """A value from the ``meta`` table."""
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a value in the ``meta`` table."""
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def model_id(self, identity: ModelIdentity, *, create: bool = True) -> int | None:
        """The catalog id of a model identity, registering it when ``create``."""
        params = (identity.arch, identity.pretrained, identity.digest)
        sql = "SELECT id FROM models WHERE arch = ? AND pretrained = ? AND digest = ?"
        rows = self._query(sql, params)
        if rows:
            return int(rows[0][0])
        if not create:
            return None
        with self.transaction() as tx:
            cursor = tx.execute(
                "INSERT INTO models (arch, pretrained, digest, dim, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (*params, identity.dim, time.time()),
            )
            return int(cursor.lastrowid or 0)

    # -- folders ----------------------------------------------------------------

    def folders(self) -> list[Folder]:
        """Every top folder with its count of photos (indexed or pending; not problems)."""
        rows = self._query(
            "SELECT f.id, f.path, f.device, f.status, f.status_reason, "
            "(SELECT COUNT(*) FROM photos p WHERE p.folder_id = f.id "
            " AND p.status IN ('indexed', 'pending')) FROM folders f ORDER BY f.path"
        )
        return [Folder(int(r[0]), Path(r[1]), r[2], str(r[3]), r[4], int(r[5])) for r in rows]

    def folder_by_path(self, path: Path) -> Folder | None:
        """The top folder at exactly ``path``."""
        return next((f for f in self.folders() if f.path == path), None)

    def add_folder(self, path: Path, device: int | None) -> Folder:
        """Add a top folder; a folder inside it that was added before is absorbed.

        Raises :class:`LibraryError` when ``path`` lies inside a folder already added.
        """
        existing = self.folders()
        for folder in existing:
            if folder.path == path:
                return folder
            if path.is_relative_to(folder.path):
                raise LibraryError(f"{path} is already in the library (inside {folder.path})")
        with self.transaction() as tx:
            cursor = tx.execute(
                "INSERT INTO folders (path, device, added_at) VALUES (?, ?, ?)",
                (str(path), device, time.time()),
            )
            new_id = int(cursor.lastrowid or 0)
            for inner in (f for f in existing if f.path.is_relative_to(path)):
                tx.execute(
                    "UPDATE photos SET folder_id = ? WHERE folder_id = ?", (new_id, inner.id)
                )
                tx.execute("DELETE FROM folders WHERE id = ?", (inner.id,))
                log.info("folder %s absorbed into %s", inner.path, path)
        added = self.folder_by_path(path)
        if added is None:  # pragma: no cover - the insert above committed it
            raise LibraryError(f"could not add {path}")
        return added

    def remove_folder(self, path: Path) -> int:
        """Forget a top folder and its photos; return how many photos were dropped."""
        folder = self.folder_by_path(path)
        if folder is None:
            raise LibraryError(f"{path} is not a folder of this library")
        with self.transaction() as tx:
            count = tx.execute("SELECT COUNT(*) FROM photos WHERE folder_id = ?", (folder.id,))
            dropped = int(count.fetchone()[0])
            tx.execute("DELETE FROM photos WHERE folder_id = ?", (folder.id,))
            tx.execute("DELETE FROM folders WHERE id = ?", (folder.id,))
            self._prune_orphan_embeddings(tx)
        return dropped

    def set_folder_state(
        self, folder_id: int, status: str, reason: str | None, device: int | None = None
    ) -> None:
        """Mark a folder ``ok`` (recording its device) or ``unavailable`` with a reason."""
        with self.transaction() as tx:
            tx.execute(
                "UPDATE folders SET status = ?, status_reason = ?, scanned_at = ?, "
                "device = COALESCE(?, device) WHERE id = ?",
                (status, reason, time.time(), device, folder_id),
            )

    # -- scanning ---------------------------------------------------------------

    def photo_states(self, folder_id: int) -> dict[str, PhotoState]:
        """Path -> state of every non-deleted photo row in a folder."""
        rows = self._query(
            "SELECT path, id, size, mtime_ns, status FROM photos "
            "WHERE folder_id = ? AND status != 'deleted'",
            (folder_id,),
        )
        return {str(r[0]): PhotoState(int(r[1]), int(r[2]), int(r[3]), str(r[4])) for r in rows}

    def photo_states_under(
        self, folder_id: int, directory: Path, *, recursive: bool
    ) -> dict[str, PhotoState]:
        """Like :meth:`photo_states`, for the files in (or below) one directory."""
        prefix = str(directory).rstrip("/") + "/"
        rows = self._query(
            "SELECT path, id, size, mtime_ns, status FROM photos WHERE folder_id = ? "
            "AND status != 'deleted' AND path >= ? AND path < ?",
            (folder_id, prefix, prefix[:-1] + chr(ord("/") + 1)),
        )
        states = {str(r[0]): PhotoState(int(r[1]), int(r[2]), int(r[3]), str(r[4])) for r in rows}
        if recursive:
            return states
        return {path: state for path, state in states.items() if "/" not in path[len(prefix) :]}

    def data_version(self) -> int:
        """Changes whenever another connection commits (cheap; for followers)."""
        return int(self._query("PRAGMA data_version")[0][0])

    def record_scan(
        self,
        folder_id: int,
        new: Iterable[tuple[Path, int, int, int]],
        changed: Iterable[tuple[int, int, int]],
        vanished: Iterable[int],
        problems: Iterable[tuple[Path, str]],
    ) -> None:
        """Apply one folder's scan in one transaction.

        ``new`` are (path, size, mtime_ns, inode) to insert as pending; ``changed`` are
        (id, size, mtime_ns) to re-examine; ``vanished`` ids become tombstones
        (kept so that a moved file can adopt its old id); ``problems`` are paths
        that are not regular files, recorded as errors.
        """
        now = time.time()
        with self.transaction() as tx:
            tx.executemany(
                "INSERT INTO photos (folder_id, path, size, mtime_ns, inode, status, added_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET folder_id = excluded.folder_id, "
                "size = excluded.size, mtime_ns = excluded.mtime_ns, inode = excluded.inode, "
                "status = 'pending', fingerprint = NULL, error = NULL, "
                "updated_at = excluded.updated_at",
                [(folder_id, str(p), size, mtime, ino, now, now) for p, size, mtime, ino in new],
            )
            tx.executemany(
                "UPDATE photos SET size = ?, mtime_ns = ?, status = 'pending', "
                "fingerprint = NULL, error = NULL, updated_at = ? WHERE id = ?",
                [(size, mtime, now, pid) for pid, size, mtime in changed],
            )
            tx.executemany(
                "UPDATE photos SET status = 'deleted', updated_at = ? WHERE id = ?",
                [(now, pid) for pid in vanished],
            )
            tx.executemany(
                "INSERT INTO photos (folder_id, path, size, mtime_ns, status, error, "
                "added_at, updated_at) VALUES (?, ?, 0, 0, 'error', ?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET status = 'error', error = excluded.error, "
                "updated_at = excluded.updated_at",
                [(folder_id, str(p), reason, now, now) for p, reason in problems],
            )

    def purge_tombstones(self, max_age_days: float = TOMBSTONE_DAYS) -> int:
        """Drop deleted rows older than ``max_age_days`` and embeddings nobody uses."""
        cutoff = time.time() - max_age_days * 86400
        with self.transaction() as tx:
            cursor = tx.execute(
                "DELETE FROM photos WHERE status = 'deleted' AND updated_at < ?", (cutoff,)
            )
            self._prune_orphan_embeddings(tx)
            return cursor.rowcount

    @staticmethod
    def _prune_orphan_embeddings(tx: sqlite3.Connection) -> None:
        tx.execute(
            "DELETE FROM embeddings WHERE fingerprint NOT IN "
            "(SELECT fingerprint FROM photos WHERE fingerprint IS NOT NULL)"
        )

    # -- indexing ---------------------------------------------------------------

    def pending_work(self, model_id: int) -> list[WorkItem]:
        """Photos to decode (pending) or to embed with this model (no vector yet)."""
        rows = self._query(
            "SELECT p.id, p.path, p.size, p.mtime_ns FROM photos p "
            "JOIN folders f ON f.id = p.folder_id AND f.status = 'ok' "
            "LEFT JOIN embeddings e ON e.fingerprint = p.fingerprint AND e.model_id = ? "
            "WHERE p.status = 'pending' OR (p.status = 'indexed' AND e.id IS NULL) "
            "ORDER BY p.path",
            (model_id,),
        )
        return [WorkItem(int(r[0]), Path(r[1]), int(r[2]), int(r[3])) for r in rows]

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
            if status == "deleted" or (Path(root).is_dir() and not Path(path).exists()):
                return int(photo_id)
        return None

    def can_reuse(self, model_id: int, fingerprint: str) -> bool:
        """Whether this content has a vector for the model and known metadata (no decode needed)."""
        rows = self._query(
            "SELECT 1 FROM embeddings WHERE model_id = ? AND fingerprint = ? AND EXISTS "
            "(SELECT 1 FROM photos WHERE fingerprint = ? AND width IS NOT NULL)",
            (model_id, fingerprint, fingerprint),
        )
        return bool(rows)

    # -- status -----------------------------------------------------------------

    def status_counts(self) -> dict[str, int]:
        """Number of photo rows per status."""
        rows = self._query("SELECT status, COUNT(*) FROM photos GROUP BY status")
        return {str(r[0]): int(r[1]) for r in rows}

    def embedding_count(self, model_id: int) -> int:
        """Number of distinct contents embedded with this model."""
        rows = self._query("SELECT COUNT(*) FROM embeddings WHERE model_id = ?", (model_id,))
        return int(rows[0][0])

    def problems(self) -> list[Problem]:
        """Every skipped file with its reason, by path."""
        rows = self._query(
            "SELECT path, COALESCE(error, 'unknown error') FROM photos "
            "WHERE status = 'error' ORDER BY path"
        )
        return [Problem(Path(r[0]), str(r[1])) for r in rows]
