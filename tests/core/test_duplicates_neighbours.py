"""``VectorIndex.neighbours``: each photo's nearest other photos, in one batched query."""

from __future__ import annotations

import numpy as np
import pytest

from photoseek.core.vectors.index import VectorIndex


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def index() -> tuple[VectorIndex, np.ndarray]:
    rng = np.random.default_rng(3)
    vectors = _unit(rng.standard_normal((200, 16)))
    built = VectorIndex(16, "test/neighbours", threads=1)
    built.add(list(range(10, 210)), vectors)
    return built, vectors


def test_each_label_gets_its_nearest_others_with_their_cosines(
    index: tuple[VectorIndex, np.ndarray],
) -> None:
    built, vectors = index
    labels = list(range(10, 60))
    found, sims = built.neighbours(labels, 5)
    assert found.shape == sims.shape == (50, 5)
    exact = vectors @ vectors.T
    for row, label in enumerate(labels):
        mine = exact[label - 10].copy()
        mine[label - 10] = -np.inf  # never itself
        best = (np.argsort(-mine)[:5] + 10).tolist()
        assert found[row].tolist() == best
        np.testing.assert_allclose(sims[row], mine[np.array(best) - 10], atol=1e-5)


def test_unknown_labels_and_small_indexes_are_padded(
    index: tuple[VectorIndex, np.ndarray],
) -> None:
    built, _ = index
    built.remove([11])
    found, sims = built.neighbours([11, 999, 12], 3)
    assert found[:2].tolist() == [[-1, -1, -1], [-1, -1, -1]] and np.isnan(sims[:2]).all()
    assert 11 not in found[2].tolist() and (found[2] >= 0).all()
    tiny = VectorIndex(16, "test/tiny", threads=1)
    tiny.add([1, 2, 3], _unit(np.eye(16, dtype=np.float32)[:3] + 0.1))
    few, near = tiny.neighbours([1], 5)
    assert sorted(few[0, :2].tolist()) == [2, 3] and few[0, 2:].tolist() == [-1, -1, -1]
    assert np.isnan(near[0, 2:]).all() and not np.isnan(near[0, :2]).any()
    with pytest.raises(ValueError):
        tiny.neighbours([1], 0)
