"""Tests for photoseek.core.imaging.decode: safe decoding of hostile files."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import random
import struct
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageFilter, ImageOps

from photoseek.core.errors import ImageError
from photoseek.core.imaging import decode as imaging
from photoseek.core.imaging import limits, pixels, structure
from photoseek.core.imaging.decode import (
    DEFAULT_MAX_PIXELS,
    SIGNATURE_BYTES,
    DecodedImage,
    decode_image,
    decode_image_data,
    fit_for_model,
    make_thumbnail,
    open_regular_file,
    parse_exif_datetime,
    sniff_format,
)
from photoseek.core.imaging.decoders import decoder_tag, is_current
from photoseek.core.imaging.sniffing import HEAD_BYTES
from tests.hostile_corpus import HostileCorpus, make_hostile_corpus

SHARED_PHOTOS = Path(__file__).resolve().parents[2].parent / "shared" / "photos"
WHITE = (255, 255, 255)
corrupt_exif_ok = pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> HostileCorpus:
    return make_hostile_corpus(tmp_path_factory.mktemp("corpus"))


def _decodable_bad(corpus: HostileCorpus) -> list[Path]:
    return [path for path in corpus.bad if path not in corpus.scan_problems]


def _light_good(corpus: HostileCorpus) -> list[Path]:
    """The good files minus the 40 MP strips, for tests that decode many times."""
    return [path for path in corpus.good if path not in corpus.huge]


def _jpeg(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **params)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _declared_png(width: int, height: int) -> bytes:
    """A tiny PNG that declares a (possibly huge) grey image."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _exif(orientation: int | None = None, **tags: str) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if "datetime" in tags:
        exif[0x0132] = tags["datetime"]
    ifd = exif.get_ifd(0x8769)
    if "original" in tags:
        ifd[0x9003] = tags["original"]
    if "digitized" in tags:
        ifd[0x9004] = tags["digitized"]
    return exif.tobytes()


def _open_fds() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


