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

import numpy as np
from PIL import Image, UnidentifiedImageError

from photoseek.core.errors import ImageError

logger = logging.getLogger(__name__)

SIGNATURE_BYTES: int = 32
"""How many head bytes :func:`sniff_format` needs to recognise every format."""

DEFAULT_MAX_PIXELS: int = 250_000_000
"""Decompression-bomb limit: images declaring more pixels are refused."""

_HINT_BYTES: Final = 512  # read at once; the extra bytes describe non-images
_MAX_REASON: Final = 160
_WHITE: Final = (255, 255, 255)

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

_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"heif"}
)
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
_GENERIC_HEIF_BRANDS: Final = frozenset({b"mif1", b"msf1", b"mif2", b"miaf"})
_BMP_HEADER_SIZES: Final = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_JP2_SIGNATURE: Final = b"\x00\x00\x00\x0cjP  \r\n\x87\n"

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
_EXIF_IFD: Final = 0x8769
_TAG_ORIENTATION: Final = 0x0112
_TAG_DATETIME: Final = 0x0132
_TAG_DATETIME_ORIGINAL: Final = 0x9003
_TAG_DATETIME_DIGITIZED: Final = 0x9004
_EXIF_DATE_RE: Final = re.compile(
    r"^\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?"
)

_HIGH_DEPTH_MODES: Final = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
_ALPHA_MODES: Final = frozenset({"RGBA", "LA", "PA", "La", "RGBa"})
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


# --------------------------------------------------------------------------- sniffing


def sniff_format(head: bytes) -> str | None:
    """Return the image container recognised from the file's first bytes.

    ``head`` should hold at least :data:`SIGNATURE_BYTES` bytes (fewer only for
    tiny files). Returns one of ``'jpeg'``, ``'png'``, ``'gif'``, ``'webp'``,
    ``'tiff'``, ``'bmp'``, ``'jp2'``, ``'pnm'``, ``'heif'``, ``'avif'``,
    ``'ico'``, or ``None`` when the bytes are not a supported raster image.
    """
    checks = (
        _sniff_simple,
        _sniff_bmp,
        _sniff_pnm,
        _sniff_isobmff,
        _sniff_ico,
    )
    for check in checks:
        found = check(head)
        if found is not None:
            return found
    return None


def _sniff_simple(head: bytes) -> str | None:
    """Formats identified by a fixed prefix."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head.startswith(_JP2_SIGNATURE) or head.startswith(b"\xff\x4f\xff\x51"):
        return "jp2"
    return None


def _sniff_bmp(head: bytes) -> str | None:
    """BMP: ``BM`` plus a known DIB header size, so text starting "BM" is no BMP."""
    if len(head) < 18 or head[:2] != b"BM":
        return None
    (dib_size,) = struct.unpack_from("<I", head, 14)
    return "bmp" if dib_size in _BMP_HEADER_SIZES else None


def _sniff_pnm(head: bytes) -> str | None:
    """Netpbm P1-P6 and PFM: ``P`` + kind + whitespace."""
    if len(head) >= 3 and head[:1] == b"P" and head[1:2] in b"123456f":
        return "pnm" if head[2:3] in b" \t\r\n" else None
    return None


def _sniff_isobmff(head: bytes) -> str | None:
    """HEIF and AVIF: an ISO-BMFF ``ftyp`` box whose brands name them."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    (box_size,) = struct.unpack_from(">I", head, 0)
    major = head[8:12]
    end = min(max(box_size, 16), len(head))
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    if major in _AVIF_BRANDS:
        return "avif"
    if major in _HEIF_BRANDS:
        return "heif"
    if compatible & _AVIF_BRANDS:
        return "avif"
    if major in _GENERIC_HEIF_BRANDS or compatible & _HEIF_BRANDS:
        return "heif"
    return None


def _sniff_ico(head: bytes) -> str | None:
    """Windows icon: reserved 0, type 1, a non-zero image count."""
    if len(head) >= 6 and head[:4] == b"\x00\x00\x01\x00" and head[4:6] != b"\x00\x00":
        return "ico"
    return None


