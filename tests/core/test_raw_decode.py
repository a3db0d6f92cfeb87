"""Camera RAW through rawpy: the embedded preview when it is large enough, else half size.

The samples are DNGs the tests write (tests/rawsamples.py); every other RAW
format goes through the same LibRaw calls but stays untested here (no
writer, no freely licensed samples on PyPI: see the README).
"""

from __future__ import annotations

import builtins
import io
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from photoseek.core.errors import ImageError
from photoseek.core.imaging import raw as rawdecoder
from photoseek.core.imaging.decode import decode_image, decode_image_data
from photoseek.core.imaging.decoders import is_current
from photoseek.core.imaging.thumbnails import ThumbnailCache
from tests.rawsamples import (
    UPRIGHT,
    corner_picture,
    corners,
    jpeg_bytes,
    make_dng,
    stored_for,
)

SIZE = (256, 192)  # the RAW's picture, upright
HALF = (128, 96)


def _dng(orientation: int = 1, preview: Image.Image | bytes | None = None) -> bytes:
    """A DNG of the corner picture stored for ``orientation``, with an optional preview."""
    return make_dng(stored_for(orientation, corner_picture(SIZE)), orientation=orientation,
                    preview=preview)  # fmt: skip


def _jpeg_preview(orientation: int, size: tuple[int, int]) -> bytes:
    """A JPEG preview as a camera stores it: not rotated, no EXIF of its own."""
    return jpeg_bytes(stored_for(orientation, corner_picture(size)))


