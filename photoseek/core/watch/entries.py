"""What the scanner tells about one directory entry: hidden, a folder seen before, why not.

Small questions about one entry, asked by :mod:`photoseek.core.watch.scanner`
while it walks: whether the OS hides it, whether a folder was walked already
(a symlink loop, a bind mount), and the words for why an entry is skipped.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Final

logger = logging.getLogger(__name__)

_WINDOWS_HIDDEN: Final = 0x2 | 0x4  # FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM
_MAC_UF_HIDDEN: Final = getattr(stat, "UF_HIDDEN", 0)


def folder_link_reason(path: Path) -> str:
    """Why a link to a folder is skipped, naming its target so the user can add it."""
    try:
        target = os.path.realpath(path)
    except (OSError, ValueError):
        target = "its target"
    return f"symbolic link to a folder, not followed (add {target} to the library to include it)"


def why(exc: BaseException) -> str:
    """A short reason for an exception: the OS's words, else its type and message."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"


def hidden_by_attributes(st: os.stat_result) -> bool:
    """Hidden by the OS rather than by name (Windows attributes, macOS flags)."""
    attributes = getattr(st, "st_file_attributes", 0)
    flags = getattr(st, "st_flags", 0)
    return bool(attributes & _WINDOWS_HIDDEN) or bool(flags & _MAC_UF_HIDDEN)


def first_visit(path: Path, st: os.stat_result, visited: set[tuple[int, int | str]]) -> bool:
    """Record a folder; ``False`` if it was walked already (symlink loop, bind mount)."""
    key = folder_key(path, st)
    if key in visited:
        logger.debug("folder already walked, not entering again: %s", path)
        return False
    visited.add(key)
    return True


def folder_key(path: Path, st: os.stat_result) -> tuple[int, int | str]:
    """Identity of a folder: (device, inode), or the resolved path where the
    platform reports no inode (``DirEntry.stat`` on Windows, some file systems)."""
    if st.st_ino == 0:
        try:
            st = path.stat()
        except OSError:
            return (st.st_dev, os.path.realpath(path))
        if st.st_ino == 0:
            return (st.st_dev, os.path.realpath(path))
    return (st.st_dev, st.st_ino)
