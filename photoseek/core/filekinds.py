"""The name of a file type, for the reasons a file is skipped ("fifo", "block device", ...)."""

from __future__ import annotations

import stat

_KINDS = (
    (stat.S_ISREG, "regular"),
    (stat.S_ISDIR, "folder"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


def file_kind(mode: int) -> str:
    """Name the file type in ``mode`` ("regular", "folder", "fifo", ...)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "unknown type"
