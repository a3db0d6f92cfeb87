"""What tells one version of a file from another without reading it: device, inode, size and
modification time (a file replaced by a rename, or rewritten, differs in one of them)."""

from __future__ import annotations

import os

__all__ = ["FileIdentity", "identity_of"]

FileIdentity = tuple[int, int, int, int]


def identity_of(status: os.stat_result) -> FileIdentity:
    """The identity in ``status`` (from ``os.stat``, ``os.fstat`` or ``Path.stat``)."""
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns
