"""The model catalogue: its entries, installed weights, measured speeds, the multilingual extra."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from photoseek.core.errors import MissingExtraError, ModelUnavailableError
from photoseek.core.model import catalogue
from photoseek.core.model.catalogue import (
    CATALOGUE,
    default_model,
    default_weights,
    find_model,
    is_installed,
    not_offered_models,
    offered_models,
)
from photoseek.core.model.embedder import DEFAULT_ARCH, DEFAULT_PRETRAINED, ModelSettings
from photoseek.core.model.extras import check_model_extras, model_config, needs_multilingual
from photoseek.core.model.measuredspeeds import (
    SPEEDS_FILE,
    MeasuredSpeed,
    load_measured_speeds,
    write_measured_speeds,
)
from photoseek.core.model.weights import WEIGHT_SUFFIXES

REQUIRED = {
    (DEFAULT_ARCH, DEFAULT_PRETRAINED),
    ("ViT-B-32", "datacomp_xl_s13b_b90k"),
    ("ViT-B-16-SigLIP2", "webli"),
    ("xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k"),
    ("ViT-L-14", "datacomp_xl_s13b_b90k"),
}
PLAIN_CLIP = {"ViT-B-32-256", "ViT-B-32", "ViT-B-16", "ViT-L-14"}
EXTRA_MESSAGE = (
    "this model's tokenizer needs the multilingual extra: pip install 'photoseek[multilingual]'"
)


def test_entries_are_unique_and_complete() -> None:
    keys = [(m.arch, m.pretrained) for m in CATALOGUE]
    assert len(keys) == len(set(keys))
    assert set(keys) >= REQUIRED
    assert all((m.arch, m.pretrained) in set(keys) for m in offered_models())
    for model in CATALOGUE:
        assert model_config(model.arch) is not None, model.arch  # an open_clip architecture
        for figure in (model.imagenet_top1, model.coco_t2i_r1, model.coco_i2t_r1):
            assert figure is None or 0 < figure < 100
        assert model.image_gflops is None or model.image_gflops > 0
        assert model.source and model.licence and model.languages and model.role
        assert model.download_mb > 0 and model.image_size in (224, 256, 384)
        assert "/" in model.hub_repo and not model.hub_repo.endswith("/")
        assert model.offered == (not model.reason)
        assert find_model(model.arch, model.pretrained) is model
    assert find_model("ViT-B-32", "no-such-tag") is None


def test_the_default_comes_first_with_its_published_figures() -> None:
    default = default_model()
    assert CATALOGUE[0] is default and offered_models()[0] is default
    assert (default.arch, default.pretrained) == (DEFAULT_ARCH, DEFAULT_PRETRAINED)
    assert (default.imagenet_top1, default.coco_t2i_r1, default.coco_i2t_r1) == (72.8, 39.9, 57.9)
    assert default.image_gflops == 11.5 and default.download_label == "605 MB"


def test_offered_models_have_their_figures_and_the_quality_option_costs_about_3x() -> None:
    for model in offered_models():
        assert model.imagenet_top1 is not None and model.image_gflops is not None, model.name
    siglip2 = find_model("ViT-B-16-SigLIP2", "webli")
    assert siglip2 is not None and siglip2.image_gflops is not None
    assert 2.5 < siglip2.image_gflops / 11.5 < 3.5


def test_default_weights_of_an_architecture_are_its_offered_tag() -> None:
    assert default_weights(DEFAULT_ARCH) == DEFAULT_PRETRAINED
    assert default_weights("ViT-L-14") == "datacomp_xl_s13b_b90k"
    assert default_weights("MobileCLIP-S2") is None  # listed, not offered
    assert default_weights("RN50") is None


def test_mobileclip_is_listed_but_not_offered_because_of_its_licence() -> None:
    mobileclip = find_model("MobileCLIP-S2", "datacompdr")
    assert mobileclip is not None and mobileclip in not_offered_models()
    assert not mobileclip.offered and "research use only" in mobileclip.reason
    assert mobileclip not in offered_models()


def test_multilingual_flag_matches_the_model_configs() -> None:
    for model in CATALOGUE:
        config = model_config(model.arch)
        assert config is not None
        assert model.needs_multilingual == needs_multilingual(config), model.name


def test_catalogue_matches_open_clip_and_the_light_paths_take_only_plain_towers() -> None:
    """Each entry is a pretrained tag open_clip knows, downloaded from the repo named here;
    the light text and image paths accept only the plain CLIP towers, so the other
    architectures load the full torch model."""
    import open_clip

    from photoseek.core.model.textspec import plain_text_spec
    from photoseek.core.model.visionspec import plain_vision_spec

    for model in CATALOGUE:
        cfg = open_clip.get_pretrained_cfg(model.arch, model.pretrained)
        assert cfg, model.name
        assert cfg["hf_hub"].rstrip("/") == model.hub_repo
        config = open_clip.get_model_config(model.arch)
        assert config == model_config(model.arch)
        quick = bool(cfg.get("quick_gelu"))
        text, vision = (
            plain_text_spec(config, quick_gelu=quick),
            plain_vision_spec(config, quick_gelu=quick),
        )
        assert (text is not None) == (model.arch in PLAIN_CLIP), model.name
        # xlm-roberta-base-ViT-B-32's image tower is open_clip's plain ViT-B/32
        plain_image = model.arch in PLAIN_CLIP or model.arch == "xlm-roberta-base-ViT-B-32"
        assert (vision is not None) == plain_image, model.name
        if vision is not None:
            assert vision.image_size == model.image_size


# -- installed --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", WEIGHT_SUFFIXES)
def test_a_dropped_in_weights_file_counts_as_installed(tmp_path: Path, suffix: str) -> None:
    model = find_model("ViT-B-32", "datacomp_xl_s13b_b90k")
    assert model is not None
    assert not is_installed(model, tmp_path / "models")  # no folder at all
    (tmp_path / "models").mkdir()
    assert not is_installed(model, tmp_path / "models")
    (tmp_path / "models" / f"ViT-B-32-datacomp_xl_s13b_b90k{suffix}").write_bytes(b"weights")
    assert is_installed(model, tmp_path / "models")
    assert not is_installed(default_model(), tmp_path / "models")  # another model's file


def test_a_download_in_the_hub_cache_layout_counts_as_installed(tmp_path: Path) -> None:
    model = default_model()
    snapshot = (
        tmp_path / "models--laion--CLIP-ViT-B-32-256x256-DataComp-s34B-b86K" / "snapshots" / "abc"
    )
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    assert not is_installed(model, tmp_path)  # a snapshot without the weights
    (snapshot / "open_clip_model.safetensors").write_bytes(b"weights")
    assert is_installed(model, tmp_path)


def test_a_part_file_is_not_installed(tmp_path: Path) -> None:
    (tmp_path / "ViT-B-32-256-datacomp_s34b_b86k.safetensors.part").write_bytes(b"half")
    assert not is_installed(default_model(), tmp_path)


# -- measured speeds ----------------------------------------------------------------------


def test_measured_speeds_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "speeds.json"
    machine = {"cpu": "Test CPU", "cores": 2, "torch": "2.0", "date": "2025-01-02"}
    speeds = {
        (DEFAULT_ARCH, DEFAULT_PRETRAINED): MeasuredSpeed(12.345, 40.04, "a note"),
        ("ViT-L-14", "datacomp_xl_s13b_b90k"): MeasuredSpeed(0.81, 95.0),
    }
    write_measured_speeds(path, machine, "the method", speeds)
    loaded = load_measured_speeds(path)
    assert loaded is not None
    assert loaded.machine == machine and loaded.method == "the method"
    assert loaded.speed(DEFAULT_ARCH, DEFAULT_PRETRAINED) == MeasuredSpeed(12.35, 40.0, "a note")
    assert loaded.speed("ViT-B-32", "datacomp_xl_s13b_b90k") is None
    assert loaded.machine_line == "Test CPU (2 cores), torch 2.0, 2025-01-02"


def test_missing_or_broken_measured_speeds_are_none(tmp_path: Path) -> None:
    assert load_measured_speeds(tmp_path / "absent.json") is None
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert load_measured_speeds(broken) is None
    broken.write_text(json.dumps({"machine": {}, "models": [{"arch": "x"}]}))
    assert load_measured_speeds(broken) is None


def test_the_shipped_speeds_cover_every_offered_model() -> None:
    """The benchmark (tests/benchmarks/test_bench_models.py) wrote them; a new model needs a run."""
    shipped = load_measured_speeds(SPEEDS_FILE)
    assert shipped is not None, f"run the models benchmark to write {SPEEDS_FILE.name}"
    assert shipped.machine.get("cpu") and shipped.machine.get("date")
    for model in offered_models():
        speed = shipped.speed(model.arch, model.pretrained)
        assert speed is not None and speed.images_per_s > 0 and speed.query_ms > 0, model.name


# -- the multilingual extra ------------------------------------------------------------------


def test_a_missing_extra_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)  # as if not installed
    with pytest.raises(MissingExtraError) as raised:
        check_model_extras("xlm-roberta-base-ViT-B-32")
    assert isinstance(raised.value, ModelUnavailableError)  # front ends already show these
    assert EXTRA_MESSAGE in str(raised.value) and "transformers" in str(raised.value)
    with pytest.raises(MissingExtraError):
        check_model_extras("ViT-B-16-SigLIP2")  # open_clip's tower, a transformers tokenizer
    check_model_extras(DEFAULT_ARCH)  # CLIP's own tokenizer: nothing needed
    check_model_extras("no-such-model")  # unknown: the model load reports it


def test_the_extra_is_found_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    found = {"transformers", "sentencepiece"}

    def find_spec(name: str, package: str | None = None) -> object:
        return object() if name in found else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    check_model_extras("xlm-roberta-base-ViT-B-32")
    found.discard("sentencepiece")
    with pytest.raises(MissingExtraError, match="missing: sentencepiece"):
        check_model_extras("xlm-roberta-base-ViT-B-32")


def test_a_config_file_with_a_hub_tokenizer_needs_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "my-model.json"
    config.write_text(json.dumps({"embed_dim": 8, "text_cfg": {"hf_tokenizer_name": "x/y"}}))
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(MissingExtraError, match=r"^my-model: this model's tokenizer"):
        check_model_extras(str(config))


def test_load_embedder_refuses_before_anything_slow(tmp_path: Path) -> None:
    """The check runs before open_clip (seconds of imports) and before any download."""
    code = (
        "import sys\n"
        "sys.modules['transformers'] = None\n"
        "from pathlib import Path\n"
        "from photoseek.core.errors import MissingExtraError\n"
        "from photoseek.core.model.embedder import ModelSettings, load_embedder\n"
        "settings = ModelSettings('xlm-roberta-base-ViT-B-32', 'laion5b_s13b_b90k', 'cpu')\n"
        "try:\n"
        f"    load_embedder(settings, Path({str(tmp_path / 'models')!r}))\n"
        "except MissingExtraError as exc:\n"
        "    print(exc)\n"
        "print('open_clip' in sys.modules, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert EXTRA_MESSAGE in lines[0]
    assert lines[1] == "False False"
    assert not (tmp_path / "models").exists()  # nothing downloaded, nothing created


def test_settings_for_a_catalogue_model_round_trip() -> None:
    """The catalogue's names are what ModelSettings and the command line take."""
    for model in offered_models():
        settings = ModelSettings(model.arch, model.pretrained)
        assert catalogue.find_model(settings.arch, settings.pretrained) is model
