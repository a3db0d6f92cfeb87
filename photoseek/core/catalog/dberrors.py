"""Turn SQLite's exceptions into one clear sentence for the user.

No ``sqlite3`` exception crosses the :class:`~photoseek.core.library.Library`
facade: the catalog converts each into a :class:`LibraryError` (or a
subclass) that names the catalog and what the user can do.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from photoseek.core.errors import LibraryError


class CatalogLockedError(LibraryError):
    """Another process held the catalog's write lock for too long."""


class CatalogDamagedError(LibraryError):
    """The catalog file is not a database, or is corrupt."""


class CatalogReadOnlyError(LibraryError):
    """The catalog (or its folder) cannot be written."""


class DiskFullError(LibraryError):
    """The disk holding the catalog is full."""


def _unwritable(name: str, folder: Path) -> bool:
    """SQLite cannot open a WAL catalog in a folder it may not write (no room for -shm)."""
    return name.startswith("SQLITE_CANTOPEN") and folder.is_dir() and not os.access(folder, os.W_OK)


def explain(exc: sqlite3.Error, path: Path) -> LibraryError:
    """The :class:`LibraryError` that tells the user what ``exc`` means for ``path``."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    detail = str(exc) or type(exc).__name__
    folder = path.parent
    if name.startswith("SQLITE_READONLY") or "readonly" in detail or _unwritable(name, folder):
        return CatalogReadOnlyError(
            f"the library in {folder} cannot be written (read-only disk or no permission)"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in detail:
        return CatalogLockedError(
            f"the catalog {path} is locked by another program; try again in a moment"
        )
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in detail:
        return CatalogDamagedError(
            f"the catalog {path} is damaged ({detail}); move it away to start a new library, "
            f"or restore a backup ({path.name}.bak-v*)"
        )
    if name.startswith("SQLITE_FULL") or "disk is full" in detail:
        return DiskFullError(f"the disk holding {folder} is full; free some space and try again")
    if name.startswith("SQLITE_CANTOPEN"):
        return LibraryError(f"cannot open the catalog {path} ({detail})")
    if name.startswith("SQLITE_IOERR"):
        return LibraryError(f"the disk reported an error on the catalog {path} ({detail})")
    return LibraryError(f"catalog error on {path}: {detail}")
