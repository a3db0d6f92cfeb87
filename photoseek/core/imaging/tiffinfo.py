"""Read the directory of a TIFF's first image (IFD0) without Pillow.

Sniffing needs one tag of IFD0 (DNGVersion tells a DNG from a plain TIFF)
and the structural checks need the number of strips or tiles, both before
Pillow parses anything. :func:`read_ifd0` reads only the entry headers (tag,
type, count), never the values, from classic TIFF and BigTIFF, through a
``read_at(offset, size)`` callable, so IFD0 may lie anywhere in the file.
Every number comes from the file and is untrusted: a damaged header gives
``None`` or fewer entries, never an exception.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

__all__ = [
    "TAG_DNG_VERSION",
    "TAG_STRIP_OFFSETS",
    "TAG_TILE_OFFSETS",
    "IfdEntry",
    "ReadAt",
    "read_ifd0",
    "tiff_chunk_count",
]

ReadAt = Callable[[int, int], bytes]
"""``read_at(offset, size)``: up to ``size`` bytes of the file from ``offset``."""

TAG_STRIP_OFFSETS: Final = 0x0111
TAG_TILE_OFFSETS: Final = 0x0144
TAG_DNG_VERSION: Final = 0xC612

_MAX_ENTRIES: Final = 0xFFFF  # a classic IFD cannot hold more; BigTIFF's are capped alike


@dataclass(frozen=True)
class IfdEntry:
    """One IFD entry header: the tag, its field type and its value count."""

    tag: int
    type: int
    count: int


@dataclass(frozen=True)
class _Layout:
    """Byte order and field sizes of a classic TIFF or a BigTIFF."""

    order: str  # "<" or ">"
    big: bool

    @property
    def count_format(self) -> str:
        return self.order + ("Q" if self.big else "H")

    @property
    def entry_size(self) -> int:
        return 20 if self.big else 12

    @property
    def entry_format(self) -> str:
        return self.order + ("HHQ" if self.big else "HHI")


def read_ifd0(head: bytes, read_at: ReadAt) -> dict[int, IfdEntry] | None:
    """IFD0's entries by tag, or ``None`` when ``head`` is no readable TIFF header.

    ``head`` holds the file's first 16 bytes (or more); ``read_at`` reads the
    directory wherever the header says it is.
    """
    found = _ifd0_offset(head)
    if found is None:
        return None
    layout, offset = found
    count_size = struct.calcsize(layout.count_format)
    raw_count = read_at(offset, count_size)
    if len(raw_count) < count_size:
        return None
    (count,) = struct.unpack(layout.count_format, raw_count)
    count = min(count, _MAX_ENTRIES)
    table = read_at(offset + count_size, count * layout.entry_size)
    return _parse_entries(table, layout)


def tiff_chunk_count(entries: dict[int, IfdEntry]) -> int:
    """How many strips or tiles IFD0 declares (the larger of the two counts)."""
    counts = (entries[tag].count for tag in (TAG_STRIP_OFFSETS, TAG_TILE_OFFSETS) if tag in entries)
    return max(counts, default=0)


def _ifd0_offset(head: bytes) -> tuple[_Layout, int] | None:
    """The layout and the offset of IFD0 named by a TIFF header."""
    if len(head) < 8 or head[:2] not in (b"II", b"MM"):
        return None
    order = "<" if head[:2] == b"II" else ">"
    (magic,) = struct.unpack_from(order + "H", head, 2)
    if magic == 42:
        return _Layout(order, big=False), struct.unpack_from(order + "I", head, 4)[0]
    if magic == 43 and len(head) >= 16:
        offset_size, reserved = struct.unpack_from(order + "HH", head, 4)
        if offset_size == 8 and reserved == 0:
            return _Layout(order, big=True), struct.unpack_from(order + "Q", head, 8)[0]
    return None


def _parse_entries(table: bytes, layout: _Layout) -> dict[int, IfdEntry]:
    """Entry headers from the raw table (a short table gives fewer entries)."""
    entries: dict[int, IfdEntry] = {}
    size = layout.entry_size
    for start in range(0, len(table) - size + 1, size):
        tag, kind, count = struct.unpack_from(layout.entry_format, table, start)
        entries.setdefault(tag, IfdEntry(tag, kind, count))
    return entries
