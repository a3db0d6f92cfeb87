"""The light text path: the text tower alone, exact, used only where it was shown to be."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.library import Library
from photoseek.core.model import onnxtext, textpath
from photoseek.core.model.embedder import DEFAULT_ARCH, ModelSettings, load_embedder
from photoseek.core.model.textpath import TextFirst, load_text_encoder, remember
from photoseek.core.model.texttower import plain_text_spec
from photoseek.paths import resolve_paths
from tests.conftest import REPO, make_photos, run_index, tiny_env, tiny_settings

TEXTS = ("a red kite over a beach", "ünïcödé 東京", "kite " * 100, "")


def _weights_file(folder: Path, arch: str | None = None) -> Path:
    """A weights file of seeded random weights, shifted so they differ from the seed's."""
    from safetensors.torch import save_file

    settings = tiny_settings() if arch is None else ModelSettings(arch, "none", "cpu")
    model = load_embedder(settings, folder / "seed-models")._model
    state = {
        k: (v + 0.01 if v.is_floating_point() else v).contiguous()
        for k, v in model.state_dict().items()
    }
    path = folder / f"{Path(settings.arch).stem}.safetensors"
    save_file(state, path)
    return path


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    return _weights_file(tmp_path)


def _cosines(a: object, b: object) -> list[float]:
    return [float(a.encode_text(t).vector @ b.encode_text(t).vector) for t in TEXTS]  # type: ignore[attr-defined]


