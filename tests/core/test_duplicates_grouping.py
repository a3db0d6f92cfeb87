"""Duplicate grouping without a model: pairs, union-find, RAW+JPEG, keep rule, thresholds."""

from __future__ import annotations

import os

import numpy as np
import pytest

from photoseek.core.catalog.phashes import DuplicateRow
from photoseek.core.duplicates import candidates
from photoseek.core.duplicates.formats import CAMERA_JPEG, CONVERTED, RAW, format_rank
from photoseek.core.duplicates.keeprule import KeepFacts, keep_key
from photoseek.core.duplicates.records import EMBEDDING, PHASH, SAME_CONTENT, SIBLING
from photoseek.core.duplicates.service import find_groups
from photoseek.core.duplicates.siblings import photo_units
from photoseek.core.duplicates.thresholds import (
    DEFAULT_COSINE,
    DEFAULT_PHASH_DISTANCE,
    MODEL_COSINES,
    Thresholds,
    default_cosine,
    thresholds,
)
from photoseek.core.duplicates.unionfind import UnionFind, components
from photoseek.core.errors import PhotoseekError

SEP = os.sep.encode()


def path(*parts: str) -> bytes:
    return SEP + SEP.join(part.encode() for part in parts)


# -- union-find --------------------------------------------------------------------------


def test_components_join_chains_and_keep_strangers_apart() -> None:
    assert components(7, [(0, 1), (1, 2), (4, 5)]) == [[0, 1, 2], [4, 5]]
    assert components(5, [(3, 1), (1, 4), (4, 3)]) == [[1, 3, 4]]  # a cycle is one group
    assert components(3, [(1, 1)]) == []  # a node with itself is no group
    assert components(0, []) == []


def test_union_reports_whether_two_sets_met() -> None:
    sets = UnionFind(4)
    assert sets.union(0, 1) and sets.union(2, 3)
    assert not sets.union(1, 0)
    assert sets.union(1, 3)
    assert sets.find(0) == sets.find(2) and sets.sets() == [[0, 1, 2, 3]]


def test_a_long_chain_is_one_component_fast() -> None:
    n = 100_000
    pairs = [(i, i + 1) for i in range(n - 1)]
    (only,) = components(n, pairs)
    assert len(only) == n


# -- candidate pairs ---------------------------------------------------------------------


def test_neighbour_pairs_drop_gaps_and_self_and_order_each_pair() -> None:
    near = np.array([[1, -1], [0, 2], [2, 1]], dtype=np.int64)
    sims = np.array([[0.9, np.nan], [0.9, 0.8], [1.0, 0.8]], dtype=np.float32)
    pairs = candidates.neighbour_pairs(near, sims)
    assert sorted(zip(pairs.first.tolist(), pairs.second.tolist(), strict=True)) == [
        (0, 1),
        (0, 1),
        (1, 2),
        (1, 2),
    ]
    merged = candidates.merge(pairs)
    assert merged.first.tolist() == [0, 1] and merged.second.tolist() == [1, 2]


def test_merge_keeps_each_pair_once_with_the_best_known_cosine() -> None:
    a = candidates.Pairs.of(np.array([3, 0]), np.array([1, 2]), np.array([0.5, 0.7], np.float32))
    b = candidates.Pairs.of(np.array([1]), np.array([3]))  # no cosine known
    c = candidates.Pairs.of(np.array([1]), np.array([3]), np.array([0.9], np.float32))
    merged = candidates.merge(a, b, c)
    assert merged.first.tolist() == [0, 1] and merged.second.tolist() == [2, 3]
    np.testing.assert_allclose(merged.cosine, [0.7, 0.9])
    only_unknown = candidates.merge(b)
    assert np.isnan(only_unknown.cosine).all()


def test_star_pairs_link_equal_keys_to_their_first_row() -> None:
    keys = np.array([7, 3, 7, 9, 7, 3], dtype=np.int64)
    valid = np.array([True, True, True, True, False, True])
    pairs = candidates.star_pairs(keys, valid)
    assert sorted(zip(pairs.first.tolist(), pairs.second.tolist(), strict=True)) == [
        (0, 2),
        (1, 5),
    ]


