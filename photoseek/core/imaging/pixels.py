"""Normalise decoded pixels and shape them: 8-bit RGB, upright, model-sized, thumbnails.

:func:`to_rgb` composites transparency on white and scales high bit depths
(16-bit, 32-bit integer, float) to 8 bits; :func:`apply_orientation` rotates
or flips an image as its EXIF orientation tag says; :func:`fit_for_model`
crops images of extreme aspect ratio before the model's transform;
:func:`make_thumbnail` shrinks an image for display.

These helpers see pixels from hostile files, so every failure that is not a
caller's mistake (a ``ValueError`` for an invalid argument) becomes an
:class:`~photoseek.core.errors.ImageError`. Memory stays proportional to the
image: high depths are scaled in blocks of rows, and no step keeps more than
one full-size intermediate copy besides its input.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TypeVar

from PIL import Image

from photoseek.core.errors import ImageError
from photoseek.core.lazyimport import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = [
    "MAX_MODEL_ASPECT",
    "apply_orientation",
    "fit_for_model",
    "make_thumbnail",
    "orientation_fix",
    "thumbnail_size",
    "to_rgb",
]

logger = logging.getLogger(__name__)

MAX_MODEL_ASPECT: Final = 10.0
"""Long side over short side above which :func:`fit_for_model` crops (10 : 1)."""

_WHITE: Final = (255, 255, 255)
_HIGH_DEPTH_MODES: Final = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
_ALPHA_MODES: Final = frozenset({"RGBA", "LA", "PA", "La", "RGBa"})
_BLOCK_PIXELS: Final = 1 << 20  # high-depth scaling works on ~1 MP of rows at a time
_THUMBNAIL_REDUCING_GAP: Final = 2.0  # Pillow's own default for Image.thumbnail

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

_T = TypeVar("_T")


def _guarded(what: str, step: Callable[[], _T]) -> _T:
    """Run one pixel step; any failure becomes an :class:`ImageError` about ``what``."""
    try:
        return step()
    except ImageError:
        raise
    except MemoryError:
        raise ImageError(f"out of memory while {what}") from None
    except Exception as exc:
        logger.debug("%s failed", what, exc_info=True)
        raise ImageError(f"cannot process pixels while {what}: {type(exc).__name__}") from exc


# --------------------------------------------------------------------------- modes


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB; transparency is composited on white.

    Returns ``im`` itself when it already is RGB. Raises :class:`ImageError`
    for modes that cannot be converted or when memory runs out.
    """
    if im.mode == "RGB":
        return im
    return _guarded("converting colours", lambda: _convert(im))


def _convert(im: Image.Image) -> Image.Image:
    """The conversion behind :func:`to_rgb`, exceptions untranslated."""
    if im.mode in _HIGH_DEPTH_MODES:
        return _high_depth_to_rgb(im)
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        return _flatten_on_white(im)
    try:
        return im.convert("RGB")
    except ValueError:
        raise ImageError(f"unsupported pixel mode {im.mode}") from None


def _flatten_on_white(im: Image.Image) -> Image.Image:
    """Composite an image with alpha (or a transparent colour) on white.

    Pasting with the alpha band as mask gives the same pixels as
    ``alpha_composite`` on an opaque white layer with one copy less.
    """
    rgba = im.convert("RGBA")
    flat = Image.new("RGB", rgba.size, _WHITE)
    flat.paste(rgba, (0, 0), rgba)
    return flat


def _high_depth_to_rgb(im: Image.Image) -> Image.Image:
    """Scale 16-bit, 32-bit integer or float grey levels to 8-bit RGB."""
    values = np.asarray(im)
    if values.ndim != 2:
        raise ImageError(f"unsupported pixel layout for mode {im.mode}")
    rows = max(1, _BLOCK_PIXELS // max(1, values.shape[1]))
    blocks = [slice(start, start + rows) for start in range(0, values.shape[0], rows)]
    scale, offset = _byte_scale(values, blocks, sixteen_bit=im.mode.startswith("I;16"))
    grey = np.empty(values.shape, dtype=np.uint8)
    for block in blocks:
        data = _finite(values[block])
        grey[block] = np.clip(np.rint((data - offset) * scale), 0, 255)
    return Image.fromarray(grey).convert("RGB")


def _finite(values: np.ndarray) -> np.ndarray:
    """Values as float64 with NaN and infinities read as 0."""
    return np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)


def _byte_scale(
    values: np.ndarray, blocks: list[slice], *, sixteen_bit: bool
) -> tuple[float, float]:
    """``(scale, offset)`` mapping grey values to 0..255: by their nominal range
    when it is known (8 bit, 16 bit, float 0..1), otherwise by the image's own
    min..max (NaN and infinities count as 0)."""
    if sixteen_bit:
        return 1 / 257.0, 0.0
    low, high = _value_range(values, blocks)
    is_float = values.dtype.kind == "f"
    if is_float and low >= 0.0 and high <= 1.0:
        return 255.0, 0.0
    if not is_float and low >= 0 and high <= 255:
        return 1.0, 0.0
    if not is_float and low >= 0 and high <= 65535:
        return 1 / 257.0, 0.0
    if high <= low:
        return 0.0, 0.0
    return 255.0 / (high - low), low


