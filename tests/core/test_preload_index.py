"""The vector index opens beside the model load, when the model's identity is known already."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.library import Library
from photoseek.core.model.embedder import load_embedder
from photoseek.paths import resolve_paths
from tests.conftest import make_photos, run_index, tiny_settings


def _weights_file(folder: Path, shift: float = 0.0) -> Path:
    from safetensors.torch import save_file

    model = load_embedder(tiny_settings(), folder / "models")._model
    state = {
        k: v.contiguous() + shift if v.is_floating_point() else v.contiguous()
        for k, v in model.state_dict().items()
    }
    path = folder / "tiny.safetensors"
    save_file(state, path)
    return path


def _library(data_dir: Path, weights: Path | str) -> Library:
    return Library(
        resolve_paths(data_dir), tiny_settings(str(weights)), indexer_options=IndexerOptions(8)
    )


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    """A library of 12 photos indexed with a tiny weights file: (data dir, weights)."""
    weights = _weights_file(tmp_path)
    folder = tmp_path / "pics"
    make_photos(folder, 12)
    with _library(tmp_path / "data", weights) as library:
        library.add_folder(folder)
        run_index(library)
    return tmp_path / "data", weights


def test_the_index_opens_before_the_model_when_its_weights_file_is_known(
    indexed: tuple[Path, Path],
) -> None:
    data_dir, weights = indexed
    with _library(data_dir, weights) as library:
        assert library.preload_index()
        assert library._embedder is None  # the model is not loaded for it
        keeper = library._keeper
        assert keeper is not None and len(keeper.index) == 12
        hits = library.search("a red kite").hits
        assert library._keeper is keeper  # the model's identity was the one expected
        assert len(hits) == 12


def test_random_weights_have_no_known_identity_so_nothing_preloads(tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    make_photos(folder, 3)
    with _library(tmp_path / "data", "none") as library:
        library.add_folder(folder)
        run_index(library)
    with _library(tmp_path / "data", "none") as library:
        assert not library.preload_index()
        assert library._keeper is None
        assert len(library.search("a red kite").hits) == 3


def test_a_weights_file_replaced_after_the_preload_gets_its_own_index(
    indexed: tuple[Path, Path],
) -> None:
    data_dir, weights = indexed
    with _library(data_dir, weights) as library:
        assert library.preload_index()
        preloaded = library._keeper.identity  # type: ignore[union-attr]
        stat = weights.stat()
        _weights_file(weights.parent, shift=0.01)  # new weights under the same name
        os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        assert library.embedder.identity.digest != preloaded.digest
        assert library._keeper is None  # dropped: it belonged to the old weights
        assert len(library.vector_index) == 0  # no photo has the new weights' vectors yet


def test_a_missing_index_file_is_left_to_the_first_search(indexed: tuple[Path, Path]) -> None:
    data_dir, weights = indexed
    for file in (data_dir / "index").glob("*.hnsw"):
        file.unlink()
    with _library(data_dir, weights) as library:
        assert not library.preload_index()  # a rebuild reports progress: the search does it
        assert library._keeper is None
        assert len(library.search("a red kite").hits) == 12
