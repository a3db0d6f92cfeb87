"""The light image path: the image tower on ONNX Runtime, exact before it is used, torch-free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoseek.core.errors import ModelUnavailableError
from photoseek.core.model import accelerators, imagepath, onnxvision, visiongraph
from photoseek.core.model.embedder import DEVICES, Embedder, ModelSettings, load_embedder
from photoseek.core.model.imagepath import LightImageEncoder, load_image_encoder, remember
from photoseek.core.model.visionspec import ImagePrep, plain_vision_spec, prep_of_transform
from tests.conftest import REPO, TINY_MODEL, make_photo, tiny_settings
from tests.core.test_textpath import _weights_file

pytestmark = pytest.mark.skipif(not onnxvision.can_run(), reason="onnxruntime needed")


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    return _weights_file(tmp_path)


def _photos(folder: Path) -> list[Image.Image]:
    sizes = [(160, 120), (90, 200), (64, 64), (33, 17), (640, 480)]
    paths = [make_photo(folder / f"p{i}.jpg", i, size) for i, size in enumerate(sizes)]
    return [Image.open(path).convert("RGB") for path in paths]


def _cosines(light: LightImageEncoder, full: Embedder, images: list[Image.Image]) -> np.ndarray:
    mine = light.encode_images([light.preprocess(image) for image in images])
    theirs = full.encode_images([full.preprocess(image) for image in images])
    return (mine * theirs).sum(axis=1)


def test_the_light_tower_gives_the_full_models_vectors(weights: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    full = load_embedder(tiny_settings(str(weights)), models)
    assert remember(full, models)
    light = load_image_encoder(tiny_settings(str(weights)), models)
    assert isinstance(light, LightImageEncoder)
    assert light.identity == full.identity and light.image_size == full.image_size
    images = _photos(tmp_path)
    for image in images:
        assert np.abs(light.preprocess(image) - full.preprocess(image).numpy()).max() < 1e-5
    assert _cosines(light, full, images).min() >= imagepath.MIN_COSINE
    record = json.loads((models / imagepath.RECORD_FILE).read_text())[full.identity.key]
    assert record["cosine"] >= imagepath.MIN_COSINE and 0 < record["int8_cosine"] <= 1


def test_quick_gelu_towers_are_exact_too(tmp_path: Path) -> None:
    config = json.loads(TINY_MODEL.read_text())
    arch = tmp_path / "tiny-quick.json"
    arch.write_text(json.dumps({**config, "quick_gelu": True}))
    weights = _weights_file(tmp_path, str(arch))
    models = tmp_path / "models"
    full = load_embedder(ModelSettings(str(arch), str(weights), "cpu"), models)
    assert full.vision_spec is not None and full.vision_spec.quick_gelu
    assert remember(full, models)
    light = load_image_encoder(ModelSettings(str(arch), str(weights), "cpu"), models)
    assert light is not None
    assert _cosines(light, full, _photos(tmp_path)).min() >= imagepath.MIN_COSINE


def test_a_tower_that_differs_is_not_recorded(
    weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_activation(builder: visiongraph._Builder, x: str, prefix: str, quick: bool) -> str:
        return builder.linear(x, prefix)

    monkeypatch.setattr(visiongraph._Builder, "mlp_hidden", no_activation)
    models = tmp_path / "models"
    full = load_embedder(tiny_settings(str(weights)), models)
    assert not remember(full, models)
    assert load_image_encoder(tiny_settings(str(weights)), models) is None


def test_a_replaced_weights_file_is_not_used(weights: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    assert remember(load_embedder(tiny_settings(str(weights)), models), models)
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_image_encoder(tiny_settings(str(weights)), models) is None


def test_random_weights_and_other_towers_have_no_light_path(tmp_path: Path) -> None:
    models = tmp_path / "models"
    assert not remember(load_embedder(tiny_settings(), models), models)  # no file
    config = json.loads(TINY_MODEL.read_text())
    layer_scale = {**config, "vision_cfg": {**config["vision_cfg"], "ls_init_value": 0.1}}
    assert plain_vision_spec(layer_scale, quick_gelu=False) is None
    resnet = {**config, "vision_cfg": {"layers": [1, 1, 1, 1], "width": 64, "image_size": 64}}
    assert plain_vision_spec(resnet, quick_gelu=False) is None
    assert plain_vision_spec(config, quick_gelu=False) is not None


@pytest.mark.parametrize(
    ("mode", "interpolation"), [("shortest", "bilinear"), ("squash", "bicubic")]
)
def test_the_transform_equals_open_clips(mode: str, interpolation: str, tmp_path: Path) -> None:
    import open_clip

    transform = open_clip.image_transform(
        64, is_train=False, resize_mode=mode, interpolation=interpolation
    )
    spec = plain_vision_spec(json.loads(TINY_MODEL.read_text()), quick_gelu=False)
    assert spec is not None
    prep = prep_of_transform(transform, spec)
    assert isinstance(prep, ImagePrep) and (prep.resize, prep.interpolation) == (
        mode,
        interpolation,
    )
    for image in _photos(tmp_path):
        assert np.abs(prep(image) - transform(image).numpy()).max() < 1e-5


def test_int8_weights_round_trip_within_half_a_step() -> None:
    matrix = np.random.default_rng(3).normal(size=(48, 80)).astype(np.float32)
    matrix[5] = 0.0  # a zero row must not divide by zero
    q, scale = visiongraph.quantize_rows(matrix)
    assert q.dtype == np.int8 and scale.shape == (48,)
    error = np.abs(q.astype(np.float32) * scale[:, None] - matrix)
    assert (error <= scale[:, None] / 2 + 1e-7).all()


def test_the_fast_mode_is_another_identity_close_to_float32(weights: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    full = load_embedder(tiny_settings(str(weights)), models)
    assert remember(full, models)
    fp32 = load_image_encoder(tiny_settings(str(weights)), models)
    int8 = load_image_encoder(tiny_settings(str(weights)), models, "int8")
    record = next(iter(imagepath.read_records(models).values()))
    assert fp32 is not None and int8 is not None and int8.precision in imagepath.TAGS
    assert int8.precision == imagepath.fast_graph(record)
    assert int8.identity != fp32.identity and int8.identity.key.startswith(fp32.identity.arch)
    assert imagepath.base_arch(int8.identity.arch) == fp32.identity.arch
    images = _photos(tmp_path)
    a = fp32.encode_images([fp32.preprocess(i) for i in images])
    b = int8.encode_images([int8.preprocess(i) for i in images])
    assert (a * b).sum(axis=1).min() >= imagepath.MIN_INT8_COSINE


def _with_cosines(models: Path, int8: float, full: float) -> None:
    records = imagepath.read_records(models)
    for record in records.values():
        record.update(int8_cosine=int8, int8_full_cosine=full)
    (models / imagepath.RECORD_FILE).write_text(json.dumps(records))


def test_the_fast_mode_runs_the_fastest_int8_graph_close_enough_on_this_computer(
    weights: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    settings = replace(tiny_settings(str(weights)), precision="int8")
    assert remember(load_embedder(tiny_settings(str(weights)), models), models)
    _with_cosines(models, 0.999, 0.999)
    full = load_image_encoder(settings, models, "int8")
    assert full is not None and full.precision == "int8-full"
    assert imagepath.precision_tag(settings, models) == "int8-full"
    _with_cosines(models, 0.999, imagepath.MIN_INT8_FULL_COSINE - 0.001)
    mlp = load_image_encoder(settings, models, "int8")
    assert mlp is not None and mlp.precision == "int8"
    assert imagepath.precision_tag(settings, models) == "int8"
    assert mlp.identity != full.identity  # the two graphs' vectors never share a model
    assert imagepath.base_arch(mlp.identity.arch) == imagepath.base_arch(full.identity.arch)
    _with_cosines(models, imagepath.MIN_INT8_COSINE - 0.001, 0.5)
    with pytest.raises(ModelUnavailableError, match="not close enough"):
        load_image_encoder(settings, models, "int8")


def test_a_record_made_for_other_graphs_is_checked_again(weights: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    settings = tiny_settings(str(weights))
    full = load_embedder(settings, models)
    assert remember(full, models)
    made = imagepath.read_records(models)
    older = ("int8_full_cosine", None), ("graph", visiongraph.GRAPH_VERSION - 1)
    for key, value in older:  # before int8-full; another version's graphs
        records = json.loads(json.dumps(made))
        for record in records.values():
            record[key] = value
            if value is None:
                del record[key]
        (models / imagepath.RECORD_FILE).write_text(json.dumps(records))
        assert load_image_encoder(settings, models) is None  # the caller loads the full model
        assert remember(full, models)  # which records it again, with every figure
        again = next(iter(imagepath.read_records(models).values()))
        assert again["graph"] == visiongraph.GRAPH_VERSION and "int8_full_cosine" in again
        assert load_image_encoder(settings, models) is not None


def test_int8_full_quantises_every_matrix_of_every_block(weights: Path, tmp_path: Path) -> None:
    tensors = imagepath.vision_tensors(weights)
    spec = load_embedder(tiny_settings(str(weights)), tmp_path / "models").vision_spec
    assert spec is not None

    def quantised(precision: str) -> int:
        graph = visiongraph.describe(spec, tensors, precision)
        return sum(op == "DynamicQuantizeMatMul" for op, *_ in graph.nodes)

    assert quantised("fp32") == 0
    assert quantised("int8") == 2 * spec.layers  # the MLP
    assert quantised("int8-full") == 4 * spec.layers  # and the attention's projections


def test_the_graph_is_cached_without_weights(weights: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    assert remember(load_embedder(tiny_settings(str(weights)), models), models)
    graphs = sorted((models / imagepath.GRAPH_FOLDER).glob("visual-*.onnx"))
    assert len(graphs) == 3  # fp32, int8 and int8-full
    assert max(g.stat().st_size for g in graphs) < weights.stat().st_size / 4


def test_indexing_on_the_light_path_imports_no_torch(weights: Path, tmp_path: Path) -> None:
    models = tmp_path / "data" / "cache" / "models"
    assert remember(load_embedder(tiny_settings(str(weights)), models), models)
    for i in range(3):
        make_photo(tmp_path / "photos" / f"{i}.jpg", i)
    script = f"""
