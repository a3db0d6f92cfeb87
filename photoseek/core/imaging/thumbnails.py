"""Thumbnail disk cache, keyed by content fingerprint, written atomically.

A thumbnail is made from the image the indexer already decoded, so it costs
no second decode. Files live at ``<root>/<fp[:2]>/<fp>.jpg``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PIL import Image

from photoseek.core.imaging.decode import make_thumbnail

log = logging.getLogger(__name__)

THUMBNAIL_SIDE = 320
_QUALITY = 85


class ThumbnailCache:
    """Stores and finds thumbnails by fingerprint."""

    def __init__(self, root: Path, max_side: int = THUMBNAIL_SIDE) -> None:
        self.root = root
        self.max_side = max_side

    def path_for(self, fingerprint: str) -> Path:
        """Where the thumbnail of this content lives (it may not exist yet)."""
        return self.root / fingerprint[:2] / f"{fingerprint}.jpg"

    def exists(self, fingerprint: str) -> bool:
        """Whether a thumbnail of this content is cached."""
        return self.path_for(fingerprint).is_file()

    def save(self, fingerprint: str, image: Image.Image) -> Path:
        """Shrink ``image`` and store it atomically; return its path."""
        target = self.path_for(fingerprint)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}-{id(image)}")
        try:
            make_thumbnail(image, self.max_side).save(tmp, "JPEG", quality=_QUALITY)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target
