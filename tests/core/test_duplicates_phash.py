"""The perceptual hash: the DCT it computes, what it survives, what tells photos apart."""

from __future__ import annotations

import io
import math
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from photoseek.core.duplicates.phash import (
    HASH_BITS,
    SIDE,
    as_hashes,
    from_stored,
    hamming,
    phash_image,
    phash_pixels,
    shrink,
    to_stored,
)
from photoseek.core.duplicates.thresholds import DEFAULT_PHASH_DISTANCE


def scene(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """A photo-like picture: a smooth two-colour gradient, soft shapes, a little noise."""
    rng = random.Random(seed)
    width, height = size
    top = np.array([rng.randrange(256) for _ in range(3)], dtype=np.float32)
    bottom = np.array([rng.randrange(256) for _ in range(3)], dtype=np.float32)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    pixels = np.broadcast_to(top + (bottom - top) * ramp, (height, width, 3))
    image = Image.fromarray(pixels.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(20, width // 3)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([x - radius, y - radius, x + radius, y + radius], fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(3))
    noise = np.random.default_rng(seed).normal(0, 6, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image) + noise, 0, 255).astype(np.uint8))


def reencoded(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def distance(a: Image.Image, b: Image.Image) -> int:
    return int(hamming(phash_image(a), phash_image(b)))


def test_the_hash_is_the_sign_of_the_low_dct_against_the_median() -> None:
    """The matrix DCT equals the textbook double sum, bit for bit (an independent check)."""
    grey = np.asarray(shrink(scene(1)), dtype=np.float64)
    x = np.arange(SIDE)
    coefficients = np.array(
        [
            [
                np.sum(
                    grey
                    * np.cos(math.pi * (2 * x[:, None] + 1) * u / (2 * SIDE))
                    * np.cos(math.pi * (2 * x[None, :] + 1) * v / (2 * SIDE))
                )
                for v in range(8)
            ]
            for u in range(8)
        ]
    ).ravel()
    median = np.median(coefficients[1:])
    expected = sum(1 << i for i in range(1, 64) if coefficients[i] > median)
    assert phash_image(scene(1)) == expected
    assert expected & 1 == 0  # the DC term is never a bit
    assert bin(expected).count("1") == 31  # half of the 63 others are above their median


def test_many_images_hash_at_once_as_one_by_one() -> None:
    images = [scene(seed) for seed in range(5)]
    together = phash_pixels(np.stack([shrink(image) for image in images]))
    assert together.dtype == np.uint64 and together.shape == (5,)
    assert [int(h) for h in together] == [phash_image(image) for image in images]
    with pytest.raises(ValueError, match="32 x 32"):
        phash_pixels(np.zeros((16, 16)))


def test_resized_reencoded_and_brighter_copies_stay_within_the_default_distance() -> None:
    for seed in range(8):
        photo = scene(seed)
        width, height = photo.size
        variants = {
            "resized to 50 %": photo.resize((width // 2, height // 2), Image.Resampling.LANCZOS),
            "JPEG quality 30": reencoded(photo, 30),
            "brightness +20 %": ImageEnhance.Brightness(photo).enhance(1.2),
            "grey": photo.convert("L"),
            "RGBA": photo.convert("RGBA"),
        }
        for name, variant in variants.items():
            assert distance(photo, variant) <= DEFAULT_PHASH_DISTANCE, (seed, name)


def test_distinct_pictures_are_far_apart() -> None:
    hashes = as_hashes(phash_image(scene(seed)) for seed in range(40))
    apart = hamming(hashes[:, None], hashes[None, :])
    upper = apart[np.triu_indices(len(hashes), 1)]
    assert upper.min() > 2 * DEFAULT_PHASH_DISTANCE, np.sort(upper)[:5]


def test_a_flipped_picture_is_not_the_same() -> None:
    photo = scene(3)
    assert distance(photo, photo.transpose(Image.Transpose.FLIP_TOP_BOTTOM)) > 20


def test_hamming_counts_differing_bits_elementwise() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**63, 200, dtype=np.int64).astype(np.uint64) << np.uint64(1)
    b = rng.integers(0, 2**63, 200, dtype=np.int64).astype(np.uint64)
    expected = [bin(int(x) ^ int(y)).count("1") for x, y in zip(a, b, strict=True)]
    assert hamming(a, b).tolist() == expected
    assert int(hamming(2**64 - 1, 0)) == HASH_BITS


def test_hamming_counts_the_same_without_numpy_2s_bit_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(2)
    a = rng.integers(0, 2**63, (20, 3), dtype=np.int64).astype(np.uint64)
    b = rng.integers(0, 2**63, 3, dtype=np.int64).astype(np.uint64)
    with_count = hamming(a, b)
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    assert hamming(a, b).tolist() == with_count.tolist()


def test_stored_values_fit_sqlite_integers_and_come_back() -> None:
    for value in (0, 1, 2**62, 2**63 - 1, 2**63, 2**64 - 1, 0xDEADBEEF_12345678):
        stored = to_stored(value)
        assert -(2**63) <= stored < 2**63
        assert from_stored(stored) == value
    with pytest.raises(ValueError):
        to_stored(2**64)
    with pytest.raises(ValueError):
        to_stored(-1)


@pytest.mark.slow
def test_measured_distances_on_real_photos(shared_photos: Path) -> None:
    """The figures behind the default distance of 6 (printed; run with ``-s`` to see them).

    Every COCO and large photo of ``../shared/photos`` against its variants,
    and every pair of distinct photos. Asserted: resizes and re-encodes stay
    within the default, brightness +20 % within 8, distinct photos are more
    than 8 bits apart (the default keeps two steps of margin: distances are
    even). Crops are only reported: the pHash is not meant to catch them.
    """
    files = sorted((shared_photos / "coco" / "images").glob("*.jpg"))
    files += sorted((shared_photos / "large").glob("*.jpg"))
    kinds: dict[str, list[int]] = {}
    hashes = []
    for file in files:
        with Image.open(file) as opened:
            opened.draft("RGB", (512, 512))
            photo = opened.convert("RGB")
        width, height = photo.size
        dx, dy = round(width * 0.05), round(height * 0.05)
        original = phash_image(photo)
        hashes.append(original)
        variants = {
            "resized 50 %": photo.resize((width // 2, height // 2), Image.Resampling.LANCZOS),
            "JPEG q30": reencoded(photo, 30),
            "brightness +20 %": ImageEnhance.Brightness(photo).enhance(1.2),
            "cropped 5 %": photo.crop((dx, dy, width - dx, height - dy)),
        }
        for kind, variant in variants.items():
            kinds.setdefault(kind, []).append(int(hamming(original, phash_image(variant))))
    all_hashes = as_hashes(hashes)
    pairs = hamming(all_hashes[:, None], all_hashes[None, :])[np.triu_indices(len(files), 1)]
    print(f"\npHash distances (bits of 64) over {len(files)} photos:")
    for kind, found in kinds.items():
        values = np.array(found)
        within = float(np.mean(values <= DEFAULT_PHASH_DISTANCE))
        print(
            f"  {kind:<17} max {values.max():2d}  median {np.median(values):4.1f}  "
            f"within {DEFAULT_PHASH_DISTANCE}: {within:.1%}"
        )
    print(
        f"  distinct pairs    min {pairs.min():2d}  0.1 % below {np.percentile(pairs, 0.1):.0f}"
        f"  ({len(pairs):,} pairs)"
    )
    assert max(kinds["resized 50 %"]) <= DEFAULT_PHASH_DISTANCE
    assert max(kinds["JPEG q30"]) <= DEFAULT_PHASH_DISTANCE
    assert max(kinds["brightness +20 %"]) <= DEFAULT_PHASH_DISTANCE + 2
    assert pairs.min() > DEFAULT_PHASH_DISTANCE + 2
