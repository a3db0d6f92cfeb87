"""Schema v2: lossless paths, a change log, decoder tags and a stored sort date.

* **Paths are bytes.** ``folders.path`` and ``photos.path`` hold the
  operating system's own bytes for a path (``os.fsencode``), as BLOBs, so a
  file name that is not valid UTF-8 (a Latin-1 ``é`` from an old FAT disk or
  a Samba share) is stored, found, shown and opened exactly
  (:mod:`photoseek.core.catalog.pathcodec`). Version 1 stored TEXT, which
  cannot hold such names; its paths are converted byte for byte.
* **A change log.** Triggers append one row to ``changes`` for every photo
  that is added, removed, moved, or whose content, state or metadata
  changes, and for every photo whose content gains a vector. Followers (the
  vector index of a reading process, a GUI's views) read what changed since
  the sequence number they last saw, so following costs what changed, not
  the size of the library. The writer trims the log; a follower that fell
  behind the trimmed part reloads in full.
* **Decoder tags.** ``embeddings.decoder`` records which decoder and
  pre-processing made each vector, ``photos.decoder`` which decoder failed on
  a problem file (:mod:`photoseek.core.imaging.decoders`): ``index`` redoes
  what an improved decoder would make differently. Version-1 vectors get the
  tag of the first decoders, except TIFF-container camera RAW files (by
  extension: version 1 embedded their small previews), which get a tag that
  is never current, so they are re-examined. Version-1 problems have no tag
  and are re-examined once.
* **A stored sort date** (``photos.sort_date``: EXIF taken-at, else the
  file's mtime in local time, ``YYYY-MM-DDTHH:MM:SS``) with indexes, so
  browsing 100,000 photos newest first is an index walk.

This module is frozen with the release that introduced it: it imports
nothing from photoseek that may change later.
"""

from __future__ import annotations

import os
import sqlite3

from photoseek.core.catalog.sqlscript import run_script

_V1_RAW_EXTENSIONS = (
    ".nef", ".nrw", ".arw", ".srf", ".sr2", ".cr2", ".dng", ".pef", ".srw", ".orf",
    ".rw2", ".raf", ".3fr", ".erf", ".kdc", ".mrw", ".mos", ".iiq", ".rwl", ".dcr",
)  # fmt: skip

_TABLES = """
CREATE TABLE folders_v2 (
    id            INTEGER PRIMARY KEY,
    path          BLOB NOT NULL UNIQUE,
    device        INTEGER,
    status        TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'unavailable')),
    status_reason TEXT,
    added_at      REAL NOT NULL,
    scanned_at    REAL
);
INSERT INTO folders_v2 (id, path, device, status, status_reason, added_at, scanned_at)
    SELECT id, CAST(path AS BLOB), device, status, status_reason, added_at, scanned_at
    FROM folders;
CREATE TABLE photos_v2 (
    id          INTEGER PRIMARY KEY,
    folder_id   INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    path        BLOB NOT NULL UNIQUE,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    inode       INTEGER,
    fingerprint TEXT,
    format      TEXT,
    width       INTEGER,
    height      INTEGER,
    taken_at    TEXT,
    sort_date   TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL
                CHECK (status IN ('pending', 'indexed', 'error', 'deleted')),
    error       TEXT,
    decoder     TEXT,
    added_at    REAL NOT NULL,
    updated_at  REAL NOT NULL
);
INSERT INTO photos_v2 (id, folder_id, path, size, mtime_ns, inode, fingerprint, format, width,
                       height, taken_at, sort_date, status, error, decoder, added_at, updated_at)
    SELECT id, folder_id, CAST(path AS BLOB), size, mtime_ns, inode, fingerprint, format, width,
           height, taken_at,
           COALESCE(taken_at, strftime('%Y-%m-%dT%H:%M:%S', mtime_ns / 1000000000, 'unixepoch',
                                       'localtime')),
           status, error, NULL, added_at, updated_at
    FROM photos;
DROP TABLE photos;
DROP TABLE folders;
ALTER TABLE folders_v2 RENAME TO folders;
ALTER TABLE photos_v2 RENAME TO photos;
CREATE INDEX photos_fingerprint ON photos(fingerprint);
CREATE INDEX photos_status ON photos(status);
CREATE INDEX photos_by_date ON photos(status, sort_date, id);
CREATE INDEX photos_by_folder_date ON photos(folder_id, status, sort_date, id);
ALTER TABLE embeddings ADD COLUMN decoder TEXT;
"""