# --------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"GIF87a\x01\x00", "gif"),
        (b"GIF89a\x01\x00", "gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
        (b"II+\x00\x08\x00\x00\x00", "tiff"),
        (b"BM" + bytes(12) + b"\x28\x00\x00\x00", "bmp"),
        (b"BM" + bytes(12) + b"\x7c\x00\x00\x00", "bmp"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00", "jp2"),
        (b"\xff\x4f\xff\x51\x00\x2f", "jp2"),
        (b"P6\n640 480\n255\n", "pnm"),
        (b"P1 2 2\n", "pnm"),
        (b"P5\r\n", "pnm"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heif"),
        (b"\x00\x00\x00\x1cftypheix\x00\x00\x00\x00mif1heixmiaf", "heif"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "avif"),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf", "avif"),
        (b"\x00\x00\x01\x00\x01\x00\x20\x20", "ico"),
        (b"", None),
        (b"\xff\xd8", None),
        (b"BMW service booked for Tuesday", None),
        (b"PLEASE READ ME", None),
        (b"P6x", None),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", None),
        (b"\x00\x00\x00\x18ftypqt  \x00\x00\x00\x00qt  \x00\x00", None),
        (b"\x00\x00\x01\x00\x00\x00", None),
        (b"%PDF-1.7\n", None),
        (b"PK\x03\x04\x14\x00", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'>", None),
        (bytes(SIGNATURE_BYTES), None),
    ],
)
def test_sniff_format(head: bytes, expected: str | None) -> None:
    assert sniff_format(head[:SIGNATURE_BYTES]) == expected


def test_sniff_format_needs_no_more_than_signature_bytes(corpus: HostileCorpus) -> None:
    for path in corpus.good:
        head = path.read_bytes()[:SIGNATURE_BYTES]
        assert sniff_format(head) is not None, path.name


# --------------------------------------------------------------------------- good files


@corrupt_exif_ok
def test_every_good_corpus_file_decodes(corpus: HostileCorpus) -> None:
    assert len(corpus.good) >= 30
    for path in _light_good(corpus):
        decoded = decode_image(path)
        assert isinstance(decoded, DecodedImage)
        assert decoded.image.mode == "RGB", path.name
        assert (decoded.width, decoded.height) == corpus.sizes[path], path.name
        assert decoded.image.size == corpus.image_sizes.get(path, corpus.sizes[path]), path.name
        assert decoded.format == sniff_format(path.read_bytes()[:HEAD_BYTES], path.name)
        assert decoded.taken_at == corpus.taken_at.get(path), path.name
        if decoded.format == "raw":  # flagged with how: from the preview or at half size
            assert decoded.decoder in {decoder_tag("raw", flags=(h,)) for h in ("preview", "half")}
        else:
            assert decoded.decoder == decoder_tag(decoded.format), path.name
        assert is_current(decoded.decoder)


def test_rotated_jpeg_swaps_dimensions_and_reads_capture_time(corpus: HostileCorpus) -> None:
    decoded = decode_image(corpus.root / "sub" / "rotated.jpg")
    assert (decoded.width, decoded.height) == (90, 160)
    assert decoded.image.size == (90, 160)
    assert decoded.taken_at == datetime(2021, 7, 4, 18, 30, 5)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow_reference(tmp_path: Path, orientation: int) -> None:
    source = Image.new("RGB", (48, 24), (0, 0, 255))
    source.paste((255, 0, 0), (0, 0, 12, 12))  # marker in the top-left corner
    path = tmp_path / "oriented.jpg"
    path.write_bytes(_jpeg(source, exif=_exif(orientation), quality=95))
    with Image.open(path) as original:
        reference = ImageOps.exif_transpose(original).convert("RGB")
    decoded = decode_image(path)
    assert decoded.image.size == reference.size
    assert (decoded.width, decoded.height) == reference.size
    right, bottom = reference.width - 3, reference.height - 3
    for xy in [(2, 2), (right, 2), (2, bottom), (right, bottom)]:
        got, want = decoded.image.getpixel(xy), reference.getpixel(xy)
        assert isinstance(got, tuple) and isinstance(want, tuple)
        assert all(abs(a - b) <= 8 for a, b in zip(got, want, strict=True)), (xy, got, want)


@corrupt_exif_ok
def test_garbage_exif_and_orientation_keep_image_unrotated(corpus: HostileCorpus) -> None:
    assert decode_image(corpus.root / "bad_orientation.jpg").image.size == (80, 60)
    assert decode_image(corpus.root / "garbage_exif.jpg").image.size == (64, 80)


def test_rgba_is_composited_on_white(corpus: HostileCorpus) -> None:
    image = decode_image(corpus.root / "rgba.png").image
    assert image.getpixel((10, 10)) == WHITE  # transparent red -> white, not red or black
    assert image.getpixel((80, 10)) == (0, 255, 0)


def test_palette_transparency_is_composited_on_white(corpus: HostileCorpus) -> None:
    image = decode_image(corpus.root / "palette_transparent.png").image
    assert image.getpixel((5, 5)) == WHITE
    assert image.getpixel((50, 5)) == (0, 0, 255)


def test_grey_with_alpha_is_composited_on_white(corpus: HostileCorpus) -> None:
    image = decode_image(corpus.root / "gray_alpha.png").image
    top = image.getpixel((0, 0))
    bottom = image.getpixel((0, 39))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert min(top) >= 245  # alpha ~0: white
    assert max(bottom) <= 75  # alpha ~255: the grey (60) shows


def test_animated_gif_gives_first_frame(corpus: HostileCorpus) -> None:
    assert decode_image(corpus.root / "animated.gif").image.getpixel((5, 5)) == (255, 0, 0)


def test_cmyk_jpeg_colours(corpus: HostileCorpus) -> None:
    pixel = decode_image(corpus.root / "cmyk.jpg").image.getpixel((45, 45))
    assert isinstance(pixel, tuple)
    assert pixel[0] <= 10 and pixel[1] >= 245 and pixel[2] >= 245  # pure cyan


def test_sixteen_bit_png_is_scaled_not_clipped(corpus: HostileCorpus) -> None:
    image = decode_image(corpus.root / "gray16.png").image
    assert image.getpixel((50, 0)) == (126, 126, 126)  # 32500 / 257
    rgb16 = decode_image(corpus.root / "rgb16.png").image
    pixel = rgb16.getpixel((100, 50))
    assert isinstance(pixel, tuple)
    assert [abs(a - b) <= 1 for a, b in zip(pixel, (195, 156, 156), strict=True)] == [True] * 3


def test_high_depth_modes_are_scaled(tmp_path: Path) -> None:
    cases: dict[str, tuple[Image.Image, int]] = {
        "i16.tif": (Image.new("I;16", (4, 4), 65535), 255),
        "i32.tif": (Image.new("I", (4, 4), 1000), 4),  # within 16 bit: 1000 / 257
        "float.tif": (Image.new("F", (4, 4), 0.5), 128),
        "float_hdr.tif": (Image.new("F", (4, 4), 7.5), 0),  # flat out-of-range: black
    }
    for name, (image, grey) in cases.items():
        path = tmp_path / name
        image.save(path, "TIFF")
        decoded = decode_image(path).image
        assert decoded.mode == "RGB"
        assert decoded.getpixel((1, 1)) == (grey, grey, grey), name


def test_lab_and_one_bit_and_palette(corpus: HostileCorpus) -> None:
    lab = decode_image(corpus.root / "lab.tif").image.getpixel((3, 3))
    assert lab == Image.new("LAB", (1, 1), (60, 150, 90)).convert("RGB").getpixel((0, 0))
    onebit = decode_image(corpus.root / "onebit.png").image
    colours = onebit.getcolors()
    assert colours is not None
    assert {colour for _, colour in colours} == {(0, 0, 0), WHITE}


def test_decoded_image_is_detached_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    Image.new("RGB", (20, 10), (1, 2, 3)).save(path)
    decoded = decode_image(path)
    path.unlink()
    assert decoded.image.getpixel((5, 5)) == (1, 2, 3)
    assert decoded.image.resize((4, 2)).size == (4, 2)


def test_taken_at_falls_back_to_digitized_then_ifd0(tmp_path: Path) -> None:
    image = Image.new("RGB", (8, 8))
    digitized = tmp_path / "digitized.jpg"
    digitized.write_bytes(
        _jpeg(image, exif=_exif(digitized="2020:02:29 12:00:00", datetime="2001:01:01 00:00:00"))
    )
    assert decode_image(digitized).taken_at == datetime(2020, 2, 29, 12, 0, 0)
    garbage = tmp_path / "garbage_date.jpg"
    garbage.write_bytes(
        _jpeg(image, exif=_exif(original="0000:00:00 00:00:00", datetime="2001:01:01 00:00:00"))
    )
    assert decode_image(garbage).taken_at == datetime(2001, 1, 1)
    none = tmp_path / "no_date.jpg"
    none.write_bytes(_jpeg(image, exif=_exif(original="    :  :     :  :  ")))
    assert decode_image(none).taken_at is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021:07:04 18:30:05", datetime(2021, 7, 4, 18, 30, 5)),
        (b"2021:07:04 18:30:05\x00", datetime(2021, 7, 4, 18, 30, 5)),
        ("2021-07-04T18:30:05", datetime(2021, 7, 4, 18, 30, 5)),
        ("2021:07:04 18:30", datetime(2021, 7, 4, 18, 30)),
        ("2021:07:04 18:30:05+02:00", datetime(2021, 7, 4, 18, 30, 5)),
        ("0000:00:00 00:00:00", None),
        ("2021:13:01 00:00:00", None),
        ("2021:02:30 00:00:00", None),
        ("    :  :     :  :  ", None),
        ("", None),
        ("yesterday", None),
        (b"\xff\xfe\x00", None),
        (12345, None),
        (None, None),
    ],
)
def test_parse_exif_datetime(value: object, expected: datetime | None) -> None:
    assert parse_exif_datetime(value) == expected


