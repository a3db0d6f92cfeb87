"""Imaging: identify, decode and normalise one photo safely, and cache thumbnails.

Offers :func:`decode_image` and :class:`DecodedImage` (:mod:`.decode`),
:func:`sniff_format` (:mod:`.sniffing`), pixel normalisation (:mod:`.pixels`),
EXIF reading (:mod:`.exif`) and the :class:`ThumbnailCache` (:mod:`.thumbnails`).
"""

from photoseek.core.imaging.decode import DecodedImage, decode_image
from photoseek.core.imaging.sniffing import sniff_format
from photoseek.core.imaging.thumbnails import ThumbnailCache

__all__ = ["DecodedImage", "ThumbnailCache", "decode_image", "sniff_format"]
