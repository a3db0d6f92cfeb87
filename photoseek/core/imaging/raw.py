"""Camera RAW through rawpy (LibRaw): the embedded preview when it is large enough, else half size.

A RAW file holds the sensor's data and, nearly always, a JPEG (or bitmap)
preview the camera developed. The model sees 224 pixels or so; the preview
has more than that in most files, and reading it costs a fraction of
developing the sensor data, so:

* **the preview** is used when its short side is at least what the caller
  needs: ``min_side`` (the model's input size while indexing, the
  thumbnail's size, the pane's size), or, when the caller wants the full
  picture (``min_side`` None: the viewer), at least a half-size decode's.
  A JPEG preview is decoded by photoseek's own JPEG path (structure checks,
  pixel limit, draft mode); a bitmap preview's size is checked before it is
  used. Orientation: a JPEG preview follows its own EXIF orientation (LibRaw
  gives a preview without EXIF one that carries the RAW's orientation); a
  preview without an orientation tag, and a bitmap preview, are turned by the
  RAW's (``sizes.flip``).
* **a half-size decode** otherwise: ``postprocess(half_size=True,
  use_camera_wb=True)`` takes each 2 x 2 block of the sensor as one pixel
  (no demosaicing), in the camera's white balance, and LibRaw turns it upright
  itself.

A broken preview is only a missing preview: the sensor data is decoded
instead. The capture time comes from the JPEG preview's EXIF when it has one
(LibRaw writes the RAW's date into the EXIF it gives a bare preview), else
from LibRaw (rawpy's ``other.timestamp``, which unpacks the sensor data
first: free after a half-size decode, a cost on the preview path).

**Hostile files.** LibRaw is a C++ library, so this module checks what it
can before LibRaw allocates or works: the sizes the header declares (the
sensor area and the visible image) against ``max_pixels``, with the same
rule as every other format (:func:`~photoseek.core.imaging.limits.check_dimensions`),
after ``open_buffer`` (which parses the header only) and before ``unpack``
and ``postprocess``; LibRaw itself refuses sizes past its own limits ("image
too big") and files shorter than their header says. Every LibRaw error
becomes an :class:`~photoseek.core.errors.ImageError` naming the camera
format. What this cannot prevent: a LibRaw bug that crashes or hangs on a
crafted file would take the process with it (decoding in a helper process
would contain that; see the README), and LibRaw writes a line of its own to
stderr for some truncated files.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from PIL import Image

from photoseek.core.errors import ImageError
from photoseek.core.imaging.limits import check_dimensions
from photoseek.core.imaging.pixels import orientation_fix, to_rgb

if TYPE_CHECKING:
    from photoseek.core.imaging.decode import DecodedImage

__all__ = ["HALF_SIZE", "PREVIEW", "JpegDecoder", "RawPicture", "decode_raw"]

log = logging.getLogger(__name__)

PREVIEW: Final = "preview"
"""How a picture was made: from the RAW's embedded preview."""

HALF_SIZE: Final = "half"
"""How a picture was made: a half-size decode of the sensor data."""

JpegDecoder = Callable[[bytes, int | None, int], "DecodedImage"]
"""Decodes a JPEG preview's bytes (``min_side``, ``max_pixels``) upright by its own EXIF."""

# LibRaw's flip (dcraw's bits: 4 transpose, 2 flip rows, 1 flip columns) -> EXIF orientation.
_FLIP_TO_ORIENTATION: Final = {0: 1, 1: 2, 3: 3, 2: 4, 4: 5, 6: 6, 7: 7, 5: 8}
_TAG_ORIENTATION: Final = 0x0112
_EPOCH_DAY: Final = datetime(1970, 1, 2)  # LibRaw's "no date" is 0 seconds since the epoch

_Sides = tuple[int | None, int, int]  # min_side (draft), needed (short side), max_pixels

_lock = threading.Lock()
_rawpy: ModuleType | None = None


