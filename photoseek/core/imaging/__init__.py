"""Imaging: identify, decode and normalise one photo safely, and cache thumbnails.

Offers :func:`decode_image`, :func:`decode_image_data`, :func:`open_regular_file`
and :class:`DecodedImage` (:mod:`.decode`), :func:`identify` and
:func:`sniff_format` (:mod:`.sniffing`), camera RAW through rawpy (:mod:`.raw`),
the RAW+JPEG pair rule (:mod:`.pairs`), the costs checked before decoding
(:mod:`.limits`), pixel normalisation, the model's aspect guard
:func:`fit_for_model` and :func:`make_thumbnail` (:mod:`.pixels`), EXIF reading
(:mod:`.exif`), decoder tags (:mod:`.decoders`) and the :class:`ThumbnailCache`
(:mod:`.thumbnails`).
The names are imported when first used: the catalog needs only the decoder
tags, and Pillow (about 35 ms) waits for the first decode or thumbnail.
"""

from typing import TYPE_CHECKING

from photoseek.core.lazyimport import lazy_attributes

if TYPE_CHECKING:
    from photoseek.core.imaging.decode import (
        DecodedImage,
        decode_image,
        decode_image_data,
        open_regular_file,
    )
    from photoseek.core.imaging.pixels import fit_for_model, make_thumbnail
    from photoseek.core.imaging.sniffing import identify, sniff_format
    from photoseek.core.imaging.thumbnails import ThumbnailCache

__all__ = [
    "DecodedImage",
    "ThumbnailCache",
    "decode_image",
    "decode_image_data",
    "fit_for_model",
    "identify",
    "make_thumbnail",
    "open_regular_file",
    "sniff_format",
]

_DECODE, _PIXELS = "photoseek.core.imaging.decode", "photoseek.core.imaging.pixels"
_SNIFFING = "photoseek.core.imaging.sniffing"
__getattr__ = lazy_attributes(
    {
        "DecodedImage": _DECODE,
        "decode_image": _DECODE,
        "decode_image_data": _DECODE,
        "open_regular_file": _DECODE,
        "fit_for_model": _PIXELS,
        "make_thumbnail": _PIXELS,
        "identify": _SNIFFING,
        "sniff_format": _SNIFFING,
        "ThumbnailCache": "photoseek.core.imaging.thumbnails",
    }
)
