"""Find the duplicate groups of a library's photos: candidates, tests, components, keep rule.

:func:`find_groups` takes the photos to search (catalog rows with their
pHashes, all available), the model's vector index and the thresholds, and
returns the groups. It works in vectorised passes so that 100,000 photos
take seconds:

1. each photo's :data:`NEIGHBOURS` nearest photos from the HNSW index, in
   chunks (progress and cancel between chunks; a GUI search waits at most one
   chunk for the index);
2. the candidate pairs (:mod:`.candidates`): those neighbours, photos of one
   content, photos of one pHash and photos sharing a pHash quarter;
3. the tests (:mod:`.grouping`): same content, pHash distance, cosine;
   never two files of one photo (:mod:`.siblings`);
4. connected components (:mod:`.unionfind`), each ordered by the keep rule
   (:mod:`.keeprule`); groups largest first, then by their kept photo's path.

:class:`~photoseek.core.library.duplicateops.DuplicateOps` wraps it for the
``Library`` facade: the catalog rows, the missing pHashes (:mod:`.backfill`)
and the vector index.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from photoseek.core.catalog.pathcodec import from_db
from photoseek.core.catalog.phashes import DuplicateRow
from photoseek.core.duplicates import candidates, grouping
from photoseek.core.duplicates.keeprule import KeepFacts, keep_key
from photoseek.core.duplicates.records import SIBLING, DuplicateGroup, DuplicatePhoto, Link
from photoseek.core.duplicates.siblings import photo_units
from photoseek.core.duplicates.thresholds import Thresholds
from photoseek.core.errors import Cancelled, PhotoseekError
from photoseek.core.lazyimport import lazy_module
from photoseek.core.progress import Phase, Progress, ProgressCallback

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from photoseek.core.vectors.index import VectorIndex
else:
    np = lazy_module("numpy")

__all__ = ["NEIGHBOURS", "find_groups"]

log = logging.getLogger(__name__)

NEIGHBOURS: Final = 12
"""Nearest photos asked of the vector index per photo: a burst of up to 13 frames is one
group directly, a longer one through its overlapping neighbourhoods."""

_CHUNK: Final = 1024

VectorsOf = Callable[[list[int]], "npt.NDArray[np.float32]"]


def find_groups(
    rows: Sequence[DuplicateRow],
    index: VectorIndex,
    thresholds: Thresholds,
    *,
    vectors_of: VectorsOf | None = None,
    neighbours: int = NEIGHBOURS,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[DuplicateGroup]:
    """The duplicate groups among ``rows`` (see the module docstring).

    ``rows`` are the photos to search; their ``phash`` may be None. The
    index holds their vectors (labels: photo ids); neighbours outside
    ``rows`` (offline photos) are ignored. ``vectors_of(ids)`` (unit vectors
    in the order of ``ids``) gives the cosine of joined pairs the neighbour
    search did not score, for the reasons shown; without it those stay
    unknown. Raises :class:`Cancelled` when ``cancel`` is set.
    """
    cancel = cancel or threading.Event()
    if len(rows) < 2:
        return []
    ids = np.fromiter((row.id for row in rows), dtype=np.int64, count=len(rows))
    near, sims = _neighbour_rows(ids, index, neighbours, on_progress, cancel)
    hashed = np.fromiter((row.phash is not None for row in rows), dtype=bool, count=len(rows))
    hashes = np.fromiter((row.phash or 0 for row in rows), dtype=np.uint64, count=len(rows))
    contents = _codes([row.fingerprint for row in rows])
    pairs = candidates.merge(
        candidates.neighbour_pairs(near, sims),
        candidates.star_pairs(contents, np.ones(len(rows), dtype=bool)),
        candidates.star_pairs(hashes, hashed),
        candidates.band_pairs(hashes, hashed),
    )
    units = photo_units([row.path for row in rows])
    joined = grouping.join_pairs(
        pairs, contents=contents, hashes=hashes, hashed=hashed, units=units, thresholds=thresholds
    )
    if vectors_of is not None:
        joined = _fill_cosines(joined, ids, vectors_of)
    groups = grouping.group_rows(joined, units)
    log.info(
        "duplicates: %d photos, %d candidate pairs, %d joined, %d groups",
        len(rows),
        len(pairs),
        len(joined),
        len(groups),
    )
    best = grouping.links(joined)
    built = [_group(rows, members, units, best) for members in groups]
    built.sort(key=lambda group: (-len(group.photos), group.kept.path))
    return built


def _neighbour_rows(
    ids: npt.NDArray[np.int64],
    index: VectorIndex,
    k: int,
    on_progress: ProgressCallback | None,
    cancel: threading.Event,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Each row's nearest rows by embedding (-1: none) and their cosines."""
    total = len(ids)
    near = np.full((total, k), -1, dtype=np.int64)
    sims = np.full((total, k), np.nan, dtype=np.float32)
    order = np.argsort(ids, kind="stable")
    by_id = ids[order]
    for start in range(0, total, _CHUNK):
        if cancel.is_set():
            raise Cancelled("the duplicate search was cancelled")
        labels, cosines = index.neighbours(ids[start : start + _CHUNK], k)
        at = np.minimum(np.searchsorted(by_id, labels), total - 1)
        rows = np.where(by_id[at] == labels, order[at], -1)
        near[start : start + len(rows)] = rows
        sims[start : start + len(rows)] = np.where(rows >= 0, cosines, np.nan)
        if on_progress is not None:
            on_progress(Progress(Phase.DUPLICATES, min(start + _CHUNK, total), total))
    return near, sims