@dataclass(frozen=True)
class RawPicture:
    """A RAW decoded: RGB and upright; ``width`` x ``height`` is the RAW's full size, upright."""

    image: Image.Image
    width: int
    height: int
    taken_at: datetime | None
    source: str  # PREVIEW or HALF_SIZE


def decode_raw(
    data: bytes,
    kind: str,
    min_side: int | None,
    max_pixels: int,
    decode_jpeg: JpegDecoder,
) -> RawPicture:
    """Decode a camera RAW's bytes (``kind`` names its format for messages: ``"NEF"``).

    Raises :class:`ImageError` for every problem with the file, with
    ``unsupported`` set when rawpy is missing.
    """
    rawpy = _load_rawpy()
    if rawpy is None:
        raise ImageError("camera RAW support not installed (rawpy)", unsupported=True)
    try:
        with rawpy.RawPy() as raw:
            raw.open_buffer(io.BytesIO(data))
            return _decode_opened(raw, kind, min_side, max_pixels, decode_jpeg)
    except rawpy.LibRawError as exc:
        raise ImageError(_libraw_reason(rawpy, exc, kind)) from exc


def _decode_opened(
    raw: Any, kind: str, min_side: int | None, max_pixels: int, decode_jpeg: JpegDecoder
) -> RawPicture:
    """Check the declared sizes, then use the preview or decode at half size."""
    sizes = raw.sizes
    check_dimensions(int(sizes.raw_width), int(sizes.raw_height), max_pixels)
    check_dimensions(int(sizes.width), int(sizes.height), max_pixels)
    orientation = _FLIP_TO_ORIENTATION.get(int(sizes.flip) & 7, 1)
    width, height = int(sizes.width), int(sizes.height)
    if orientation >= 5:
        width, height = height, width
    half_short = max(1, min(width, height) // 2)
    needed = half_short if min_side is None else min(min_side, half_short)
    preview = _preview(raw, kind, orientation, (min_side, needed, max_pixels), decode_jpeg)
    if preview is not None:
        image, taken = preview
        return RawPicture(image, width, height, taken or _taken_at(raw), PREVIEW)
    raw.unpack()  # apart from postprocess: its own error says why (truncated, corrupt)
    rgb = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
    image = to_rgb(Image.fromarray(rgb))  # upright: LibRaw applies the flip
    return RawPicture(image, width, height, _taken_at(raw), HALF_SIZE)


def _preview(
    raw: Any, kind: str, orientation: int, sides: _Sides, decode_jpeg: JpegDecoder
) -> tuple[Image.Image, datetime | None] | None:
    """The embedded preview, upright, if its short side reaches ``sides``' needed pixels,
    with the capture time its EXIF gives (a JPEG's)."""
    rawpy = _load_rawpy()
    assert rawpy is not None
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    except rawpy.LibRawError as exc:
        log.debug("the %s preview cannot be read: %s", kind, exc)
        return None
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            image = _jpeg_preview(bytes(thumb.data), orientation, sides, decode_jpeg)
        else:
            bitmap = _bitmap_preview(thumb.data, orientation, sides)
            image = None if bitmap is None else (bitmap, None)
    except ImageError as exc:
        if exc.reason.startswith("image too large"):
            raise  # a preview past the limit says what the file is: no fallback
        log.debug("the %s preview is unusable (%s): decoding the sensor data", kind, exc.reason)
        return None
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:  # an odd bitmap (layout, depth): the sensor data may be fine
        log.debug("the %s preview is unusable (%r): decoding the sensor data", kind, exc)
        return None
    return image


def _jpeg_preview(
    data: bytes, orientation: int, sides: _Sides, decode_jpeg: JpegDecoder
) -> tuple[Image.Image, datetime | None] | None:
    """A JPEG preview, decoded upright (in draft mode for ``min_side``) with its EXIF capture
    time, or ``None`` when it is too small.

    The capture time comes from the preview because rawpy reads the RAW's own
    (``other.timestamp``) only after unpacking the sensor data, which costs as
    much as the preview path saves; LibRaw gives a preview without EXIF an
    EXIF block with the RAW's orientation and date.
    """
    min_side, needed, max_pixels = sides
    decoded = decode_jpeg(data, min_side, max_pixels)
    if min(decoded.width, decoded.height) < needed:
        return None
    image = decoded.image
    if not _has_orientation_tag(data):
        image = _turn(image, orientation)
    return image, _plausible(decoded.taken_at)


def _bitmap_preview(pixels: Any, orientation: int, sides: _Sides) -> Image.Image | None:
    """A bitmap preview (an array of rows), upright, or ``None`` when it is too small."""
    _, needed, max_pixels = sides
    shape: tuple[int, ...] = tuple(getattr(pixels, "shape", ()))
    if len(shape) not in (2, 3):
        raise ImageError(f"unusable bitmap preview (shape {shape})")
    height, width = int(shape[0]), int(shape[1])
    check_dimensions(width, height, max_pixels)
    if min(width, height) < needed:
        return None
    image = to_rgb(Image.fromarray(pixels))
    return _turn(image, orientation)


def _turn(image: Image.Image, orientation: int) -> Image.Image:
    """``image`` turned upright for an EXIF ``orientation``."""
    fix = orientation_fix(orientation)
    return image if fix is None else image.transpose(fix)


def _has_orientation_tag(jpeg: bytes) -> bool:
    """Whether a JPEG's EXIF holds an orientation tag (any value)."""
    try:
        with Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as opened:
            return _TAG_ORIENTATION in opened.getexif()
    except Exception:
        return False


def _taken_at(raw: Any) -> datetime | None:
    """The capture time LibRaw read (naive local time), or ``None``.

    rawpy's ``other`` unpacks the sensor data first (60 ms for a 24 MP DNG,
    more for compressed RAW): read it after ``postprocess``, or when a
    preview has no date. Read before ``unpack``, it also makes LibRaw refuse
    the ``postprocess`` that follows ("out of order call").
    """
    try:
        stamp = raw.other.timestamp
    except Exception:  # an older rawpy without ``other``, or an unreadable date
        return None
    return _plausible(stamp if isinstance(stamp, datetime) else None)


def _plausible(stamp: datetime | None) -> datetime | None:
    """``stamp`` as naive time, unless it is LibRaw's "no date" (0 s after the epoch)."""
    if stamp is None or stamp.replace(tzinfo=None) < _EPOCH_DAY:
        return None
    return stamp.replace(tzinfo=None)


def _libraw_reason(rawpy: ModuleType, exc: Exception, kind: str) -> str:
    """A short reason for a LibRaw error."""
    message = exc.args[0] if exc.args else ""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    text = text.strip().rstrip(".") or type(exc).__name__
    if isinstance(exc, rawpy.LibRawFileUnsupportedError):
        return f"camera RAW ({kind}) not recognised by LibRaw: an unsupported camera or no RAW data"
    if isinstance(exc, rawpy.LibRawTooBigError):
        return f"camera RAW ({kind}) too large to decode ({text})"
    if isinstance(exc, rawpy.LibRawUnsufficientMemoryError | rawpy.LibRawMemPoolOverflowError):
        return "out of memory while decoding"
    if isinstance(exc, rawpy.LibRawIOError | rawpy.LibRawDataError):
        return f"truncated or corrupt camera RAW ({kind}): {text}"
    return f"cannot decode camera RAW ({kind}): {text}"


def _load_rawpy() -> ModuleType | None:
    """Import rawpy once; ``None`` when it is missing."""
    global _rawpy
    if _rawpy is not None:
        return _rawpy
    with _lock:
        if _rawpy is None:
            try:
                import rawpy
            except ImportError:
                log.info("rawpy is not installed: camera RAW files cannot be decoded")
                return None
            _rawpy = rawpy
    return _rawpy
