"""Candidate pairs: the few pairs of photos worth testing, never all n^2 of them.

Photos are rows ``0 .. n - 1`` of the search. Candidates come from:

* **neighbours** in the vector index: each photo's ``k`` nearest photos by
  embedding (:func:`neighbour_pairs`), with their cosine;
* **same content**: photos with one fingerprint are byte-identical copies
  (:func:`star_pairs`: each is paired with the first, enough for a group);
* **identical pHashes** (:func:`star_pairs` again);
* **pHash bands**: photos whose pHashes agree on one of four 16-bit quarters
  (:func:`band_pairs`). Two hashes at most 3 bits apart always share a
  quarter (four quarters, three differing bits), and most at 4 or 6 do, so
  resized and re-encoded copies are found even when the model does not put
  them among each other's nearest (random weights, or a model that sees
  little in a picture). A quarter shared by more than :data:`MAX_BUCKET`
  photos (a common pattern, blank frames) is not used: it would cost
  quadratic pairs, and its copies are found by the other sources.

At 100,000 photos and ``k`` 12 that is about 1.2 million neighbour pairs and a
few hundred thousand band pairs, each tested in a vectorised pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from photoseek.core.lazyimport import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:
    np = lazy_module("numpy")

__all__ = ["BANDS", "MAX_BUCKET", "Pairs", "band_pairs", "merge", "neighbour_pairs", "star_pairs"]

BANDS: Final = 4
"""pHash quarters used as band keys (16 bits each)."""

MAX_BUCKET: Final = 32
"""Photos sharing a band value above which that value is not used."""

_BAND_BITS: Final = 64 // BANDS


@dataclass(frozen=True)
class Pairs:
    """Pairs of rows (``first < second``) and their cosine (NaN: not computed)."""

    first: npt.NDArray[np.int64]
    second: npt.NDArray[np.int64]
    cosine: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.first)

    @classmethod
    def of(
        cls,
        a: npt.NDArray[np.int64],
        b: npt.NDArray[np.int64],
        cosine: npt.NDArray[np.float32] | None = None,
    ) -> Pairs:
        """Pairs from two row arrays in any order; pairs of a row with itself are dropped."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        sims = (
            np.full(len(a), np.nan, dtype=np.float32)
            if cosine is None
            else np.asarray(cosine, dtype=np.float32)
        )
        keep = a != b
        a, b, sims = a[keep], b[keep], sims[keep]
        return cls(np.minimum(a, b), np.maximum(a, b), sims)

    @classmethod
    def empty(cls) -> Pairs:
        """No pairs."""
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, np.zeros(0, dtype=np.float32))


def neighbour_pairs(neighbours: npt.NDArray[np.int64], cosines: npt.NDArray[np.float32]) -> Pairs:
    """Each row with each of its neighbours: ``neighbours[i]`` are rows (-1: none)."""
    n, k = neighbours.shape
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    found = neighbours.reshape(-1)
    sims = cosines.reshape(-1)
    known = found >= 0
    return Pairs.of(rows[known], found[known], sims[known])


def star_pairs(
    keys: npt.NDArray[np.int64] | npt.NDArray[np.uint64], valid: npt.NDArray[np.bool_]
) -> Pairs:
    """Rows with equal ``keys`` (where ``valid``), each paired with the first row of its key."""
    rows = np.flatnonzero(valid).astype(np.int64)
    if len(rows) < 2:
        return Pairs.empty()
    order = np.argsort(keys[rows], kind="stable")
    rows, sorted_keys = rows[order], keys[rows][order]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    first_of = rows[np.flatnonzero(starts)][np.cumsum(starts) - 1]
    return Pairs.of(first_of, rows)


def band_pairs(
    hashes: npt.NDArray[np.uint64], valid: npt.NDArray[np.bool_], max_bucket: int = MAX_BUCKET
) -> Pairs:
    """Rows whose hashes share one 16-bit quarter (in buckets of at most ``max_bucket``)."""
    rows = np.flatnonzero(valid).astype(np.int64)
    firsts: list[npt.NDArray[np.int64]] = []
    seconds: list[npt.NDArray[np.int64]] = []
    mask = np.uint64((1 << _BAND_BITS) - 1)
    for band in range(BANDS):
        keys = (hashes[rows] >> np.uint64(band * _BAND_BITS)) & mask
        a, b = _bucket_pairs(keys, rows, max_bucket)
        firsts.append(a)
        seconds.append(b)
    if not firsts:
        return Pairs.empty()
    return Pairs.of(np.concatenate(firsts), np.concatenate(seconds))


def _bucket_pairs(
    keys: npt.NDArray[np.uint64], rows: npt.NDArray[np.int64], max_bucket: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every pair of rows with one key, in buckets of 2 to ``max_bucket`` rows."""
    none = np.zeros(0, dtype=np.int64)
    if len(rows) < 2:
        return none, none
    order = np.argsort(keys, kind="stable")
    keys, rows = keys[order], rows[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    usable = np.repeat((sizes >= 2) & (sizes <= max_bucket), sizes)
    firsts, seconds = [none], [none]
    for step in range(1, min(max_bucket, int(sizes.max()))):
        at = np.arange(len(keys) - step)
        same = usable[at] & (keys[at] == keys[at + step])
        firsts.append(rows[at[same]])
        seconds.append(rows[at[same] + step])
    return np.concatenate(firsts), np.concatenate(seconds)


def merge(*parts: Pairs) -> Pairs:
    """The union of ``parts``, each pair once, with the highest cosine any part knew."""
    first = np.concatenate([p.first for p in parts])
    second = np.concatenate([p.second for p in parts])
    cosine = np.concatenate([p.cosine for p in parts])
    if not len(first):
        return Pairs.empty()
    known = np.where(np.isnan(cosine), -np.inf, cosine)
    order = np.lexsort((-known, second, first))  # by pair, the best cosine first
    first, second, cosine = first[order], second[order], cosine[order]
    starts = np.r_[True, (first[1:] != first[:-1]) | (second[1:] != second[:-1])]
    return Pairs(first[starts], second[starts], cosine[starts])
