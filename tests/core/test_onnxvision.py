"""The image tower on ONNX Runtime runs a batch in pieces of a few photos, shared by its threads."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from photoseek.core.model import imagepath, onnxvision
from photoseek.core.model.embedder import load_embedder
from photoseek.core.model.visionspec import VisionTowerSpec
from tests.conftest import tiny_settings
from tests.core.test_textpath import _weights_file

B32_256 = VisionTowerSpec(256, 32, 768, 12, 12, 4.0, 512, quick_gelu=False)


@pytest.mark.parametrize(
    ("image_size", "patch_size", "photos"),
    [(256, 32, 4), (224, 32, 5), (224, 16, 1), (224, 14, 1), (336, 14, 1)],
)
def test_a_run_holds_about_256_token_rows(image_size: int, patch_size: int, photos: int) -> None:
    spec = replace(B32_256, image_size=image_size, patch_size=patch_size)
    assert onnxvision.photos_per_run(spec) == photos


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, VisionTowerSpec]:
    """The tiny model's weights file (written once per test) and its tower's spec."""
    weights = _weights_file(tmp_path)
    spec = load_embedder(tiny_settings(str(weights)), tmp_path / "models").vision_spec
    assert spec is not None
    return weights, spec


def _tower(
    tiny: tuple[Path, VisionTowerSpec], **kwargs: Any
) -> tuple[onnxvision.OnnxImageTower, list[int]]:
    """A tiny tower whose session runs are recorded (photos in each)."""
    weights, spec = tiny
    tower = onnxvision.OnnxImageTower(spec, imagepath.vision_tensors(weights), "fp32", **kwargs)
    runs: list[int] = []
    lock = threading.Lock()
    run = tower._run

    def recorded(pixels: np.ndarray) -> np.ndarray:
        with lock:
            runs.append(len(pixels))
        return run(pixels)

    tower._run = recorded  # type: ignore[method-assign]
    return tower, runs


def _pixels(count: int, size: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(count, 3, size, size)).astype(np.float32)


@pytest.mark.parametrize("parts", [1, 2])
def test_a_batch_runs_in_pieces_with_the_vectors_of_one_run(
    tiny: tuple[Path, VisionTowerSpec], parts: int
) -> None:
    tower, runs = _tower(tiny, parts=parts, run_size=2)
    whole, _ = _tower(tiny, parts=1, run_size=64)
    pixels = _pixels(7, tower.spec.image_size)
    vectors = tower.encode(pixels)
    assert sorted(runs) == [1, 2, 2, 2]
    assert np.allclose(vectors, whole.encode(pixels), atol=1e-5)


def test_a_batch_smaller_than_a_run_still_uses_every_thread(
    tiny: tuple[Path, VisionTowerSpec],
) -> None:
    tower, runs = _tower(tiny, parts=2, run_size=8)
    tower.encode(_pixels(3, tower.spec.image_size))
    assert sorted(runs) == [1, 2]


def test_the_pieces_are_a_multiple_of_the_threads_so_they_end_together(
    tiny: tuple[Path, VisionTowerSpec],
) -> None:
    """11 photos at 4 a run would be 4, 4 and 3: one thread would run two pieces while the
    other waits; four pieces of 3, 3, 3 and 2 keep both busy to the end."""
    tower, runs = _tower(tiny, parts=2, run_size=4)
    tower.encode(_pixels(11, tower.spec.image_size))
    assert sorted(runs) == [2, 3, 3, 3]