# --------------------------------------------------------------------------- draft mode


@pytest.fixture(scope="module")
def large_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    image = Image.linear_gradient("L").resize((2400, 1600)).convert("RGB")
    path = tmp_path_factory.mktemp("large") / "large.jpg"
    path.write_bytes(_jpeg(image, quality=80))
    return path


@pytest.mark.parametrize("min_side", [1, 100, 224, 399, 400, 401, 800, 1600, 5000])
def test_draft_keeps_short_side_at_least_min_side(large_jpeg: Path, min_side: int) -> None:
    decoded = decode_image(large_jpeg, min_side=min_side)
    assert (decoded.width, decoded.height) == (2400, 1600)
    short = min(decoded.image.size)
    assert short >= min(min_side, 1600)
    assert short < 2 * max(min_side, 200)  # but not needlessly large (scale 1/8 floor)


def test_draft_makes_large_jpeg_much_smaller(large_jpeg: Path) -> None:
    decoded = decode_image(large_jpeg, min_side=224)
    assert decoded.image.size == (600, 400)  # 1/4 scale: 1/8 would give 200 < 224
    assert decoded.image.mode == "RGB"


def test_draft_with_rotation_keeps_short_side(tmp_path: Path) -> None:
    image = Image.linear_gradient("L").resize((2400, 1000)).convert("RGB")
    path = tmp_path / "rotated_large.jpg"
    path.write_bytes(_jpeg(image, exif=_exif(6)))
    decoded = decode_image(path, min_side=240)
    assert (decoded.width, decoded.height) == (1000, 2400)
    assert decoded.image.size == (250, 600)
    assert min(decoded.image.size) >= 240


def test_draft_is_ignored_for_other_formats(corpus: HostileCorpus) -> None:
    decoded = decode_image(corpus.root / "image.tif", min_side=8)
    assert decoded.image.size == (110, 70)


def test_invalid_arguments_are_value_errors(corpus: HostileCorpus) -> None:
    with pytest.raises(ValueError, match="min_side"):
        decode_image(corpus.root / "photo.jpg", min_side=0)
    with pytest.raises(ValueError, match="max_pixels"):
        decode_image(corpus.root / "photo.jpg", max_pixels=0)


# --------------------------------------------------------------------------- bombs


def test_bomb_limit_checked_before_decoding(corpus: HostileCorpus) -> None:
    with pytest.raises(ImageError) as info:
        decode_image(corpus.root / "photo.jpg", max_pixels=29_999)
    assert info.value.reason == "image too large: 200x150 pixels (limit 29999 pixels)"
    assert decode_image(corpus.root / "photo.jpg", max_pixels=30_000).width == 200


def test_declared_huge_png_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_declared_png(30000, 30000))
    with pytest.raises(ImageError, match=r"^image too large: 900 MP \(limit 250 MP\)$"):
        decode_image(path)


def test_bomb_between_our_limit_and_pillows_error(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(_declared_png(17400, 17400))  # 303 MP: Pillow only warns
    with (
        pytest.warns(Image.DecompressionBombWarning),
        pytest.raises(ImageError, match=r"^image too large: 17400x17400 pixels \(limit 250 MP\)$"),
    ):
        decode_image(path)


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_bomb_warning_raised_as_error_becomes_image_error(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(_declared_png(17400, 17400))
    with pytest.raises(ImageError, match=r"^image too large: 303 MP"):
        decode_image(path)


def test_pillow_pixel_limit_is_raised_to_ours() -> None:
    assert Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS >= DEFAULT_MAX_PIXELS


# --------------------------------------------------------------------------- bad files


@corrupt_exif_ok
def test_every_bad_corpus_file_raises_image_error(corpus: HostileCorpus) -> None:
    assert len(corpus.bad) >= 30
    for path in _decodable_bad(corpus):
        try:
            decode_image(path)
        except ImageError as exc:
            assert exc.reason and exc.reason == str(exc), path.name
            assert "\n" not in exc.reason and len(exc.reason) <= 160, path.name
        else:
            pytest.fail(f"{path.name} ({corpus.bad[path]}) decoded without error")


def test_scan_level_bad_files_also_raise_image_error(corpus: HostileCorpus) -> None:
    for path in corpus.scan_problems:
        with pytest.raises(ImageError):
            decode_image(path)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.jpg", "empty file"),
        ("random.jpg", "not an image (unrecognised content)"),
        ("text.jpg", "not an image (looks like text)"),
        ("page.png", "not an image (looks like HTML)"),
        ("document.jpg", "not an image (looks like PDF)"),
        ("archive.jpg", "not an image (looks like ZIP)"),
        ("video.jpg", "not an image (looks like MP4/MOV video)"),
        ("nul_bytes.jpg", "not an image (only zero bytes)"),
        ("sub/drawing.svg", "not an image (looks like SVG vector drawing)"),
        ("sub/notes.txt", "not an image (looks like text)"),
        ("bomb.png", "image too large: 1600 MP (limit 250 MP)"),
        ("huge_sof.jpg", "image too large: 4225 MP (limit 250 MP)"),
        ("bad_crc.png", "truncated or corrupt: invalid PNG header"),
        ("header_only.jpg", "truncated or corrupt: invalid JPEG header"),
    ],
)
def test_bad_file_reasons(corpus: HostileCorpus, name: str, reason: str) -> None:
    with pytest.raises(ImageError) as info:
        decode_image(corpus.root / name)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    "name", ["truncated_half.jpg", "truncated.png", "truncated.gif", "truncated.tif"]
)
def test_truncated_files_are_errors_not_partial_images(corpus: HostileCorpus, name: str) -> None:
    with pytest.raises(ImageError, match=r"^truncated or corrupt: "):
        decode_image(corpus.root / name)


