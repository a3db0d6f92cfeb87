"""Why a photo could not be decoded: any exception, translated into one short reason.

Pillow's plugins raise almost anything on hostile input; :func:`raise_translated`
turns whatever was raised into an :class:`ImageError` whose reason a person can
read (and that fits on one line), with the format and its decoder tag when known.
"""

from __future__ import annotations

import logging
import re
import struct
from typing import Final, NoReturn

from PIL import Image

from photoseek.core.errors import ImageError
from photoseek.core.imaging.decoders import decoder_tag
from photoseek.core.imaging.limits import megapixels

logger = logging.getLogger(__name__)

_MAX_REASON: Final = 160
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
    RuntimeError,
    AssertionError,
)
# Pillow's PNG text/ICC chunk limits (MAX_TEXT_CHUNK, MAX_TEXT_MEMORY) speak in these words.
_TEXT_LIMIT_WORDS: Final = ("MAX_TEXT_CHUNK", "MAX_TEXT_MEMORY")


def raise_translated(exc: Exception, max_pixels: int, fmt: str | None, what: object) -> NoReturn:
    """Raise ``exc`` as an :class:`ImageError`, with ``fmt`` and its decoder tag if known.

    Called from an ``except`` block; ``what`` (the path or name) is only logged.
    """
    tag = decoder_tag(fmt) if fmt is not None else None
    if isinstance(exc, ImageError):
        if exc.decoder is not None or fmt is None:
            raise exc
        raise ImageError(exc.reason, format=fmt, decoder=tag, unsupported=exc.unsupported) from exc
    if isinstance(exc, MemoryError):
        raise ImageError("out of memory while decoding", format=fmt, decoder=tag) from None
    reason = _reason_for(exc, max_pixels)
    logger.debug("cannot decode %r: %s", what, reason, exc_info=True)
    raise ImageError(reason, format=fmt, decoder=tag) from exc


def _reason_for(exc: Exception, max_pixels: int) -> str:
    """A short, user-facing reason for an exception raised while opening or decoding."""
    try:
        return _short(_describe_failure(exc, max_pixels))
    except Exception:  # a broken __str__ must not escape either
        return f"cannot decode: {type(exc).__name__}"


def _describe_failure(exc: Exception, max_pixels: int) -> str:
    """The unshortened reason behind :func:`_reason_for`."""
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return _bomb_reason(exc, max_pixels)
    if isinstance(exc, OSError):
        return _os_reason(exc)
    if isinstance(exc, ValueError) and "null byte" in str(exc):
        return "invalid file name (contains a NUL character)"
    if isinstance(exc, ValueError) and any(word in str(exc) for word in _TEXT_LIMIT_WORDS):
        return "metadata too large (PNG text or colour profile over Pillow's limit)"
    if isinstance(exc, RecursionError):
        return "truncated or corrupt: structure nested too deeply"
    if isinstance(exc, OverflowError):
        return f"cannot decode: a number is out of range ({exc})"
    if isinstance(exc, _DECODE_ERRORS):
        return f"truncated or corrupt: {exc or type(exc).__name__}"
    return f"cannot decode: {type(exc).__name__}: {exc}"


def _os_reason(exc: OSError) -> str:
    """Reason for an ``OSError``: a failed file access, or Pillow's decoder errors."""
    if isinstance(exc, FileNotFoundError):
        return "file vanished before it could be read"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if exc.errno is not None:
        return f"read error: {exc.strerror or exc}"
    return f"truncated or corrupt: {exc or type(exc).__name__}"


def _bomb_reason(exc: Exception, max_pixels: int) -> str:
    """Reason for Pillow's decompression-bomb error (or warning turned error)."""
    match = _BOMB_PIXELS_RE.search(str(exc))
    pil_limit = Image.MAX_IMAGE_PIXELS
    limit = max_pixels if pil_limit is None else min(max_pixels, 2 * pil_limit)
    if match is None:
        return f"image too large (limit {megapixels(limit)})"
    return f"image too large: {megapixels(int(match.group(1)))} (limit {megapixels(limit)})"


def _short(text: str) -> str:
    """Cut a reason to one short line."""
    line = " ".join(text.split())
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 1] + "…"
