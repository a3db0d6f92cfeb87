"""Tests for photoseek.core.imaging.decode: safe decoding of hostile files."""

from __future__ import annotations

import contextlib
import io
import os
import struct
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from photoseek.core.errors import ImageError
from photoseek.core.imaging import decode as imaging
from photoseek.core.imaging.decode import (
    DEFAULT_MAX_PIXELS,
    SIGNATURE_BYTES,
    DecodedImage,
    decode_image,
    make_thumbnail,
    parse_exif_datetime,
    sniff_format,
)
from tests.hostile_corpus import HostileCorpus, make_hostile_corpus

SHARED_PHOTOS = Path(__file__).resolve().parents[2].parent / "shared" / "photos"
WHITE = (255, 255, 255)
corrupt_exif_ok = pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> HostileCorpus:
    return make_hostile_corpus(tmp_path_factory.mktemp("corpus"))


def _decodable_bad(corpus: HostileCorpus) -> list[Path]:
    return [path for path in corpus.bad if path not in corpus.scan_problems]


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
    for path in corpus.good:
        decoded = decode_image(path)
        assert isinstance(decoded, DecodedImage)
        assert decoded.image.mode == "RGB", path.name
        assert (decoded.width, decoded.height) == corpus.sizes[path], path.name
        assert decoded.image.size == corpus.sizes[path], path.name
        assert decoded.format == sniff_format(path.read_bytes()[:SIGNATURE_BYTES])
        assert decoded.taken_at == corpus.taken_at.get(path), path.name


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
    paths = corpus.good + _decodable_bad(corpus) + sorted(corpus.scan_problems)
    decode_image(corpus.good[0])  # warm up lazy imports and plugin loading
    before = _open_fds()
    for path in paths * 2:
        with contextlib.suppress(ImageError):
            decode_image(path, min_side=16)
    assert _open_fds() == before


@corrupt_exif_ok
def test_concurrent_decoding_matches_serial(corpus: HostileCorpus) -> None:
    paths = corpus.good + _decodable_bad(corpus)

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
