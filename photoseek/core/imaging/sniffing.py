"""Identify file content from its first bytes, never from the file name.

:func:`sniff_format` recognises the raster containers that
:mod:`photoseek.core.imaging.decode` may decode; :func:`describe_content` names the
common non-image formats so that a refusal can say what a file looks like.
"""

from __future__ import annotations

import struct
from typing import Final

SIGNATURE_BYTES: int = 32
"""How many head bytes :func:`sniff_format` needs to recognise every format."""

_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"heif"}
)
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
_GENERIC_HEIF_BRANDS: Final = frozenset({b"mif1", b"msf1", b"mif2", b"miaf"})
_BMP_HEADER_SIZES: Final = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_JP2_SIGNATURE: Final = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


def sniff_format(head: bytes) -> str | None:
    """Return the image container recognised from the file's first bytes.

    ``head`` should hold at least :data:`SIGNATURE_BYTES` bytes (fewer only for
    tiny files). Returns one of ``'jpeg'``, ``'png'``, ``'gif'``, ``'webp'``,
    ``'tiff'``, ``'bmp'``, ``'jp2'``, ``'pnm'``, ``'heif'``, ``'avif'``,
    ``'ico'``, or ``None`` when the bytes are not a supported raster image.
    """
    checks = (
        _sniff_simple,
        _sniff_bmp,
        _sniff_pnm,
        _sniff_isobmff,
        _sniff_ico,
    )
    for check in checks:
        found = check(head)
        if found is not None:
            return found
    return None


def _sniff_simple(head: bytes) -> str | None:
    """Formats identified by a fixed prefix."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head.startswith(_JP2_SIGNATURE) or head.startswith(b"\xff\x4f\xff\x51"):
        return "jp2"
    return None


def _sniff_bmp(head: bytes) -> str | None:
    """BMP: ``BM`` plus a known DIB header size, so text starting "BM" is no BMP."""
    if len(head) < 18 or head[:2] != b"BM":
        return None
    (dib_size,) = struct.unpack_from("<I", head, 14)
    return "bmp" if dib_size in _BMP_HEADER_SIZES else None


def _sniff_pnm(head: bytes) -> str | None:
    """Netpbm P1-P6 and PFM: ``P`` + kind + whitespace."""
    if len(head) >= 3 and head[:1] == b"P" and head[1:2] in b"123456f":
        return "pnm" if head[2:3] in b" \t\r\n" else None
    return None


def _sniff_isobmff(head: bytes) -> str | None:
    """HEIF and AVIF: an ISO-BMFF ``ftyp`` box whose brands name them."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    (box_size,) = struct.unpack_from(">I", head, 0)
    major = head[8:12]
    end = min(max(box_size, 16), len(head))
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    if major in _AVIF_BRANDS:
        return "avif"
    if major in _HEIF_BRANDS:
        return "heif"
    if compatible & _AVIF_BRANDS:
        return "avif"
    if major in _GENERIC_HEIF_BRANDS or compatible & _HEIF_BRANDS:
        return "heif"
    return None


def _sniff_ico(head: bytes) -> str | None:
    """Windows icon: reserved 0, type 1, a non-zero image count."""
    if len(head) >= 6 and head[:4] == b"\x00\x00\x01\x00" and head[4:6] != b"\x00\x00":
        return "ico"
    return None


def describe_content(data: bytes) -> str | None:
    """Guess what a non-image file is from its first bytes.

    Returns a short noun phrase ("text", "PDF", "ZIP", "HTML", "SVG vector
    drawing", "MP4/MOV video", "zero bytes", ...) or ``None`` if unknown.
    """
    if not data:
        return "empty file"
    if data.count(0) == len(data):
        return "zero bytes"
    for prefix, label in _KNOWN_PREFIXES:
        if data.startswith(prefix):
            return label
    if data[4:8] == b"ftyp":
        return "Canon CR3 raw" if data[8:12] == b"crx " else "MP4/MOV video"
    if data[:4] == b"RIFF":
        return {b"AVI ": "AVI video", b"WAVE": "WAV audio"}.get(data[8:12], "RIFF media")
    return _describe_text(data)


_KNOWN_PREFIXES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF", "PDF"),
    (b"%!PS", "PostScript"),
    (b"PK\x03\x04", "ZIP"),
    (b"PK\x05\x06", "ZIP"),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!", "RAR archive"),
    (b"8BPS", "Photoshop PSD"),
    (b"ID3", "MP3 audio"),
    (b"\x1aE\xdf\xa3", "Matroska/WebM video"),
    (b"FUJIFILMCCD-RAW", "Fujifilm raw"),
    (b"\x7fELF", "executable"),
    (b"MZ", "executable"),
    (b"SQLite format 3\x00", "SQLite database"),
)


def _describe_text(data: bytes) -> str | None:
    """Recognise text, and among text HTML, SVG and XML."""
    if b"\x00" in data:
        return None
    text = data.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n").lower()
    printable = sum(ch.isprintable() or ch in "\t\r\n" for ch in text)
    if not text or printable < 0.95 * len(text):
        return None
    if "<svg" in text:
        return "SVG vector drawing"
    if text.startswith(("<!doctype html", "<html")) or "<html" in text:
        return "HTML"
    if text.startswith("<?xml"):
        return "XML"
    return "text"
