"""Safe decoding of one image file into an RGB :class:`PIL.Image.Image`.

Every file on a user's disk is treated as hostile. :func:`decode_image`

* refuses anything that is not a regular file (FIFOs and devices are never
  opened in a blocking way),
* identifies the container by its magic bytes (:func:`sniff_format`), never
  by the file name, and lets only the matching Pillow plugin parse it,
* checks the declared pixel count before any pixel is decoded,
* treats a truncated file as an error (``ImageFile.LOAD_TRUNCATED_IMAGES`` is
  never touched),
* turns every failure into :class:`~photoseek.core.errors.ImageError` with a
  short reason meant for the user.

Decoded images are RGB, with the EXIF orientation applied, transparency
composited on white, high bit depths scaled to 8 bits and, for JPEG, reduced
by libjpeg's draft mode when the caller only needs ``min_side`` pixels.

Importing this module raises Pillow's global ``Image.MAX_IMAGE_PIXELS`` to
``DEFAULT_MAX_PIXELS`` (unless it was disabled or set higher) so that Pillow's
own decompression-bomb check, which runs inside ``Image.open``, does not
reject legitimate panoramas below our limit. Pillow raises
``DecompressionBombError`` above twice that value; it becomes an ``ImageError``
too. The module never touches ``warnings`` filters (process-global, not
thread-safe); all functions are safe to call from several threads.

The work is shared with sibling modules, whose public names are re-exported
here: :mod:`photoseek.core.imaging.sniffing` (magic bytes, describing non-images),
:mod:`photoseek.core.imaging.pixels` (mode conversion, orientation) and
:mod:`photoseek.core.imaging.exif` (EXIF block and capture time). This module
keeps the open/limits/draft flow, plugin registration, failure reasons and
thumbnails.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import struct
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Final

from PIL import Image, UnidentifiedImageError

from photoseek.core.errors import ImageError
from photoseek.core.imaging.exif import parse_exif_datetime, read_exif, taken_at
from photoseek.core.imaging.pixels import apply_orientation, to_rgb
from photoseek.core.imaging.sniffing import SIGNATURE_BYTES, describe_content, sniff_format

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "SIGNATURE_BYTES",
    "DecodedImage",
    "decode_image",
    "describe_content",
    "make_thumbnail",
    "parse_exif_datetime",
    "sniff_format",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS: int = 250_000_000
"""Decompression-bomb limit: images declaring more pixels are refused."""

_HINT_BYTES: Final = 512  # read at once; the extra bytes describe non-images
_MAX_REASON: Final = 160

# Sniffed container -> the only Pillow plugin(s) allowed to parse it.
_PIL_FORMATS: Final[dict[str, tuple[str, ...]]] = {
    "jpeg": ("JPEG",),
    "png": ("PNG",),
    "gif": ("GIF",),
    "webp": ("WEBP",),
    "tiff": ("TIFF",),
    "bmp": ("BMP",),
    "jp2": ("JPEG2000",),
    "pnm": ("PPM",),
    "heif": ("HEIF",),
    "avif": ("AVIF",),
    "ico": ("ICO",),
}

_BOMB_PIXELS_RE: Final = re.compile(r"\((\d+) pixels\)")

# Everything Pillow's plugins and decoders are known to raise on bad input.
_DECODE_ERRORS: Final = (
    ValueError,
    SyntaxError,
    struct.error,
    EOFError,
    TypeError,
    IndexError,
    KeyError,
    ZeroDivisionError,
    OverflowError,
    RuntimeError,
    AssertionError,
)

_plugin_lock = threading.Lock()
_plugins_ready = False
_heif_available: bool | None = None

if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < DEFAULT_MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class DecodedImage:
    """A decoded photo, ready for thumbnails and the embedder.

    ``image`` is RGB, upright, fully loaded and detached from the file; it may
    be smaller than ``width`` x ``height`` when JPEG draft mode was used.
    ``width``/``height`` are the full-resolution size after orientation.
    ``taken_at`` is the EXIF capture time as naive local time, or ``None``.
    """

    image: Image.Image
    width: int
    height: int
    format: str
    taken_at: datetime | None


# --------------------------------------------------------------------------- decoding


def decode_image(
    path: Path, *, min_side: int | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> DecodedImage:
    """Decode one image file safely.

    ``min_side``: the caller needs at most this many pixels on the short side;
    JPEGs are then decoded at 1/2, 1/4 or 1/8 scale as long as both sides stay
    at least ``min_side`` (so the short side does, whatever the rotation).
    ``max_pixels``: images declaring more pixels are refused before decoding
    (Pillow's own limit of ``2 * Image.MAX_IMAGE_PIXELS`` still applies above).

    Raises :class:`ImageError` with a short reason for every problem with the
    file; ``ValueError`` only for invalid arguments.
    """
    if min_side is not None and min_side < 1:
        raise ValueError(f"min_side must be positive, not {min_side}")
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, not {max_pixels}")
    try:
        return _decode(Path(path), min_side, max_pixels)
    except ImageError:
        raise
    except MemoryError:
        raise ImageError("out of memory while decoding") from None
    except Exception as exc:
        reason = _reason_for(exc, max_pixels)
        logger.debug("cannot decode %s: %s", path, reason, exc_info=True)
        raise ImageError(reason) from exc


def _decode(path: Path, min_side: int | None, max_pixels: int) -> DecodedImage:
    """Open, sniff and decode; exceptions are translated by the caller."""
    with _open_regular_file(path) as handle:
        data = handle.read(_HINT_BYTES)
        fmt = sniff_format(data[:SIGNATURE_BYTES])
        if fmt is None:
            raise ImageError(_not_an_image_reason(data))
        pil_formats = _pil_formats_for(fmt)
        handle.seek(0)
        try:
            with Image.open(handle, formats=pil_formats) as im:
                return _decode_opened(im, fmt, min_side, max_pixels)
        except UnidentifiedImageError:
            raise ImageError(f"truncated or corrupt: invalid {fmt.upper()} header") from None


def _open_regular_file(path: Path) -> IO[bytes]:
    """Open ``path`` for reading, refusing anything but a regular file.

    The mode is checked with ``stat`` first, so FIFOs and devices are never
    opened; the descriptor is then opened non-blocking and checked again with
    ``fstat`` in case the path was swapped in between.
    """
    kind = _file_kind(path.stat().st_mode)
    if kind != "regular":
        raise ImageError(f"not a regular file ({kind})")
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags | getattr(os, "O_NOCTTY", 0))
    try:
        kind = _file_kind(os.fstat(fd).st_mode)
        if kind != "regular":
            raise ImageError(f"not a regular file ({kind})")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _file_kind(mode: int) -> str:
    """Name the file type in ``mode`` ("regular", "folder", "fifo", ...)."""
    kinds = (
        (stat.S_ISREG, "regular"),
        (stat.S_ISDIR, "folder"),
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    )
    for test, name in kinds:
        if test(mode):
            return name
    return "unknown type"


def _not_an_image_reason(data: bytes) -> str:
    """The reason given for content that is no supported image."""
    if not data:
        return "empty file"
    looks_like = describe_content(data)
    if looks_like is None:
        return "not an image (unrecognised content)"
    if looks_like == "zero bytes":
        return "not an image (only zero bytes)"
    return f"not an image (looks like {looks_like})"


def _pil_formats_for(fmt: str) -> list[str]:
    """Pillow plugin names allowed for ``fmt``; loads the plugins once."""
    _ensure_plugins()
    if fmt == "heif" and not _heif_opener_ready():
        raise ImageError("HEIC support not installed (pillow-heif)")
    if fmt == "avif" and "AVIF" not in Image.OPEN and not _heif_opener_ready():
        raise ImageError("AVIF support not installed (Pillow without AVIF, no pillow-heif)")
    return list(_PIL_FORMATS[fmt])


def _ensure_plugins() -> None:
    """Import all of Pillow's plugins once, under a lock (``Image.init``)."""
    global _plugins_ready
    if _plugins_ready:
        return
    with _plugin_lock:
        if not _plugins_ready:
            Image.init()
            _plugins_ready = True


def _heif_opener_ready() -> bool:
    """Register pillow-heif's HEIF (and, if Pillow lacks it, AVIF) opener once."""
    global _heif_available
    if _heif_available is not None:
        return _heif_available
    with _plugin_lock:
        if _heif_available is None:
            _heif_available = _register_heif()
    return _heif_available


def _register_heif() -> bool:
    """Try to import and register pillow-heif; ``False`` when it is missing."""
    try:
        import pillow_heif
    except ImportError:
        logger.info("pillow-heif is not installed: HEIC/HEIF files cannot be decoded")
        return False
    try:
        pillow_heif.register_heif_opener()
        if "AVIF" not in Image.OPEN and hasattr(pillow_heif, "register_avif_opener"):
            pillow_heif.register_avif_opener()
    except Exception:
        logger.warning("pillow-heif could not be registered", exc_info=True)
        return False
    return True


def _decode_opened(
    im: Image.Image, fmt: str, min_side: int | None, max_pixels: int
) -> DecodedImage:
    """Check the size, decode the first frame and normalise an opened image."""
    width, height = im.size
    _check_dimensions(width, height, max_pixels)
    im.seek(0)
    if fmt == "jpeg" and min_side is not None:
        im.draft("RGB", (min_side, min_side))
    im.load()
    exif = read_exif(im)
    rgb = to_rgb(im)
    upright, swapped = apply_orientation(rgb, exif)
    if swapped:
        width, height = height, width
    if upright is im:
        upright = im.copy()  # detach from the file handle
    return DecodedImage(upright, width, height, fmt, taken_at(exif))


def _check_dimensions(width: int, height: int, max_pixels: int) -> None:
    """Refuse empty images and decompression bombs before decoding."""
    if width <= 0 or height <= 0:
        raise ImageError(f"image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise ImageError(
            f"image too large: {width}x{height} pixels (limit {_megapixels(max_pixels)})"
        )


def _megapixels(pixels: int) -> str:
    """``250_000_000`` -> ``"250 MP"``."""
    return f"{pixels / 1e6:.0f} MP" if pixels >= 1_000_000 else f"{pixels} pixels"


# --------------------------------------------------------------------------- errors


def _reason_for(exc: Exception, max_pixels: int) -> str:
    """A short, user-facing reason for an exception raised while decoding."""
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return _bomb_reason(exc, max_pixels)
    if isinstance(exc, FileNotFoundError):
        return "file vanished before it could be read"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(exc, OSError) and exc.errno is not None:
        return _short(f"read error: {exc.strerror or exc}")
    if isinstance(exc, (OSError, *_DECODE_ERRORS)):
        return _short(f"truncated or corrupt: {exc or type(exc).__name__}")
    return _short(f"cannot decode: {type(exc).__name__}: {exc}")


def _bomb_reason(exc: Exception, max_pixels: int) -> str:
    """Reason for Pillow's decompression-bomb error (or warning turned error)."""
    match = _BOMB_PIXELS_RE.search(str(exc))
    pil_limit = Image.MAX_IMAGE_PIXELS
    limit = max_pixels if pil_limit is None else min(max_pixels, 2 * pil_limit)
    if match is None:
        return f"image too large (limit {_megapixels(limit)})"
    return f"image too large: {_megapixels(int(match.group(1)))} (limit {_megapixels(limit)})"


def _short(text: str) -> str:
    """Cut a reason to one short line."""
    line = " ".join(text.split())
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 1] + "…"


# --------------------------------------------------------------------------- thumbnails


def make_thumbnail(image: Image.Image, max_side: int) -> Image.Image:
    """Return an RGB copy shrunk to fit in ``max_side`` x ``max_side``.

    The aspect ratio is kept and the image is never enlarged; the input is left
    untouched. Raises ``ValueError`` if ``max_side`` is not positive.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be positive, not {max_side}")
    rgb = to_rgb(image)
    thumb = rgb.copy() if rgb is image else rgb
    thumb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return thumb
