"""The library's rule for a camera RAW beside its JPEG or HEIF: index the pair once, or both.

A camera set to RAW+JPEG writes ``IMG_0042.CR2`` beside ``IMG_0042.JPG``
(:mod:`photoseek.core.imaging.pairs`). By default (``one``) the pair is one
photo in the library, indexed as its JPEG or HEIF (cheaper to decode, and the
picture the photographer saw), with the RAW listed as its original; ``both``
indexes the RAW too, as a photo of its own.

**Where the setting lives, and why.** In the catalog's ``meta`` table
(:data:`RAW_PAIRS_KEY`), as a property of the library, not of a front end:
the scanner applies it, and every process that scans the library (``photoseek
index``, the watch service, the app's background worker) must apply the same
rule, or each run would undo the last one's (one would add the RAWs, the
next retire them). ``photoseek raw-pairs one|both`` sets it, ``photoseek
status`` shows it. A change applies at the next scan of each folder (the next
``index``, or the watch service's next reconciling rescan): going to ``both``
lists the RAWs as new photos; going back to ``one`` retires them like
vanished files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from photoseek.core.catalog.store import Catalog
from photoseek.core.errors import PhotoseekError
from photoseek.core.imaging.pairs import raw_originals
from photoseek.core.library.base import LibraryBase

__all__ = [
    "RAW_PAIRS_BOTH",
    "RAW_PAIRS_KEY",
    "RAW_PAIRS_MODES",
    "RAW_PAIRS_ONE",
    "RawPairOps",
    "raw_pairs_mode",
]

RAW_PAIRS_KEY: Final = "raw_pairs"
"""The catalog ``meta`` key of the setting."""

RAW_PAIRS_ONE: Final = "one"
"""Index a RAW+JPEG (or RAW+HEIF) pair once, as the JPEG or HEIF (the default)."""

RAW_PAIRS_BOTH: Final = "both"
"""Index the RAW of a pair too, as a photo of its own."""

RAW_PAIRS_MODES: Final = (RAW_PAIRS_ONE, RAW_PAIRS_BOTH)


def raw_pairs_mode(catalog: Catalog) -> str:
    """The setting stored in ``catalog``: :data:`RAW_PAIRS_ONE` unless it says ``both``."""
    stored = catalog.get_meta(RAW_PAIRS_KEY)
    return RAW_PAIRS_BOTH if stored == RAW_PAIRS_BOTH else RAW_PAIRS_ONE


class RawPairOps(LibraryBase):
    """Read and set how RAW+JPEG pairs are indexed."""

    def raw_pairs(self) -> str:
        """:data:`RAW_PAIRS_ONE` (the default) or :data:`RAW_PAIRS_BOTH`."""
        return raw_pairs_mode(self.catalog)

    def set_raw_pairs(self, mode: str) -> None:
        """Index pairs once (``"one"``) or both files (``"both"``), from the next scan on.

        Raises :class:`PhotoseekError` for another value; a small write, safe
        beside a running job (like a folder edit).
        """
        if mode not in RAW_PAIRS_MODES:
            raise PhotoseekError(f"RAW+JPEG pairs are indexed 'one' or 'both', not {mode!r}")
        self.catalog.set_meta(RAW_PAIRS_KEY, mode)

    def raw_original(self, photo_id: int) -> Path | None:
        """The camera RAW beside this photo (a JPEG or HEIF of its stem), if there is one.

        Lists the photo's folder (the pair lives on the disk, not in the
        catalog): call it from a worker thread. ``None`` also when the photo
        is unknown or its folder cannot be read.
        """
        photo = self.catalog.photos([photo_id]).get(photo_id)
        if photo is None or not photo.folder_available:
            return None
        return raw_originals([photo.path]).get(photo.path)
