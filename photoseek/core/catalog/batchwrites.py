"""Writes done inside the indexer's batch transaction (``Catalog.transaction()``).

Plain functions over the open transaction's connection, so that one batch of
outcomes (new vectors and pHashes, finished photos, errors, moved photos) commits as one
unit and a killed process loses at most that batch.

A batch was read from the disk a moment ago; meanwhile a scan may have seen
the file change or vanish, or another process may have removed its folder.
Every write therefore first checks that the row is still the one that was
queued (same size and mtime, not a tombstone) and skips it otherwise: the
next pass sees it as it is now.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from photoseek.core.catalog.pathcodec import from_db
from photoseek.core.catalog.values import mtime_date, safe_text
from photoseek.core.duplicates.phash import to_stored
from photoseek.core.records import PhotoMeta, WorkItem
from photoseek.core.vectors import codec as vectorcodec

log = logging.getLogger(__name__)


def store_embedding(
    tx: sqlite3.Connection,
    model_id: int,
    fingerprint: str,
    vector: vectorcodec.FloatArray,
    decoder: str,
) -> None:
    """Store the vector of a content for a model (replacing one an older decoder made)."""
    tx.execute(
        "INSERT INTO embeddings (model_id, fingerprint, vector, decoder) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(model_id, fingerprint) DO UPDATE SET vector = excluded.vector, "
        "decoder = excluded.decoder",
        (model_id, fingerprint, vectorcodec.encode(vector), decoder),
    )


def store_phash(tx: sqlite3.Connection, fingerprint: str, phash: int) -> None:
    """Store the perceptual hash of a content (unsigned 64 bits; see ``schema_v5``)."""
    tx.execute(
        "INSERT INTO phashes (fingerprint, phash) VALUES (?, ?) "
        "ON CONFLICT(fingerprint) DO UPDATE SET phash = excluded.phash",
        (fingerprint, to_stored(phash)),
    )


def still_queued(tx: sqlite3.Connection, item: WorkItem) -> bool:
    """Whether the row of ``item`` still exists unchanged since it was queued."""
    row = tx.execute(
        "SELECT size, mtime_ns, status FROM photos WHERE id = ?", (item.id,)
    ).fetchone()
    return (
        row is not None and row[2] != "deleted" and (row[0], row[1]) == (item.size, item.mtime_ns)
    )


def mark_error(
    tx: sqlite3.Connection,
    item: WorkItem,
    reason: str,
    fingerprint: str | None,
    decoder: str | None = None,
) -> bool:
    """Record why a photo was skipped; ``decoder`` names the decoder that failed, if known."""
    if not still_queued(tx, item):
        return False
    tx.execute(
        "UPDATE photos SET status = 'error', error = ?, fingerprint = COALESCE(?, fingerprint), "
        "decoder = ?, updated_at = ? WHERE id = ?",
        (safe_text(reason), fingerprint, decoder, time.time(), item.id),
    )
    return True


def mark_changed(tx: sqlite3.Connection, item: WorkItem, size: int, mtime_ns: int) -> None:
    """The file changed after the scan: note its new size and mtime; it stays pending."""
    if still_queued(tx, item):
        tx.execute(
            "UPDATE photos SET size = ?, mtime_ns = ?, status = 'pending', updated_at = ? "
            "WHERE id = ?",
            (size, mtime_ns, time.time(), item.id),
        )


def mark_indexed(
    tx: sqlite3.Connection, item: WorkItem, fingerprint: str, meta: PhotoMeta | None
) -> int | None:
    """Finish a photo; return the id it ends up with (None: the row changed meanwhile).

    A new file whose content matches a tombstone (the file was moved or
    renamed) revives the tombstone at the new path, so the photo keeps its
    id, vector and tags. ``meta`` None means the content was seen before:
    what is known of it is copied.
    """
    if not still_queued(tx, item):
        return None
    if _never_indexed(tx, item.id):
        adopted = _adopt_tombstone(tx, item.id, fingerprint)
        if adopted is not None:
            return adopted
    if meta is None:
        meta = known_meta(tx, fingerprint)
    if meta is None:
        log.info("no metadata known for content %s any more; %s waits", fingerprint, item.path)
        return None
    tx.execute(
        "UPDATE photos SET status = 'indexed', error = NULL, decoder = NULL, fingerprint = ?, "
        "format = ?, width = ?, height = ?, taken_at = ?, sort_date = ?, updated_at = ? "
        "WHERE id = ?",
        (
            fingerprint,
            meta.format,
            meta.width,
            meta.height,
            meta.taken_at,
            meta.taken_at or mtime_date(item.mtime_ns),
            time.time(),
            item.id,
        ),
    )
    return item.id


def _never_indexed(tx: sqlite3.Connection, photo_id: int) -> bool:
    row = tx.execute("SELECT fingerprint FROM photos WHERE id = ?", (photo_id,)).fetchone()
    return row is not None and row[0] is None


def _adopt_tombstone(tx: sqlite3.Connection, photo_id: int, fingerprint: str) -> int | None:
    tomb = tx.execute(
        "SELECT id FROM photos WHERE status = 'deleted' AND fingerprint = ? "
        "AND width IS NOT NULL ORDER BY updated_at DESC LIMIT 1",
        (fingerprint,),
    ).fetchone()
    if tomb is None or not move_into(tx, int(tomb[0]), photo_id):
        return None
    return int(tomb[0])


def still_gone(tx: sqlite3.Connection, photo_id: int) -> bool:
    """Whether the row still exists and its file is still missing (a move may take it over)."""
    row = tx.execute("SELECT path FROM photos WHERE id = ?", (photo_id,)).fetchone()
    if row is None:
        return False
    try:
        return not from_db(row[0]).exists()
    except (OSError, ValueError):
        return False


def move_into(tx: sqlite3.Connection, tomb_id: int, photo_id: int) -> bool:
    """Give row ``tomb_id`` the place of row ``photo_id`` and drop that row.

    Returns False (and changes nothing) when either row no longer exists.
    """
    new = tx.execute(
        "SELECT folder_id, path, size, mtime_ns, inode FROM photos WHERE id = ?", (photo_id,)
    ).fetchone()
    old = tx.execute("SELECT taken_at FROM photos WHERE id = ?", (tomb_id,)).fetchone()
    if new is None or old is None:
        return False
    tx.execute("DELETE FROM photos WHERE id = ?", (photo_id,))
    tx.execute(
        "UPDATE photos SET folder_id = ?, path = ?, size = ?, mtime_ns = ?, inode = ?, "
        "sort_date = COALESCE(taken_at, ?), status = 'indexed', error = NULL, updated_at = ? "
        "WHERE id = ?",
        (new[0], new[1], new[2], new[3], new[4], mtime_date(new[3]), time.time(), tomb_id),
    )
    log.debug("%s is a moved photo: kept id %d", from_db(new[1]), tomb_id)
    return True


def known_meta(tx: sqlite3.Connection, fingerprint: str) -> PhotoMeta | None:
    """What decoding learned about this content before, if any row remembers it."""
    row = tx.execute(
        "SELECT format, width, height, taken_at FROM photos WHERE fingerprint = ? "
        "AND width IS NOT NULL LIMIT 1",
        (fingerprint,),
    ).fetchone()
    if row is None:
        return None
    return PhotoMeta(format=row[0], width=int(row[1]), height=int(row[2]), taken_at=row[3])
