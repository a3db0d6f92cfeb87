"""Small camera RAW samples that the tests write: DNG files made with pidng.

rawpy (LibRaw) only reads RAW files, and no package on PyPI ships small,
freely licensed camera RAW samples (rawpy's own test file, a Canon CR2, lives
in its repository under CC BY-NC-SA, not in its wheel). pidng writes DNG from
Bayer data, so the tests make their own: :func:`make_dng` mosaics a picture
into an RGGB sensor image, stores it as an uncompressed 16-bit CFA DNG with
an orientation tag and a capture time, and can chain a second IFD holding an
embedded preview (a JPEG, or an uncompressed RGB bitmap), which is how LibRaw
finds a DNG's preview. pidng's ``RAW2DNG`` writes one IFD only, so the file
is put together from pidng's own IFD and tag classes.

:func:`corner_picture` is the picture every sample shows: red top-left, green
top-right, blue bottom half. Every one of the eight EXIF orientations moves
those corners differently, so the pixels tell whether a photo came out
upright.
"""

from __future__ import annotations

import io
import struct

import numpy as np
from pidng.defs import CalibrationIlluminant, CFAPattern, DNGVersion, PhotometricInterpretation
from pidng.dng import DNG, Tag, dngIFD, dngTag
from PIL import Image

WHITE_LEVEL = 4095
TAKEN = "2021:07:04 18:30:05"

RED, GREEN, BLUE = (230, 20, 20), (20, 230, 20), (20, 20, 230)


