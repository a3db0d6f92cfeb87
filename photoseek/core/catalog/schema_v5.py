"""Schema v5: a perceptual hash per content, for the near-duplicate finder.

``phashes`` holds one 64-bit DCT pHash per content fingerprint
(:mod:`photoseek.core.duplicates.phash`), as SQLite's signed INTEGER (the
unsigned value minus 2**64 when the top bit is set). The indexer writes it
in the transaction that stores the content's vector; a library indexed
before this version has none, and the duplicate finder computes the
missing ones (from the cached thumbnail where there is one) and stores them.
Keyed by content like ``embeddings``, so a moved or renamed photo keeps its
hash, and without a row id (an 8-byte value per row: the key is the row).

Frozen with the release that introduced it.
"""

from __future__ import annotations

import sqlite3

from photoseek.core.catalog.sqlscript import run_script

_SCRIPT = """
CREATE TABLE phashes (
    fingerprint TEXT PRIMARY KEY,
    phash       INTEGER NOT NULL
) WITHOUT ROWID;
"""


def upgrade(conn: sqlite3.Connection) -> None:
    """Move a version-4 catalog to version 5 (inside the caller's transaction)."""
    run_script(conn, _SCRIPT)
