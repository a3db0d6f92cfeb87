"""Normalise decoded pixels: any Pillow mode to 8-bit RGB, upright.

:func:`to_rgb` composites transparency on white and scales high bit depths
(16-bit, 32-bit integer, float) to 8 bits; :func:`apply_orientation` rotates
or flips an image as its EXIF orientation tag says.
"""

from __future__ import annotations

import logging
from typing import Final

import numpy as np
from PIL import Image

from photoseek.core.errors import ImageError

logger = logging.getLogger(__name__)

_WHITE: Final = (255, 255, 255)
_HIGH_DEPTH_MODES: Final = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
_ALPHA_MODES: Final = frozenset({"RGBA", "LA", "PA", "La", "RGBa"})

# EXIF orientation -> the transpose that shows the picture upright.
_ORIENTATION_FIX: Final[dict[int, Image.Transpose]] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_TAG_ORIENTATION: Final = 0x0112


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB; transparency is composited on white."""
    if im.mode == "RGB":
        return im
    if im.mode in _HIGH_DEPTH_MODES:
        return _high_depth_to_rgb(im)
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        return _flatten_on_white(im)
    try:
        return im.convert("RGB")
    except ValueError:
        raise ImageError(f"unsupported pixel mode {im.mode}") from None


def _flatten_on_white(im: Image.Image) -> Image.Image:
    """Composite an image with alpha (or a transparent colour) on white."""
    rgba = im.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _high_depth_to_rgb(im: Image.Image) -> Image.Image:
    """Scale 16-bit, 32-bit integer or float grey levels to 8-bit RGB."""
    values = np.asarray(im)
    if values.ndim != 2:
        raise ImageError(f"unsupported pixel layout for mode {im.mode}")
    scaled = _scale_to_byte_range(values, sixteen_bit=im.mode.startswith("I;16"))
    grey = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def _scale_to_byte_range(values: np.ndarray, *, sixteen_bit: bool) -> np.ndarray:
    """Map grey values to 0..255: by their nominal range when it is known
    (8 bit, 16 bit, float 0..1), otherwise by the image's own min..max."""
    data = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(data.min()), float(data.max())
    if sixteen_bit:
        return data / 257.0
    if values.dtype.kind == "f" and low >= 0.0 and high <= 1.0:
        return data * 255.0
    if values.dtype.kind != "f" and low >= 0 and high <= 255:
        return data
    if values.dtype.kind != "f" and low >= 0 and high <= 65535:
        return data / 257.0
    if high <= low:
        return np.zeros_like(data)
    return (data - low) * (255.0 / (high - low))


def apply_orientation(im: Image.Image, exif: Image.Exif | None) -> tuple[Image.Image, bool]:
    """Rotate/flip ``im`` upright per EXIF; returns it and whether w/h swapped.

    Broken or out-of-range orientation values leave the image as it is.
    """
    orientation = exif.get(_TAG_ORIENTATION) if exif is not None else None
    if not isinstance(orientation, int) or orientation not in _ORIENTATION_FIX:
        if orientation not in (None, 1):
            logger.debug("ignoring invalid EXIF orientation %r", orientation)
        return im, False
    try:
        upright = im.transpose(_ORIENTATION_FIX[orientation])
    except Exception:
        logger.debug("EXIF orientation %d not applied", orientation, exc_info=True)
        return im, False
    return upright, orientation >= 5
