"""Tests for photoseek.core.imaging.thumbnails: sizes, atomic writes, the old layout."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps

from photoseek.core.errors import ImageError
from photoseek.core.imaging import decode, pixels, thumbnails
from photoseek.core.imaging.thumbnails import (
    DEFAULT_SIZE,
    LEGACY_SIZE,
    QUALITY,
    SIZES,
    ThumbnailCache,
)

FP = "2dc6c0-0123456789abcdef0123456789abcdef"
OTHER = "1f4-fedcba9876543210fedcba9876543210"


@pytest.fixture
def cache(tmp_path: Path) -> ThumbnailCache:
    return ThumbnailCache(tmp_path / "thumbs")


def _gradient(size: tuple[int, int]) -> Image.Image:
    return Image.linear_gradient("L").resize(size).convert("RGB")


def _jpeg_file(path: Path, image: Image.Image, **params: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", **params)
    return path


def _size_of(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def _leftovers(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and path.name.startswith(".")]


# --------------------------------------------------------------------------- layout


def test_layout_is_size_then_fan_out(cache: ThumbnailCache) -> None:
    assert DEFAULT_SIZE in SIZES and list(SIZES) == sorted(SIZES)
    assert cache.path_for(FP) == cache.root / "256" / "2d" / f"{FP}.jpg"
    assert cache.path_for(FP, 1024) == cache.root / "1024" / "2d" / f"{FP}.jpg"
    assert not cache.exists(FP)
    paths = cache.save(FP, _gradient((600, 400)))
    assert paths == {DEFAULT_SIZE: cache.path_for(FP)}
    assert cache.exists(FP) and not cache.exists(FP, 512)


@pytest.mark.parametrize("fingerprint", ["", "a", "../x", "a/b", ".hidden", "ab\\cd", "a b"])
def test_unsafe_fingerprints_are_refused(cache: ThumbnailCache, fingerprint: str) -> None:
    with pytest.raises(ValueError, match="fingerprint"):
        cache.path_for(fingerprint)


def test_sizes_must_be_standard(cache: ThumbnailCache) -> None:
    with pytest.raises(ValueError, match="size"):
        cache.path_for(FP, 300)
    with pytest.raises(ValueError, match="size"):
        cache.save(FP, _gradient((10, 10)), sizes=(256, 300))


@pytest.mark.parametrize(
    ("requested", "size"),
    [(1, 128), (128, 128), (129, 256), (256, 256), (300, 512), (1000, 1024), (4000, 1024)],
)
def test_nearest_size(requested: int, size: int) -> None:
    assert ThumbnailCache.nearest_size(requested) == size


def test_nearest_size_rejects_non_positive(cache: ThumbnailCache) -> None:
    with pytest.raises(ValueError, match="positive"):
        cache.nearest_size(0)


# --------------------------------------------------------------------------- saving


def test_save_makes_each_size_from_the_previous_larger_one(
    cache: ThumbnailCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[tuple[int, int], int]] = []
    real = pixels.make_thumbnail

    def recording(image: Image.Image, max_side: int) -> Image.Image:
        calls.append((image.size, max_side))
        return real(image, max_side)

    monkeypatch.setattr(pixels, "make_thumbnail", recording)  # imported at the call
    paths = cache.save(FP, _gradient((2000, 1000)), sizes=(256, 128, 1024, 512, 256))
    assert calls == [((2000, 1000), 1024), ((1024, 512), 512), ((512, 256), 256), ((256, 128), 128)]
    assert sorted(paths) == [128, 256, 512, 1024]
    assert {size: _size_of(path) for size, path in paths.items()} == {
        1024: (1024, 512),
        512: (512, 256),
        256: (256, 128),
        128: (128, 64),
    }


def test_save_never_enlarges(cache: ThumbnailCache) -> None:
    paths = cache.save(FP, _gradient((100, 80)), sizes=(128, 1024))
    assert [_size_of(path) for path in paths.values()] == [(100, 80), (100, 80)]


def test_thumbnails_are_jpeg_at_quality_85(cache: ThumbnailCache) -> None:
    image = _gradient((400, 300))
    path = cache.save(FP, image)[DEFAULT_SIZE]
    reference = io.BytesIO()
    image.resize((256, 192)).save(reference, "JPEG", quality=QUALITY)
    with Image.open(path) as saved, Image.open(reference) as expected:
        assert saved.format == "JPEG" and saved.mode == "RGB"
        assert saved.quantization == expected.quantization  # type: ignore[attr-defined]
    assert QUALITY == 85


def test_save_accepts_any_mode_and_extreme_aspect(cache: ThumbnailCache) -> None:
    strip = Image.new("L", (1, 100_000), 90)
    assert _size_of(cache.save(FP, strip, sizes=(256, 128))[256]) == (1, 256)
    rgba = Image.new("RGBA", (300, 20), (255, 0, 0, 0))
    path = cache.save(OTHER, rgba)[DEFAULT_SIZE]
    with Image.open(path) as saved:
        assert saved.size == (256, 17)
        pixel = saved.convert("RGB").getpixel((100, 8))
        assert isinstance(pixel, tuple) and min(pixel) >= 250  # transparent: white


def test_writes_are_atomic_and_not_durable(
    cache: ThumbnailCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, object]] = []
    real = thumbnails.write_atomically

    def recording(path: Path, content: Callable[..., None], **kwargs: Any) -> None:
        seen.append(kwargs)
        real(path, content, **kwargs)

    monkeypatch.setattr(thumbnails, "write_atomically", recording)
    cache.save(FP, _gradient((50, 50)), sizes=(128, 256))
    assert seen == [{"durable": False}, {"durable": False}]
    assert _leftovers(cache.root) == []


def test_failed_write_leaves_no_file(
    cache: ThumbnailCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_save(self: Image.Image, *args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="No space left"):
        cache.save(FP, _gradient((50, 50)))
    assert not cache.exists(FP)
    assert _leftovers(cache.root) == []


# --------------------------------------------------------------------------- get_or_make


def test_get_or_make_decodes_in_draft_mode_and_keeps_orientation(
    cache: ThumbnailCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = _gradient((2400, 1200))
    original.paste((255, 0, 0), (0, 0, 300, 300))  # marker top-left of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6
    source = _jpeg_file(tmp_path / "rotated.jpg", original, exif=exif.tobytes())
    requested: list[object] = []
    real = decode.decode_image

    def recording(path: Path, **kwargs: Any) -> Any:
        requested.append(kwargs.get("min_side"))
        return real(path, **kwargs)

    monkeypatch.setattr(decode, "decode_image", recording)
    path = cache.get_or_make(FP, source, 256)
    assert requested == [256]
    with Image.open(path) as thumb:
        assert thumb.size == (128, 256)  # upright: portrait
        assert thumb.getexif().get(0x0112) is None
        with Image.open(source) as stored:
            upright = ImageOps.exif_transpose(stored).resize(thumb.size)
        corner = thumb.convert("RGB").getpixel((120, 5))
        assert corner == pytest.approx(upright.getpixel((120, 5)), abs=40)
        assert isinstance(corner, tuple) and corner[0] > 200 and corner[2] < 80  # red, top right


def test_get_or_make_uses_the_cache_without_decoding(
    cache: ThumbnailCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = cache.save(FP, _gradient((300, 300)))[DEFAULT_SIZE]

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(decode, "decode_image", no_decoding)
    assert cache.get_or_make(FP, tmp_path / "whatever.jpg") == cached


def test_get_or_make_raises_image_error_for_undecodable_source(
    cache: ThumbnailCache, tmp_path: Path
) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo at all\n" * 5)
    with pytest.raises(ImageError, match=r"^not an image"):
        cache.get_or_make(FP, text, 256)
    with pytest.raises(ImageError, match=r"^file vanished"):
        cache.get_or_make(FP, tmp_path / "missing.jpg", 256)
    assert not cache.exists(FP, 256)


def test_get_or_make_raises_os_error_when_cache_is_unwritable(tmp_path: Path) -> None:
    blocker = tmp_path / "thumbs"
    blocker.write_text("a file where the cache folder should be")
    source = _jpeg_file(tmp_path / "photo.jpg", _gradient((300, 200)))
    with pytest.raises(OSError):
        ThumbnailCache(blocker).get_or_make(FP, source, 256)


# --------------------------------------------------------------------------- listing, removing


def test_present_lists_fingerprints_per_size(cache: ThumbnailCache) -> None:
    assert cache.present() == set()  # no cache folder yet
    for fingerprint in (FP, OTHER, "aa-00"):
        cache.save(fingerprint, _gradient((300, 300)))
    cache.save(OTHER, _gradient((300, 300)), sizes=(512,))
    stale = cache.path_for(FP).parent / f".{FP}.jpg.abc123.tmp"
    stale.write_bytes(b"partial")
    assert cache.present() == {FP, OTHER, "aa-00"}
    assert cache.present(512) == {OTHER}
    assert cache.present(1024) == set()


def test_remove_deletes_every_size_and_the_old_layout(cache: ThumbnailCache) -> None:
    cache.save(FP, _gradient((2000, 2000)), sizes=SIZES)
    cache.save(OTHER, _gradient((300, 300)))
    _jpeg_file(cache.legacy_path(FP), _gradient((320, 320)))
    cache.remove(FP)
    assert not any(cache.exists(FP, size) for size in SIZES)
    assert not cache.legacy_path(FP).exists()
    assert cache.exists(OTHER)
    cache.remove(FP)  # nothing left: no error


# --------------------------------------------------------------------------- concurrency


@pytest.mark.parametrize("via", ["save", "get_or_make"])
def test_two_threads_making_the_same_thumbnail(
    cache: ThumbnailCache, tmp_path: Path, via: str
) -> None:
    source = _jpeg_file(tmp_path / "photo.jpg", _gradient((1200, 800)))
    image = _gradient((1200, 800))

    def make(barrier: threading.Barrier, results: list[object]) -> None:
        barrier.wait()
        try:
            if via == "save":
                results.append(cache.save(FP, image, sizes=SIZES)[DEFAULT_SIZE])
            else:
                results.append(cache.get_or_make(FP, source, DEFAULT_SIZE))
        except BaseException as exc:
            results.append(exc)

    for _ in range(10):
        cache.remove(FP)
        barrier, results = threading.Barrier(2), []
        workers = [threading.Thread(target=make, args=(barrier, results)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert results == [cache.path_for(FP), cache.path_for(FP)]
        assert _size_of(cache.path_for(FP)) == (256, 171)
        assert _leftovers(cache.root) == []


# --------------------------------------------------------------------------- the old layout


def test_old_thumbnail_is_shrunk_instead_of_decoding_the_photo(
    cache: ThumbnailCache, tmp_path: Path
) -> None:
    legacy = _jpeg_file(cache.legacy_path(FP), _gradient((LEGACY_SIZE, 240)))
    assert legacy == cache.root / "2d" / f"{FP}.jpg"
    assert not cache.exists(FP)  # the old layout is not a current thumbnail
    path = cache.get_or_make(FP, tmp_path / "photo-is-offline.jpg", 256)
    assert _size_of(path) == (256, 192)
    assert _size_of(cache.get_or_make(FP, tmp_path / "offline.jpg", 128)) == (128, 96)
    with pytest.raises(ImageError, match=r"^file vanished"):  # 512 needs the photo itself
        cache.get_or_make(FP, tmp_path / "photo-is-offline.jpg", 512)
    assert legacy.exists()


def test_migrate_legacy_converts_what_it_can_and_removes_the_old_folders(
    cache: ThumbnailCache,
) -> None:
    _jpeg_file(cache.legacy_path(FP), _gradient((LEGACY_SIZE, 200)))
    _jpeg_file(cache.legacy_path(OTHER), _gradient((120, 90)))  # maybe shrunk by draft mode
    broken = cache.root / "aa" / "aa-00.jpg"
    broken.parent.mkdir()
    broken.write_bytes(b"\xff\xd8\xff garbage")
    (cache.root / "aa" / "aa-00.jpg.tmp-12-34").write_bytes(b"old writer's leftover")
    cache.save("ab-01", _gradient((300, 300)))  # already in the new layout: kept
    assert cache.migrate_legacy() == 1
    assert _size_of(cache.path_for(FP)) == (256, 160)
    assert not cache.exists(OTHER) and not cache.exists("aa-00")
    assert sorted(p.name for p in cache.root.iterdir()) == ["256"]
    assert cache.present() == {FP, "ab-01"}
    assert cache.migrate_legacy() == 0
