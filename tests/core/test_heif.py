"""HEIC/HEIF (pillow-heif) and AVIF (Pillow's own plugin): upright, deep, thumbnailed.

The samples are written here: pillow-heif encodes HEIF (an EXIF orientation
given to it becomes the container's ``irot``/``imir`` transforms, as an
iPhone writes them) and 8-bit or, from 16-bit data, 10-bit HEIC; AVIF is
written by Pillow's AVIF plugin (pillow-heif 1.x no longer handles AVIF).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image, features

from photoseek.core.errors import ImageError
from photoseek.core.imaging.decode import decode_image, decode_image_data
from photoseek.core.imaging.decoders import decoder_tag
from photoseek.core.imaging.thumbnails import ThumbnailCache
from tests.rawsamples import UPRIGHT, corner_picture, corners, stored_for

SIZE = (96, 64)
needs_avif = pytest.mark.skipif(not features.check("avif"), reason="Pillow without AVIF")


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9003] = "2022:05:06 07:08:09"
    return exif.tobytes()


def heic(orientation: int = 1, size: tuple[int, int] = SIZE) -> bytes:
    """The corner picture as an iPhone stores it for ``orientation``."""
    buffer = io.BytesIO()
    stored = stored_for(orientation, corner_picture(size))
    pillow_heif.from_pillow(stored).save(buffer, quality=90, exif=_exif(orientation))
    return buffer.getvalue()


def heic_10bit(values: np.ndarray) -> bytes:
    """A 10-bit HEIC of 16-bit RGB ``values`` (pillow-heif keeps the top 10 bits)."""
    height, width = values.shape[:2]
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(width, height), data=values.tobytes())
    buffer = io.BytesIO()
    heif.save(buffer, quality=-1)
    return buffer.getvalue()


def avif(orientation: int = 1) -> bytes:
    buffer = io.BytesIO()
    stored = stored_for(orientation, corner_picture(SIZE))
    stored.save(buffer, "AVIF", quality=90, exif=_exif(orientation))
    return buffer.getvalue()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_heic_with_exif_orientation_comes_out_upright(orientation: int) -> None:
    decoded = decode_image_data(heic(orientation), name="IMG_0001.HEIC")
    assert (decoded.format, decoded.decoder) == ("heif", decoder_tag("heif"))
    assert (decoded.width, decoded.height) == SIZE and decoded.image.size == SIZE
    assert corners(decoded.image) == UPRIGHT


def test_heic_capture_time_is_read() -> None:
    decoded = decode_image_data(heic(6), name="IMG_0001.HEIC")
    assert decoded.taken_at is not None and decoded.taken_at.isoformat() == "2022-05-06T07:08:09"


def test_10_bit_heic_is_scaled_to_8_bits() -> None:
    values = np.zeros((40, 64, 3), dtype=np.uint16)
    values[:, :32] = (65535, 32768, 0)  # orange-ish: full, half, none
    values[:, 32:] = (0, 16384, 65535)
    data = heic_10bit(values)
    opened = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
    assert opened.info["bit_depth"] == 10  # really a deep file
    decoded = decode_image_data(data, name="deep.heic")
    assert decoded.image.mode == "RGB" and decoded.image.size == (64, 40)
    left = np.asarray(decoded.image)[20, 8].astype(int)
    right = np.asarray(decoded.image)[20, 56].astype(int)
    assert np.abs(left - (255, 128, 0)).max() <= 6
    assert np.abs(right - (0, 64, 255)).max() <= 6


@needs_avif
@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_avif_comes_out_upright(orientation: int) -> None:
    decoded = decode_image_data(avif(orientation), name="a.avif")
    assert (decoded.format, decoded.decoder) == ("avif", decoder_tag("avif"))
    assert decoded.image.size == SIZE and corners(decoded.image) == UPRIGHT


def test_thumbnails_of_heic_and_avif_are_upright(tmp_path: Path) -> None:
    files = {"a.heic": heic(6, (400, 300)), "b.heic": heic(8, (400, 300))}
    if features.check("avif"):
        files["c.avif"] = avif(6)
    cache = ThumbnailCache(tmp_path / "thumbs")
    for index, (name, data) in enumerate(files.items()):
        path = tmp_path / name
        path.write_bytes(data)
        thumb = cache.get_or_make(f"fp{index}", path, 128)
        with Image.open(thumb) as image:
            assert max(image.size) <= 128 and image.width > image.height, name
            assert corners(image) == UPRIGHT, name


def test_decode_image_reads_heic_files_like_their_bytes(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(heic(6))
    from_file, from_bytes = decode_image(path), decode_image_data(path.read_bytes())
    assert from_file.image.tobytes() == from_bytes.image.tobytes()


def test_hostile_heic_is_refused_with_a_reason() -> None:
    data = heic(1, (64, 64))
    with pytest.raises(ImageError, match=r"^truncated or corrupt") as info:
        decode_image_data(data[: len(data) // 2])
    assert info.value.format == "heif"
    ispe = data.index(b"ispe") + 8
    huge = data[:ispe] + (60000).to_bytes(4, "big") * 2 + data[ispe + 8 :]
    with pytest.raises(ImageError, match=r"^image too large"):
        decode_image_data(huge)
