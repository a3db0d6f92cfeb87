"""A 64-bit perceptual hash (DCT pHash) of a photo's pixels, written with numpy.

The photo is shrunk to 32 x 32 grey pixels (Lanczos, after Pillow's integer
box reduction: ``reducing_gap=2``), transformed with a 2-D DCT-II, and the
8 x 8 lowest frequencies are kept. The DC coefficient (the mean brightness,
orders of magnitude larger than the rest) is left out of the median; each of
the 63 other coefficients gives one bit: 1 when it is above their median.
Bit ``i`` (least significant first) is coefficient ``i`` of the 8 x 8 block
in row-major order, so bit 0, the DC term, is always 0 and every hash has
exactly 31 bits set: the Hamming distance of two hashes is always even.

What it survives (measured on the 371 COCO and camera-size photos of
``../shared/photos`` by ``tests/core/test_duplicates_phash.py``, which keeps
the claims honest): a resize to 50 % (at most 4 bits of 64), a re-encode at
JPEG quality 30 (at most 6), brightness +20 % (at most 8; 99.5 % at most 6),
the 256-pixel cache thumbnail against the decoded photo (at most 4). What it
does not: a crop of 5 % on each side moves the grid under the picture
(median 10 bits, up to 24; 12 % within 6), which is the embedding's job.
Distinct photos were at least 10 bits apart (one pair of 68,635; the next
at 14; 0.1 % of the pairs below 19).

Cost, alone on one core of the 2-core test machine: 0.2 ms for a 320 x 240
image, 0.35 ms at 640 x 480, 10 ms for a 12-megapixel image decoded at full
size (``--no-draft``). In the indexer (``photoseek index --timings``, the
default architecture, the 371 COCO and camera-size photos of
``../shared/photos``, both cores busy): 0.54 ms of CPU a photo (1.4 ms
busy), against 4.6 ms for the thumbnail, 6.8 ms for decoding and 48 ms for
the model.

Decision: the ``imagehash`` library computes the same kind of hash, but it
pulls in scipy and PyWavelets (tens of MB in the PyInstaller bundle) for one
32 x 32 DCT, which is two small matrix products here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from photoseek.core.lazyimport import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from PIL import Image
else:
    np = lazy_module("numpy")

__all__ = [
    "HASH_BITS",
    "SIDE",
    "as_hashes",
    "from_stored",
    "hamming",
    "phash_image",
    "phash_pixels",
    "shrink",
    "to_stored",
]

HASH_BITS: Final = 64
"""Bits of a hash (bit 0, the DC term, is always 0)."""

SIDE: Final = 32
"""The hash is computed from a SIDE x SIDE grey image."""

_LOW: Final = 8  # the LOW x LOW lowest frequencies become bits
_REDUCING_GAP: Final = 2.0  # box-reduce by an integer factor first: 5x faster, same bits
_SIGN: Final = 1 << 63
_WRAP: Final = 1 << 64


@functools.cache
def _dct_basis() -> npt.NDArray[np.float32]:
    """The first LOW rows of the (unnormalised) DCT-II matrix of size SIDE."""
    x = np.arange(SIDE, dtype=np.float64)
    u = np.arange(_LOW, dtype=np.float64)[:, None]
    return np.cos(np.pi * (2.0 * x + 1.0) * u / (2.0 * SIDE)).astype(np.float32)


@functools.cache
def _bit_weights() -> npt.NDArray[np.uint64]:
    return np.left_shift(np.uint64(1), np.arange(HASH_BITS, dtype=np.uint64))


def shrink(image: Image.Image) -> npt.NDArray[np.float32]:
    """``image`` (any mode, upright) as the SIDE x SIDE grey pixels the hash is made of."""
    from PIL import Image

    rgb = image if image.mode in ("RGB", "L") else image.convert("RGB")
    small = rgb.resize((SIDE, SIDE), Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
    return np.asarray(small.convert("L"), dtype=np.float32)


def phash_pixels(grey: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    """The hashes of grey images of SIDE x SIDE pixels: shape ``(SIDE, SIDE)`` or ``(n, SIDE,
    SIDE)``; returns one ``uint64`` per image (a 0-d array for one image)."""
    pixels = np.asarray(grey, dtype=np.float32)
    if pixels.shape[-2:] != (SIDE, SIDE):
        raise ValueError(f"expected {SIDE} x {SIDE} pixels, got shape {pixels.shape}")
    basis = _dct_basis()
    low = basis @ pixels @ basis.T  # (..., LOW, LOW): rows, then columns
    flat = low.reshape(*pixels.shape[:-2], _LOW * _LOW)
    median = np.median(flat[..., 1:], axis=-1, keepdims=True)
    bits = flat > median
    bits[..., 0] = False
    hashes: npt.NDArray[np.uint64] = np.bitwise_or.reduce(
        np.where(bits, _bit_weights(), np.uint64(0)), axis=-1
    )
    return hashes


def phash_image(image: Image.Image) -> int:
    """The perceptual hash of an upright image (an unsigned 64-bit integer)."""
    return int(phash_pixels(shrink(image)))


def hamming(a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Bits that differ between hashes ``a`` and ``b`` (broadcast, element-wise)."""
    xor = np.bitwise_xor(np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64))
    counter = getattr(np, "bitwise_count", None)  # numpy 2
    if counter is not None:
        return np.asarray(counter(xor), dtype=np.int64)
    as_bytes = np.ascontiguousarray(xor).view(np.uint8).reshape(*xor.shape, 8)
    counts: npt.NDArray[np.int64] = _byte_bits()[as_bytes].sum(axis=-1, dtype=np.int64)
    return counts


@functools.cache
def _byte_bits() -> npt.NDArray[np.int64]:
    """Set bits of every byte value (for numpy before 2, which has no ``bitwise_count``)."""
    values = np.arange(256, dtype=np.uint8)
    counts: npt.NDArray[np.int64] = np.unpackbits(values[:, None], axis=1).sum(axis=1)
    return counts.astype(np.int64)


def to_stored(value: int) -> int:
    """An unsigned 64-bit hash as SQLite's signed INTEGER."""
    if not 0 <= value < _WRAP:
        raise ValueError(f"not a 64-bit hash: {value}")
    return value - _WRAP if value & _SIGN else value


def from_stored(value: int) -> int:
    """A hash read from SQLite, unsigned again."""
    return value + _WRAP if value < 0 else value


def as_hashes(values: Iterable[int]) -> npt.NDArray[np.uint64]:
    """Unsigned hashes as a ``uint64`` array."""
    return np.fromiter((v & (_WRAP - 1) for v in values), dtype=np.uint64)
