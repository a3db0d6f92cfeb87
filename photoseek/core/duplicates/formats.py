"""Which files are camera originals and which are conversions, by extension.

Two rules of the duplicate finder need it: a camera RAW and the JPEG (or
HEIF) it was shot with are one photo (:mod:`.siblings`), and when copies
are otherwise equal the original format is kept (:mod:`.keeprule`). The
extension decides, as a photographer's tools do (a ``.dng`` is a RAW though
its content is a TIFF); a file with an extension not listed falls back to
the format sniffed from its content.
"""

from __future__ import annotations

import os
from pathlib import PurePath
from typing import Final

__all__ = [
    "CAMERA_JPEG",
    "CONVERTED",
    "JPEG_EXTENSIONS",
    "RAW",
    "RAW_EXTENSIONS",
    "extension",
    "format_rank",
    "is_jpeg_or_heif",
    "is_raw",
]

RAW_EXTENSIONS: Final = frozenset(
    {
        ".3fr",  # Hasselblad
        ".ari",  # ARRI
        ".arw",  # Sony
        ".bay",  # Casio
        ".cr2",  # Canon
        ".cr3",
        ".crw",
        ".dcr",  # Kodak
        ".dng",  # Adobe, Leica, Pentax, phones
        ".erf",  # Epson
        ".fff",  # Hasselblad
        ".iiq",  # Phase One
        ".k25",  # Kodak
        ".kdc",
        ".mef",  # Mamiya
        ".mos",  # Leaf
        ".mrw",  # Minolta
        ".nef",  # Nikon
        ".nrw",
        ".orf",  # Olympus / OM System
        ".pef",  # Pentax
        ".raf",  # Fujifilm
        ".raw",  # Panasonic, Leica
        ".rw2",  # Panasonic
        ".rwl",  # Leica
        ".sr2",  # Sony
        ".srf",
        ".srw",  # Samsung
        ".x3f",  # Sigma
    }
)
"""Extensions of camera RAW files (lower case, with the dot)."""

JPEG_EXTENSIONS: Final = frozenset({".jpg", ".jpeg", ".jpe", ".jfif", ".heic", ".heif", ".hif"})
"""What a camera writes beside (or instead of) a RAW: JPEG and HEIF."""

RAW, CAMERA_JPEG, CONVERTED = 0, 1, 2
"""Format ranks, best first: the keep rule prefers the lower."""

_SNIFFED_RANK: Final = {"raw": RAW, "jpeg": CAMERA_JPEG, "heif": CAMERA_JPEG}


def extension(path: bytes | str | os.PathLike[str]) -> str:
    """The lower-case extension of ``path`` (``".jpg"``), or ``""``."""
    return PurePath(os.fsdecode(path)).suffix.lower()


def is_raw(path: bytes | str | os.PathLike[str]) -> bool:
    """Whether the file's extension is a camera RAW's."""
    return extension(path) in RAW_EXTENSIONS


def is_jpeg_or_heif(path: bytes | str | os.PathLike[str]) -> bool:
    """Whether the file's extension is a JPEG's or a HEIF's."""
    return extension(path) in JPEG_EXTENSIONS


def format_rank(path: bytes | str | os.PathLike[str], sniffed: str | None) -> int:
    """:data:`RAW`, :data:`CAMERA_JPEG` or :data:`CONVERTED` (PNG, TIFF, WebP, GIF, BMP, other).

    By the extension; by the sniffed format (``"jpeg"``...) when the
    extension is neither a RAW's nor a JPEG's or HEIF's and the content is.
    """
    ext = extension(path)
    if ext in RAW_EXTENSIONS:
        return RAW
    if ext in JPEG_EXTENSIONS:
        return CAMERA_JPEG
    return _SNIFFED_RANK.get(sniffed or "", CONVERTED)