def _swap(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation >= 5 else size


# --------------------------------------------------------------------------- half size


@pytest.mark.parametrize("orientation", range(1, 9))
def test_raw_without_preview_is_decoded_at_half_size_upright(orientation: int) -> None:
    decoded = decode_image_data(_dng(orientation), name="IMG_0001.DNG", min_side=64)
    assert decoded.format == "raw"
    assert decoded.decoder == "raw/1;prep/1;half" and is_current(decoded.decoder)
    assert (decoded.width, decoded.height) == SIZE  # the full size, upright
    assert decoded.image.mode == "RGB" and decoded.image.size == HALF
    assert corners(decoded.image) == UPRIGHT


def test_raw_capture_time_comes_from_the_raw() -> None:
    decoded = decode_image_data(_dng(6), name="a.dng")
    assert decoded.taken_at == datetime(2021, 7, 4, 18, 30, 5)
    undated = make_dng(corner_picture(SIZE), taken=None)
    assert decode_image_data(undated, name="b.dng").taken_at is None  # not LibRaw's 1970
    with_preview = make_dng(corner_picture(SIZE), taken=None, preview=_jpeg_preview(1, (160, 120)))
    decoded = decode_image_data(with_preview, name="c.dng")
    assert decoded.decoder.endswith(";preview") and decoded.taken_at is None


# --------------------------------------------------------------------------- the preview


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_large_enough_jpeg_preview_is_used_and_turned_upright(orientation: int) -> None:
    preview = _jpeg_preview(orientation, (160, 120))  # short side 120 >= 64
    decoded = decode_image_data(_dng(orientation, preview), name="a.dng", min_side=64)
    assert decoded.decoder == "raw/1;prep/1;preview"
    assert decoded.image.size == (160, 120)
    assert (decoded.width, decoded.height) == SIZE  # the RAW's own size, not the preview's
    assert corners(decoded.image) == UPRIGHT
    assert decoded.taken_at == datetime(2021, 7, 4, 18, 30, 5)  # LibRaw's EXIF on the preview


def test_preview_smaller_than_the_model_input_falls_back_to_half_size() -> None:
    data = _dng(6, _jpeg_preview(6, (80, 60)))  # short side 60 < 64
    decoded = decode_image_data(data, name="a.dng", min_side=64)
    assert decoded.decoder == "raw/1;prep/1;half"
    assert decoded.image.size == HALF and corners(decoded.image) == UPRIGHT
    assert decode_image_data(data, name="a.dng", min_side=60).decoder.endswith(";preview")


def test_without_min_side_the_preview_must_match_a_half_size_decode() -> None:
    big = _dng(1, _jpeg_preview(1, (160, 120)))  # at least half size (128 x 96)
    assert decode_image_data(big, name="a.dng").decoder.endswith(";preview")
    small = _dng(1, _jpeg_preview(1, (120, 90)))
    assert decode_image_data(small, name="a.dng").decoder.endswith(";half")


@pytest.mark.parametrize("orientation", [1, 6, 7])
def test_bitmap_preview_is_turned_by_the_raw_orientation(orientation: int) -> None:
    preview = stored_for(orientation, corner_picture((160, 120)))
    decoded = decode_image_data(_dng(orientation, preview), name="a.dng", min_side=64)
    assert decoded.decoder == "raw/1;prep/1;preview"
    assert decoded.image.size == (160, 120) and corners(decoded.image) == UPRIGHT


def test_preview_with_its_own_orientation_keeps_it() -> None:
    """A camera whose preview carries EXIF: its orientation is the preview's own."""
    exif = Image.Exif()
    exif[0x0112] = 3  # this preview is stored upside down, whatever the RAW says
    upside_down = corner_picture((160, 120)).transpose(Image.Transpose.ROTATE_180)
    preview = jpeg_bytes(upside_down, exif=exif.tobytes(), exif_first=True)
    decoded = decode_image_data(_dng(1, preview), name="a.dng", min_side=64)
    assert decoded.decoder.endswith(";preview") and corners(decoded.image) == UPRIGHT
    assert decoded.taken_at == datetime(2021, 7, 4, 18, 30, 5)  # no date in it: the RAW's


def test_preview_with_exif_but_no_orientation_follows_the_raw() -> None:
    exif = Image.Exif()
    exif[0x0132] = "2020:01:02 03:04:05"
    preview = jpeg_bytes(stored_for(6, corner_picture((160, 120))), exif=exif.tobytes(),
                         exif_first=True)  # fmt: skip
    decoded = decode_image_data(_dng(6, preview), name="a.dng", min_side=64)
    assert decoded.decoder.endswith(";preview")
    assert decoded.image.size == (160, 120) and corners(decoded.image) == UPRIGHT
    assert decoded.taken_at == datetime(2020, 1, 2, 3, 4, 5)  # the camera's own EXIF


def test_broken_preview_falls_back_to_half_size() -> None:
    broken = _jpeg_preview(1, (160, 120))
    broken = broken[: len(broken) // 2]  # a truncated JPEG inside a good RAW
    decoded = decode_image_data(_dng(1, broken), name="a.dng", min_side=64)
    assert decoded.decoder.endswith(";half") and corners(decoded.image) == UPRIGHT


# --------------------------------------------------------------------------- files, thumbnails


def test_decode_image_reads_raw_files_like_their_bytes(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0042.DNG"
    path.write_bytes(_dng(8, _jpeg_preview(8, (160, 120))))
    from_file = decode_image(path, min_side=64)
    from_bytes = decode_image_data(path.read_bytes(), name=path.name, min_side=64)
    assert from_file.decoder == from_bytes.decoder == "raw/1;prep/1;preview"
    assert from_file.image.tobytes() == from_bytes.image.tobytes()


def test_thumbnail_of_a_raw_is_upright(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0042.dng"
    path.write_bytes(_dng(6))
    thumb = ThumbnailCache(tmp_path / "thumbs").get_or_make("fp1", path, 128)
    with Image.open(thumb) as image:
        assert image.size == HALF and corners(image) == UPRIGHT


# --------------------------------------------------------------------------- limits, hostile files


def test_declared_size_is_checked_against_the_limit_before_decoding() -> None:
    with pytest.raises(ImageError, match=r"image too large: 256x192 pixels") as info:
        decode_image_data(_dng(1), name="a.dng", max_pixels=40_000)
    assert (info.value.format, info.value.decoder) == ("raw", "raw/1;prep/1")


def test_preview_is_held_to_the_limit_too() -> None:
    """A preview larger than the RAW (absurd, as a hostile file has it) is not decoded."""
    data = _dng(1, _jpeg_preview(1, (400, 300)))
    with pytest.raises(ImageError, match=r"image too large"):
        decode_image_data(data, name="a.dng", max_pixels=100_000)


def test_truncated_raw_is_a_clear_error() -> None:
    data = _dng(1)
    for cut in (len(data) // 2, 300):
        with pytest.raises(ImageError, match=r"^truncated or corrupt camera RAW \(DNG\)") as info:
            decode_image_data(data[:cut], name="a.dng")
        assert (info.value.format, info.value.decoder) == ("raw", "raw/1;prep/1")
        assert not info.value.unsupported


def test_raw_claiming_huge_dimensions_is_refused() -> None:
    data = make_dng(corner_picture(SIZE), claim=(60000, 60000))
    refused = r"^(image too large: 60000x60000 pixels|camera RAW \(DNG\) too large)"
    with pytest.raises(ImageError, match=refused) as info:
        decode_image_data(data, name="a.dng")
    assert info.value.format == "raw"


def test_tiff_named_like_a_raw_that_libraw_refuses_says_so() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(buffer, "TIFF")
    with pytest.raises(ImageError, match=r"^camera RAW \(NEF\) not recognised by LibRaw") as info:
        decode_image_data(buffer.getvalue(), name="DSC_0001.NEF")
    assert info.value.decoder == "raw/1;prep/1" and is_current(info.value.decoder)


def test_without_rawpy_raw_is_unsupported_and_retried_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = builtins.__import__

    def no_rawpy(name: str, *args: object, **kwargs: object) -> object:
        if name == "rawpy":
            raise ImportError("No module named 'rawpy'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rawdecoder, "_rawpy", None)
    monkeypatch.setattr(builtins, "__import__", no_rawpy)
    with pytest.raises(ImageError, match=r"^camera RAW support not installed \(rawpy\)$") as info:
        decode_image_data(_dng(1), name="a.dng")
    assert (info.value.decoder, info.value.unsupported) == ("raw/0;prep/1", True)
    assert not is_current(info.value.decoder)
