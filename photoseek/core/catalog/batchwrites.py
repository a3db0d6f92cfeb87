"""Writes done inside the indexer's batch transaction (``Catalog.transaction()``).

Plain functions over the open transaction's connection, so that one batch of
outcomes (new vectors, finished photos, errors, moved photos) commits as one
unit and a killed process loses at most that batch.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from photoseek.core.errors import LibraryError
from photoseek.core.records import PhotoMeta
from photoseek.core.vectors import codec as vectorcodec

log = logging.getLogger(__name__)


def store_embedding(
    tx: sqlite3.Connection, model_id: int, fingerprint: str, vector: vectorcodec.FloatArray
) -> None:
    """Insert a vector (inside a transaction); an existing one is kept."""
    tx.execute(
        "INSERT OR IGNORE INTO embeddings (model_id, fingerprint, vector) VALUES (?, ?, ?)",
        (model_id, fingerprint, vectorcodec.encode(vector)),
    )


def mark_error(tx: sqlite3.Connection, photo_id: int, reason: str, fingerprint: str | None) -> None:
    """Record why a photo was skipped (inside a transaction)."""
    tx.execute(
        "UPDATE photos SET status = 'error', error = ?, fingerprint = ?, updated_at = ? "
        "WHERE id = ?",
        (reason, fingerprint, time.time(), photo_id),
    )


def mark_indexed(
    tx: sqlite3.Connection, photo_id: int, fingerprint: str, meta: PhotoMeta | None
) -> int:
    """Finish a photo (inside a transaction); return the id it ends up with.

    A tombstone with the same content (the file was moved or renamed) is
    revived at the new path, so the photo keeps its id, vector and tags.
    ``meta`` None means the content was seen before: copy what is known.
    """
    adopted = _adopt_tombstone(tx, photo_id, fingerprint)
    if adopted is not None:
        return adopted
    if meta is None:
        meta = _known_meta(tx, fingerprint)
    if meta is None:
        raise LibraryError(f"no metadata known for content {fingerprint}")
    tx.execute(
        "UPDATE photos SET status = 'indexed', error = NULL, fingerprint = ?, format = ?, "
        "width = ?, height = ?, taken_at = ?, updated_at = ? WHERE id = ?",
        (
            fingerprint,
            meta.format,
            meta.width,
            meta.height,
            meta.taken_at,
            time.time(),
            photo_id,
        ),
    )
    return photo_id


def _adopt_tombstone(tx: sqlite3.Connection, photo_id: int, fingerprint: str) -> int | None:
    tomb = tx.execute(
        "SELECT id FROM photos WHERE status = 'deleted' AND fingerprint = ? "
        "AND width IS NOT NULL ORDER BY updated_at DESC LIMIT 1",
        (fingerprint,),
    ).fetchone()
    if tomb is None:
        return None
    move_into(tx, int(tomb[0]), photo_id)
    return int(tomb[0])


def still_gone(tx: sqlite3.Connection, photo_id: int) -> bool:
    """Whether the row still exists and its file is still missing (a move may take it over)."""
    row = tx.execute("SELECT path FROM photos WHERE id = ?", (photo_id,)).fetchone()
    return row is not None and not Path(row[0]).exists()


def move_into(tx: sqlite3.Connection, tomb_id: int, photo_id: int) -> None:
    """Give tombstone ``tomb_id`` the place of row ``photo_id`` and drop that row."""
    new = tx.execute(
        "SELECT folder_id, path, size, mtime_ns, inode FROM photos WHERE id = ?", (photo_id,)
    ).fetchone()
    tx.execute("DELETE FROM photos WHERE id = ?", (photo_id,))
    tx.execute(
        "UPDATE photos SET folder_id = ?, path = ?, size = ?, mtime_ns = ?, inode = ?, "
        "status = 'indexed', error = NULL, updated_at = ? WHERE id = ?",
        (new[0], new[1], new[2], new[3], new[4], time.time(), tomb_id),
    )
    log.debug("%s is a moved photo: kept id %d", new[1], tomb_id)


def _known_meta(tx: sqlite3.Connection, fingerprint: str) -> PhotoMeta | None:
    row = tx.execute(
        "SELECT format, width, height, taken_at FROM photos WHERE fingerprint = ? "
        "AND width IS NOT NULL LIMIT 1",
        (fingerprint,),
    ).fetchone()
    if row is None:
        return None
    return PhotoMeta(format=row[0], width=int(row[1]), height=int(row[2]), taken_at=row[3])
