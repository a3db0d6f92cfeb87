"""Identify file content from its first bytes; the name only tells RAW TIFFs apart.

:func:`identify` (and its shorthand :func:`sniff_format`) recognises the
raster containers that :mod:`photoseek.core.imaging.decode` may decode, and
camera RAW files (decoded by :mod:`photoseek.core.imaging.raw`);
:func:`describe_content` names the common non-image formats so that a
refusal can say what a file looks like.

Camera RAW is identified by content first: Canon CR2 (a TIFF with ``CR`` 2
at offset 8), CR3 (an ISO-BMFF ``ftyp`` of brand ``crx``) and CRW
(``HEAPCCDR``), Olympus ORF (``IIRO``/``IIRS``/``MMOR``), Panasonic/Leica
RW2 (``IIU``), Fujifilm RAF (``FUJIFILMCCD-RAW``), Minolta MRW (``MRM``),
Sigma X3F (``FOVb``) and DNG (a TIFF whose IFD0 holds the DNGVersion tag).
Most other RAW formats (NEF, ARW, PEF, SRW, NRW, SR2, 3FR, ERF, KDC, MOS,
IIQ, ...) are plain TIFF containers whose first image is often only a small
preview; for those, and only those, the file name decides: a TIFF signature
plus a RAW extension (:data:`RAW_TIFF_EXTENSIONS`) is RAW, a TIFF signature
with any other name is an ordinary TIFF. The extension never makes non-image
content an image, and a RAW named ``.tif`` that carries no RAW marker is
decoded as the TIFF it is.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import PurePath
from typing import Final

from photoseek.core.imaging.tiffinfo import TAG_DNG_VERSION, ReadAt, read_ifd0

__all__ = [
    "HEAD_BYTES",
    "RAW_TIFF_EXTENSIONS",
    "SIGNATURE_BYTES",
    "Sniffed",
    "describe_content",
    "identify",
    "sniff_format",
]

SIGNATURE_BYTES: int = 32
"""How many head bytes :func:`sniff_format` needs to recognise every format
(a DNG whose IFD0 lies further needs ``read_at`` or a longer head)."""

HEAD_BYTES: Final = 4096
"""What the decoder reads first: enough for every signature and most IFD0s."""

RAW_TIFF_EXTENSIONS: Final[dict[str, str]] = {
    ".nef": "NEF", ".nrw": "NRW",  # Nikon
    ".arw": "ARW", ".srf": "SRF", ".sr2": "SR2",  # Sony
    ".pef": "PEF",  # Pentax
    ".srw": "SRW",  # Samsung
    ".3fr": "3FR", ".fff": "FFF",  # Hasselblad
    ".erf": "ERF",  # Epson
    ".kdc": "KDC", ".dcr": "DCR", ".dcs": "DCS", ".k25": "K25",  # Kodak
    ".mef": "MEF",  # Mamiya
    ".mos": "MOS",  # Leaf
    ".iiq": "IIQ", ".cap": "CAP", ".eip": "EIP",  # Phase One
    ".rwl": "RWL", ".raw": "RAW",  # Leica, Panasonic
    ".mrw": "MRW", ".orf": "ORF", ".rw2": "RW2",  # usually told by content
    ".dng": "DNG", ".cr2": "CR2", ".gpr": "GPR",  # DNG-based or told by content
}  # fmt: skip
"""Lower-case extensions of camera RAW files that may be plain TIFF containers,
with the name shown to the user."""

_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"heif"}
)
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
_GENERIC_HEIF_BRANDS: Final = frozenset({b"mif1", b"msf1", b"mif2", b"miaf"})
_BMP_HEADER_SIZES: Final = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_JP2_SIGNATURE: Final = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_TIFF_SIGNATURES: Final = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_KINDS: Final = {"jp2": "JPEG 2000", "heif": "HEIF"}

# RAW formats told by a fixed prefix (not TIFF signatures).
_RAW_PREFIXES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"IIRO", "ORF"),
    (b"IIRS", "ORF"),
    (b"MMOR", "ORF"),
    (b"IIU\x00", "RW2"),
    (b"FUJIFILMCCD-RAW", "RAF"),
    (b"\x00MRM", "MRW"),
    (b"FOVb", "X3F"),
)


@dataclass(frozen=True)
class Sniffed:
    """What :func:`identify` found.

    ``format`` is the decoder family (``"jpeg"``, ..., ``"raw"``); ``kind``
    names the file type for the user: ``"JPEG"``, ``"PNG"``, or for RAW the
    camera format (``"NEF"``, ``"DNG"``, ``"CR2"``, ...).
    """

    format: str
    kind: str


def identify(head: bytes, name: str = "", read_at: ReadAt | None = None) -> Sniffed | None:
    """Identify the file from its first bytes (and, for RAW TIFFs, its name).

    ``head`` is the start of the file (at least :data:`SIGNATURE_BYTES`;
    :data:`HEAD_BYTES` lets most DNGs be told from their head alone).
    ``name`` is the file name, used only to tell a RAW TIFF container from
    an ordinary TIFF. ``read_at(offset, size)`` reads further into the file
    when IFD0 lies beyond ``head``; without it only ``head`` is searched.
    Returns ``None`` when the bytes are no supported raster image nor RAW.
    """
    raw = _sniff_raw(head, name, read_at or _reader_of(head))
    if raw is not None:
        return Sniffed("raw", raw)
    fmt = _sniff_container(head)
    return None if fmt is None else Sniffed(fmt, _KINDS.get(fmt, fmt.upper()))


def sniff_format(head: bytes, name: str = "", read_at: ReadAt | None = None) -> str | None:
    """Return the format recognised from the file's first bytes (see :func:`identify`).

    ``head`` should hold at least :data:`SIGNATURE_BYTES` bytes (fewer only for
    tiny files). Returns one of ``'jpeg'``, ``'png'``, ``'gif'``, ``'webp'``,
    ``'tiff'``, ``'bmp'``, ``'jp2'``, ``'pnm'``, ``'heif'``, ``'avif'``,
    ``'ico'``, ``'raw'`` (camera RAW), or ``None`` when the bytes are not a
    supported image.
    """
    found = identify(head, name, read_at)
    return None if found is None else found.format


def _sniff_container(head: bytes) -> str | None:
    """The raster container (not RAW) named by the first bytes."""
    checks = (_sniff_simple, _sniff_bmp, _sniff_pnm, _sniff_isobmff, _sniff_ico)
    for check in checks:
        found = check(head)
        if found is not None:
            return found
    return None


def _reader_of(data: bytes) -> ReadAt:
    """A ``read_at`` over bytes already in memory."""
    return lambda offset, size: data[offset : offset + size]


def _sniff_raw(head: bytes, name: str, read_at: ReadAt) -> str | None:
    """The RAW kind ("CR2", "NEF", ...) of the file, or ``None`` if it is no RAW."""
    for prefix, kind in _RAW_PREFIXES:
        if head.startswith(prefix):
            return kind
    if head[4:8] == b"ftyp" and head[8:12] == b"crx ":
        return "CR3"
    if head[:2] == b"II" and head[6:14] == b"HEAPCCDR":
        return "CRW"
    if head[:4] not in _TIFF_SIGNATURES:
        return None
    if head[:4] == b"II*\x00" and head[8:12] == b"CR\x02\x00":
        return "CR2"
    label = RAW_TIFF_EXTENSIONS.get(PurePath(name).suffix.lower()) if name else None
    if _has_dng_version(head, read_at):
        return label if label == "GPR" else "DNG"
    return label


def _has_dng_version(head: bytes, read_at: ReadAt) -> bool:
    """Whether IFD0 holds the DNGVersion tag (0xC612)."""
    entries = read_ifd0(head, read_at)
    return entries is not None and TAG_DNG_VERSION in entries


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
    if head[:4] in _TIFF_SIGNATURES:
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
