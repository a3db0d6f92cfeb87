"""Which photo of a duplicate group to keep: the order of a group, first is kept.

The rule, in order:

1. the largest resolution (width x height): a resized copy loses;
2. the original format: a camera RAW, then HEIF or JPEG (what cameras and
   phones write), before a conversion (PNG, TIFF, WebP, GIF, BMP, other);
   see :func:`~photoseek.core.duplicates.formats.format_rank`;
3. the oldest: the date taken (EXIF), else the file's date (the catalog's
   sort date), then the file's modification time: the copy came later;
4. the path, so that the order never depends on the catalog's row order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from photoseek.core.duplicates.formats import format_rank

__all__ = ["KeepFacts", "keep_key"]


@dataclass(frozen=True)
class KeepFacts:
    """What the rule looks at for one photo."""

    path: bytes
    width: int | None
    height: int | None
    format: str | None
    sort_date: str
    mtime_ns: int


def keep_key(facts: KeepFacts) -> tuple[int, int, str, int, bytes]:
    """Sort key: the photo to keep sorts first (see the module docstring)."""
    pixels = (facts.width or 0) * (facts.height or 0)
    return (
        -pixels,
        format_rank(os.fsdecode(facts.path), facts.format),
        facts.sort_date or "\uffff",  # no date known: after every dated copy
        facts.mtime_ns,
        facts.path,
    )
