"""The model loads through the users' code path, and vectors match open_clip's own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from photoseek.core.errors import ModelUnavailableError
from photoseek.core.imaging.decode import decode_image
from photoseek.core.model.embedder import ModelSettings, load_embedder
from tests.conftest import SHARED_PHOTOS, TINY_MODEL, make_photo, tiny_settings


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory):
    return load_embedder(tiny_settings(), tmp_path_factory.mktemp("models"))


def _save_checkpoints(embedder, folder: Path) -> tuple[Path, Path]:
    from safetensors.torch import save_file

    state = {k: v.contiguous() for k, v in embedder._model.state_dict().items()}
    # perturb so the checkpoint differs from the seeded random init
    state = {k: v + 0.01 if v.is_floating_point() else v for k, v in state.items()}
    safetensors_file, torch_file = folder / "tiny.safetensors", folder / "tiny.pt"
    save_file(state, safetensors_file)
    torch.save({"state_dict": state}, torch_file)
    return safetensors_file, torch_file


def test_vectors_are_unit_length_and_deterministic(embedder, tmp_path: Path) -> None:
    image = Image.open(make_photo(tmp_path / "a.jpg", 1)).convert("RGB")
    first, second = embedder.encode_image(image), embedder.encode_image(image)
    assert first.shape == (embedder.identity.dim,)
    assert np.linalg.norm(first) == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(first, second)


def test_checkpoint_files_load_through_pretrained_path(embedder, tmp_path: Path) -> None:
    image = Image.open(make_photo(tmp_path / "a.jpg", 2)).convert("RGB")
    base = embedder.encode_image(image)
    st_file, pt_file = _save_checkpoints(embedder, tmp_path)
    from_st = load_embedder(tiny_settings(str(st_file)), tmp_path / "models")
    from_pt = load_embedder(tiny_settings(str(pt_file)), tmp_path / "models")
    assert from_st.identity.digest.startswith("sha256:")
    assert from_st.identity != embedder.identity != from_pt.identity
    assert np.allclose(from_st.encode_image(image), from_pt.encode_image(image), atol=1e-5)
    assert not np.allclose(from_st.encode_image(image), base, atol=1e-3)


def test_pickled_objects_are_never_unpickled(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    evil = tmp_path / "evil.pt"
    torch.save({"state_dict": Evil()}, evil)
    with pytest.raises(ModelUnavailableError):
        load_embedder(tiny_settings(str(evil)), tmp_path / "models")
    assert not (tmp_path / "pwned").exists()


def test_wrong_architecture_checkpoint_is_a_clear_error(embedder, tmp_path: Path) -> None:
    st_file, _ = _save_checkpoints(embedder, tmp_path)
    config = tmp_path / "other-tiny.json"
    config.write_text(TINY_MODEL.read_text().replace('"embed_dim": 32', '"embed_dim": 16'))
    with pytest.raises(ModelUnavailableError, match="does not fit"):
        load_embedder(ModelSettings(str(config), str(st_file), "cpu"), tmp_path / "models")


def test_missing_weights_offline_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailableError) as info:
        load_embedder(ModelSettings("ViT-B-32-256", "datacomp_s34b_b86k", "cpu"), tmp_path)
    message = str(info.value)
    assert "cannot be downloaded" in message
    assert str(tmp_path / "ViT-B-32-256-datacomp_s34b_b86k.safetensors") in message


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        (ModelSettings("no-such-model", "none", "cpu"), "unknown model"),
        (ModelSettings("ViT-B-32-256", "no-such-tag", "cpu"), "unknown pretrained tag"),
        (ModelSettings(str(TINY_MODEL), "/nonexistent/file.safetensors", "cpu"), "not found"),
        (
            ModelSettings(
                str(TINY_MODEL), "none", "cuda" if not torch.cuda.is_available() else "x"
            ),
            "not available|unknown device",
        ),
    ],
)
def test_bad_model_settings_are_clear_errors(settings, match, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=match):
        load_embedder(settings, tmp_path)


def test_long_text_is_truncated_and_reported(embedder) -> None:
    assert not embedder.encode_text("a red kite on the beach").truncated
    long = embedder.encode_text("a red kite on the beach " * 20)
    assert long.truncated
    assert np.linalg.norm(long.vector) == pytest.approx(1.0, abs=1e-5)


def _fidelity_images(tmp_path: Path) -> list[Path]:
    large = sorted((SHARED_PHOTOS / "large").glob("*.jpg")) if SHARED_PHOTOS.is_dir() else []
    return large or [make_photo(tmp_path / "big.jpg", 7, size=(1800, 1200))]


def _open_clip_reference(embedder, path: Path) -> np.ndarray:
    import open_clip

    arch = Path(embedder.identity.arch.split("@")[0]).name
    # open_clip's own evaluation transform, configured as published for the default weights
    cfg = open_clip.get_pretrained_cfg(arch, "datacomp_s34b_b86k") or {}
    preprocess = open_clip.image_transform(
        embedder.image_size,
        is_train=False,
        mean=cfg.get("mean"),
        std=cfg.get("std"),
        resize_mode=cfg.get("resize_mode"),
        interpolation=cfg.get("interpolation"),
    )
    with torch.inference_mode():
        feats = embedder._model.encode_image(preprocess(Image.open(path)).unsqueeze(0))
    vector = feats[0].numpy()
    return vector / np.linalg.norm(vector)


def test_fidelity_with_open_clip_transform(embedder, tmp_path: Path, record_property) -> None:
    _check_fidelity(embedder, tmp_path, record_property)


@pytest.mark.slow
def test_fidelity_default_architecture(tmp_path: Path, record_property) -> None:
    """The real ViT-B-32-256 (random weights: same preprocessing, same sensitivity class)."""
    real = load_embedder(ModelSettings("ViT-B-32-256", "none", "cpu"), tmp_path / "models")
    _check_fidelity(real, tmp_path, record_property)


def _check_fidelity(embedder, tmp_path: Path, record_property) -> None:
    """photoseek's vector vs model.encode_image(open_clip preprocess(Image.open(file)))."""
    worst_full = worst_draft = 1.0
    for path in _fidelity_images(tmp_path):
        reference = _open_clip_reference(embedder, path)
        full = embedder.encode_image(decode_image(path).image)
        draft = embedder.encode_image(decode_image(path, min_side=embedder.image_size).image)
        worst_full = min(worst_full, float(full @ reference))
        worst_draft = min(worst_draft, float(draft @ reference))
    record_property("cosine_full", worst_full)
    record_property("cosine_draft", worst_draft)
    print(
        f"fidelity {embedder.identity.arch}: "
        f"worst cosine full {worst_full:.6f}, draft {worst_draft:.6f}"
    )
    assert worst_full >= 0.999
    assert worst_draft >= 0.998
