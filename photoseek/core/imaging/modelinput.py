"""One image file as the model sees it: decoded as indexing decodes it, and fitted.

Used by the image queries (the searcher's "find similar" on a file, the
zero-shot classifier). The decoders, and Pillow with them, are imported by the
first call: the modules that use this one are imported before the app's
window shows, and Pillow costs about 35 ms.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image


def model_input(path: Path, min_side: int) -> Image.Image:
    """``path`` decoded (at least ``min_side`` pixels on the short side where it has them)
    and fitted for the model's input; raises ``ImageError`` (or ``OSError``) when it cannot."""
    from photoseek.core.imaging.decode import decode_image
    from photoseek.core.imaging.pixels import fit_for_model

    return fit_for_model(decode_image(path, min_side=min_side).image)