def test_heic_without_pillow_heif_is_a_clear_error(
    corpus: HostileCorpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imaging, "_heif_available", False)
    with pytest.raises(ImageError, match=r"^HEIC support not installed \(pillow-heif\)$"):
        decode_image(corpus.root / "header_only.heic")


def test_heif_opener_is_registered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def fake_register() -> bool:
        calls.append(1)
        return False

    monkeypatch.setattr(imaging, "_heif_available", None)
    monkeypatch.setattr(imaging, "_register_heif", fake_register)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: imaging._heif_opener_ready(), range(16)))
    assert results == [False] * 16
    assert calls == [1]


def test_missing_file_folder_and_fifo(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"^file vanished before it could be read$"):
        decode_image(tmp_path / "gone.jpg")
    (tmp_path / "folder.jpg").mkdir()
    with pytest.raises(ImageError, match=r"^not a regular file \(folder\)$"):
        decode_image(tmp_path / "folder.jpg")
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    fifo = tmp_path / "fifo.jpg"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    worker = threading.Thread(target=_record_error, args=(decode_image, fifo, outcome), daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "decode_image blocked on a FIFO"
    assert isinstance(outcome[0], ImageError)
    assert outcome[0].reason == "not a regular file (fifo)"


def _record_error(
    function: Callable[[Path], object], path: Path, sink: list[BaseException]
) -> None:
    try:
        function(path)
    except BaseException as exc:
        sink.append(exc)


def test_permission_denied(corpus: HostileCorpus, monkeypatch: pytest.MonkeyPatch) -> None:
    def deny(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(ImageError, match=r"^permission denied$"):
        decode_image(corpus.root / "photo.jpg")


def test_io_error_while_reading(corpus: HostileCorpus, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_load(self: Image.Image) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Image.Image, "load", broken_load)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", broken_load)
    with pytest.raises(ImageError, match=r"^read error: Input/output error$"):
        decode_image(corpus.root / "photo.jpg")


def test_unexpected_exception_still_becomes_image_error(
    corpus: HostileCorpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    class WeirdError(Exception):
        pass

    def explode(*args: object, **kwargs: object) -> None:
        raise WeirdError("plugin bug")

    monkeypatch.setattr(imaging, "_decode_opened", explode)
    with pytest.raises(ImageError, match=r"^cannot decode: WeirdError: plugin bug$"):
        decode_image(corpus.root / "photo.jpg")


def test_memory_error_becomes_image_error(
    corpus: HostileCorpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhaust(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(imaging, "_decode_opened", exhaust)
    with pytest.raises(ImageError, match=r"^out of memory while decoding$"):
        decode_image(corpus.root / "photo.jpg")


def test_truncated_images_are_not_loaded_globally() -> None:
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# --------------------------------------------------------------------------- resources


@corrupt_exif_ok
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd")
def test_no_file_handles_leak(corpus: HostileCorpus) -> None:
    paths = _light_good(corpus) + _decodable_bad(corpus) + sorted(corpus.scan_problems)
    decode_image(corpus.good[0])  # warm up lazy imports and plugin loading
    before = _open_fds()
    for path in paths * 2:
        with contextlib.suppress(ImageError):
            decode_image(path, min_side=16)
    assert _open_fds() == before


@corrupt_exif_ok
def test_concurrent_decoding_matches_serial(corpus: HostileCorpus) -> None:
    paths = _light_good(corpus) + _decodable_bad(corpus)

    def outcome(path: Path) -> tuple[str, object]:
        try:
            decoded = decode_image(path, min_side=32)
        except ImageError as exc:
            return ("error", exc.reason)
        return ("ok", (decoded.width, decoded.height, decoded.image.tobytes()))

    serial = {path: outcome(path) for path in paths}
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(outcome, paths * 4))
    for path, result in zip(paths * 4, concurrent, strict=True):
        assert result == serial[path], path.name


# --------------------------------------------------------------------------- thumbnails


def test_make_thumbnail_shrinks_keeps_aspect_and_copies() -> None:
    image = Image.new("RGB", (200, 150), (10, 20, 30))
    thumb = make_thumbnail(image, 64)
    assert thumb.size == (64, 48)
    assert thumb.mode == "RGB"
    assert thumb is not image and image.size == (200, 150)
    tall = make_thumbnail(Image.new("RGB", (30, 300)), 100)
    assert tall.size == (10, 100)


def test_make_thumbnail_never_enlarges() -> None:
    image = Image.new("RGB", (20, 10), (1, 2, 3))
    thumb = make_thumbnail(image, 256)
    assert thumb.size == (20, 10)
    assert thumb is not image


def test_make_thumbnail_converts_to_rgb_on_white() -> None:
    rgba = Image.new("RGBA", (100, 100), (255, 0, 0, 0))
    thumb = make_thumbnail(rgba, 50)
    assert thumb.mode == "RGB"
    assert thumb.getpixel((25, 25)) == WHITE
    grey16 = make_thumbnail(Image.new("I;16", (40, 40), 65535), 20)
    assert grey16.mode == "RGB" and grey16.getpixel((5, 5)) == WHITE


def test_make_thumbnail_rejects_non_positive_size() -> None:
    with pytest.raises(ValueError, match="max_side"):
        make_thumbnail(Image.new("RGB", (4, 4)), 0)


# --------------------------------------------------------------------------- real photos


def _shared(folder: str) -> Path:
    path = SHARED_PHOTOS / folder
    if not path.is_dir():
        pytest.skip(f"{path} not available")
    return path


def test_shared_format_photos_decode() -> None:
    folder = _shared("formats")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name != "README.md")
    assert files
    for path in files:
        if path.name == "not-an-image.txt":
            with pytest.raises(ImageError, match=r"^not an image"):
                decode_image(path)
            continue
        decoded = decode_image(path, min_side=224)
        assert decoded.image.mode == "RGB", path.name
        assert decoded.width > 0 and decoded.height > 0
        assert min(decoded.image.size) >= min(224, decoded.width, decoded.height), path.name


def test_shared_large_photos_decode_in_draft_mode() -> None:
    folder = _shared("large")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg"})
    if not files:
        pytest.skip("no large JPEGs")
    for path in files:
        decoded = decode_image(path, min_side=224)
        assert min(decoded.image.size) >= 224, path.name
        assert decoded.image.width * 2 <= decoded.width or min(decoded.width, decoded.height) < 896


# --------------------------------------------------------------------------- camera RAW


def test_raw_headers_without_raw_data_are_refused_naming_their_kind(
    corpus: HostileCorpus,
) -> None:
    assert len(corpus.raw) >= 5
    for path in corpus.raw:
        with pytest.raises(ImageError) as info:
            decode_image(path)
        error = info.value
        assert error.reason.startswith("camera RAW ("), path.name
        assert (error.format, error.decoder, error.unsupported) == ("raw", "raw/1;prep/1", False)
        assert is_current(error.decoder)  # the RAW decoder said no: not retried every run


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("raw/DSC_0001.NEF", "NEF"),
        ("raw/IMG_0002.dng", "DNG"),
        ("raw/IMG_0003.tif", "DNG"),
        ("raw/IMG_0004.CR2", "CR2"),
        ("raw/DSCF0005.RAF", "RAF"),
        ("raw/IMG_0006.CR3", "CR3"),
        ("raw/P0000007.jpg", "ORF"),
    ],
)
def test_raw_reason_names_the_camera_format(corpus: HostileCorpus, name: str, kind: str) -> None:
    with pytest.raises(ImageError, match=rf"^camera RAW \({kind}\) not recognised by LibRaw"):
        decode_image(corpus.root / name)


def test_tiff_container_is_raw_only_by_its_raw_extension(corpus: HostileCorpus) -> None:
    data = (corpus.root / "raw" / "DSC_0001.NEF").read_bytes()
    assert decode_image_data(data, name="photo.tif").format == "tiff"
    assert decode_image_data(data).format == "tiff"
    for name in ("DSC_0001.NEF", "a.arw", "/some/folder/b.pef", "c.Srw"):
        with pytest.raises(ImageError, match=r"not recognised by LibRaw") as info:
            decode_image_data(data, name=name)
        assert info.value.format == "raw"
    with pytest.raises(ImageError, match=r"^not an image"):
        decode_image_data(b"Shopping list\n" * 10, name="x.nef")  # a name never makes an image


def test_hostile_camera_files_are_refused(corpus: HostileCorpus) -> None:
    expected = {
        "camera/truncated.dng": r"^truncated or corrupt camera RAW \(DNG\)",
        "camera/huge.dng": r"^(image too large: 60000x60000|camera RAW \(DNG\) too large)",
        "phone/truncated.heic": r"^truncated or corrupt",
        "phone/huge.heic": r"^image too large",
    }
    for name, reason in expected.items():
        with pytest.raises(ImageError, match=reason):
            decode_image(corpus.root / name)


# --------------------------------------------------------------------------- decoding bytes


@corrupt_exif_ok
def test_decode_image_data_matches_decode_image(corpus: HostileCorpus) -> None:
    for path in _light_good(corpus) + _decodable_bad(corpus):
        if not path.is_file():
            continue
        try:
            expected: tuple[object, ...] = _summary(decode_image(path, min_side=32))
        except ImageError as exc:
            expected = ("error", exc.reason, exc.format, exc.decoder, exc.unsupported)
        try:
            got = _summary(decode_image_data(path.read_bytes(), name=path.name, min_side=32))
        except ImageError as exc:
            got = ("error", exc.reason, exc.format, exc.decoder, exc.unsupported)
        assert got == expected, path.name


def _summary(decoded: DecodedImage) -> tuple[object, ...]:
    image = decoded.image
    return (decoded.width, decoded.height, decoded.format, decoded.decoder, image.tobytes())


def test_decode_image_data_accepts_bytes_not_from_a_file() -> None:
    decoded = decode_image_data(_jpeg(Image.new("RGB", (30, 20), (0, 128, 0))))
    assert (decoded.width, decoded.height, decoded.format) == (30, 20, "jpeg")
    with pytest.raises(ImageError, match=r"^empty file$"):
        decode_image_data(b"")
    with pytest.raises(ValueError, match="min_side"):
        decode_image_data(b"", min_side=0)


def test_decoder_tag_flags_draft_only_when_it_reduced_the_image(large_jpeg: Path) -> None:
    assert decode_image(large_jpeg, min_side=224).decoder == "jpeg/1;prep/1;draft"
    assert decode_image(large_jpeg, min_side=1600).decoder == "jpeg/1;prep/1"  # scale 1
    assert decode_image(large_jpeg).decoder == "jpeg/1;prep/1"
    png = io.BytesIO()
    Image.new("RGB", (2400, 1600)).save(png, "PNG")
    assert decode_image_data(png.getvalue(), min_side=8).decoder == "png/1;prep/1"


def test_errors_carry_format_and_decoder_once_identified(corpus: HostileCorpus) -> None:
    with pytest.raises(ImageError) as info:
        decode_image(corpus.root / "truncated.png")
    assert (info.value.format, info.value.decoder, info.value.unsupported) == (
        "png",
        "png/1;prep/1",
        False,
    )
    with pytest.raises(ImageError) as info:
        decode_image(corpus.root / "text.jpg")
    assert (info.value.format, info.value.decoder) == (None, None)


def test_missing_optional_decoder_is_unsupported_and_retried(
    corpus: HostileCorpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imaging, "_heif_available", False)
    with pytest.raises(ImageError) as info:
        decode_image(corpus.root / "header_only.heic")
    assert (info.value.format, info.value.decoder, info.value.unsupported) == (
        "heif",
        "heif/0;prep/1",
        True,
    )
    assert not is_current(info.value.decoder)


def test_image_error_is_backward_compatible_and_pickles() -> None:
    plain = ImageError("broken")
    assert (str(plain), plain.reason, plain.format, plain.decoder, plain.unsupported) == (
        "broken",
        "broken",
        None,
        None,
        False,
    )
    rich = ImageError("camera RAW (NEF) is not supported yet", format="raw",
                      decoder="raw/0;prep/1", unsupported=True)  # fmt: skip
    copy = pickle.loads(pickle.dumps(rich))
    assert (copy.reason, copy.format, copy.decoder, copy.unsupported) == (
        rich.reason,
        "raw",
        "raw/0;prep/1",
        True,
    )


# --------------------------------------------------------------------------- opening files


def test_open_regular_file_reads_and_refuses(tmp_path: Path) -> None:
    path = tmp_path / "plain.bin"
    path.write_bytes(b"hello")
    with open_regular_file(path) as handle:
        assert handle.read() == b"hello"
    with pytest.raises(ImageError, match=r"^not a regular file \(folder\)$"):
        open_regular_file(tmp_path)
    with pytest.raises(ImageError, match=r"^file vanished before it could be read$") as info:
        open_regular_file(tmp_path / "gone")
    assert isinstance(info.value.__cause__, FileNotFoundError)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(ImageError, match=r"^not a regular file \(fifo\)$"):
            open_regular_file(tmp_path / "fifo")


def test_nul_byte_in_path_is_an_image_error(tmp_path: Path) -> None:
    bad = tmp_path / "evil\x00name.jpg"
    for call in (open_regular_file, decode_image):
        with pytest.raises(ImageError, match=r"^invalid file name"):
            call(bad)


def test_file_truncated_after_sniffing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shrinking.png"
    Image.new("RGB", (40, 40), (3, 4, 5)).save(path)
    real_identify = imaging.identify

    def identify_then_truncate(*args: object, **kwargs: object) -> object:
        found = real_identify(*args, **kwargs)  # type: ignore[arg-type]
        os.truncate(path, 0)
        return found

    monkeypatch.setattr(imaging, "identify", identify_then_truncate)
    with pytest.raises(ImageError, match=r"^truncated or corrupt: ") as info:
        decode_image(path)
    assert info.value.format == "png"


@pytest.mark.parametrize(
    "error",
    [
        OverflowError("signed integer is greater than maximum"),
        RecursionError("maximum recursion depth exceeded"),
        MemoryError(),
        ValueError("bad value"),
        LookupError("a lookup"),
        ArithmeticError("maths"),
    ],
)
@pytest.mark.parametrize("where", ["open", "load", "to_rgb", "exif"])
def test_any_exception_becomes_image_error(
    corpus: HostileCorpus, monkeypatch: pytest.MonkeyPatch, error: Exception, where: str
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise error

    targets = {
        "open": (Image, "open"),
        "load": ("PIL.ImageFile.ImageFile", "load"),
        "to_rgb": (imaging, "to_rgb"),
        "exif": (Image.Image, "getexif"),
    }
    owner, attribute = targets[where]
    if isinstance(owner, str):
        monkeypatch.setattr(f"{owner}.{attribute}", explode)
    else:
        monkeypatch.setattr(owner, attribute, explode)
    data = (corpus.root / "photo.jpg").read_bytes()
    for decode in (
        lambda: decode_image(corpus.root / "photo.jpg"),
        lambda: decode_image_data(data),
    ):
        if where == "exif":  # unreadable EXIF is ignored, not an error
            assert decode().width == 200
            continue
        with pytest.raises(ImageError) as info:
            decode()
        assert info.value.reason and "\n" not in info.value.reason
        assert info.value.format == "jpeg"


def test_overflow_and_recursion_reasons(
    corpus: HostileCorpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    for error, reason in [
        (OverflowError("too big"), r"^cannot decode: a number is out of range \(too big\)$"),
        (RecursionError("deep"), r"^truncated or corrupt: structure nested too deeply$"),
    ]:

        def explode(*args: object, exc: Exception = error, **kwargs: object) -> None:
            raise exc

        monkeypatch.setattr(imaging, "_decode_opened", explode)
        with pytest.raises(ImageError, match=reason):
            decode_image(corpus.root / "photo.jpg")


# --------------------------------------------------------------------------- costs bounded


def test_jpeg_scan_limit(corpus: HostileCorpus) -> None:
    with pytest.raises(ImageError, match=r"^JPEG has more than 100 scans"):
        decode_image(corpus.root / "many_scans.jpg")
    progressive = _jpeg(Image.linear_gradient("L").resize((64, 64)), progressive=True)
    last_scan = progressive[progressive.rindex(b"\xff\xda") : -2]
    scans = progressive.count(b"\xff\xda")
    allowed = progressive[:-2] + last_scan * (limits.MAX_JPEG_SCANS - scans) + b"\xff\xd9"
    assert allowed.count(b"\xff\xda") == limits.MAX_JPEG_SCANS
    assert decode_image_data(allowed).width == 64


def test_jpeg_scan_markers_split_between_blocks_are_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(structure, "_CHUNK", 5)
    data = b"\xff\xd8\xff" + b"\x00\xff\xda\x00\x00" * 3  # markers at offsets 4, 9, 14
    assert structure.jpeg_scan_markers(io.BytesIO(data), 10) == 3
    assert structure.jpeg_scan_markers(io.BytesIO(data * 4), 2) == 3  # stops past the limit


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("many_segments.jpg", r"^too many JPEG segments \(over 65,536\)"),
        ("fill_bytes.jpg", r"^too many stray bytes between JPEG segments \(over 65,536\)"),
        ("many_chunks.png", r"^too many PNG chunks \(over 262,144\)"),
        ("many_blocks.gif", r"^too many GIF blocks before the image \(over 262,144\)"),
        ("long_comment.pgm", r"^PNM header longer than 65,536 bytes"),
    ],
)
def test_files_of_countless_tiny_pieces_are_refused(
    corpus: HostileCorpus, name: str, reason: str
) -> None:
    with pytest.raises(ImageError, match=reason):
        decode_image(corpus.root / name)


def test_piece_limits_leave_real_files_alone(corpus: HostileCorpus) -> None:
    for path in _light_good(corpus):
        data = path.read_bytes()
        stream = io.BytesIO(data)
        if data.startswith(b"\xff\xd8"):
            segments, junk = structure.jpeg_header_pieces(stream, 10**6, 10**6)
            assert 2 <= segments <= 40 and junk == 0, path.name
            assert 1 <= structure.jpeg_scan_markers(stream, 10**6) <= 12, path.name
        elif data.startswith(b"\x89PNG"):
            assert 3 <= structure.png_chunks(stream, 10**6) <= 20, path.name
        elif data.startswith(b"GIF"):
            assert structure.gif_blocks_before_image(stream, 10**6) <= 10, path.name
        elif data.startswith(b"P"):
            assert structure.pnm_header_complete(data[:64]), path.name


@pytest.mark.parametrize(
    ("head", "complete"),
    [
        (b"P5\n4 4\n255\n", True),
        (b"P5 4 4 255 ", True),
        (b"P4\n# a comment\n8 8\n", True),  # PBM: no maximum value
        (b"P6#c\n4#d\r4\n255\n", True),
        (b"P5\n4 4\n255", False),  # the last field is not finished
        (b"P5\n# comment without end", False),
        (b"P5" + b" " * 100, False),
    ],
)
def test_pnm_header_complete(head: bytes, complete: bool) -> None:
    assert structure.pnm_header_complete(head) is complete


def test_walkers_stop_quietly_at_truncated_structures() -> None:
    for data in (b"", b"\xff\xd8", b"\xff\xd8\xff\xe0\x00", b"\xff\xd8\xff\xe0\x00\x01"):
        assert structure.jpeg_header_pieces(io.BytesIO(data), 10, 10) <= (1, 0)
    png = b"\x89PNG\r\n\x1a\n\x7f\xff\xff\xffIHDR"  # a chunk "longer" than the file
    assert structure.png_chunks(io.BytesIO(png), 10) == 1
    assert structure.gif_blocks_before_image(io.BytesIO(b"GIF89a\x01\x00\x01\x00\x80"), 10) == 0
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00!\xfe\x05ab"  # a sub-block cut short
    assert structure.gif_blocks_before_image(io.BytesIO(gif), 10) == 2


def test_tiff_strip_limit(corpus: HostileCorpus, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImageError, match=r"^TIFF split into too many strips or tiles \(300,000"):
        decode_image(corpus.root / "many_strips.tif")
    tiff = io.BytesIO()
    Image.linear_gradient("L").resize((16, 64)).save(tiff, "TIFF", tiffinfo={278: 8})
    monkeypatch.setattr(limits, "MAX_TIFF_CHUNKS", 8)  # 64 rows, 8 per strip
    assert decode_image_data(tiff.getvalue()).height == 64
    monkeypatch.setattr(limits, "MAX_TIFF_CHUNKS", 7)
    with pytest.raises(ImageError, match=r"too many strips or tiles \(8; limit 7\)"):
        decode_image_data(tiff.getvalue())


def test_icon_frame_is_checked_against_max_pixels(corpus: HostileCorpus) -> None:
    with pytest.raises(ImageError, match=r"^image too large: 20000x20000 pixels"):
        decode_image(corpus.root / "png_bomb.ico")
    with pytest.raises(ImageError, match=r"^image too large: 32x32 pixels"):
        decode_image(corpus.root / "icon.ico", max_pixels=1000)


def test_narrow_strips_count_their_row_overhead() -> None:
    limits.check_dimensions(200, 150, 30_000)  # ordinary images: width x height, as before
    limits.check_dimensions(1, 83_333_333, 250_000_000)
    with pytest.raises(ImageError, match=r"^image too large: 1x83333334 pixels, as costly as"):
        limits.check_dimensions(1, 83_333_334, 250_000_000)
    with pytest.raises(ImageError, match=r"^image has no pixels \(0x5\)$"):
        limits.check_dimensions(0, 5, 100)


def test_too_tall_strip_is_refused_before_decoding(corpus: HostileCorpus) -> None:
    with pytest.raises(ImageError, match=r"^image too large: 1x100000000 pixels, as costly as 300"):
        decode_image(corpus.root / "strip_too_tall.png")


def test_metadata_bombs_have_a_clear_reason(corpus: HostileCorpus) -> None:
    for name in ("iccp_bomb.png", "ztxt_bomb.png"):
        with pytest.raises(ImageError, match=r"^metadata too large"):
            decode_image(corpus.root / name)


def test_gif_with_thousands_of_frames_reads_only_the_first(
    corpus: HostileCorpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import GifImagePlugin

    frames: list[int] = []
    real_seek = GifImagePlugin.GifImageFile._seek

    def counting_seek(self: GifImagePlugin.GifImageFile, frame: int, *args: object) -> None:
        frames.append(frame)
        real_seek(self, frame, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(GifImagePlugin.GifImageFile, "_seek", counting_seek)
    decoded = decode_image(corpus.root / "many_frames.gif")
    assert decoded.image.getpixel((3, 3)) == (128, 0, 0)
    assert set(frames) == {0}


@pytest.mark.parametrize(
    ("name", "pixel"),
    [
        ("animated.png", (255, 120, 0)),
        ("animated.webp", (120, 200, 40)),
        ("stereo.mpo", (10, 90, 30)),
    ],
)
def test_multi_frame_files_give_their_first_frame(
    corpus: HostileCorpus, name: str, pixel: tuple[int, int, int]
) -> None:
    got = decode_image(corpus.root / name).image.getpixel((1, 1))
    assert isinstance(got, tuple)
    assert all(abs(a - b) <= 3 for a, b in zip(got, pixel, strict=True)), got


@corrupt_exif_ok
def test_exif_pointing_past_the_end_keeps_orientation(corpus: HostileCorpus) -> None:
    decoded = decode_image(corpus.root / "absurd_exif.jpg")
    assert (decoded.width, decoded.height) == (40, 72)
    assert decoded.taken_at is None


def test_unreadable_exif_values_are_ignored() -> None:
    class BrokenExif(Image.Exif):
        def get(self, *args: object, **kwargs: object) -> object:
            raise struct.error("unpack requires a buffer")

        def get_ifd(self, tag: int) -> dict[int, object]:
            raise RecursionError("nested")

    broken = BrokenExif()
    image = Image.new("RGB", (4, 2))
    assert pixels.apply_orientation(image, broken) == (image, False)
    assert imaging.taken_at(broken) is None


def test_high_depth_scaling_uses_the_range_of_the_whole_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pixels, "_BLOCK_PIXELS", 64)  # many blocks of rows
    image = Image.new("I", (16, 40), 0)
    image.paste(1_000_000, (0, 20, 16, 40))  # beyond 16 bits: scaled by min..max
    rgb = pixels.to_rgb(image)
    assert rgb.getpixel((3, 3)) == (0, 0, 0)
    assert rgb.getpixel((3, 30)) == WHITE


# --------------------------------------------------------------------------- extreme aspect


def test_fit_for_model_keeps_ordinary_images() -> None:
    for size in [(100, 100), (1000, 100), (100, 1000), (1, 1), (1, 10)]:
        image = Image.new("RGB", size)
        assert fit_for_model(image) is image


@pytest.mark.parametrize(
    ("size", "aspect", "expected", "origin"),
    [
        ((2000, 100), 10.0, (1000, 100), (500, 0)),
        ((100, 2000), 10.0, (100, 1000), (0, 500)),
        ((1, 40_000), 10.0, (1, 10), (0, 19_995)),
        ((5, 7), 1.0, (5, 5), (0, 1)),
        ((3, 100), 2.5, (3, 8), (0, 46)),
    ],
)
def test_fit_for_model_center_crops_to_the_aspect(
    size: tuple[int, int], aspect: float, expected: tuple[int, int], origin: tuple[int, int]
) -> None:
    image = Image.linear_gradient("L").resize(size)
    cropped = fit_for_model(image, aspect)
    assert cropped.size == expected
    box = (origin[0], origin[1], origin[0] + expected[0], origin[1] + expected[1])
    assert cropped.tobytes() == image.crop(box).tobytes()


def test_fit_for_model_rejects_aspect_below_one() -> None:
    for aspect in (0.5, 0.0, float("nan")):
        with pytest.raises(ValueError, match="max_aspect"):
            fit_for_model(Image.new("RGB", (4, 4)), aspect)


def test_default_aspect_is_generous() -> None:
    assert pixels.MAX_MODEL_ASPECT >= 10
    panorama = Image.new("RGB", (8000, 1000))
    assert fit_for_model(panorama) is panorama


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_extreme_strips_decode_crop_and_go_through_open_clip(corpus: HostileCorpus) -> None:
    import open_clip
    import torch

    transform = open_clip.image_transform(64, is_train=False)
    for path in sorted(corpus.huge):
        decoded = decode_image(path, min_side=64)
        assert decoded.image.size == corpus.sizes[path]
        with pytest.raises(OverflowError):  # what the guard is for
            transform(decoded.image)
        fitted = fit_for_model(decoded.image)
        assert max(fitted.size) == 10 and min(fitted.size) == 1
        tensor = transform(fitted)
        assert tuple(tensor.shape) == (3, 64, 64) and bool(torch.isfinite(tensor).all())
        thumb = make_thumbnail(decoded.image, 256)
        assert sorted(thumb.size) == [1, 256]


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
@pytest.mark.parametrize("size", [(50, 1000), (1000, 50), (301, 6021)])
def test_cropping_a_long_image_does_not_change_what_the_model_sees(
    size: tuple[int, int],
) -> None:
    import open_clip
    import torch

    transform = open_clip.image_transform(64, is_train=False)
    rng = random.Random(sum(size))
    noise = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    image = noise.filter(ImageFilter.GaussianBlur(max(2, min(size) // 20)))  # photo-like
    cropped = fit_for_model(image)
    assert max(cropped.size) == 10 * min(cropped.size)
    full, fitted = transform(image), transform(cropped)
    cosine = torch.nn.functional.cosine_similarity(full.flatten(), fitted.flatten(), dim=0)
    assert float(cosine) > 0.999


def test_make_thumbnail_of_extreme_strips_in_memory() -> None:
    tall = Image.new("L", (1, 2_000_000), 100)
    assert make_thumbnail(tall, 256).size == (1, 256)
    wide = Image.new("RGB", (2_000_000, 3), (1, 2, 3))
    thumb = make_thumbnail(wide, 128)
    assert thumb.size == (128, 1) and thumb.getpixel((5, 0)) == (1, 2, 3)


def test_make_thumbnail_failures_are_image_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    def exhaust(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(Image.Image, "resize", exhaust)
    with pytest.raises(ImageError, match=r"^out of memory while making a thumbnail$"):
        make_thumbnail(Image.new("RGB", (400, 300)), 100)
    monkeypatch.setattr(Image.Image, "crop", exhaust)
    with pytest.raises(ImageError, match=r"^out of memory while cropping"):
        fit_for_model(Image.new("RGB", (4000, 30)))
