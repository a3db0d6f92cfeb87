"""The smoke test's random-weight checkpoint loads as a user's weights file does."""

from __future__ import annotations

from pathlib import Path

from photoseek.core.model.embedder import ModelSettings, load_embedder
from tests.packaging.conftest import packaging_module

writer = packaging_module("smoke/write_checkpoint.py")
cleanenv = packaging_module("smoke/cleanenv.py")


def test_the_checkpoint_loads_through_the_pretrained_file_path(tmp_path: Path) -> None:
    config, weights = writer.write_checkpoint(tmp_path / "model")
    assert weights.suffix == ".safetensors"
    embedder = load_embedder(ModelSettings(str(config), str(weights), "cpu"), tmp_path / "models")
    assert embedder.identity.pretrained != "none"
    assert embedder.identity.dim == writer.TINY_CONFIG["embed_dim"]


def test_the_clean_environment_inherits_nothing(tmp_path: Path) -> None:
    env = cleanenv.clean_env(tmp_path / "home", extra_path=tmp_path / "bin", QT_QPA_PLATFORM="x")
    assert set(env) == {"HOME", "USER", "PATH", "LANG", "TMPDIR", "QT_QPA_PLATFORM"}
    assert env["PATH"].startswith(str(tmp_path / "bin"))
    assert (tmp_path / "home").is_dir()
