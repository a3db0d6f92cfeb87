"""Which decoder (and which pre-processing) made a vector, so outdated ones are redone.

Identity is content: a photo keeps its vector for as long as its bytes do not
change. When photoseek learns to decode a format better (a real RAW decoder
instead of a TIFF preview, a fixed colour conversion) the vectors made the
old way must be made again. Every embedding therefore stores a *decoder tag*
such as ``"jpeg/1;prep/1;draft"``: the sniffed format, the version of its
decoder, the version of photoseek's own pre-processing before the model's
transform (orientation, mode conversion, aspect guard), and flags that only
describe (``draft``; a RAW's ``preview`` or ``half``). A file that could not
be decoded stores the tag of the decoder that failed. Camera RAW shows how
the versions work: before photoseek had a RAW decoder, RAW files were
recorded as problems tagged ``"raw/0;prep/1"`` (recognised, not supported
yet), which was current then; version 1 (rawpy) makes those tags outdated,
so the next ``index`` examines every such file again and embeds it.

:func:`is_current` says whether a tag is what the decoder would produce
today; ``Library.index`` re-examines photos whose tag is not. Bump a
format's entry in :data:`DECODER_VERSIONS` (or :data:`PREPROCESS_VERSION`)
whenever its pixels would come out differently.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DECODER_VERSIONS",
    "PREPROCESS_VERSION",
    "UNSUPPORTED",
    "decoder_tag",
    "is_current",
    "tag_format",
    "unavailable_tag",
]

UNSUPPORTED: Final = 0
"""The version of a format that is recognised but cannot be decoded yet."""

DECODER_VERSIONS: Final[dict[str, int]] = {
    "jpeg": 1,
    "png": 1,
    "gif": 1,
    "webp": 1,
    "tiff": 1,
    "bmp": 1,
    "jp2": 1,
    "pnm": 1,
    "heif": 1,
    "avif": 1,
    "ico": 1,
    "raw": 1,  # camera RAW through rawpy (0 was "recognised, not supported yet")
    "sniff": 1,  # no format recognised: bump when sniffing learns formats, to look again
}
"""Current decoder version per sniffed format."""

PREPROCESS_VERSION: Final = 1
"""Version of photoseek's pre-processing between decoding and the model's transform."""


def decoder_tag(fmt: str, *, draft: bool = False, flags: tuple[str, ...] = ()) -> str:
    """The tag a vector (or a failure) of format ``fmt`` gets today.

    ``draft`` and ``flags`` only describe (``"draft"``; a RAW's ``"preview"``
    or ``"half"``): :func:`is_current` ignores them.
    """
    version = DECODER_VERSIONS.get(fmt, UNSUPPORTED)
    parts = [
        f"{fmt}/{version}",
        f"prep/{PREPROCESS_VERSION}",
        *(["draft"] if draft else []),
        *flags,
    ]
    return ";".join(parts)


def unavailable_tag(fmt: str) -> str:
    """The tag of a failure because this installation lacks ``fmt``'s decoder.

    A known format whose optional decoder is missing (HEIC without
    pillow-heif) gets version :data:`UNSUPPORTED`, which :func:`is_current`
    does not accept, so the file is examined again once the decoder exists.
    """
    return f"{fmt}/{UNSUPPORTED};prep/{PREPROCESS_VERSION}"


def tag_format(tag: str) -> str:
    """The format named by a tag (``"jpeg/1;prep/1"`` -> ``"jpeg"``)."""
    return tag.split("/", 1)[0]


def is_current(tag: str | None) -> bool:
    """Whether ``tag`` is what today's decoder and pre-processing would produce.

    Flags such as ``draft`` are ignored; an unknown format, an unparsable tag
    or ``None`` (a vector from before tags existed) is not current.
    """
    if not tag:
        return False
    parts = tag.split(";")
    fmt, _, version = parts[0].partition("/")
    if fmt not in DECODER_VERSIONS or version != str(DECODER_VERSIONS[fmt]):
        return False
    return f"prep/{PREPROCESS_VERSION}" in parts[1:]