def describe_content(data: bytes) -> str | None:
    """Guess what a non-image file is from its first bytes.

    Returns a short noun phrase ("text", "PDF", "ZIP", "HTML", "SVG vector
    drawing", "MP4/MOV video", "zero bytes", ...) or ``None`` if unknown.
    """
    if not data:
        return "empty file"
    if data.count(0) == len(data):
        return "zero bytes"
    for prefix, label in _KNOWN_PREFIXES:
        if data.startswith(prefix):
            return label
    if data[4:8] == b"ftyp":
        return "Canon CR3 raw" if data[8:12] == b"crx " else "MP4/MOV video"
    if data[:4] == b"RIFF":
        return {b"AVI ": "AVI video", b"WAVE": "WAV audio"}.get(data[8:12], "RIFF media")
    return _describe_text(data)


_KNOWN_PREFIXES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF", "PDF"),
    (b"%!PS", "PostScript"),
    (b"PK\x03\x04", "ZIP"),
    (b"PK\x05\x06", "ZIP"),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!", "RAR archive"),
    (b"8BPS", "Photoshop PSD"),
    (b"ID3", "MP3 audio"),
    (b"\x1aE\xdf\xa3", "Matroska/WebM video"),
    (b"FUJIFILMCCD-RAW", "Fujifilm raw"),
    (b"\x7fELF", "executable"),
    (b"MZ", "executable"),
    (b"SQLite format 3\x00", "SQLite database"),
)


def _describe_text(data: bytes) -> str | None:
    """Recognise text, and among text HTML, SVG and XML."""
    if b"\x00" in data:
        return None
    text = data.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n").lower()
    printable = sum(ch.isprintable() or ch in "\t\r\n" for ch in text)
    if not text or printable < 0.95 * len(text):
        return None
    if "<svg" in text:
        return "SVG vector drawing"
    if text.startswith(("<!doctype html", "<html")) or "<html" in text:
        return "HTML"
    if text.startswith("<?xml"):
        return "XML"
    return "text"


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
    exif = _read_exif(im)
    rgb = _to_rgb(im)
    upright, swapped = _apply_orientation(rgb, exif)
    if swapped:
        width, height = height, width
    if upright is im:
        upright = im.copy()  # detach from the file handle
    return DecodedImage(upright, width, height, fmt, _taken_at(exif))


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


# --------------------------------------------------------------------------- modes


def _to_rgb(im: Image.Image) -> Image.Image:
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


# --------------------------------------------------------------------------- EXIF


def _read_exif(im: Image.Image) -> Image.Exif | None:
    """The image's EXIF, or ``None`` when it is absent or unreadable."""
    try:
        exif = im.getexif()
    except Exception:
        logger.debug("unreadable EXIF ignored", exc_info=True)
        return None
    return exif if len(exif) else None


def _apply_orientation(im: Image.Image, exif: Image.Exif | None) -> tuple[Image.Image, bool]:
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


def _taken_at(exif: Image.Exif | None) -> datetime | None:
    """DateTimeOriginal, else DateTimeDigitized, else IFD0 DateTime."""
    if exif is None:
        return None
    try:
        exif_ifd = exif.get_ifd(_EXIF_IFD)
    except Exception:
        logger.debug("unreadable EXIF sub-IFD ignored", exc_info=True)
        exif_ifd = {}
    candidates = (
        exif_ifd.get(_TAG_DATETIME_ORIGINAL),
        exif_ifd.get(_TAG_DATETIME_DIGITIZED),
        exif.get(_TAG_DATETIME),
    )
    for value in candidates:
        parsed = parse_exif_datetime(value)
        if parsed is not None:
            return parsed
    return None


def parse_exif_datetime(value: object) -> datetime | None:
    """Parse an EXIF date ("2021:07:04 18:30:05", bytes or str) to a naive datetime.

    Returns ``None`` for missing, blank ("    :  :  "), zero or impossible dates.
    """
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if not isinstance(value, str):
        return None
    match = _EXIF_DATE_RE.match(value.replace("\x00", " "))
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


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
    rgb = _to_rgb(image)
    thumb = rgb.copy() if rgb is image else rgb
    thumb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return thumb
