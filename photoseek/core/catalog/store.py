"""The catalog: SQLite (WAL), the one source of truth of a library.

Every write runs in an explicit transaction (:meth:`Catalog.transaction`); the
indexer commits one batch per transaction, so a killed process loses at most
the batch in flight. The catalog may be used from several threads. Writes go
through one connection under a lock; so do reads made inside a transaction
(they must see its uncommitted rows). Every other read takes a connection of
its own from a small pool of read connections (as many as reads ever ran at
once; never one in use by another read): SQLite's WAL lets readers run beside each other
and beside the writer, and Python's ``sqlite3`` releases the GIL while a
statement runs, so a long read (every photo's path for the name index, every
live id for the vector index) no longer holds up the short ones of other
threads (at 100,000 photos the app's first search waited seconds for the
one lock). Each read sees everything committed before it began, in this
process or another. No ``sqlite3`` exception leaves this class:
each becomes a :class:`~photoseek.core.errors.LibraryError` that says what
happened in one sentence (:mod:`.dberrors`).

The queries live in mixins by job: folders (:mod:`.folders`), scan results
and moves (:mod:`.scans`), indexing work (:mod:`.work`), the change log
(:mod:`.changes`), the reads behind search and browsing (:mod:`.reads`) and the
duplicate finder's rows and pHashes (:mod:`.phashes`).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from photoseek.core.catalog import dberrors
from photoseek.core.catalog.albums import AlbumTable
from photoseek.core.catalog.changes import ChangeLog
from photoseek.core.catalog.folders import FolderTable
from photoseek.core.catalog.migrations import check_readable, migrate
from photoseek.core.catalog.pathcodec import from_db
from photoseek.core.catalog.phashes import PhashTable
from photoseek.core.catalog.reads import SearchReads
from photoseek.core.catalog.scans import MoveCandidate, ScanWrites
from photoseek.core.catalog.tags import TagTable
from photoseek.core.catalog.work import WorkReads
from photoseek.core.errors import LibraryError
from photoseek.core.records import ModelIdentity, Problem

__all__ = ["Catalog", "MoveCandidate"]

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 30


class Catalog(
    FolderTable, ScanWrites, WorkReads, ChangeLog, SearchReads, TagTable, AlbumTable, PhashTable
):
    """Typed access to the catalog database at ``path``."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()
        self._conn = self._connect()
        self._tx_thread: int | None = None  # the thread inside a transaction, if any
        self._free_readers: list[sqlite3.Connection] = []  # as many as reads ran at once
        self._readers_lock = threading.Lock()
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        if self.read_only and not self.path.exists():
            raise LibraryError(f"no photoseek library at {self.path.parent}")
        conn: sqlite3.Connection | None = None
        try:
            conn = self._open()
            if self.read_only:
                check_readable(conn, self.path)
            else:
                migrate(conn, self.path)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            return conn
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise dberrors.explain(exc, self.path) from exc
        except BaseException:
            if conn is not None:
                conn.close()
            raise

    def _open(self) -> sqlite3.Connection:
        if self.read_only:
            return self._open_read_only()
        if not self.path.exists():
            _create_private(self.path)
        return sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S
        )

    def _open_read_only(self) -> sqlite3.Connection:
        """A read-only connection; on read-only media, an immutable one.

        SQLite needs to create the WAL's ``-shm`` file even to read; where it
        cannot (a read-only mount, a backup disk, a full disk) the catalog is
        opened as immutable: no writer can exist on read-only media, and on a
        full disk none can commit either.
        """
        uri = self.path.resolve().as_uri()
        conn = self._connect_uri(f"{uri}?mode=ro")
        try:
            conn.execute("PRAGMA user_version").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            level = logging.INFO if not os.access(self.path.parent, os.W_OK) else logging.WARNING
            log.log(level, "opening the catalog immutable (%s): %s", exc, self.path.parent)
            return self._connect_uri(f"{uri}?mode=ro&immutable=1")

    @staticmethod
    def _connect_uri(uri: str) -> sqlite3.Connection:
        return sqlite3.connect(
            uri, uri=True, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S
        )

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        """A read connection of its own for the block: a free one, or a new one."""
        with self._readers_lock:
            if self._closed:
                raise LibraryError("the catalog is closed")
            conn = self._free_readers.pop() if self._free_readers else None
        if conn is None:
            try:
                conn = self._open_read_only() if self.read_only else self._open_reader()
            except sqlite3.DatabaseError as exc:
                raise dberrors.explain(exc, self.path) from exc
        try:
            yield conn
        finally:
            with self._readers_lock:
                if self._closed:
                    conn.close()
                else:
                    self._free_readers.append(conn)

    def _open_reader(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S
        )
        conn.execute("PRAGMA query_only = ON")
        return conn

    def close(self) -> None:
        """Close the connections (checkpointing the WAL when writable)."""
        with self._readers_lock:
            self._closed = True  # a reader in use is closed when its read ends
            for reader in self._free_readers:
                reader.close()
            self._free_readers.clear()
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
        if self.read_only:
            raise LibraryError("the library is open read-only; another process is writing it")
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise dberrors.explain(exc, self.path) from exc
            outer, self._tx_thread = self._tx_thread, threading.get_ident()
            try:
                yield self._conn
            except BaseException as exc:
                self._rollback()
                if isinstance(exc, sqlite3.DatabaseError):
                    raise dberrors.explain(exc, self.path) from exc
                raise
            finally:
                self._tx_thread = outer
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise dberrors.explain(exc, self.path) from exc

    def _rollback(self) -> None:
        try:
            self._conn.execute("ROLLBACK")
        except sqlite3.Error as exc:  # SQLite may have rolled back already (disk full)
            log.debug("rollback: %s", exc)

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Rows of a read: on this thread's connection, or inside its transaction."""
        if self._tx_thread == threading.get_ident():
            return self._query_writer(sql, params)
        with self._reader() as conn:
            try:
                rows: list[sqlite3.Row] = conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise dberrors.explain(exc, self.path) from exc
        return rows

    def _query_writer(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Rows of a read on the writing connection (under the lock)."""
        with self._lock:
            try:
                rows: list[sqlite3.Row] = self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise dberrors.explain(exc, self.path) from exc
            return rows

    def integrity_check(self) -> str:
        """SQLite's integrity check: ``"ok"`` or what is wrong."""
        rows = self._query("PRAGMA integrity_check")
        return "; ".join(str(r[0]) for r in rows)

    def data_version(self) -> int:
        """Changes whenever another connection commits (cheap; for followers)."""
        return int(self._query_writer("PRAGMA data_version")[0][0])  # the writer's own view

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

    def find_model(self, arch: str, pretrained: str, digest: str | None = None) -> int | None:
        """The newest model row with this name (and digest, when given), without loading it."""
        sql = "SELECT id FROM models WHERE arch = ? AND pretrained = ?"
        params: list[object] = [arch, pretrained]
        if digest is not None:
            sql += " AND digest = ?"
            params.append(digest)
        rows = self._query(sql + " ORDER BY id DESC LIMIT 1", params)
        return int(rows[0][0]) if rows else None

    def model_identity(self, model_id: int) -> ModelIdentity | None:
        """The identity a model row names."""
        rows = self._query(
            "SELECT arch, pretrained, digest, dim FROM models WHERE id = ?", (model_id,)
        )
        if not rows:
            return None
        arch, pretrained, digest, dim = rows[0]
        return ModelIdentity(str(arch), str(pretrained), str(digest), int(dim))

    def model_name(self, model_id: int) -> str | None:
        """``"arch / pretrained"`` of a model row."""
        rows = self._query("SELECT arch, pretrained FROM models WHERE id = ?", (model_id,))
        return f"{rows[0][0]} / {rows[0][1]}" if rows else None

    # -- status -----------------------------------------------------------------

    def status_counts(self) -> dict[str, int]:
        """Number of photo rows per status (tombstones of deleted files not included)."""
        rows = self._query(
            "SELECT status, COUNT(*) FROM photos WHERE status != 'deleted' GROUP BY status"
        )
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
        return [Problem(from_db(r[0]), str(r[1])) for r in rows]


def _create_private(path: Path) -> None:
    """Create an empty catalog file readable by its user only (SQLite's WAL copies the mode)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise LibraryError(f"cannot create the catalog in {path.parent}: {exc.strerror}") from exc