def test_band_pairs_find_every_pair_within_three_bits() -> None:
    """Four 16-bit quarters: three differing bits leave one quarter equal."""
    rng = np.random.default_rng(1)
    base = rng.integers(0, 2**63, 300, dtype=np.int64).astype(np.uint64)
    flips = [rng.choice(64, rng.integers(1, 4), replace=False) for _ in base]
    near = np.array(
        [b ^ np.uint64(sum(1 << int(i) for i in f)) for b, f in zip(base, flips, strict=True)],
        dtype=np.uint64,
    )
    hashes = np.concatenate([base, near])
    pairs = candidates.band_pairs(hashes, np.ones(len(hashes), dtype=bool))
    found = set(zip(pairs.first.tolist(), pairs.second.tolist(), strict=True))
    assert all((i, i + 300) in found for i in range(300))
    assert len(found) < 2_000  # not every pair: only those sharing a quarter


def test_band_pairs_skip_crowded_buckets() -> None:
    hashes = np.zeros(100, dtype=np.uint64)  # 100 blank frames: one bucket per quarter
    assert len(candidates.band_pairs(hashes, np.ones(100, dtype=bool), max_bucket=32)) == 0
    # ... while identical hashes still pair (as a star: 99 pairs, not 4,950)
    assert len(candidates.star_pairs(hashes, np.ones(100, dtype=bool))) == 99


# -- RAW + JPEG ---------------------------------------------------------------------------


def test_a_raw_and_its_jpeg_are_one_unit() -> None:
    paths = [
        path("shoot", "IMG_0001.CR2"),
        path("shoot", "IMG_0001.JPG"),
        path("shoot", "img_0001.heic"),  # same stem, other case: the same shot
        path("shoot", "IMG_0002.JPG"),
        path("other", "IMG_0001.jpg"),  # another folder: another photo
        path("phone", "PXL_1.dng"),
        path("phone", "PXL_1.heif"),
        path("export", "sunset.jpg"),
        path("export", "sunset.png"),  # no RAW: a conversion, a duplicate like any other
        path("shoot", "IMG_0001.png"),  # not a camera companion of the RAW
    ]
    units = photo_units(paths).tolist()
    assert units[0] == units[1] == units[2] == 0
    assert units[3:] == [3, 4, 5, 5, 7, 8, 9]


def row(
    photo_id: int,
    name: bytes,
    phash: int | None = 0,
    *,
    size: tuple[int, int] = (4000, 3000),
    fingerprint: str | None = None,
    date: str = "2024-05-01T10:00:00",
    mtime: int = 0,
    fmt: str = "jpeg",
) -> DuplicateRow:
    return DuplicateRow(
        id=photo_id,
        path=name,
        fingerprint=fingerprint or f"fp-{photo_id}",
        size=1000,
        mtime_ns=mtime,
        format=fmt,
        width=size[0],
        height=size[1],
        sort_date=date,
        phash=phash,
        available=True,
    )


