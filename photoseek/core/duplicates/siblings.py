"""A camera RAW and its JPEG (or HEIF) are one photo: never offered as duplicates.

Cameras set to RAW+JPEG write ``IMG_0042.CR2`` and ``IMG_0042.JPG`` side by
side; phones write ``.DNG`` beside ``.HEIC``. They look alike to every test
the duplicate finder has, and a user who keeps both wants both. Files of one
folder whose names differ only in the extension (compared case-insensitively)
form one *unit* when one of them is a RAW: the RAWs with the JPEG and HEIF
files (the rule is :func:`photoseek.core.imaging.pairs.pair_key`'s, which the
scanner follows too). A pair inside a unit is never a duplicate pair, and a
group is made of at least two units; when a unit is kept, all of its files
are.

Without a RAW, files of one stem stay apart (``photo.jpg`` and a
``photo.png`` converted from it are duplicates like any other).

By default the scanner indexes such a pair once, as its JPEG or HEIF, so
both files reach the duplicate finder only in a library set to index both
(``photoseek raw-pairs both``); the rule then keeps them together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from photoseek.core.imaging.pairs import pair_key
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
    by_stem: dict[tuple[str, str], list[int]] = {}
    has_raw: set[tuple[str, str]] = set()
    for row, path in enumerate(paths):
        key = pair_key(path)
        if key is None:
            continue
        folder, stem, raw = key
        by_stem.setdefault((folder, stem), []).append(row)
        if raw:
            has_raw.add((folder, stem))
    for stem_key, rows in by_stem.items():
        if len(rows) > 1 and stem_key in has_raw:
            units[rows] = rows[0]
    return units
