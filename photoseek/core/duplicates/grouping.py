"""From candidate pairs to groups: test each pair, join, take connected components.

A pair is joined when its photos have the same content, or their pHashes
are within the distance threshold, or their embedding cosine reaches the
cosine threshold (:mod:`.thresholds`). A pair inside one unit (a RAW and its
JPEG: :mod:`.siblings`) is never joined, and a group is a connected
component of at least two units. Each photo's *link*, the reason shown for
it, is its best joined pair in the group: same content first, then the
smallest pHash distance, then the highest cosine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from photoseek.core.duplicates.candidates import Pairs
from photoseek.core.duplicates.phash import hamming
from photoseek.core.duplicates.records import EMBEDDING, PHASH, SAME_CONTENT
from photoseek.core.duplicates.thresholds import Thresholds
from photoseek.core.duplicates.unionfind import components
from photoseek.core.lazyimport import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:
    np = lazy_module("numpy")

__all__ = ["Joined", "RowLink", "group_rows", "join_pairs", "links"]

NO_DISTANCE = -1
REASONS = (SAME_CONTENT, PHASH, EMBEDDING)
"""The tests, in the order a link prefers them."""


@dataclass(frozen=True)
class Joined:
    """The joined pairs: rows, cosine (NaN: unknown), pHash distance (-1: unknown), and which
    test joined each (an index into :data:`REASONS`: the first that passed)."""

    first: npt.NDArray[np.int64]
    second: npt.NDArray[np.int64]
    cosine: npt.NDArray[np.float32]
    distance: npt.NDArray[np.int64]
    reason: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.first)


@dataclass(frozen=True)
class RowLink:
    """A photo's best joined pair: the other row and the evidence."""

    to: int
    reason: str
    phash_distance: int | None
    cosine: float | None


def join_pairs(
    pairs: Pairs,
    *,
    contents: npt.NDArray[np.int64],
    hashes: npt.NDArray[np.uint64],
    hashed: npt.NDArray[np.bool_],
    units: npt.NDArray[np.int64],
    thresholds: Thresholds,
) -> Joined:
    """The pairs that pass a test, across units (one vectorised pass)."""
    a, b = pairs.first, pairs.second
    both = hashed[a] & hashed[b]
    distance = np.where(both, hamming(hashes[a], hashes[b]), NO_DISTANCE)
    same = contents[a] == contents[b]
    close = both & (distance <= thresholds.phash_distance)
    similar = np.nan_to_num(pairs.cosine, nan=-np.inf) >= thresholds.cosine
    keep = (same | close | similar) & (units[a] != units[b])
    reason = np.where(same, 0, np.where(close, 1, 2)).astype(np.int64)
    cosine = np.where(same, np.float32(1.0), pairs.cosine).astype(np.float32)
    return Joined(a[keep], b[keep], cosine[keep], distance[keep], reason[keep])


def group_rows(joined: Joined, units: npt.NDArray[np.int64]) -> list[list[int]]:
    """The groups: connected components over units, as rows (with every file of each unit)."""
    if not len(joined):
        return []
    ends = np.concatenate([units[joined.first], units[joined.second]])
    nodes, index = np.unique(ends, return_inverse=True)
    half = len(joined)
    edges = zip(index[:half].tolist(), index[half:].tolist(), strict=True)
    members_of_unit: dict[int, list[int]] = {}
    involved = np.isin(units, nodes)
    for row in np.flatnonzero(involved).tolist():
        members_of_unit.setdefault(int(units[row]), []).append(row)
    groups = []
    for component in components(len(nodes), edges):
        rows = [row for node in component for row in members_of_unit[int(nodes[node])]]
        groups.append(sorted(rows))
    return groups


def links(joined: Joined) -> dict[int, RowLink]:
    """Each row's best joined pair (see the module docstring)."""
    if not len(joined):
        return {}
    rows = np.concatenate([joined.first, joined.second])
    others = np.concatenate([joined.second, joined.first])
    reason = np.concatenate([joined.reason, joined.reason])
    distance = np.concatenate([joined.distance, joined.distance])
    cosine = np.concatenate([joined.cosine, joined.cosine])
    by_distance = np.where(distance < 0, np.iinfo(np.int64).max, distance)
    by_cosine = np.nan_to_num(cosine, nan=-np.inf)
    order = np.lexsort((-by_cosine, by_distance, reason, rows))
    starts = np.r_[True, rows[order][1:] != rows[order][:-1]]
    best: dict[int, RowLink] = {}
    for at in order[starts].tolist():
        dist, sim = int(distance[at]), float(cosine[at])
        best[int(rows[at])] = RowLink(
            to=int(others[at]),
            reason=REASONS[int(reason[at])],
            phash_distance=None if dist < 0 else dist,
            cosine=None if np.isnan(sim) else sim,
        )
    return best
