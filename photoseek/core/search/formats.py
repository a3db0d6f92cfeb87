"""The format names a search filter takes, and the everyday names people use for them.

Photos are filtered by the container photoseek sniffed from their content
(``jpeg``, ``png``, ``heif``, ...), not by their extension. People type
``jpg``, ``tif`` or ``heic``; those aliases are accepted, and anything else
is an error that lists the valid names.
"""

from __future__ import annotations

from photoseek.core.errors import QueryError
from photoseek.core.imaging.decoders import DECODER_VERSIONS, UNSUPPORTED

FORMATS: tuple[str, ...] = tuple(
    sorted(
        fmt
        for fmt, version in DECODER_VERSIONS.items()
        if version != UNSUPPORTED and fmt != "sniff"
    )
)
"""The formats photos can have in the library."""

_ALIASES = {
    "jpg": "jpeg",
    "jpe": "jpeg",
    "jfif": "jpeg",
    "tif": "tiff",
    "heic": "heif",
    "heics": "heif",
    "hif": "heif",
    "j2k": "jp2",
    "jpx": "jp2",
    "jpeg2000": "jp2",
    "ppm": "pnm",
    "pgm": "pnm",
    "pbm": "pnm",
    "pam": "pnm",
}

FORMAT_ALIASES: dict[str, str] = {**{fmt: fmt for fmt in FORMATS}, **_ALIASES}
"""Every accepted name (lower case, without a dot) -> the format it means."""


def parse_format(name: str) -> str:
    """The format meant by ``name`` (``"JPG"``, ``".heic"``, ``"png"``); QueryError if none."""
    key = name.strip().lower().lstrip(".")
    if key in FORMAT_ALIASES:
        return FORMAT_ALIASES[key]
    raise QueryError(
        f"unknown format {name!r}; use one of {', '.join(FORMATS)} "
        f"(also {', '.join(sorted(_ALIASES))})"
    )
