"""How paths are stored in the catalog: the operating system's own bytes.

A POSIX file name is any sequence of bytes; Python represents the bytes that
are not valid UTF-8 as lone surrogates (``os.fsdecode``), which SQLite's
TEXT cannot store. The catalog therefore keeps ``os.fsencode(path)`` in BLOB
columns: every name round-trips exactly, on Windows too (UTF-8 with
surrogatepass there). Prefix ranges (a folder's files, a filter by folder)
are built with the platform's separator, never a hard-coded ``"/"``.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath

__all__ = ["from_db", "is_below", "prefix_range", "to_db"]


def to_db(path: PurePath | str) -> bytes:
    """The bytes stored for ``path``."""
    return os.fsencode(path)


def from_db(value: bytes | str) -> Path:
    """The path stored as ``value`` (TEXT from a version-1 row is accepted too)."""
    return Path(os.fsdecode(value) if isinstance(value, bytes | bytearray | memoryview) else value)


def prefix_range(directory: PurePath | str, sep: str = os.sep) -> tuple[bytes, bytes]:
    """``[low, high)`` bounds of the stored paths strictly below ``directory``.

    ``sep`` is the path separator of the platform that made the paths (a
    parameter so that Windows rules can be tested anywhere); a root such as
    ``/`` or ``C:\\`` works.
    """
    separator = sep.encode()
    stem = to_db(directory).rstrip(separator)
    low = stem + separator
    high = stem + bytes([separator[0] + 1])
    return low, high


def is_below(path: PurePath, directory: PurePath) -> bool:
    """Whether ``path`` lies at or below ``directory`` (component-wise, platform rules)."""
    return path == directory or directory in path.parents