def corner_picture(size: tuple[int, int]) -> Image.Image:
    """Red top-left, green top-right, blue bottom half."""
    width, height = size
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, width // 2, height // 2))
    image.paste(GREEN, (width // 2, 0, width, height // 2))
    return image


def dominant(pixel: tuple[int, ...]) -> str:
    """``"red"``, ``"green"`` or ``"blue"``: the strongest channel of an RGB pixel."""
    channel = max(range(3), key=lambda i: pixel[i])
    return ("red", "green", "blue")[channel]


def corners(image: Image.Image, inset: int = 3) -> tuple[str, str, str, str]:
    """The dominant colour at top-left, top-right, bottom-left, bottom-right."""
    rgb = image.convert("RGB")
    w, h = rgb.size
    points = ((inset, inset), (w - 1 - inset, inset), (inset, h - 1 - inset))
    points += ((w - 1 - inset, h - 1 - inset),)
    return tuple(dominant(rgb.getpixel(p)) for p in points)  # type: ignore[return-value,arg-type]


UPRIGHT = ("red", "green", "blue", "blue")
"""What :func:`corners` gives for :func:`corner_picture` shown upright."""


def stored_for(orientation: int, picture: Image.Image) -> Image.Image:
    """What a camera stores so that ``orientation`` shows ``picture`` upright."""
    undo = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    return picture.transpose(undo[orientation]) if orientation in undo else picture.copy()


def bayer(picture: Image.Image) -> np.ndarray:
    """An RGGB mosaic of ``picture`` (even width and height), 12-bit values in uint16."""
    rgb = np.asarray(picture.convert("RGB"), dtype=np.float64) / 255.0 * WHITE_LEVEL
    raw = np.zeros(rgb.shape[:2], dtype=np.uint16)
    raw[0::2, 0::2] = rgb[0::2, 0::2, 0]
    raw[0::2, 1::2] = rgb[0::2, 1::2, 1]
    raw[1::2, 0::2] = rgb[1::2, 0::2, 1]
    raw[1::2, 1::2] = rgb[1::2, 1::2, 2]
    return raw


def jpeg_bytes(image: Image.Image, *, exif: bytes | None = None, exif_first: bool = False) -> bytes:
    """``image`` as a JPEG; ``exif_first`` puts the EXIF block right after SOI (as cameras do)."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    if exif is None:
        return data
    if not exif_first:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90, exif=exif)
        return buffer.getvalue()
    body = b"Exif\x00\x00" + exif
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + data[2:]


def make_dng(
    picture: Image.Image,
    *,
    orientation: int = 1,
    preview: Image.Image | bytes | None = None,
    claim: tuple[int, int] | None = None,
    taken: str | None = TAKEN,
) -> bytes:
    """A DNG of ``picture`` (its sensor data as stored: not rotated) with optional preview.

    ``preview``: JPEG bytes (a JPEG preview) or an image (an uncompressed RGB
    bitmap preview). ``claim``: the width and height IFD0 declares instead of
    the real ones (a hostile header). ``taken``: IFD0's DateTime.
    """
    width, height = picture.size
    raw = bayer(picture).tobytes()
    dng = DNG()
    main = dngIFD()
    dng.ImageDataStrips.append(raw)
    raw_offset = dngTag(Tag.TileOffsets, [0])
    main.tags.append(raw_offset)
    claimed = claim or (width, height)
    for tag, value in _raw_tags(claimed, len(raw), orientation, taken):
        main.tags.append(dngTag(tag, value))
    dng.IFDs.append(main)
    preview_offset = None
    if preview is not None:
        preview_ifd, data, preview_offset = _preview_ifd(preview)
        dng.ImageDataStrips.append(data)
        dng.IFDs.append(preview_ifd)
    total = dng.dataLen()  # lays the strips out: their offsets are known from here
    raw_offset.setValue([dng.StripOffsets[0]])
    if preview_offset is not None:
        preview_offset.setValue([dng.StripOffsets[1]])
    buffer = bytearray(total)
    dng.setBuffer(buffer)
    if preview is not None:
        main.NextIFDOffset = dng.IFDs[1].offset  # chain the preview after the raw IFD
    dng.write()
    return bytes(buffer)


def _raw_tags(
    size: tuple[int, int], length: int, orientation: int, taken: str | None
) -> list[tuple[tuple[int, tuple[int, int]], object]]:
    width, height = size
    identity = [[1, 1], [0, 1], [0, 1], [0, 1], [1, 1], [0, 1], [0, 1], [0, 1], [1, 1]]
    tags: list[tuple[tuple[int, tuple[int, int]], object]] = [
        (Tag.NewSubfileType, [0]),
        (Tag.TileByteCounts, [length]),
        (Tag.Compression, [1]),
        (Tag.DNGVersion, DNGVersion.V1_4),
        (Tag.DNGBackwardVersion, DNGVersion.V1_2),
        (Tag.ImageWidth, [width]),
        (Tag.ImageLength, [height]),
        (Tag.TileWidth, [width]),
        (Tag.TileLength, [height]),
        (Tag.Orientation, [orientation]),
        (Tag.PhotometricInterpretation, [PhotometricInterpretation.Color_Filter_Array]),
        (Tag.SamplesPerPixel, [1]),
        (Tag.BitsPerSample, [16]),
        (Tag.CFARepeatPatternDim, [2, 2]),
        (Tag.CFAPattern, CFAPattern.RGGB),
        (Tag.BlackLevel, [0]),
        (Tag.WhiteLevel, [WHITE_LEVEL]),
        (Tag.ColorMatrix1, identity),
        (Tag.CalibrationIlluminant1, [CalibrationIlluminant.D65]),
        (Tag.AsShotNeutral, [[1, 1], [1, 1], [1, 1]]),
        (Tag.Make, "photoseek"),
        (Tag.Model, "test camera"),
    ]
    if taken is not None:
        tags.append((Tag.DateTime, taken))
    return tags


def _preview_ifd(preview: Image.Image | bytes) -> tuple[dngIFD, bytes, dngTag]:
    """A reduced-resolution IFD (NewSubfileType 1) holding a JPEG or an RGB bitmap."""
    if isinstance(preview, bytes):
        with Image.open(io.BytesIO(preview)) as opened:
            size = opened.size
        data, compression, photometric = preview, 7, 6  # JPEG, YCbCr
    else:
        rgb = preview.convert("RGB")
        size, data, compression, photometric = rgb.size, rgb.tobytes(), 1, 2  # plain RGB
    ifd = dngIFD()
    offset = dngTag(Tag.StripOffsets, [0])
    ifd.tags.append(offset)
    for tag, value in (
        (Tag.NewSubfileType, [1]),
        (Tag.StripByteCounts, [len(data)]),
        (Tag.Compression, [compression]),
        (Tag.ImageWidth, [size[0]]),
        (Tag.ImageLength, [size[1]]),
        (Tag.RowsPerStrip, [size[1]]),
        (Tag.PhotometricInterpretation, [photometric]),
        (Tag.SamplesPerPixel, [3]),
        (Tag.BitsPerSample, [8, 8, 8]),
        (Tag.PlanarConfiguration, [1]),
    ):
        ifd.tags.append(dngTag(tag, value))
    return ifd, data, offset
