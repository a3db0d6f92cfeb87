"""Schema v3: exclude patterns per top folder.

``folders.excludes`` holds a JSON list of glob patterns (``*.tmp``,
``Screenshots``, ``private/*``) that the scanner leaves out of that folder
(:mod:`photoseek.core.watch.excludes` says how they match). Existing folders
get none. Frozen with the release that introduced it.
"""

from __future__ import annotations

import sqlite3


def upgrade(conn: sqlite3.Connection) -> None:
    """Move a version-2 catalog to version 3 (inside the caller's transaction)."""
    conn.execute("ALTER TABLE folders ADD COLUMN excludes TEXT NOT NULL DEFAULT '[]'")
