"""Walk a file's container structure to count what Pillow would parse piece by piece.

Pillow parses container metadata in Python, one segment, chunk, block or
byte at a time, at a few microseconds per piece, so a file made of millions
of tiny pieces costs seconds per megabyte (and sometimes memory in
proportion). These walkers count the pieces with the cheapest reads
possible and stop as soon as a count passes the caller's limit, so their
own cost is bounded by that limit, not by the file. They never decode
anything, read through a seekable binary stream (leaving it anywhere),
trust no length in the file and stop quietly at a truncated structure
(Pillow reports it); only ``OSError`` from reading escapes.
"""

from __future__ import annotations

import io
import re
import struct
from typing import IO, Final

__all__ = [
    "gif_blocks_before_image",
    "jpeg_header_pieces",
    "jpeg_scan_markers",
    "png_chunks",
    "pnm_header_complete",
]

_CHUNK: Final = 1 << 20
_SCAN_MARKER: Final = b"\xff\xda"
_JPEG_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RSTn: no length
_PNM_WHITESPACE: Final = re.compile(rb"[ \t\r\n\x0b\x0c]*")
_PNM_TOKEN: Final = re.compile(rb"[^ \t\r\n\x0b\x0c#]*")


def jpeg_scan_markers(stream: IO[bytes], limit: int) -> int:
    """Start-of-scan markers in the whole file, counted up to ``limit + 1``.

    Entropy-coded data stuffs every 0xFF, so the marker never appears in it;
    embedded previews (in APP segments) count too.
    """
    stream.seek(0)
    count, split = 0, False
    while count <= limit and (block := stream.read(_CHUNK)):
        count += block.count(_SCAN_MARKER) + (split and block.startswith(_SCAN_MARKER[1:]))
        split = block.endswith(_SCAN_MARKER[:1])  # a marker may straddle two blocks
    return count


def jpeg_header_pieces(stream: IO[bytes], max_segments: int, max_junk: int) -> tuple[int, int]:
    """``(segments, junk bytes)`` between the SOI marker and the first scan.

    Junk is every byte outside a segment: fill bytes (0xFF runs) and garbage,
    which Pillow skips one at a time. Counting stops past either limit.
    """
    stream.seek(2)
    segments = junk = 0
    while segments <= max_segments and junk <= max_junk:
        byte = stream.read(1)
        if not byte:
            break
        if byte != b"\xff":
            junk += 1
            continue
        marker = stream.read(1)
        while marker == b"\xff" and junk <= max_junk:
            junk += 1
            marker = stream.read(1)
        if not marker or marker in (b"\xda", b"\xd9"):  # the first scan, or the end
            break
        segments += 1
        if marker[0] in _JPEG_STANDALONE or marker == b"\x00":
            continue
        raw = stream.read(2)
        if len(raw) < 2 or struct.unpack(">H", raw)[0] < 2:
            break
        stream.seek(struct.unpack(">H", raw)[0] - 2, io.SEEK_CUR)
    return segments, junk


def png_chunks(stream: IO[bytes], limit: int) -> int:
    """Chunks of a PNG up to IEND (every kind, image data included), up to ``limit + 1``."""
    stream.seek(8)
    count = 0
    while count <= limit:
        header = stream.read(8)
        if len(header) < 8:
            break
        length, kind = struct.unpack(">I4s", header)
        count += 1
        if kind == b"IEND":
            break
        stream.seek(length + 4, io.SEEK_CUR)  # the data and the CRC
    return count


def gif_blocks_before_image(stream: IO[bytes], limit: int) -> int:
    """Pieces before the first image, up to ``limit + 1``.

    Pieces are extension blocks, their sub-blocks and stray bytes between
    blocks (Pillow skips those one at a time).
    """
    stream.seek(6)
    screen = stream.read(7)
    if len(screen) < 7:
        return 0
    if screen[4] & 0x80:  # a global colour table follows
        stream.seek(3 << ((screen[4] & 7) + 1), io.SEEK_CUR)
    count = 0
    while count <= limit:
        introducer = stream.read(1)
        if introducer in (b"", b",", b";"):  # the end, the first image, the trailer
            break
        count += 1
        if introducer == b"!":
            stream.read(1)  # the extension's label
            count += _gif_sub_blocks(stream, limit - count)
    return count


def _gif_sub_blocks(stream: IO[bytes], limit: int) -> int:
    """Skip the sub-blocks of one extension; how many there were (up to ``limit + 1``)."""
    count = 0
    while count <= limit:
        size = stream.read(1)
        if not size or size == b"\x00":
            break
        stream.seek(size[0], io.SEEK_CUR)
        count += 1
    return count


def pnm_header_complete(head: bytes) -> bool:
    """Whether a Netpbm header (magic, sizes, maximum value) ends within ``head``.

    Whitespace and ``#`` comments may separate the fields; PBM (P1, P4) has
    no maximum value.
    """
    needed = 2 if head[1:2] in (b"1", b"4") else 3
    position, tokens = 2, 0
    while tokens < needed:
        position = _match_end(_PNM_WHITESPACE, head, position)
        if position >= len(head):
            return False
        if head[position : position + 1] == b"#":
            ends = [i for i in (head.find(b"\n", position), head.find(b"\r", position)) if i >= 0]
            if not ends:
                return False
            position = min(ends) + 1
            continue
        position = _match_end(_PNM_TOKEN, head, position)
        if position >= len(head):
            return False
        tokens += 1
    return True


def _match_end(pattern: re.Pattern[bytes], data: bytes, position: int) -> int:
    """Where a run of ``pattern`` starting at ``position`` ends."""
    match = pattern.match(data, position)
    return position if match is None else match.end()
