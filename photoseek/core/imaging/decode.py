"""Safe decoding of one image (a file or its bytes) into an RGB :class:`PIL.Image.Image`.

Every file on a user's disk is treated as hostile. :func:`decode_image` (a
path) and :func:`decode_image_data` (the bytes the caller already read, so
that what is fingerprinted is exactly what is decoded) share one flow that

* refuses anything that is not a regular file (FIFOs and devices are never
  opened in a blocking way: :func:`open_regular_file`),
* identifies the content by its magic bytes (:func:`identify`), never by the
  file name (which only tells a camera-RAW TIFF from an ordinary TIFF), and
  lets only the matching Pillow plugin parse it; camera RAW goes to rawpy
  (:mod:`photoseek.core.imaging.raw`: the embedded preview, whose JPEG comes
  back through this module's JPEG path, or a half-size decode),
* checks the declared pixel count and the file's structure (JPEG scans, TIFF
  strips, icon frames: :mod:`photoseek.core.imaging.limits`) before any
  pixel is decoded,
* treats a truncated file as an error (``ImageFile.LOAD_TRUNCATED_IMAGES`` is
  never touched),
* turns every failure, whatever its type (``MemoryError``, ``RecursionError``
  and ``OverflowError`` included), into
  :class:`~photoseek.core.errors.ImageError` with a short reason meant for the
  user and, once the content was identified, its format and decoder tag.

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
:mod:`photoseek.core.imaging.limits` (costs checked before decoding),
:mod:`photoseek.core.imaging.pixels` (mode conversion, orientation, the
model's aspect guard, thumbnails) and :mod:`photoseek.core.imaging.exif` (EXIF
block and capture time). This module keeps the open/limits/draft flow,
plugin registration and failure reasons.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Final

from PIL import Image, UnidentifiedImageError

from photoseek.core.errors import ImageError
from photoseek.core.filekinds import file_kind
from photoseek.core.imaging.decoders import decoder_tag, unavailable_tag
from photoseek.core.imaging.exif import parse_exif_datetime, read_exif, taken_at
from photoseek.core.imaging.failures import raise_translated
from photoseek.core.imaging.limits import (
    check_dimensions,
    check_structure,
    stream_reader,
)
from photoseek.core.imaging.pixels import apply_orientation, fit_for_model, make_thumbnail, to_rgb
from photoseek.core.imaging.raw import decode_raw
from photoseek.core.imaging.sniffing import (
    HEAD_BYTES,
    SIGNATURE_BYTES,
    Sniffed,
    describe_content,
    identify,
    sniff_format,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "SIGNATURE_BYTES",
    "DecodedImage",
    "decode_image",
    "decode_image_data",
    "describe_content",
    "fit_for_model",
    "identify",
    "make_thumbnail",
    "open_regular_file",
    "parse_exif_datetime",
    "sniff_format",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS: int = 250_000_000
"""Decompression-bomb limit: images declaring more pixels are refused."""

_HINT_BYTES: Final = 512  # the bytes that describe a non-image

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
    ``decoder`` is the decoder tag (:func:`~photoseek.core.imaging.decoders.decoder_tag`)
    to store with the vector, such as ``"jpeg/1;prep/1;draft"``: ``draft`` is
    set only when draft mode actually made the image smaller.
    """

    image: Image.Image
    width: int
    height: int
    format: str
    taken_at: datetime | None
    decoder: str


# --------------------------------------------------------------------------- entry points


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
    file; ``ValueError`` only for invalid ``min_side`` or ``max_pixels``.
    """
    _check_arguments(min_side, max_pixels)
    try:
        source = Path(path)
        with open_regular_file(source) as handle:
            return _decode_stream(handle, source.name, min_side, max_pixels)
    except Exception as exc:
        raise_translated(exc, max_pixels, None, path)


def decode_image_data(
    data: bytes,
    *,
    name: str = "",
    min_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> DecodedImage:
    """Decode an image from its bytes, exactly as :func:`decode_image` decodes a file.

    ``name`` (the file name) is only used to tell a camera-RAW TIFF (``.nef``,
    ``.arw``, ...) from an ordinary TIFF; ``min_side`` and ``max_pixels`` are
    as for :func:`decode_image`. The bytes are not copied.

    Raises :class:`ImageError` for every problem with the content;
    ``ValueError`` only for invalid ``min_side`` or ``max_pixels``.
    """
    _check_arguments(min_side, max_pixels)
    try:
        return _decode_stream(io.BytesIO(data), name, min_side, max_pixels)
    except Exception as exc:
        raise_translated(exc, max_pixels, None, name)


def open_regular_file(path: Path) -> IO[bytes]:
    """Open ``path`` for binary reading, refusing anything but a regular file.

    The mode is checked with ``stat`` first, so FIFOs and devices are never
    opened; the descriptor is then opened non-blocking and checked again with
    ``fstat`` in case the path was swapped in between. Every failure (a
    vanished file, no permission, a folder, a name with a NUL byte, ...)
    raises :class:`ImageError` with a short reason; the original exception
    is its ``__cause__``.
    """
    try:
        return _open_regular(Path(path))
    except Exception as exc:
        raise_translated(exc, DEFAULT_MAX_PIXELS, None, path)


def _check_arguments(min_side: int | None, max_pixels: int) -> None:
    """Raise ``ValueError`` for invalid decoding arguments (a caller's mistake)."""
    if min_side is not None and min_side < 1:
        raise ValueError(f"min_side must be positive, not {min_side}")
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, not {max_pixels}")


def _open_regular(path: Path) -> IO[bytes]:
    """:func:`open_regular_file` without the translation of failures."""
    kind = file_kind(path.stat().st_mode)
    if kind != "regular":
        raise ImageError(f"not a regular file ({kind})")
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags | getattr(os, "O_NOCTTY", 0))
    try:
        kind = file_kind(os.fstat(fd).st_mode)
        if kind != "regular":
            raise ImageError(f"not a regular file ({kind})")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# --------------------------------------------------------------------------- the flow