def test_the_text_tower_alone_gives_the_full_models_vectors(weights: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    full = load_embedder(tiny_settings(str(weights)), models)
    assert full.text_spec is not None  # the tiny config is a plain CLIP text tower
    assert remember(full, models)
    light = load_text_encoder(tiny_settings(str(weights)), models)
    assert light is not None and light.identity == full.identity
    assert min(_cosines(light, full)) >= 0.99999
    truncated = [light.encode_text(t).truncated for t in TEXTS]
    assert truncated == [full.encode_text(t).truncated for t in TEXTS] == [0, 0, 1, 0]


@pytest.mark.slow
def test_the_text_tower_alone_matches_the_default_architecture(tmp_path: Path) -> None:
    file = _weights_file(tmp_path, DEFAULT_ARCH)
    settings = ModelSettings(DEFAULT_ARCH, str(file), "cpu")
    full = load_embedder(settings, tmp_path / "models")
    assert remember(full, tmp_path / "models")
    light = load_text_encoder(settings, tmp_path / "models")
    assert light is not None
    assert min(_cosines(light, full)) >= 0.99999


def test_nothing_is_used_before_the_full_model_has_vouched_for_it(
    weights: Path, tmp_path: Path
) -> None:
    assert load_text_encoder(tiny_settings(str(weights)), tmp_path / "models") is None
    assert load_text_encoder(tiny_settings(), tmp_path / "models") is None  # random weights


def test_a_changed_weights_file_is_not_read_by_an_old_record(weights: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    assert remember(load_embedder(tiny_settings(str(weights)), models), models)
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert load_text_encoder(tiny_settings(str(weights)), models) is None


def test_a_tower_that_differs_from_the_model_is_never_recorded(
    weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from photoseek.core.model import texttower

    forward = texttower.TextTower.forward
    monkeypatch.setattr(
        texttower.TextTower,
        "forward",
        lambda self, t: forward(self, t).flip(-1),  # another order
    )
    models = tmp_path / "models"
    assert not remember(load_embedder(tiny_settings(str(weights)), models), models)
    assert not (models / textpath.RECORD_FILE).exists()
    assert load_text_encoder(tiny_settings(str(weights)), models) is None


def test_a_broken_record_falls_back_to_the_full_model(weights: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    assert remember(load_embedder(tiny_settings(str(weights)), models), models)
    record_file = models / textpath.RECORD_FILE
    records = json.loads(record_file.read_text())
    for record in records.values():
        record["spec"]["width"] = 7  # no longer fits the file's tensors
        record.pop("onnx")
    record_file.write_text(json.dumps(records))
    assert load_text_encoder(tiny_settings(str(weights)), models) is None


@pytest.mark.parametrize("damage", ["truncated weights", "garbage graph", "a path as name"])
def test_a_broken_export_falls_back_to_the_torch_tower(
    weights: Path, tmp_path: Path, damage: str
) -> None:
    models = tmp_path / "models"
    full = load_embedder(tiny_settings(str(weights)), models)
    assert remember(full, models)
    record_file = models / textpath.RECORD_FILE
    [record] = json.loads(record_file.read_text()).values()
    graph = models / onnxtext.FOLDER / record["onnx"]["graph"]
    if damage == "truncated weights":
        data = graph.with_name(graph.name + ".data")
        data.write_bytes(data.read_bytes()[:100])
    elif damage == "garbage graph":
        graph.write_bytes(b"not a model")
    else:
        records = json.loads(record_file.read_text())
        next(iter(records.values()))["onnx"]["graph"] = "../../" + graph.name
        record_file.write_text(json.dumps(records))
    light = load_text_encoder(tiny_settings(str(weights)), models)
    assert isinstance(light, textpath.TextEncoder)  # the torch tower, still exact
    assert min(_cosines(light, full)) >= 0.99999


@pytest.mark.parametrize(
    ("config", "plain"),
    [
        ({"embed_dim": 8, "vision_cfg": {}, "text_cfg": {"width": 8, "layers": 1}}, True),
        ({"embed_dim": 8, "vision_cfg": {}, "text_cfg": {"hf_model_name": "x"}}, False),
        ({"embed_dim": 8, "vision_cfg": {}, "text_cfg": {"pool_type": "last"}}, False),
        ({"embed_dim": 8, "custom_text": True, "vision_cfg": {}, "text_cfg": {}}, False),
        ({"embed_dim": 8, "vision_cfg": {}}, False),
    ],
)
def test_only_plain_clip_text_towers_have_a_light_path(config: dict, plain: bool) -> None:
    assert (plain_text_spec(config, quick_gelu=False) is not None) == plain


# -- through the library --------------------------------------------------------------------


def _library(data_dir: Path, weights: Path) -> Library:
    return Library(
        resolve_paths(data_dir), tiny_settings(str(weights)), indexer_options=IndexerOptions(8)
    )


@pytest.fixture
def indexed(tmp_path: Path, weights: Path) -> Path:
    """A library of 10 photos indexed with the tiny weights file (the model vouched for it)."""
    folder = tmp_path / "pics"
    make_photos(folder, 10)
    with _library(tmp_path / "data", weights) as library:
        library.add_folder(folder)
        run_index(library)
    return tmp_path / "data"


def test_a_cold_search_encodes_its_text_without_loading_the_model(
    indexed: Path, weights: Path
) -> None:
    with _library(indexed, weights) as library:
        cold = library.search("a red kite").hits
        assert library._embedder is None
        assert isinstance(library.query_encoder(), TextFirst)
        library.load_model()
        assert library.query_encoder() is library._embedder  # the model takes over
        warm = library.search("a red kite").hits
    assert [h.photo.id for h in cold] == [h.photo.id for h in warm]
    assert np.allclose([h.score for h in cold], [h.score for h in warm], atol=1e-4)


def test_a_new_image_as_query_before_the_model_loads_loads_it(indexed: Path, weights: Path) -> None:
    [example] = make_photos(indexed.parent / "elsewhere", 1, start=500)  # not in the library
    with _library(indexed, weights) as library:
        assert library._embedder is None
        hits = library.similar(example).hits
        assert library._embedder is not None  # an image needs the image tower
    assert len(hits) == 10


def test_the_cli_search_does_not_import_open_clip(indexed: Path, weights: Path) -> None:
    code = (
        "import sys; from photoseek.cli import main\n"
        "code = main(['search', 'a red kite', '--json'])\n"
        "print('OPEN_CLIP' if 'open_clip' in sys.modules else 'LIGHT', code)\n"
    )
    env = tiny_env(indexed, str(weights))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    *printed, last = out.stdout.strip().splitlines()
    assert last == "LIGHT 0"
    assert len(json.loads("\n".join(printed))) == 10


def test_torch_stays_unchanged_by_the_light_path(weights: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    remember(load_embedder(tiny_settings(str(weights)), models), models)
    assert load_text_encoder(tiny_settings(str(weights)), models) is not None
    torch.manual_seed(0)
    drawn = torch.nn.Linear(3, 3).weight.detach().clone()
    torch.manual_seed(0)
    assert torch.equal(torch.nn.Linear(3, 3).weight, drawn)  # initialisers are back
    assert drawn.abs().sum() > 0


def test_the_models_own_text_encodes_stop_at_the_end_of_the_text(tmp_path: Path) -> None:
    embedder = load_embedder(tiny_settings(), tmp_path / "models")  # random weights too
    tower = embedder._text_tower
    assert tower is not None  # the tiny config is a plain CLIP text tower
    lengths: list[int] = []
    tower.token_embedding.register_forward_hook(
        lambda _m, args, _out: lengths.append(args[0].shape[1])
    )
    for text in TEXTS:
        cosine = float(embedder.text_vector_uncached(text) @ embedder.reference_text_vector(text))
        assert cosine >= 0.99999
    assert lengths == [len(embedder.text_tokens(t)[0].nonzero()) for t in TEXTS]
    assert lengths[0] < 77 and lengths[2] == 77  # a short text runs a few positions only


def test_a_shared_tower_that_differs_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from photoseek.core.model import texttower

    forward = texttower.TextTower.forward
    monkeypatch.setattr(texttower.TextTower, "forward", lambda self, t: forward(self, t).flip(-1))
    embedder = load_embedder(tiny_settings(), tmp_path / "models")
    assert embedder._text_tower is None  # open_clip's encode_text stays
    text = TEXTS[0]
    assert np.array_equal(embedder.encode_text(text).vector, embedder.reference_text_vector(text))
