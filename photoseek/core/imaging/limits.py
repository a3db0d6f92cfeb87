"""Limits on what a file may cost to decode, checked before any pixel is decoded.

Pillow bounds the pixel count of the images it opens (photoseek raises its
threshold to ``max_pixels``, see :mod:`photoseek.core.imaging.decode`) but
not every other cost, so these checks run on the raw bytes first (the
counting is done by :mod:`photoseek.core.imaging.structure`):

* **Pixels** (:func:`check_dimensions`): ``width x height`` against
  ``max_pixels``; a row also costs Pillow an 8-byte pointer besides its
  pixels (4 bytes each in RGB), so strips narrower than 3 pixels are counted
  as 3 wide. A 1 x 40,000,000 PNG (about 0.5 GB decoded) passes, a
  1 x 250,000,000 one (3 GB in L, 5 GB on the way to RGB) does not.
* **JPEG scans** (:data:`MAX_JPEG_SCANS`): libjpeg decodes every scan of a
  progressive JPEG over the whole image, so a few kilobytes of repeated
  scans make a small file take minutes (1,000 extra scans of 31 bytes on a
  16 MP image: 16 s). Encoders write about 10.
* **TIFF strips and tiles** (:data:`MAX_TIFF_CHUNKS`): Pillow builds one
  Python object per strip or tile and decodes each separately; a 1 x
  1,000,000 TIFF of one-row strips (an 8 MB file) took 10 s and 400 MB.
* **Pieces parsed in Python**: Pillow reads JPEG segments and the bytes
  between them, PNG chunks, GIF blocks and Netpbm headers one piece at a
  time, at 0.1-0.5 microseconds per byte of such a file (a 5 MB run of JPEG
  fill bytes: 2.6 s; 400,000 empty PNG chunks: 2.8 s; 500,000 empty JPEG
  segments: 1 s and 75 MB). :data:`MAX_JPEG_SEGMENTS`,
  :data:`MAX_JPEG_JUNK`, :data:`MAX_PNG_CHUNKS`, :data:`MAX_GIF_BLOCKS` and
  :data:`MAX_PNM_HEADER` keep that near a second at most, far above what
  any encoder writes.
* **ICO frames**: the frame Pillow decodes may be an embedded PNG of any
  size, whatever the icon directory says; each embedded PNG's declared size
  is checked against ``max_pixels``.

Every check raises :class:`~photoseek.core.errors.ImageError` with a short
reason, and reads through a seekable binary stream it leaves wherever.
"""

from __future__ import annotations

import struct
from typing import IO, Final

from photoseek.core.errors import ImageError
from photoseek.core.imaging import structure
from photoseek.core.imaging.tiffinfo import ReadAt, read_ifd0, tiff_chunk_count

__all__ = [
    "MAX_GIF_BLOCKS",
    "MAX_JPEG_JUNK",
    "MAX_JPEG_SCANS",
    "MAX_JPEG_SEGMENTS",
    "MAX_PNG_CHUNKS",
    "MAX_PNM_HEADER",
    "MAX_TIFF_CHUNKS",
    "check_dimensions",
    "check_structure",
    "megapixels",
    "pixel_cost",
    "stream_reader",
]

MAX_JPEG_SCANS: Final = 100
"""Start-of-scan markers a JPEG may hold (libjpeg's progressive mode writes 10)."""

MAX_JPEG_SEGMENTS: Final = 65_536
"""Marker segments before a JPEG's first scan (cameras write about 10-30)."""

MAX_JPEG_JUNK: Final = 65_536
"""Fill and stray bytes between a JPEG's segments before its first scan."""

MAX_PNG_CHUNKS: Final = 262_144
"""Chunks in a PNG: 2 GB of image data in libpng's 8 KB chunks is 250,000."""

MAX_GIF_BLOCKS: Final = 262_144
"""Extension blocks, sub-blocks and stray bytes before a GIF's first image."""

MAX_PNM_HEADER: Final = 65_536
"""Bytes within which a Netpbm header (magic, sizes, maximum value) must end."""

MAX_TIFF_CHUNKS: Final = 262_144
"""Strips or tiles IFD0 may declare: a 65,536-row image with one row per strip
and 4 separate colour planes has this many; tiles of 256 x 256 over 250 MP
need under 4,000."""

_MIN_ROW_PIXELS: Final = 3  # a row pointer (8 bytes) costs as much as 2 RGB(X) pixels
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_MAX_ICO_ENTRIES: Final = 0xFFFF


def pixel_cost(width: int, height: int) -> int:
    """What an image costs in memory, in pixels (see the module docstring)."""
    return max(width, _MIN_ROW_PIXELS) * height


