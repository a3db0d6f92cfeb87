"""The weights a cluster's model actors load: sent by the driver, or read from shared storage.

No Ray here: the driver's choice and the worker's layout are plain functions,
and the worker's layout is loaded through the same loader as a local run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from photoseek.core.cluster import ClusterOptions, parse_path_map
from photoseek.core.cluster.weights import WorkerWeights, driver_weights, worker_settings
from photoseek.core.model.embedder import load_embedder, register_arch
from photoseek.core.model.weights import dropin_name
from tests.conftest import tiny_settings
from tests.core.test_textpath import _weights_file


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    (tmp_path / "driver").mkdir()
    return _weights_file(tmp_path / "driver")


def test_random_weights_send_nothing(tmp_path: Path) -> None:
    sent, file = driver_weights(tiny_settings(), tmp_path / "models", ClusterOptions("auto"))
    assert (sent, file) == (WorkerWeights("", "", ""), None)
    assert not sent.sent


def test_a_weights_file_is_sent_unless_a_path_map_covers_it(weights: Path, tmp_path: Path) -> None:
    settings = tiny_settings(str(weights))
    sent, file = driver_weights(settings, tmp_path / "models", ClusterOptions("auto"))
    assert (sent, file) == (WorkerWeights(weights.name, "", ""), weights)
    assert sent.sent
    mapped = ClusterOptions("auto", (parse_path_map(f"{weights.parent}=/mnt/models"),))
    shared, none = driver_weights(settings, tmp_path / "models", mapped)
    assert (shared, none) == (WorkerWeights(weights.name, f"/mnt/models/{weights.name}", ""), None)
    assert not shared.sent


@pytest.mark.parametrize("how", ["sent", "shared"])
def test_the_worker_loads_the_same_model_identity(weights: Path, tmp_path: Path, how: str) -> None:
    settings = tiny_settings(str(weights))
    local = load_embedder(settings, tmp_path / "driver-models").identity
    shipped = WorkerWeights(weights.name, str(weights) if how == "shared" else "", "")
    data = None if how == "shared" else weights.read_bytes()
    worker, models_dir = worker_settings(settings, shipped, data, tmp_path / "worker")
    assert Path(worker.pretrained).parent == tmp_path / "worker"
    assert load_embedder(worker, models_dir).identity == local


def test_a_pretrained_tag_is_laid_out_under_its_drop_in_name(tmp_path: Path) -> None:
    settings = tiny_settings("some_tag")
    shipped = WorkerWeights("open_clip_model.safetensors", "", "some_tag")
    worker, models_dir = worker_settings(settings, shipped, b"weights", tmp_path / "worker")
    arch, _ = register_arch(settings.arch)
    assert worker.pretrained == "some_tag"
    assert (models_dir / dropin_name(arch, "some_tag", ".safetensors")).read_bytes() == b"weights"


def test_a_missing_shared_file_is_a_clear_error(tmp_path: Path) -> None:
    shipped = WorkerWeights("w.safetensors", "/nonexistent/w.safetensors", "")
    with pytest.raises(FileNotFoundError, match=r"not at /nonexistent/w\.safetensors"):
        worker_settings(tiny_settings("/x/w.safetensors"), shipped, None, tmp_path / "worker")
