"""Make the grid thumbnails that are missing (a deleted cache, a failed save).

Thumbnails are a cache keyed by content: whatever is missing is made again
from the photo's file, by ``index`` (this pass) or on demand
(``Library.thumbnail``). A file that cannot be decoded any more just has no
thumbnail; that is logged, not recorded as a problem (the next scan sees
whether the file changed).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from photoseek.core.catalog.store import Catalog
from photoseek.core.imaging.thumbnails import DEFAULT_SIZE, ThumbnailCache
from photoseek.core.progress import Phase, Progress

log = logging.getLogger(__name__)

_REPORT_EVERY = 16


def rebuild_missing_thumbnails(
    catalog: Catalog,
    thumbnails: ThumbnailCache,
    workers: int,
    cancel: threading.Event | None = None,
) -> Iterator[Progress]:
    """Make every missing grid thumbnail; yields THUMBNAILS progress when there are any."""
    try:
        converted = thumbnails.migrate_legacy()  # cheap when there is nothing to convert
    except OSError as exc:
        log.warning("old thumbnails not converted: %s", exc)
    else:
        if converted:
            log.info("converted %d thumbnails of an earlier version", converted)
    present = thumbnails.present()
    missing = [(fp, path) for fp, path in catalog.thumbnail_sources().items() if fp not in present]
    if not missing:
        return
    log.info("making %d missing thumbnails", len(missing))
    done = 0
    yield Progress(Phase.THUMBNAILS, 0, len(missing))
    with ThreadPoolExecutor(workers, thread_name_prefix="thumbnail") as pool:
        for made in pool.map(lambda job: _make(thumbnails, job[0], job[1], cancel), missing):
            done += 1
            if done % _REPORT_EVERY == 0 or done == len(missing):
                yield Progress(Phase.THUMBNAILS, done, len(missing), current=str(made))
            if cancel is not None and cancel.is_set():
                pool.shutdown(cancel_futures=True)
                return


def _make(thumbnails: ThumbnailCache, fp: str, path: Path, cancel: threading.Event | None) -> Path:
    if cancel is not None and cancel.is_set():
        return path
    try:
        thumbnails.get_or_make(fp, path, DEFAULT_SIZE)
    except Exception as exc:  # one file never stops the pass
        log.warning("thumbnail of %s not made: %s", path, exc)
    return path
