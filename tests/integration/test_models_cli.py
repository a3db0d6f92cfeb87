"""``photoseek models [--json]`` and the missing multilingual extra, through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from photoseek.cli import main
from photoseek.core.model.catalogue import CATALOGUE, default_model, not_offered_models
from photoseek.core.model.measuredspeeds import SPEEDS_FILE, load_measured_speeds
from photoseek.paths import resolve_paths
from tests.conftest import make_photo


def test_models_prints_the_catalogue_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(tmp_path / "data"), "models"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("model "))
    for column in ("GFLOPs", "IN-1k", "COCO t2i", "i2t", "languages", "download", "licence"):
        assert column in header
    assert all(column in header for column in ("installed", "images/s", "query ms"))
    default = next(line for line in lines if "(default)" in line)
    assert default.startswith("ViT-B-32-256 / datacomp_s34b_b86k (default)")
    assert default.split()[4:8] == ["11.5", "72.8", "39.9", "57.9"]
    assert "xlm-roberta-base-ViT-B-32 / laion5b_s13b_b90k *" in out
    assert "pip install 'photoseek[multilingual]'" in out
    assert "multilingual search quality is unverified here" in out
    measured = load_measured_speeds(SPEEDS_FILE)
    assert measured is not None and f"measured on: {measured.machine_line}" in out
    not_offered = out[out.index("Not offered:") :]
    for model in not_offered_models():
        assert f"{model.name}: {model.reason}" in not_offered
    assert "MobileCLIP-S2 / datacompdr: Apple's MobileCLIP" in not_offered
    paths = resolve_paths(tmp_path / "data")
    assert not paths.catalog.exists() and not paths.models_dir.exists()  # no library, no model


def test_models_json_has_every_field_and_sees_installed_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "models", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    models = report["models"]
    assert [(m["arch"], m["pretrained"]) for m in models] == [
        (m.arch, m.pretrained) for m in CATALOGUE if m.offered
    ] + [(m.arch, m.pretrained) for m in CATALOGUE if not m.offered]
    first = models[0]
    assert first["default"] and first["imagenet_top1"] == 72.8
    assert (first["coco_t2i_r1"], first["coco_i2t_r1"], first["image_gflops"]) == (39.9, 57.9, 11.5)
    assert first["licence"] == "MIT" and first["download_mb"] == 605
    assert first["installed"] is False and first["images_per_s"] > 0 and first["query_ms"] > 0
    assert report["measured_on"]["cpu"] and report["measured_on"]["description"]
    assert "unverified" in report["multilingual_quality"]
    mobileclip = next(m for m in models if m["arch"] == "MobileCLIP-S2")
    assert mobileclip["offered"] is False and "research use only" in mobileclip["reason"]
    assert mobileclip["images_per_s"] is None and mobileclip["image_gflops"] is None
    xlmr = next(m for m in models if m["arch"] == "xlm-roberta-base-ViT-B-32")
    assert xlmr["needs_multilingual_extra"] is True

    models_dir = data / "cache" / "models"  # the --data-dir layout
    models_dir.mkdir(parents=True)
    model = default_model()
    (models_dir / f"{model.arch}-{model.pretrained}.safetensors").write_bytes(b"weights")
    assert main(["--data-dir", str(data), "models", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)["models"]
    assert again[0]["installed"] is True and not any(m["installed"] for m in again[1:])
    assert main(["--data-dir", str(data), "models"]) == 0
    default_line = next(x for x in capsys.readouterr().out.splitlines() if "(default)" in x)
    assert " yes " in default_line


def test_models_imports_neither_torch_nor_open_clip(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from photoseek.cli import main\n"
        f"code = main(['--data-dir', {str(tmp_path)!r}, 'models'])\n"
        f"code += main(['--data-dir', {str(tmp_path)!r}, 'models', '--json'])\n"
        "heavy = [m for m in ('torch', 'open_clip', 'transformers') if m in sys.modules]\n"
        "print('HEAVY', code, heavy, file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY 0 []" in out.stderr


def test_a_model_that_needs_the_missing_extra_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)  # as if not installed
    photo = make_photo(tmp_path / "one.jpg", 1)
    args = ["--data-dir", str(tmp_path / "data"), "--device", "cpu"]
    model = ["--model", "xlm-roberta-base-ViT-B-32", "--pretrained", "laion5b_s13b_b90k"]
    assert main([*args, *model, "classify", str(photo), "--labels", "cat, dog"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(
        "photoseek: error: xlm-roberta-base-ViT-B-32: this model's tokenizer needs the "
        "multilingual extra: pip install 'photoseek[multilingual]' (missing: transformers"
    )
    assert not (tmp_path / "data" / "cache" / "models").exists()  # no download was tried