import sys
from pathlib import Path
from photoseek.core.library import Library
from photoseek.core.model.embedder import ModelSettings
from photoseek.paths import resolve_paths
with Library(resolve_paths({str(tmp_path / "data")!r}),
             ModelSettings({str(TINY_MODEL)!r}, {str(weights)!r}, "cpu")) as library:
    library.add_folder(Path({str(tmp_path / "photos")!r}))
    for _ in library.index():
        pass
    status = library.status()
    assert status.counts.get("indexed") == 3 and status.pending == 0, status
print(sorted(m for m in ("torch", "open_clip", "onnx") if m in sys.modules))
"""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HNSWLIB_NO_NATIVE": "1"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"


def test_a_tower_that_fails_to_load_stops_the_run_and_is_forgotten(
    weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from photoseek.core.errors import ModelUnavailableError
    from photoseek.core.library import Library
    from photoseek.paths import resolve_paths
    from tests.conftest import make_photos

    paths = resolve_paths(tmp_path / "data")
    settings = tiny_settings(str(weights))
    assert remember(load_embedder(settings, paths.ensure().models_dir), paths.models_dir)
    make_photos(tmp_path / "photos", 3)

    def broken(*_args: object) -> None:
        raise MemoryError("no room for the weights")

    monkeypatch.setattr(imagepath, "_build_tower", broken)
    with Library(paths, settings) as library:
        library.add_folder(tmp_path / "photos")
        with pytest.raises(ModelUnavailableError, match="next start loads the full model"):
            for _ in library.index():
                pass
        assert library.status().counts.get("error", 0) == 0  # no photo blamed
    monkeypatch.undo()
    assert not imagepath.has_light_path(settings, paths.models_dir)
    with Library(paths, settings) as library:
        for _ in library.index():
            pass
        assert library.status().counts.get("indexed") == 3


def test_where_a_gpu_may_take_the_model_the_full_model_indexes(
    weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The light image path runs on the CPU; a GPU torch would pick embeds faster."""
    models = tmp_path / "models"
    assert remember(load_embedder(tiny_settings(str(weights)), models), models)
    on = {device: replace(tiny_settings(str(weights)), device=device) for device in DEVICES}
    monkeypatch.setattr(accelerators, "may_have_gpu", lambda: True)
    assert load_image_encoder(on["cpu"], models) is not None
    for device in ("auto", "cuda", "mps"):
        assert load_image_encoder(on[device], models) is None
        assert not imagepath.has_light_path(on[device], models)
    assert load_image_encoder(on["auto"], models, "int8") is not None  # asked for: the CPU's
    with pytest.raises(ModelUnavailableError, match="runs on the CPU"):
        load_image_encoder(on["cuda"], models, "int8")
    monkeypatch.setattr(accelerators, "may_have_gpu", lambda: False)
    assert load_image_encoder(on["auto"], models) is not None
    assert imagepath.has_light_path(on["auto"], models)


def test_the_gpu_signs_are_read_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accelerators.sys, "platform", "linux")
    monkeypatch.setattr(
        accelerators.os.path, "exists", lambda p: p == "/proc/driver/nvidia/version"
    )
    assert accelerators.may_have_gpu() and not accelerators.runs_on_cpu("auto")
    monkeypatch.setattr(accelerators.os.path, "exists", lambda p: False)
    assert not accelerators.may_have_gpu() and accelerators.runs_on_cpu("auto")
    assert accelerators.runs_on_cpu("cpu") and not accelerators.runs_on_cpu("cuda")
