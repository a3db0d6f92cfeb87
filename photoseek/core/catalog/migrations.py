"""Ordered schema migrations of the catalog, keyed on ``PRAGMA user_version``.

Each step moves the schema from version ``n - 1`` to ``n`` inside one
transaction; a step never imports code that may change later (each is
frozen once released, and tested against a stored catalog of the version it
starts from, in ``tests/fixtures``). Before migrating an existing catalog the file is copied with
SQLite's online backup API to ``<catalog>.bak-v<old>``. A catalog whose
version is newer than this code knows is refused, never touched.

Storage decisions (measured with 512-d vectors, see
``tests/benchmarks/test_bench_catalog.py``): vectors are stored as
little-endian float16 (1 KB for 512 dims; the re-scoring error is far below
the gap between neighbours) in 16 KB pages. float32 rows of 2 KB in 4 KB
pages fit one row per page and waste about half the file.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from photoseek.core.catalog import schema_v2, schema_v3, schema_v4, schema_v5
from photoseek.core.catalog.sqlscript import run_script
from photoseek.core.errors import LibraryError, SchemaTooNewError, SchemaTooOldError

log = logging.getLogger(__name__)

PAGE_SIZE = 16384

_SCHEMA_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE folders (
    id            INTEGER PRIMARY KEY,
    path          TEXT NOT NULL UNIQUE,
    device        INTEGER,
    status        TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'unavailable')),
    status_reason TEXT,
    added_at      REAL NOT NULL,
    scanned_at    REAL
);
CREATE TABLE photos (
    id          INTEGER PRIMARY KEY,
    folder_id   INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    path        TEXT NOT NULL UNIQUE,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    inode       INTEGER,
    fingerprint TEXT,
    format      TEXT,
    width       INTEGER,
    height      INTEGER,
    taken_at    TEXT,
    status      TEXT NOT NULL
                CHECK (status IN ('pending', 'indexed', 'error', 'deleted')),
    error       TEXT,
    added_at    REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX photos_folder ON photos(folder_id);
CREATE INDEX photos_fingerprint ON photos(fingerprint);
CREATE INDEX photos_status ON photos(status);
CREATE TABLE models (
    id         INTEGER PRIMARY KEY,
    arch       TEXT NOT NULL,
    pretrained TEXT NOT NULL,
    digest     TEXT NOT NULL,
    dim        INTEGER NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (arch, pretrained, digest)
);
CREATE TABLE embeddings (
    id          INTEGER PRIMARY KEY,
    model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    vector      BLOB NOT NULL,
    UNIQUE (model_id, fingerprint)
);
"""


def _to_v1(conn: sqlite3.Connection) -> None:
    run_script(conn, _SCHEMA_V1)


def _to_v2(conn: sqlite3.Connection) -> None:
    schema_v2.upgrade(conn)


def _to_v3(conn: sqlite3.Connection) -> None:
    schema_v3.upgrade(conn)


def _to_v4(conn: sqlite3.Connection) -> None:
    schema_v4.upgrade(conn)


def _to_v5(conn: sqlite3.Connection) -> None:
    schema_v5.upgrade(conn)


Migration = Callable[[sqlite3.Connection], None]

#: MIGRATIONS[i] takes the schema from version i to i + 1.
MIGRATIONS: list[Migration] = [_to_v1, _to_v2, _to_v3, _to_v4, _to_v5]


def latest_version() -> int:
    """The schema version this code writes."""
    return len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The catalog's ``PRAGMA user_version``."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def backup_catalog(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the live catalog to ``<path>.bak-v<version>`` (consistent snapshot)."""
    target = path.with_name(f"{path.name}.bak-v{version}")
    dest = sqlite3.connect(target)
    try:
        conn.backup(dest)
    finally:
        dest.close()
    log.info("backed up catalog v%d to %s before migrating", version, target)
    return target


def check_readable(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a catalog a read-only open cannot use: newer, or not yet migrated.

    A reader never migrates (it may not write); an older catalog is upgraded
    by the next process that opens it for writing.
    """
    current, target = schema_version(conn), latest_version()
    if current > target:
        raise SchemaTooNewError(_too_new_message(path, current, target))
    if current < target:
        raise SchemaTooOldError(
            f"{path} is from an older photoseek (schema v{current}, this version needs "
            f"v{target}); run `photoseek index` once (or start the app) to upgrade it"
        )


def _too_new_message(path: Path, current: int, target: int) -> str:
    return (
        f"{path} was written by a newer photoseek (schema v{current}, this version "
        f"knows up to v{target}); upgrade photoseek or use another --data-dir"
    )


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the catalog at ``path`` to the latest schema; return the old version.

    Raises :class:`SchemaTooNewError` for a catalog from a newer photoseek.
    """
    current = schema_version(conn)
    target = latest_version()
    if current > target:
        raise SchemaTooNewError(_too_new_message(path, current, target))
    if current == target:
        return current
    if current == 0:
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    else:
        backup_catalog(conn, path, current)
    for version in range(current, target):
        _apply(conn, version)
    return current


def _apply(conn: sqlite3.Connection, version: int) -> None:
    log.info("migrating catalog schema v%d -> v%d", version, version + 1)
    try:
        conn.execute("BEGIN IMMEDIATE")
        MIGRATIONS[version](conn)
        conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        conn.execute("ROLLBACK")
        raise LibraryError(f"catalog migration to v{version + 1} failed: {exc}") from exc