def _value_range(values: np.ndarray, blocks: list[slice]) -> tuple[float, float]:
    """The smallest and largest value, NaN and infinities read as 0."""
    low, high = math.inf, -math.inf
    for block in blocks:
        data = _finite(values[block])
        low, high = min(low, float(data.min())), max(high, float(data.max()))
    return low, high


# --------------------------------------------------------------------------- geometry


def apply_orientation(im: Image.Image, exif: Image.Exif | None) -> tuple[Image.Image, bool]:
    """Rotate/flip ``im`` upright per EXIF; returns it and whether w/h swapped.

    Broken, unreadable or out-of-range orientation values leave the image as
    it is; running out of memory raises :class:`ImageError`.
    """
    orientation = _orientation(exif)
    if orientation is None:
        return im, False
    try:
        upright = im.transpose(_ORIENTATION_FIX[orientation])
    except MemoryError:
        raise ImageError("out of memory while rotating") from None
    except Exception:
        logger.debug("EXIF orientation %d not applied", orientation, exc_info=True)
        return im, False
    return upright, orientation >= 5


def orientation_fix(orientation: int) -> Image.Transpose | None:
    """The transpose that shows a picture of EXIF ``orientation`` upright (None: 1 or unknown)."""
    return _ORIENTATION_FIX.get(orientation)


def _orientation(exif: Image.Exif | None) -> int | None:
    """The EXIF orientation that needs a transpose (2-8), or ``None``."""
    if exif is None:
        return None
    try:
        orientation = exif.get(_TAG_ORIENTATION)
    except Exception:
        logger.debug("unreadable EXIF orientation ignored", exc_info=True)
        return None
    if isinstance(orientation, int) and orientation in _ORIENTATION_FIX:
        return orientation
    if orientation not in (None, 1):
        logger.debug("ignoring invalid EXIF orientation %r", orientation)
    return None


def fit_for_model(image: Image.Image, max_aspect: float = MAX_MODEL_ASPECT) -> Image.Image:
    """Center-crop an image more elongated than ``max_aspect`` : 1 to exactly that.

    Returns ``image`` itself when it is within the ratio, else a crop that
    keeps the short side and the middle of the long side, whose long side is
    ``round(short * max_aspect)`` (at least 1).

    Why this changes nothing the model sees: open_clip's evaluation
    transform (``resize_mode="shortest"``, the default) resizes the short
    side to the model's input size and then center-crops a square, so only
    the central short x short square of the image ever reaches the model.
    A crop to ``max_aspect`` times the short side keeps that square plus a
    margin of ``(max_aspect - 1) / 2`` short sides on each end, far more than
    the resampling filter reaches (two source pixels per output pixel for
    bicubic), so the tensor is the same up to rounding at the crop. Without
    the crop, a 1 x 40,000,000 strip makes the resize ask for a
    224 x 8,960,000,000 image (``OverflowError``), and milder strips cost
    memory in proportion to their aspect. 10 : 1 is generous: phone
    panoramas (about 4-8 : 1) and equirectangular 360-degree photos (2 : 1)
    are never touched. (With ``resize_mode="longest"`` or ``"squash"`` the
    model sees the whole frame, so there a crop does change the view, but
    only of images beyond 10 : 1.)

    Raises ``ValueError`` if ``max_aspect`` is below 1, :class:`ImageError`
    if the crop fails.
    """
    if not max_aspect >= 1.0:
        raise ValueError(f"max_aspect must be at least 1, not {max_aspect}")
    width, height = image.size
    short, long = min(width, height), max(width, height)
    if short < 1 or long <= short * max_aspect:
        return image
    kept = max(1, min(long, round(short * max_aspect)))
    start = (long - kept) // 2
    box = (start, 0, start + kept, height) if width > height else (0, start, width, start + kept)
    return _guarded("cropping to the model's aspect", lambda: image.crop(box))


def thumbnail_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The size of a thumbnail of ``size`` that fits ``max_side`` x ``max_side``.

    Keeps the aspect ratio (each side at least 1 pixel) and never enlarges.
    """
    width, height = size
    long = max(width, height)
    if long <= max_side:
        return width, height
    scale = max_side / long
    return max(1, min(max_side, round(width * scale))), max(1, min(max_side, round(height * scale)))


def make_thumbnail(image: Image.Image, max_side: int) -> Image.Image:
    """Return an RGB copy shrunk to fit in ``max_side`` x ``max_side``.

    The aspect ratio is kept (a 1 x 40,000,000 strip gives 1 x ``max_side``)
    and the image is never enlarged; the input is left untouched. Raises
    ``ValueError`` if ``max_side`` is not positive, :class:`ImageError` when
    the pixels cannot be processed (out of memory, an unconvertible mode).
    """
    if max_side < 1:
        raise ValueError(f"max_side must be positive, not {max_side}")
    rgb = to_rgb(image)
    size = thumbnail_size(rgb.size, max_side)
    if size == rgb.size:
        return _guarded("making a thumbnail", rgb.copy) if rgb is image else rgb
    return _guarded(
        "making a thumbnail",
        lambda: rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=_THUMBNAIL_REDUCING_GAP),
    )