def check_dimensions(width: int, height: int, max_pixels: int) -> None:
    """Refuse empty images and images costing more than ``max_pixels``."""
    if width <= 0 or height <= 0:
        raise ImageError(f"image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise ImageError(
            f"image too large: {width}x{height} pixels (limit {megapixels(max_pixels)})"
        )
    cost = pixel_cost(width, height)
    if cost > max_pixels:
        raise ImageError(
            f"image too large: {width}x{height} pixels, as costly as {megapixels(cost)} "
            f"(limit {megapixels(max_pixels)})"
        )


def megapixels(pixels: int) -> str:
    """``250_000_000`` -> ``"250 MP"``."""
    return f"{pixels / 1e6:.0f} MP" if pixels >= 1_000_000 else f"{pixels} pixels"


def check_structure(fmt: str, stream: IO[bytes], head: bytes, max_pixels: int) -> None:
    """Run the structural checks that apply to format ``fmt``.

    ``head`` is the start of the file as already read from ``stream``.
    """
    if fmt == "jpeg":
        _check_jpeg(stream)
    elif fmt == "png":
        _check_count(structure.png_chunks(stream, MAX_PNG_CHUNKS), MAX_PNG_CHUNKS, "PNG chunks")
    elif fmt == "gif":
        blocks = structure.gif_blocks_before_image(stream, MAX_GIF_BLOCKS)
        _check_count(blocks, MAX_GIF_BLOCKS, "GIF blocks before the image")
    elif fmt == "pnm":
        _check_pnm_header(stream)
    elif fmt == "tiff":
        _check_tiff_chunks(head, stream_reader(stream))
    elif fmt == "ico":
        _check_ico_frames(head, stream_reader(stream), max_pixels)


def stream_reader(stream: IO[bytes]) -> ReadAt:
    """A ``read_at(offset, size)`` over a seekable stream; far offsets read nothing."""

    def read_at(offset: int, size: int) -> bytes:
        if offset < 0 or size <= 0 or offset > 1 << 62:
            return b""
        stream.seek(offset)
        return stream.read(size)

    return read_at


def _check_count(count: int, limit: int, what: str) -> None:
    """Refuse a file holding more than ``limit`` of ``what``."""
    if count > limit:
        raise ImageError(f"too many {what} (over {limit:,}): too slow to decode safely")


def _check_jpeg(stream: IO[bytes]) -> None:
    """Bound a JPEG's scans, header segments and stray bytes."""
    if structure.jpeg_scan_markers(stream, MAX_JPEG_SCANS) > MAX_JPEG_SCANS:
        raise ImageError(f"JPEG has more than {MAX_JPEG_SCANS} scans (too slow to decode safely)")
    segments, junk = structure.jpeg_header_pieces(stream, MAX_JPEG_SEGMENTS, MAX_JPEG_JUNK)
    _check_count(segments, MAX_JPEG_SEGMENTS, "JPEG segments")
    _check_count(junk, MAX_JPEG_JUNK, "stray bytes between JPEG segments")


def _check_pnm_header(stream: IO[bytes]) -> None:
    """Refuse a Netpbm file whose header does not end within :data:`MAX_PNM_HEADER` bytes."""
    stream.seek(0)
    head = stream.read(MAX_PNM_HEADER)
    if len(head) == MAX_PNM_HEADER and not structure.pnm_header_complete(head):
        raise ImageError(f"PNM header longer than {MAX_PNM_HEADER:,} bytes (comments or spaces)")


def _check_tiff_chunks(head: bytes, read_at: ReadAt) -> None:
    """Refuse a TIFF whose IFD0 declares more than :data:`MAX_TIFF_CHUNKS` strips or tiles."""
    entries = read_ifd0(head, read_at)
    if entries is None:
        return  # Pillow reports the broken header
    chunks = tiff_chunk_count(entries)
    if chunks > MAX_TIFF_CHUNKS:
        raise ImageError(
            f"TIFF split into too many strips or tiles ({chunks:,}; limit {MAX_TIFF_CHUNKS:,})"
        )


def _check_ico_frames(head: bytes, read_at: ReadAt, max_pixels: int) -> None:
    """Refuse an icon holding an embedded PNG that declares too many pixels."""
    if len(head) < 6:
        return
    (count,) = struct.unpack_from("<H", head, 4)
    directory = read_at(6, min(count, _MAX_ICO_ENTRIES) * 16)
    for start in range(0, len(directory) - 15, 16):
        (offset,) = struct.unpack_from("<I", directory, start + 12)
        frame = read_at(offset, 24)
        if frame.startswith(_PNG_SIGNATURE) and frame[12:16] == b"IHDR":
            width, height = struct.unpack_from(">II", frame, 16)
            if width and height:  # an empty frame is Pillow's to report, if it picks it
                check_dimensions(width, height, max_pixels)
