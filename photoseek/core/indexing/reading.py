"""Read a queued photo once, and only if it is still the file the scan saw.

The bytes read are the bytes fingerprinted and the bytes decoded, so a
vector always belongs to the content its fingerprint names. Before and
after reading, the open file's size and mtime are compared with what the
scan recorded: a file still being written (a copy judged finished too early
on a loaded machine, say) is reported as *changed* and left for later,
never embedded half-written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import IO

from photoseek.core.catalog.values import as_int64
from photoseek.core.imaging.decode import open_regular_file
from photoseek.core.indexing.fingerprint import (
    FULL_HASH_LIMIT,
    fingerprint_bytes,
    fingerprint_handle,
)
from photoseek.core.indexing.stages import NoClock, StageClock
from photoseek.core.records import WorkItem

_UNTIMED = NoClock()


@dataclass(frozen=True)
class FileRead:
    """A photo's content as read: ``data`` is None for files above the full-hash limit."""

    fingerprint: str
    data: bytes | None


@dataclass(frozen=True)
class FileChanged:
    """The file is not what the scan saw (or changed while it was read)."""

    size: int
    mtime_ns: int


def read_photo(item: WorkItem, clock: StageClock = _UNTIMED) -> FileRead | FileChanged:
    """Read and fingerprint ``item``'s file if it is unchanged since the scan.

    Raises ``OSError`` (``FileNotFoundError`` when it vanished) and
    :class:`~photoseek.core.errors.ImageError` for what is not a regular file.
    """
    with open_regular_file(item.path) as handle:
        before = _signature(handle)
        if before != (item.size, item.mtime_ns):
            return FileChanged(*before)
        if before[0] <= FULL_HASH_LIMIT:
            with clock.stage("read"):
                data = handle.read()
            with clock.stage("fingerprint"):
                read = FileRead(fingerprint_bytes(data), data)
        else:
            with clock.stage("fingerprint"):  # read while hashed, and decoded from the file
                read = FileRead(fingerprint_handle(handle), None)
        after = _signature(handle)
    if after != before or (read.data is not None and len(read.data) != before[0]):
        return FileChanged(*after)
    return read


def unchanged_since(item: WorkItem) -> bool:
    """Whether the file still has the size and mtime the scan saw (large files are read twice)."""
    try:
        st = item.path.stat()
    except OSError:
        return False
    return (st.st_size, as_int64(st.st_mtime_ns)) == (item.size, item.mtime_ns)


def _signature(handle: IO[bytes]) -> tuple[int, int]:
    st = os.fstat(handle.fileno())
    return st.st_size, as_int64(st.st_mtime_ns)