def _decode_stream(
    stream: IO[bytes], name: str, min_side: int | None, max_pixels: int
) -> DecodedImage:
    """Sniff and decode a seekable stream; failures after sniffing carry the format."""
    head = stream.read(HEAD_BYTES)
    sniffed = identify(head, name, stream_reader(stream))
    if sniffed is None:
        raise ImageError(_not_an_image_reason(head[:_HINT_BYTES]))
    try:
        return _decode_identified(stream, head, sniffed, min_side, max_pixels)
    except Exception as exc:
        raise_translated(exc, max_pixels, sniffed.format, name)


def _decode_identified(
    stream: IO[bytes], head: bytes, sniffed: Sniffed, min_side: int | None, max_pixels: int
) -> DecodedImage:
    """Check the structure, open with the one allowed plugin and decode."""
    fmt = sniffed.format
    if fmt == "raw":
        return _decode_raw(stream, sniffed.kind, min_side, max_pixels)
    check_structure(fmt, stream, head, max_pixels)
    pil_formats = _pil_formats_for(fmt)
    stream.seek(0)
    try:
        with Image.open(stream, formats=pil_formats) as im:
            return _decode_opened(im, fmt, min_side, max_pixels)
    except UnidentifiedImageError:
        raise ImageError(f"truncated or corrupt: invalid {sniffed.kind} header") from None


def _decode_raw(
    stream: IO[bytes], kind: str, min_side: int | None, max_pixels: int
) -> DecodedImage:
    """A camera RAW through rawpy (:mod:`photoseek.core.imaging.raw`)."""
    stream.seek(0)
    try:
        picture = decode_raw(stream.read(), kind, min_side, max_pixels, _decode_embedded_jpeg)
    except ImageError as exc:
        if exc.unsupported:  # rawpy is missing: examined again once it is there
            raise _unavailable("raw", exc.reason) from None
        raise
    tag = decoder_tag("raw", flags=(picture.source,))
    return DecodedImage(picture.image, picture.width, picture.height, "raw", picture.taken_at, tag)


def _decode_embedded_jpeg(data: bytes, min_side: int | None, max_pixels: int) -> DecodedImage:
    """A JPEG preview embedded in a RAW, through the JPEG path only (never a RAW again)."""
    head = data[:HEAD_BYTES]
    sniffed = identify(head)
    if sniffed is None or sniffed.format != "jpeg":
        raise ImageError("the embedded preview is not a JPEG")
    try:
        return _decode_identified(io.BytesIO(data), head, sniffed, min_side, max_pixels)
    except Exception as exc:
        raise_translated(exc, max_pixels, "jpeg", "an embedded preview")


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


def _decode_opened(
    im: Image.Image, fmt: str, min_side: int | None, max_pixels: int
) -> DecodedImage:
    """Check the size, decode the first frame and normalise an opened image."""
    width, height = im.size
    check_dimensions(width, height, max_pixels)
    im.seek(0)
    draft = _apply_draft(im, fmt, min_side)
    im.load()
    if not draft and im.size != (width, height):  # an icon frame can differ from its directory
        width, height = im.size
        check_dimensions(width, height, max_pixels)
    exif = read_exif(im)
    rgb = to_rgb(im)
    upright, swapped = apply_orientation(rgb, exif)
    if swapped:
        width, height = height, width
    if upright is im:
        upright = im.copy()  # detach from the file handle
    return DecodedImage(upright, width, height, fmt, taken_at(exif), decoder_tag(fmt, draft=draft))


def _apply_draft(im: Image.Image, fmt: str, min_side: int | None) -> bool:
    """Let libjpeg decode a JPEG at reduced scale; whether it made the image smaller."""
    if fmt != "jpeg" or min_side is None:
        return False
    before = im.size
    im.draft("RGB", (min_side, min_side))
    return im.size != before


# --------------------------------------------------------------------------- plugins


def _pil_formats_for(fmt: str) -> list[str]:
    """Pillow plugin names allowed for ``fmt``; loads the plugins once."""
    _ensure_plugins()
    if fmt == "heif" and not _heif_opener_ready():
        raise _unavailable(fmt, "HEIC support not installed (pillow-heif)")
    if fmt == "avif" and "AVIF" not in Image.OPEN and not _heif_opener_ready():
        raise _unavailable(fmt, "AVIF support not installed (Pillow without AVIF, no pillow-heif)")
    return list(_PIL_FORMATS[fmt])


def _unavailable(fmt: str, reason: str) -> ImageError:
    """The error for a known format whose decoder this installation lacks."""
    return ImageError(reason, format=fmt, decoder=unavailable_tag(fmt), unsupported=True)


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
