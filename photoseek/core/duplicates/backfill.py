"""Perceptual hashes for photos indexed before there were any (catalogs before schema v5).

The indexer hashes every photo it decodes; photos indexed earlier have no
hash until the duplicate finder asks. Each is hashed from its cached
256-pixel thumbnail when there is one (about 1 ms; within 4 bits of 64 of the
hash the indexer makes from the full decode, 0.2 bits on average), else from
its file through the core's safe decoder, in JPEG draft mode at 128 pixels
or more (within 2 bits). Work runs in a small pool of threads (Pillow lets go
of Python's lock while it decodes), reports progress and honours a cancel
event between photos. A file that cannot be decoded any more just stays
without a hash (logged): the pHash test then does not apply to it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

from photoseek.core.duplicates.phash import phash_image
from photoseek.core.errors import Cancelled, ImageError
from photoseek.core.imaging.thumbnails import ThumbnailCache
from photoseek.core.progress import Phase, Progress, ProgressCallback

__all__ = ["FILE_MIN_SIDE", "hash_missing"]

log = logging.getLogger(__name__)

FILE_MIN_SIDE: Final = 128
"""Draft-mode decodes of a file keep at least this many pixels on the short side."""

_REPORT_EVERY: Final = 32


def hash_missing(
    missing: Sequence[tuple[str, Path]],
    thumbnails: ThumbnailCache,
    *,
    workers: int = 2,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, int]:
    """The pHash of each (fingerprint, file) in ``missing`` that could be made, by fingerprint.

    Raises :class:`Cancelled` when ``cancel`` is set.
    """
    cancel = cancel or threading.Event()
    total = len(missing)
    made: dict[str, int] = {}
    if not total:
        return made
    log.info("making the perceptual hashes of %d photos indexed before there were any", total)
    report = on_progress or _ignore
    report(Progress(Phase.HASHING, 0, total))

    def one(job: tuple[str, Path]) -> tuple[str, int | None]:
        if cancel.is_set():
            return job[0], None
        return job[0], _hash_one(job[0], job[1], thumbnails)

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="phash") as pool:
        for done, (fingerprint, value) in enumerate(pool.map(one, missing), start=1):
            if cancel.is_set():
                pool.shutdown(cancel_futures=True)
                raise Cancelled("the duplicate search was cancelled")
            if value is not None:
                made[fingerprint] = value
            if done % _REPORT_EVERY == 0 or done == total:
                report(Progress(Phase.HASHING, done, total))
    return made


def _hash_one(fingerprint: str, path: Path, thumbnails: ThumbnailCache) -> int | None:
    """From the cached thumbnail if there is one, else from the file; None if neither decodes."""
    from photoseek.core.imaging.decode import decode_image  # Pillow: not at the app's start

    thumbnail = thumbnails.path_for(fingerprint)
    try:
        if thumbnail.is_file():
            try:
                return phash_image(decode_image(thumbnail).image)
            except ImageError as exc:  # a damaged cache file: the photo itself still works
                log.debug("thumbnail %s unusable for a hash: %s", thumbnail, exc.reason)
        return phash_image(decode_image(path, min_side=FILE_MIN_SIDE).image)
    except ImageError as exc:
        log.info("no perceptual hash for %s: %s", path, exc.reason)
    except Exception as exc:  # one photo never stops the search
        log.warning("no perceptual hash for %s: %s: %s", path, type(exc).__name__, exc)
    return None


def _ignore(_progress: Progress) -> None:
    """No one listens."""
