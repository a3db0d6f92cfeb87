"""How front ends show and serialise file paths, losslessly.

A POSIX file name is a string of bytes, not of characters: a photo copied
from an old camera card or a Windows share may be called ``caf\\xe9.jpg``
(Latin-1), which is not valid UTF-8. Python hands such a name over as a
``str`` holding a lone surrogate (``"caf\\udce9.jpg"``, PEP 383), which
cannot be printed to a UTF-8 terminal nor written into JSON without loss.
A name may also hold a newline or a tab, which would break a one-line-per-
path listing.

Showing (:func:`display_path`)
    A path whose characters are all printable and that is valid UTF-8 is
    shown as it is. Any other path is shown in bash's ``$'...'`` quoting:
    ``\\n``, ``\\t``, ``\\\\`` and ``\\'`` for those characters, and ``\\xNN``
    for each byte of every other control or unprintable character and of
    every undecodable byte (the bytes of :func:`os.fsencode`). So every path
    fits on one line, and a shown path pasted into bash (or zsh, ksh) names
    the very file: ``ls $'/photos/caf\\xe9.jpg'``.

Serialising (:func:`path_to_json`, :func:`path_from_json`)
    JSON text must be valid Unicode, so a path becomes an object::

        {"path": "/photos/café.jpg"}
        {"path": "/photos/caf\\ufffd.jpg", "path_bytes": "L3Bob3Rvcy9jYWbpLmpwZw=="}

    ``"path"`` is always present and always a valid Unicode string: the path
    itself when it is exact, otherwise with each undecodable byte replaced by
    U+FFFD (good for showing, not for opening). ``"path_bytes"`` is present
    only when ``"path"`` is not exact; it holds the standard base64 (RFC 4648,
    with padding) of the path's bytes as the operating system knows them
    (``os.fsencode``). A reader opens ``path_bytes`` when present, else
    ``path``; :func:`path_from_json` does exactly that, so a round trip gives
    back the same file. Consumers that ignore ``path_bytes`` still get a
    readable path for every file.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "PathTextError",
    "display_path",
    "escape_undecodable",
    "is_exact_text",
    "path_from_json",
    "path_to_json",
]

_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED_ESCAPES = {"\n": "\\n", "\t": "\\t", "\\": "\\\\", "'": "\\'"}


class PathTextError(ValueError):
    """A serialised path is malformed (not the shape :func:`path_to_json` writes).

    A programming or protocol error, not a user-facing one; a plain
    ``ValueError`` because this module must not import :mod:`photoseek.core`
    (which imports :mod:`photoseek.paths`, which imports this module).
    """


def is_exact_text(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogates from undecodable bytes)."""
    return _SURROGATE.search(text) is None


def escape_undecodable(text: str) -> str:
    """``text`` (a message that may embed raw paths) as valid Unicode.

    Each undecodable byte (a PEP 383 surrogate) becomes the four characters
    ``\\xNN``; any other lone surrogate becomes ``\\uDxxx``. For log lines and
    one-line reports; use :func:`display_path` for a path on its own.
    """
    return _SURROGATE.sub(_escape_surrogate, text)


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def display_path(path: Path | str) -> str:
    """``path`` for a person to read: as is, or bash ``$'...'``-quoted (see the module doc)."""
    text = os.fspath(path)
    if text.isprintable() and is_exact_text(text):
        return text
    return "$'" + "".join(_escape_char(ch) for ch in text) + "'"


def _escape_char(ch: str) -> str:
    """One character inside bash's ``$'...'`` quoting."""
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    if ch.isprintable() and is_exact_text(ch):
        return ch
    return "".join(f"\\x{byte:02x}" for byte in _char_bytes(ch))


def _char_bytes(ch: str) -> bytes:
    """The bytes the operating system uses for one character of a path."""
    try:
        return os.fsencode(ch)
    except UnicodeEncodeError:  # a surrogate that stands for no byte (not from PEP 383)
        return ch.encode("utf-8", "surrogatepass")


def path_to_json(path: Path | str) -> dict[str, str]:
    """``{"path": ...}`` plus ``"path_bytes"`` when the path is not valid Unicode."""
    text = os.fspath(path)
    if is_exact_text(text):
        return {"path": text}
    return {
        "path": _SURROGATE.sub("\ufffd", text),
        "path_bytes": base64.b64encode(os.fsencode(text)).decode("ascii"),
    }


def path_from_json(obj: Mapping[str, object]) -> Path:
    """The path :func:`path_to_json` serialised (lossless); PathTextError if malformed."""
    raw = obj.get("path_bytes")
    if raw is not None:
        if not isinstance(raw, str):
            raise PathTextError("path_bytes must be a base64 string")
        try:
            return Path(os.fsdecode(base64.b64decode(raw, validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise PathTextError(f"path_bytes is not valid base64: {exc}") from exc
    text = obj.get("path")
    if not isinstance(text, str):
        raise PathTextError('a serialised path needs a "path" string')
    return Path(text)
