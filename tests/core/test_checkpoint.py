"""Checkpoint files are read as data only, and open_clip's conventions still apply."""

from __future__ import annotations

import builtins
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from photoseek.core.errors import ModelUnavailableError
from photoseek.core.model import checkpoint
from photoseek.core.model.embedder import ModelSettings, load_embedder
from tests.conftest import TINY_MODEL, make_photo, tiny_settings


class _Payload:
    """Unpickling this object creates ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


def _malicious_checkpoint(path: Path, marker: Path, *, zipfile: bool = True) -> Path:
    weights = {"visual.proj": torch.zeros(2, 2), "evil": _Payload(marker)}
    torch.save({"state_dict": weights}, path, _use_new_zipfile_serialization=zipfile)
    assert not marker.exists()
    return path


def _load(settings_pretrained: Path, tmp_path: Path):
    return load_embedder(
        ModelSettings(str(TINY_MODEL), str(settings_pretrained), "cpu"), tmp_path / "models"
    )


def test_the_payload_really_runs_code_under_a_plain_unpickle(tmp_path: Path) -> None:
    """The control: the test file is truly malicious, so the tests below mean something."""
    marker = tmp_path / "control-marker"
    evil = _malicious_checkpoint(tmp_path / "evil.pt", marker)
    torch.load(evil, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("zipfile", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize("force_unsafe", [False, True], ids=["plain", "TORCH_FORCE_NO_WEIGHTS"])
def test_malicious_pickle_is_refused_without_running_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zipfile: bool, force_unsafe: bool
) -> None:
    if force_unsafe:
        monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "marker"
    evil = _malicious_checkpoint(tmp_path / "evil.pt", marker, zipfile=zipfile)
    with pytest.raises(ModelUnavailableError) as info:
        _load(evil, tmp_path)
    assert not marker.exists()
    message = str(info.value)
    assert "will not unpickle" in message and ".safetensors" in message
    assert "weights_only" not in message
    assert "\n" not in message


def test_open_clip_loaders_are_never_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import open_clip
    import open_clip.factory

    def refuse(*args, **kwargs):
        raise AssertionError("open_clip's checkpoint loader was called")

    for module, name in [
        (open_clip, "load_checkpoint"),
        (open_clip.factory, "load_checkpoint"),
        (open_clip.factory, "load_state_dict"),
    ]:
        monkeypatch.setattr(module, name, refuse)
    base = load_embedder(tiny_settings(), tmp_path / "models")
    state = _perturbed_state(base)
    torch.save(state, tmp_path / "good.pt")
    _load(tmp_path / "good.pt", tmp_path)
    marker = tmp_path / "marker"
    with pytest.raises(ModelUnavailableError):
        _load(_malicious_checkpoint(tmp_path / "evil.pt", marker), tmp_path)
    assert not marker.exists()


def test_torchscript_archives_are_refused(tmp_path: Path) -> None:
    scripted = torch.jit.trace(torch.nn.Linear(2, 2), torch.zeros(1, 2))
    scripted.save(str(tmp_path / "openai-style.pt"))
    with pytest.raises(ModelUnavailableError, match="TorchScript") as info:
        _load(tmp_path / "openai-style.pt", tmp_path)
    assert "weights_only" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("garbage.pt", b"not a checkpoint at all", "cannot read garbage.pt"),
        ("garbage.safetensors", b"\x00" * 64, "not a valid safetensors file"),
        ("list.pt", None, "does not hold model weights"),
    ],
)
def test_unreadable_files_are_one_clear_error(
    tmp_path: Path, name: str, content: bytes | None, match: str
) -> None:
    path = tmp_path / name
    if content is None:
        torch.save([torch.zeros(1)], path)
    else:
        path.write_bytes(content)
    with pytest.raises(ModelUnavailableError, match=match) as info:
        _load(path, tmp_path)
    assert "weights_only" not in str(info.value)


def _perturbed_state(embedder) -> dict[str, torch.Tensor]:
    return {
        k: (v + 0.01 if v.is_floating_point() else v).contiguous()
        for k, v in embedder._model.state_dict().items()
    }


def test_open_clip_conventions_are_applied(tmp_path: Path) -> None:
    """A ``state_dict`` key and a ``module.`` prefix (DataParallel) load like the plain file."""
    base = load_embedder(tiny_settings(), tmp_path / "models")
    state = _perturbed_state(base)
    torch.save(state, tmp_path / "plain.pt")
    wrapped = {"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}
    torch.save(wrapped, tmp_path / "wrapped.pt")
    image = Image.open(make_photo(tmp_path / "a.jpg", 3)).convert("RGB")
    plain = _load(tmp_path / "plain.pt", tmp_path).encode_image(image)
    assert np.array_equal(_load(tmp_path / "wrapped.pt", tmp_path).encode_image(image), plain)
    assert not np.allclose(base.encode_image(image), plain, atol=1e-3)


def test_openai_style_text_keys_fit_a_custom_text_model(tmp_path: Path) -> None:
    """A CLIP checkpoint (text keys at the top) loads into a CustomTextCLIP (``text.`` keys)."""
    base = load_embedder(tiny_settings(), tmp_path / "models")
    state = _perturbed_state(base)
    assert "positional_embedding" in state
    torch.save(state, tmp_path / "clip.pt")
    config = json.loads(TINY_MODEL.read_text())
    config["custom_text"] = True
    custom = tmp_path / "tiny-custom-text.json"
    custom.write_text(json.dumps(config))
    loaded = load_embedder(ModelSettings(str(custom), str(tmp_path / "clip.pt"), "cpu"), tmp_path)
    assert not hasattr(loaded._model, "positional_embedding")
    text_pos = loaded._model.text.positional_embedding
    assert torch.equal(text_pos, state["positional_embedding"])
    clip_text = _load(tmp_path / "clip.pt", tmp_path).encode_text("a kite").vector
    assert np.allclose(loaded.encode_text("a kite").vector, clip_text, atol=1e-5)


def test_position_embeddings_are_resized(tmp_path: Path) -> None:
    """Weights trained at another image size load after open_clip's resize."""
    config = json.loads(TINY_MODEL.read_text())
    config["vision_cfg"]["image_size"] = 32
    small = tmp_path / "tiny-32.json"
    small.write_text(json.dumps(config))
    small_model = load_embedder(ModelSettings(str(small), "none", "cpu"), tmp_path / "models")
    state = _perturbed_state(small_model)
    from safetensors.torch import save_file

    save_file(state, tmp_path / "small.safetensors")
    loaded = _load(tmp_path / "small.safetensors", tmp_path)
    assert loaded._model.visual.positional_embedding.shape[0] == (64 // 16) ** 2 + 1
    assert state["visual.positional_embedding"].shape[0] == (32 // 16) ** 2 + 1


def test_mismatch_message_names_what_differs(tmp_path: Path) -> None:
    base = load_embedder(tiny_settings(), tmp_path / "models")
    state = _perturbed_state(base)
    del state["text_projection"]
    state["extra.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "odd.pt")
    with pytest.raises(ModelUnavailableError, match="does not fit") as info:
        _load(tmp_path / "odd.pt", tmp_path)
    assert "1 tensors are missing (e.g. text_projection)" in str(info.value)
    assert "extra.weight" in str(info.value)


def test_read_state_dict_returns_tensors_only(tmp_path: Path) -> None:
    torch.save({"a": torch.ones(2), "module.b": torch.zeros(1)}, tmp_path / "x.pt")
    state = checkpoint.read_state_dict(tmp_path / "x.pt")
    assert sorted(state) == ["a", "b"]
    with pytest.raises(ModelUnavailableError, match="unsupported checkpoint type"):
        checkpoint.read_state_dict(tmp_path / "x.pkl")


def test_plain_pickle_with_tensor_suffix_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "raw.bin"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ModelUnavailableError):
        checkpoint.read_state_dict(path)
    assert not marker.exists()