def _codes(keys: list[str]) -> npt.NDArray[np.int64]:
    """A number per distinct key (equal keys, equal numbers)."""
    seen: dict[str, int] = {}
    return np.fromiter((seen.setdefault(key, len(seen)) for key in keys), np.int64, len(keys))


def _fill_cosines(
    joined: grouping.Joined, ids: npt.NDArray[np.int64], vectors_of: VectorsOf
) -> grouping.Joined:
    """Compute the cosine of joined pairs the neighbour search did not score."""
    missing = np.flatnonzero(np.isnan(joined.cosine))
    if not len(missing):
        return joined
    rows = np.unique(np.concatenate([joined.first[missing], joined.second[missing]]))
    try:
        vectors = np.asarray(vectors_of(ids[rows].tolist()), dtype=np.float32)
    except PhotoseekError as exc:  # a photo left meanwhile: the cosines shown stay unknown
        log.info("cosines of %d joined pairs not computed: %s", len(missing), exc)
        return joined
    at = {int(row): n for n, row in enumerate(rows.tolist())}
    first = vectors[[at[int(r)] for r in joined.first[missing]]]
    second = vectors[[at[int(r)] for r in joined.second[missing]]]
    cosine = joined.cosine.copy()
    cosine[missing] = np.einsum("ij,ij->i", first, second)
    return grouping.Joined(joined.first, joined.second, cosine, joined.distance, joined.reason)


def _group(
    rows: Sequence[DuplicateRow],
    members: list[int],
    units: npt.NDArray[np.int64],
    best: dict[int, grouping.RowLink],
) -> DuplicateGroup:
    """One group's photos in keep-rule order, the kept unit marked, each with its link."""
    ordered = sorted(members, key=lambda row: keep_key(_facts(rows[row])))
    kept_unit = int(units[ordered[0]])
    photos = []
    for row in ordered:
        record = rows[row]
        link = best.get(row)
        if link is None:  # a RAW's JPEG (or the other way round) that only its sibling joined
            sibling = next(r for r in ordered if units[r] == units[row] and r in best)
            shown = Link(rows[sibling].id, SIBLING, None, None)
        else:
            shown = Link(rows[link.to].id, link.reason, link.phash_distance, link.cosine)
        photos.append(
            DuplicatePhoto(
                id=record.id,
                path=from_db(record.path),
                size=record.size,
                width=record.width,
                height=record.height,
                format=record.format,
                date=record.sort_date,
                keep=int(units[row]) == kept_unit,
                link=shown,
                unit=rows[int(units[row])].id,
            )
        )
    return DuplicateGroup(tuple(photos))


def _facts(row: DuplicateRow) -> KeepFacts:
    return KeepFacts(row.path, row.width, row.height, row.format, row.sort_date, row.mtime_ns)
