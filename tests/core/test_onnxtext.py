"""The text tower exported to ONNX: checked before it is used, torch-free, and optional."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from photoseek.core.model import onnxtext, textpath
from photoseek.core.model.embedder import load_embedder
from photoseek.core.model.onnxtext import OnnxTextEncoder
from photoseek.core.model.textpath import load_text_encoder, remember
from tests.conftest import REPO, tiny_env, tiny_settings
from tests.core.test_textpath import TEXTS, _cosines, _weights_file

pytestmark = pytest.mark.skipif(not onnxtext.can_export(), reason="onnx and onnxruntime needed")


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    return _weights_file(tmp_path)


def test_the_exported_tower_gives_the_full_models_vectors(weights: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    full = load_embedder(tiny_settings(str(weights)), models)
    assert remember(full, models)
    light = load_text_encoder(tiny_settings(str(weights)), models)
    assert isinstance(light, OnnxTextEncoder) and light.identity == full.identity
    assert min(_cosines(light, full)) >= onnxtext.MIN_COSINE
    assert [light.encode_text(t).truncated for t in TEXTS] == [0, 0, 1, 0]
    for text in TEXTS:
        assert light.tokens(text) == full.text_tokens(text)[0].tolist()
    files = sorted(p.name for p in (models / onnxtext.FOLDER).iterdir())
    assert len(files) == 2 and files[0].endswith(".onnx") and files[1].endswith(".onnx.data")


def test_an_export_that_differs_is_not_recorded_and_leaves_no_file(
    weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from photoseek.core.model import onnxexport

    forward = onnxexport._DynamicLengthTower.forward
    monkeypatch.setattr(
        onnxexport._DynamicLengthTower, "forward", lambda self, t: forward(self, t).flip(-1)
    )
    models = tmp_path / "models"
    full = load_embedder(tiny_settings(str(weights)), models)
    assert remember(full, models)  # the torch tower
    assert list((models / onnxtext.FOLDER).iterdir()) == []
    light = load_text_encoder(tiny_settings(str(weights)), models)
    assert isinstance(light, textpath.TextEncoder)
    exports: list[object] = []
    monkeypatch.setattr(onnxtext, "export_checked", lambda *a: exports.append(a))
    assert remember(full, models)
    assert exports == []  # the failure is remembered: no second export of the same file


def test_without_onnx_runtime_the_torch_tower_answers(
    weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = importlib.util.find_spec

    def not_installed(name: str, *args: object) -> object:
        return None if name in ("onnx", "onnxruntime") else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", not_installed)
    models = tmp_path / "models"
    full = load_embedder(tiny_settings(str(weights)), models)
    assert remember(full, models)
    assert not (models / onnxtext.FOLDER).exists()
    light = load_text_encoder(tiny_settings(str(weights)), models)
    assert isinstance(light, textpath.TextEncoder)
    monkeypatch.undo()  # the runtime arrives later: the next model load exports it
    assert remember(full, models)
    assert isinstance(load_text_encoder(tiny_settings(str(weights)), models), OnnxTextEncoder)


def test_the_environment_can_keep_the_exported_tower_unused(
    weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    assert remember(load_embedder(tiny_settings(str(weights)), models), models)
    monkeypatch.setenv(onnxtext.RUNTIME_VARIABLE, "torch")
    assert isinstance(load_text_encoder(tiny_settings(str(weights)), models), textpath.TextEncoder)
    monkeypatch.setenv(onnxtext.RUNTIME_VARIABLE, "onnx")
    assert isinstance(load_text_encoder(tiny_settings(str(weights)), models), OnnxTextEncoder)


def test_a_cold_cli_search_imports_neither_torch_nor_open_clip(
    weights: Path, tmp_path: Path
) -> None:
    from tests.conftest import make_photos, run_index
    from tests.core.test_textpath import _library

    make_photos(tmp_path / "pics", 6)
    with _library(tmp_path / "data", weights) as library:
        library.add_folder(tmp_path / "pics")
        run_index(library)
    code = (
        "import sys; from photoseek.cli import main\n"
        "code = main(['search', 'a red kite', '--json'])\n"
        "heavy = [m for m in ('torch', 'open_clip', 'PIL') if m in sys.modules]\n"
        "print('HEAVY', *heavy, code)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=tiny_env(tmp_path / "data", str(weights)),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "HEAVY 0"


def test_an_export_no_record_names_is_deleted(weights: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    full = load_embedder(tiny_settings(str(weights)), models)
    folder = models / onnxtext.FOLDER
    folder.mkdir(parents=True)
    stale = folder / "old-weights.onnx"
    stale.write_bytes(b"graph")
    onnxtext.data_file(stale).write_bytes(b"weights")
    assert remember(full, models)
    assert len(list(folder.iterdir())) == 2  # this weights file's graph and its weights
    assert not stale.exists() and not onnxtext.data_file(stale).exists()
    assert isinstance(load_text_encoder(tiny_settings(str(weights)), models), OnnxTextEncoder)