_CHANGE_LOG = """
CREATE TABLE changes (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    photo_id INTEGER NOT NULL,
    kind     TEXT NOT NULL
             CHECK (kind IN ('added', 'removed', 'content', 'state', 'moved', 'meta'))
);
CREATE TRIGGER photos_added AFTER INSERT ON photos BEGIN
    INSERT INTO changes (photo_id, kind) VALUES (new.id, 'added');
END;
CREATE TRIGGER photos_removed AFTER DELETE ON photos BEGIN
    INSERT INTO changes (photo_id, kind) VALUES (old.id, 'removed');
END;
CREATE TRIGGER photos_content AFTER UPDATE OF fingerprint ON photos
WHEN old.fingerprint IS NOT new.fingerprint BEGIN
    INSERT INTO changes (photo_id, kind) VALUES (new.id, 'content');
END;
CREATE TRIGGER photos_state AFTER UPDATE OF status ON photos
WHEN old.status IS NOT new.status BEGIN
    INSERT INTO changes (photo_id, kind) VALUES (new.id, 'state');
END;
CREATE TRIGGER photos_moved AFTER UPDATE OF path, folder_id ON photos
WHEN old.path IS NOT new.path OR old.folder_id IS NOT new.folder_id BEGIN
    INSERT INTO changes (photo_id, kind) VALUES (new.id, 'moved');
END;
CREATE TRIGGER photos_meta AFTER UPDATE OF taken_at, width, height, format ON photos
WHEN old.taken_at IS NOT new.taken_at OR old.width IS NOT new.width
     OR old.height IS NOT new.height OR old.format IS NOT new.format BEGIN
    INSERT INTO changes (photo_id, kind) VALUES (new.id, 'meta');
END;
CREATE TRIGGER embeddings_added AFTER INSERT ON embeddings BEGIN
    INSERT INTO changes (photo_id, kind)
        SELECT id, 'content' FROM photos WHERE fingerprint = new.fingerprint;
END;
CREATE TRIGGER embeddings_replaced AFTER UPDATE OF vector ON embeddings BEGIN
    INSERT INTO changes (photo_id, kind)
        SELECT id, 'content' FROM photos WHERE fingerprint = new.fingerprint;
END;
"""


def upgrade(conn: sqlite3.Connection) -> None:
    """Move a version-1 catalog to version 2 (inside the caller's transaction).

    Foreign keys must be off (they are until the catalog finishes opening):
    the tables are rebuilt under new names and renamed into place.
    """
    run_script(conn, _TABLES)
    _tag_v1_vectors(conn)
    run_script(conn, _CHANGE_LOG)


def _tag_v1_vectors(conn: sqlite3.Connection) -> None:
    """Give version-1 vectors the tag of the first decoders (RAW previews: never current)."""
    formats: dict[str, str] = {}
    rows = conn.execute(
        "SELECT fingerprint, format, path FROM photos "
        "WHERE fingerprint IS NOT NULL AND format IS NOT NULL"
    )
    for fingerprint, fmt, path in rows:
        name = os.fsdecode(bytes(path)).lower()
        raw_preview = fmt == "tiff" and name.endswith(_V1_RAW_EXTENSIONS)
        formats[fingerprint] = "tiff-raw-preview" if raw_preview else str(fmt)
    conn.executemany(
        "UPDATE embeddings SET decoder = ? WHERE fingerprint = ?",
        [(f"{fmt}/1;prep/1", fingerprint) for fingerprint, fmt in formats.items()],
    )
