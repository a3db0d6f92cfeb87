"""Read EXIF metadata from an opened image: the block itself and the capture time.

Every EXIF value comes from the file and is untrusted: unreadable blocks,
blank or impossible dates all read as "absent", never as an error.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Final

from PIL import Image

logger = logging.getLogger(__name__)

_EXIF_IFD: Final = 0x8769
_TAG_DATETIME: Final = 0x0132
_TAG_DATETIME_ORIGINAL: Final = 0x9003
_TAG_DATETIME_DIGITIZED: Final = 0x9004
_MAX_DATE_CHARS: Final = 64  # a date is 19 characters; the rest of a huge value is ignored
_EXIF_DATE_RE: Final = re.compile(
    r"^\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?"
)


def read_exif(im: Image.Image) -> Image.Exif | None:
    """The image's EXIF, or ``None`` when it is absent or unreadable."""
    try:
        exif = im.getexif()
        return exif if len(exif) else None
    except Exception:
        logger.debug("unreadable EXIF ignored", exc_info=True)
        return None


def taken_at(exif: Image.Exif | None) -> datetime | None:
    """DateTimeOriginal, else DateTimeDigitized, else IFD0 DateTime.

    Unreadable tags or sub-IFDs (absurd offsets, wrong types) read as absent.
    """
    if exif is None:
        return None
    for value in _date_candidates(exif):
        parsed = parse_exif_datetime(value)
        if parsed is not None:
            return parsed
    return None


def _date_candidates(exif: Image.Exif) -> list[object]:
    """The raw date values in order of preference; unreadable ones are left out."""
    values: list[object] = []
    try:
        exif_ifd = exif.get_ifd(_EXIF_IFD)
        values += [exif_ifd.get(_TAG_DATETIME_ORIGINAL), exif_ifd.get(_TAG_DATETIME_DIGITIZED)]
    except Exception:
        logger.debug("unreadable EXIF sub-IFD ignored", exc_info=True)
    try:
        values.append(exif.get(_TAG_DATETIME))
    except Exception:
        logger.debug("unreadable EXIF DateTime ignored", exc_info=True)
    return values


def parse_exif_datetime(value: object) -> datetime | None:
    """Parse an EXIF date ("2021:07:04 18:30:05", bytes or str) to a naive datetime.

    Returns ``None`` for missing, blank ("    :  :  "), zero or impossible dates.
    """
    if isinstance(value, bytes):
        value = value[:_MAX_DATE_CHARS].decode("ascii", errors="replace")
    if not isinstance(value, str):
        return None
    match = _EXIF_DATE_RE.match(value[:_MAX_DATE_CHARS].replace("\x00", " "))
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
