"""A camera RAW and its JPEG (or HEIF) are one photo: never offered as duplicates.

Cameras set to RAW+JPEG write ``IMG_0042.CR2`` and ``IMG_0042.JPG`` side by
side; phones write ``.DNG`` beside ``.HEIC``. They look alike to every test
the duplicate finder has, and a user who keeps both wants both. Files of one
folder whose names differ only in the extension (compared case-insensitively)
form one *unit* when one of them is a RAW: the RAWs with the JPEG and HEIF
files. A pair inside a unit is never a duplicate pair, and a group is made
of at least two units; when a unit is kept, all of its files are.

Without a RAW, files of one stem stay apart (``photo.jpg`` and a
``photo.png`` converted from it are duplicates like any other).

The core's decoder refuses camera RAW for now (recorded as "not supported
yet"), so RAW files are not indexed and this rule waits for a RAW decoder;
the unit tests exercise it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from photoseek.core.duplicates.formats import JPEG_EXTENSIONS, RAW_EXTENSIONS
from photoseek.core.lazyimport import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:
    np = lazy_module("numpy")

__all__ = ["photo_units"]


def photo_units(paths: Sequence[bytes]) -> npt.NDArray[np.int64]:
    """The unit of each path (paths as the catalog stores them: bytes).

    Returns, per path, the index of the first path of its unit: its own
    index unless it is a RAW or a JPEG/HEIF that shares folder and stem with
    a RAW.
    """
    units = np.arange(len(paths), dtype=np.int64)
    by_stem: dict[tuple[bytes, bytes], list[int]] = {}
    for row, path in enumerate(paths):
        ext = _extension(path)
        if ext in RAW_EXTENSIONS or ext in JPEG_EXTENSIONS:
            stem = path[: len(path) - len(ext)] if ext else path
            by_stem.setdefault((_folder(path), stem.lower()), []).append(row)
    for rows in by_stem.values():
        if len(rows) > 1 and any(_extension(paths[r]) in RAW_EXTENSIONS for r in rows):
            units[rows] = rows[0]
    return units


def _extension(path: bytes) -> str:
    dot = path.rfind(b".")
    if dot <= path.rfind(os.sep.encode()) + 1:  # no dot in the name, or a leading one
        return ""
    return path[dot:].lower().decode("ascii", "replace")


def _folder(path: bytes) -> bytes:
    return path[: path.rfind(os.sep.encode()) + 1]
