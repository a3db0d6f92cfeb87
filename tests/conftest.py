"""Shared fixtures: a tiny random-weight open_clip model, libraries, photo makers."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.library import Library
from photoseek.core.model.embedder import ModelSettings
from photoseek.paths import resolve_paths

REPO = Path(__file__).resolve().parents[1]
TINY_MODEL = REPO / "tests" / "fixtures" / "tiny-clip.json"
SHARED_PHOTOS = (REPO.parent / "shared" / "photos").resolve()


def tiny_settings(pretrained: str = "none") -> ModelSettings:
    """The tiny test architecture, through the same loading code users run."""
    return ModelSettings(str(TINY_MODEL), pretrained, "cpu")


def tiny_env(data_dir: Path, pretrained: str = "none") -> dict[str, str]:
    """Environment for running the CLI in a subprocess with the tiny model."""
    env = dict(os.environ)
    env.update(
        PHOTOSEEK_DATA_DIR=str(data_dir),
        PHOTOSEEK_MODEL=str(TINY_MODEL),
        PHOTOSEEK_PRETRAINED=pretrained,
        PHOTOSEEK_DEVICE="cpu",
        OMP_NUM_THREADS="1",
    )
    return env


def make_photo(path: Path, seed: int, size: tuple[int, int] = (160, 120)) -> Path:
    """A distinct, deterministic little picture: background plus shapes."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        box = (
            sorted(rng.randrange(size[0]) for _ in range(2)),
            sorted(rng.randrange(size[1]) for _ in range(2)),
        )
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([box[0][0], box[1][0], box[0][1], box[1][1]], fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=90)
    return path


def make_photos(folder: Path, count: int, start: int = 0) -> list[Path]:
    """``count`` distinct JPEGs in ``folder``."""
    return [make_photo(folder / f"photo_{start + i:05d}.jpg", start + i) for i in range(count)]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def tiny_library(data_dir: Path, batch_size: int = 8) -> Library:
    """A writable library on the tiny model."""
    options = IndexerOptions(batch_size=batch_size)
    return Library(resolve_paths(data_dir), tiny_settings(), indexer_options=options)


@pytest.fixture
def library(data_dir: Path) -> Iterator[Library]:
    lib = tiny_library(data_dir)
    yield lib
    lib.close()


@pytest.fixture
def shared_photos() -> Path:
    if not SHARED_PHOTOS.is_dir():
        pytest.skip("../shared/photos is not present")
    return SHARED_PHOTOS


def run_index(library: Library) -> object:
    """Run a whole indexing pass; return the last progress."""
    last = None
    for progress in library.index():
        last = progress
    return last