class FakeIndex:
    """``VectorIndex.neighbours`` over a fixed similarity table (ids -> {id: cosine})."""

    def __init__(self, sims: dict[tuple[int, int], float]) -> None:
        self.sims = {**sims, **{(b, a): s for (a, b), s in sims.items()}}
        self.asked: list[int] = []

    def neighbours(self, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        found = np.full((len(labels), k), -1, dtype=np.int64)
        sims = np.full((len(labels), k), np.nan, dtype=np.float32)
        for n, label in enumerate(labels.tolist()):
            self.asked.append(label)
            mine = [(s, b) for (a, b), s in self.sims.items() if a == label]
            near = sorted(mine, reverse=True)[:k]
            for m, (s, b) in enumerate(near):
                found[n, m], sims[n, m] = b, s
        return found, sims


def groups_of(rows: list[DuplicateRow], index: FakeIndex, limits: Thresholds) -> list[list[int]]:
    found = find_groups(rows, index, limits)  # type: ignore[arg-type]
    return [[photo.id for photo in group.photos] for group in found]


def test_raw_and_jpeg_of_one_shot_are_never_offered_as_duplicates() -> None:
    rows = [row(1, path("a", "IMG_1.NEF"), 5), row(2, path("a", "IMG_1.JPG"), 5)]
    index = FakeIndex({(1, 2): 0.999})
    assert groups_of(rows, index, Thresholds(0.9, 6)) == []


def test_a_copy_of_a_raw_jpeg_shot_keeps_both_files_of_the_shot() -> None:
    rows = [
        row(1, path("a", "IMG_1.NEF"), 5, size=(6000, 4000), fmt="tiff"),
        row(2, path("a", "IMG_1.JPG"), 5, size=(6000, 4000)),
        row(3, path("b", "IMG_1 copy.jpg"), 5, size=(3000, 2000)),
    ]
    (group,) = find_groups(rows, FakeIndex({}), Thresholds(2.0, 6))  # type: ignore[arg-type]
    assert [p.id for p in group.photos] == [1, 2, 3]
    assert [p.keep for p in group.photos] == [True, True, False]
    assert group.photos[0].unit == group.photos[1].unit != group.photos[2].unit
    assert [p.id for p in group.others] == [3]
    assert group.photos[2].link.reason == PHASH


def test_a_raw_joined_only_through_its_jpeg_says_so() -> None:
    rows = [
        row(1, path("a", "IMG_1.JPG"), 5),
        row(2, path("a", "IMG_1.CR3"), None, size=(6000, 4000), fmt=None),  # nothing to compare
        row(3, path("b", "IMG_1.jpg"), 5, size=(2000, 1500)),
    ]
    (group,) = find_groups(rows, FakeIndex({}), Thresholds(2.0, 6))  # type: ignore[arg-type]
    by_id = {p.id: p for p in group.photos}
    assert by_id[2].link.reason == SIBLING and by_id[2].link.to == 1
    assert by_id[2].keep and by_id[1].keep and not by_id[3].keep


def test_each_test_joins_on_its_own_and_the_threshold_overrides() -> None:
    a, b, c = 0xFFFF, 0xFFFF << 32, 0xFFFF << 48  # 32 bits and more apart from each other
    rows = [
        row(1, path("p", "a.jpg"), a),
        row(2, path("p", "a copy.jpg"), a, fingerprint="fp-1"),  # same content
        row(3, path("p", "a small.jpg"), a ^ 0b110),  # 2 bits apart
        row(4, path("p", "burst 1.jpg"), b),
        row(5, path("p", "burst 2.jpg"), b ^ (0xFF << 16)),  # pHash 8 bits apart...
        row(6, path("p", "other.jpg"), c),
    ]
    index = FakeIndex({(4, 5): 0.96, (5, 6): 0.80})  # ... but the embedding sees one burst

    def ids(limits: Thresholds) -> list[list[int]]:
        return [sorted(group) for group in groups_of(rows, index, limits)]

    assert ids(Thresholds(0.95, DEFAULT_PHASH_DISTANCE)) == [[1, 2, 3], [4, 5]]
    assert ids(Thresholds(0.97, DEFAULT_PHASH_DISTANCE)) == [[1, 2, 3]]
    assert ids(Thresholds(0.75, DEFAULT_PHASH_DISTANCE)) == [[1, 2, 3], [4, 5, 6]]
    assert ids(Thresholds(0.97, 8)) == [[1, 2, 3], [4, 5]]  # the burst by its pHash now
    assert ids(Thresholds(0.97, 0)) == [[1, 2]]  # only the same content
    (first, second) = find_groups(rows, index, Thresholds(0.95, 6))  # type: ignore[arg-type]
    reasons = {p.id: (p.link.reason, p.link.phash_distance) for p in first.photos}
    assert reasons == {1: (SAME_CONTENT, 0), 2: (SAME_CONTENT, 0), 3: (PHASH, 2)}
    burst = {p.id: p.link for p in second.photos}
    assert burst[5].reason == EMBEDDING and burst[5].cosine == pytest.approx(0.96)
    assert burst[5].phash_distance == 8


def test_pairs_without_a_hash_are_joined_by_the_embedding_alone() -> None:
    rows = [row(1, path("p", "a.jpg"), None), row(2, path("p", "b.jpg"), None)]
    assert groups_of(rows, FakeIndex({(1, 2): 0.99}), Thresholds(0.95, 64)) == [[1, 2]]
    assert groups_of(rows, FakeIndex({(1, 2): 0.90}), Thresholds(0.95, 64)) == []


def test_neighbours_outside_the_search_are_ignored() -> None:
    rows = [row(1, path("p", "a.jpg"), 0xFFFF), row(2, path("p", "b.jpg"), 0xFFFF << 32)]
    index = FakeIndex({(1, 99): 0.999, (2, 99): 0.999})  # 99: an offline photo
    assert groups_of(rows, index, Thresholds(0.95, 6)) == []
    assert sorted(index.asked) == [1, 2]


def test_groups_are_largest_first() -> None:
    rows = [row(n, path("p", f"{n}.jpg"), 0xFFFF << (n // 3 * 16)) for n in range(1, 9)]
    assert [len(g) for g in groups_of(rows, FakeIndex({}), Thresholds(2.0, 6))] == [3, 3, 2]


# -- keep rule ----------------------------------------------------------------------------


def facts(name: str, size: tuple[int, int], fmt: str, date: str, mtime: int = 0) -> KeepFacts:
    return KeepFacts(name.encode(), size[0], size[1], fmt, date, mtime)


def test_the_keep_rule_prefers_resolution_then_original_format_then_age_then_path() -> None:
    big_png = facts("/p/big.png", (4000, 3000), "png", "2024-01-01")
    big_jpeg_new = facts("/p/new.jpg", (4000, 3000), "jpeg", "2024-06-01")
    big_jpeg_old = facts("/p/old.jpg", (4000, 3000), "jpeg", "2023-05-01")
    big_raw = facts("/p/shot.dng", (4000, 3000), "tiff", "2024-06-02")
    small_old = facts("/p/small.jpg", (2000, 1500), "jpeg", "2001-01-01")
    same_day_later = facts("/p/a.jpg", (4000, 3000), "jpeg", "2023-06-01", mtime=9)
    same_day_earlier = facts("/p/b.jpg", (4000, 3000), "jpeg", "2023-06-01", mtime=3)
    undated = facts("/p/c.jpg", (4000, 3000), "jpeg", "")
    ordered = sorted(
        [
            small_old,
            big_png,
            undated,
            big_jpeg_new,
            same_day_later,
            big_raw,
            big_jpeg_old,
            same_day_earlier,
        ],
        key=keep_key,
    )
    assert ordered == [
        big_raw,
        big_jpeg_old,
        same_day_earlier,
        same_day_later,
        big_jpeg_new,
        undated,
        big_png,
        small_old,
    ]


def test_format_ranks_by_extension_then_by_content() -> None:
    assert format_rank("/p/IMG_1.CR2", "raw") == RAW
    assert format_rank("/p/IMG_1.dng", "tiff") == RAW
    assert format_rank("/p/IMG_1.HEIC", "heif") == CAMERA_JPEG
    assert format_rank("/p/IMG_1.jpeg", "jpeg") == CAMERA_JPEG
    assert format_rank("/p/scan.tif", "tiff") == CONVERTED
    assert format_rank("/p/pic.webp", "webp") == CONVERTED
    assert format_rank("/p/download", "jpeg") == CAMERA_JPEG  # no extension: the content
    assert format_rank("/p/odd.bin", None) == CONVERTED


def test_the_kept_photo_is_first_in_its_group() -> None:
    rows = [
        row(1, path("p", "copy.png"), 7, fmt="png"),
        row(2, path("p", "half.jpg"), 7, size=(2000, 1500)),
        row(3, path("p", "orig.jpg"), 7, date="2020-01-01T00:00:00"),
        row(4, path("p", "later.jpg"), 7, date="2022-01-01T00:00:00"),
    ]
    (group,) = find_groups(rows, FakeIndex({}), Thresholds(2.0, 6))  # type: ignore[arg-type]
    assert [p.id for p in group.photos] == [3, 4, 1, 2]
    assert group.kept.id == 3 and [p.keep for p in group.photos] == [True, False, False, False]


# -- thresholds ---------------------------------------------------------------------------


def test_thresholds_come_from_the_model_table_with_a_fallback_and_overrides() -> None:
    listed = next(iter(MODEL_COSINES))
    assert default_cosine(*listed) == MODEL_COSINES[listed]
    assert default_cosine("tests/fixtures/tiny-clip.json", "none") == DEFAULT_COSINE
    assert thresholds("x", "y") == Thresholds(DEFAULT_COSINE, DEFAULT_PHASH_DISTANCE)
    assert thresholds("x", "y", 0.9, 2) == Thresholds(0.9, 2)
    for bad in (float("nan"), 3.0, -2.0):
        with pytest.raises(PhotoseekError, match="cosine"):
            Thresholds(bad, 6)
    with pytest.raises(PhotoseekError, match="bits"):
        Thresholds(0.9, 65)
