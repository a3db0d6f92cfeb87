"""Which files are camera originals and which are conversions, by extension.

Two rules of the duplicate finder need it: a camera RAW and the JPEG (or
HEIF) it was shot with are one photo (:mod:`.siblings`), and when copies
are otherwise equal the original format is kept (:mod:`.keeprule`). The
extension decides, as a photographer's tools do (a ``.dng`` is a RAW though
its content is a TIFF); a file with an extension not listed falls back to
the format sniffed from its content. The extensions, and the rule that
pairs a RAW with its JPEG, live in :mod:`photoseek.core.imaging.pairs`
(the scanner uses them too).
"""

from __future__ import annotations

import os
from typing import Final

from photoseek.core.imaging.pairs import DEVELOPED_EXTENSIONS, RAW_EXTENSIONS, extension

__all__ = [
    "CAMERA_JPEG",
    "CONVERTED",
    "JPEG_EXTENSIONS",
    "RAW",
    "RAW_EXTENSIONS",
    "format_rank",
]

JPEG_EXTENSIONS: Final = DEVELOPED_EXTENSIONS
"""What a camera writes beside (or instead of) a RAW: JPEG and HEIF."""

RAW, CAMERA_JPEG, CONVERTED = 0, 1, 2
"""Format ranks, best first: the keep rule prefers the lower."""

_SNIFFED_RANK: Final = {"raw": RAW, "jpeg": CAMERA_JPEG, "heif": CAMERA_JPEG}


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
