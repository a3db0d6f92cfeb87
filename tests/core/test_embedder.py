"""The model loads through the users' code path, and vectors match open_clip's own."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from photoseek.core.errors import Cancelled, ModelUnavailableError
from photoseek.core.imaging.decode import decode_image
from photoseek.core.model import download
from photoseek.core.model import embedder as embedder_module
from photoseek.core.model.embedder import (
    ModelSettings,
    available_devices,
    image_blocks,
    load_embedder,
    pick_device,
)
from photoseek.core.progress import Phase, Progress
from tests.conftest import SHARED_PHOTOS, TINY_MODEL, make_photo, tiny_settings
from tests.core.test_download import WeightsServer

GUARD_S = 60.0  # only against a hang: no test waits this long unless it is failing


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


def test_available_devices_and_a_missing_device_is_named(monkeypatch) -> None:
    assert available_devices()[-1] == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert available_devices() == ["cpu"]
    assert pick_device("auto") == "cpu"
    with pytest.raises(ModelUnavailableError) as info:
        pick_device("cuda")
    expected = "device cuda was asked for but is not available (this machine has: cpu)"
    assert str(info.value) == expected
    with pytest.raises(ModelUnavailableError, match="unknown device 'tpu'"):
        pick_device("tpu")


def test_load_reports_loading_steps(tmp_path: Path) -> None:
    events: list[Progress] = []
    load_embedder(tiny_settings(), tmp_path, on_progress=events.append)
    assert events == [
        Progress(Phase.LOADING_MODEL, done=0, total=1, unit="steps"),
        Progress(Phase.LOADING_MODEL, done=1, total=1, unit="steps"),
    ]


def test_load_is_cancelled_between_steps(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        load_embedder(tiny_settings(), tmp_path, cancel=cancel)
    cancel.clear()
    events: list[Progress] = []

    def cancel_once_loading(progress: Progress) -> None:
        events.append(progress)
        cancel.set()  # at "loading, step 0": the load must stop before it is done

    with pytest.raises(Cancelled):
        load_embedder(tiny_settings(), tmp_path, on_progress=cancel_once_loading, cancel=cancel)
    assert [e.done for e in events] == [0]


def test_tag_download_then_load_reports_bytes_then_steps(
    embedder, tmp_path: Path, monkeypatch
) -> None:
    """A pretrained tag of the tiny model, served locally: download, load, find it again."""
    import open_clip
    from safetensors.torch import save_file

    checkpoint = tmp_path / "tiny.safetensors"
    save_file(_save_state(embedder), checkpoint)
    server = WeightsServer()
    try:
        server.files["/photoseek/tiny/resolve/main/open_clip_model.safetensors"] = (
            checkpoint.read_bytes()
        )
        monkeypatch.setattr(download, "HUB_BASE_URL", server.base_url)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setitem(
            open_clip.pretrained._PRETRAINED, "tiny-clip", {"test": {"hf_hub": "photoseek/tiny/"}}
        )
        events: list[Progress] = []
        models = tmp_path / "models"
        loaded = load_embedder(tiny_settings("test"), models, on_progress=events.append)
    finally:
        server.close()
    phases = [e.phase for e in events]
    first_loading = phases.index(Phase.LOADING_MODEL)
    assert set(phases[:first_loading]) == {Phase.DOWNLOADING_MODEL}
    assert events[first_loading - 1].done == checkpoint.stat().st_size
    assert [e.done for e in events[first_loading:]] == [0, 1]
    assert (models / "tiny-clip-test.safetensors").read_bytes() == checkpoint.read_bytes()
    assert loaded.identity.pretrained == "test"
    image = Image.open(make_photo(tmp_path / "a.jpg", 5)).convert("RGB")
    again = load_embedder(tiny_settings("test"), models)  # the server is gone: found on disk
    assert np.array_equal(again.encode_image(image), loaded.encode_image(image))
    assert not np.allclose(loaded.encode_image(image), embedder.encode_image(image), atol=1e-3)


def _save_state(embedder) -> dict[str, torch.Tensor]:
    state = {k: v.contiguous() for k, v in embedder._model.state_dict().items()}
    return {k: v + 0.01 if v.is_floating_point() else v for k, v in state.items()}


@pytest.fixture
def fresh(tmp_path: Path):
    """An embedder of its own, for tests that add hooks to the model."""
    return load_embedder(tiny_settings(), tmp_path / "models")


def _batch(embedder, tmp_path: Path, count: int = 4) -> list[torch.Tensor]:
    return [
        embedder.preprocess(Image.open(make_photo(tmp_path / f"{i}.jpg", 10 + i)).convert("RGB"))
        for i in range(count)
    ]


def _pause_at(module: torch.nn.Module) -> tuple[threading.Event, threading.Event, object]:
    """Make ``module``'s next forward stop until released: (inside, release, hook handle)."""
    inside, release = threading.Event(), threading.Event()

    def hook(_module, _args) -> None:
        if not inside.is_set():
            inside.set()
            release.wait(GUARD_S)

    return inside, release, module.register_forward_pre_hook(hook)


def _start(target) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(target()), daemon=True)
    thread.start()
    return thread, result


def test_text_encode_completes_while_an_image_batch_is_in_flight(
    fresh, embedder, tmp_path: Path
) -> None:
    batch = _batch(fresh, tmp_path)
    uninterrupted = fresh.encode_images(batch)
    inside, release, handle = _pause_at(image_blocks(fresh._model)[-1])
    try:
        images, image_result = _start(lambda: fresh.encode_images(batch))
        assert inside.wait(GUARD_S), "the image encode never reached its last block"
        text, text_result = _start(lambda: fresh.encode_text("a red kite on the beach"))
        text.join(GUARD_S)
        assert not text.is_alive(), "the text encode waited for the image batch"
        assert images.is_alive()  # still paused inside the image tower
    finally:
        release.set()
        handle.remove()
    images.join(GUARD_S)
    assert not images.is_alive()
    assert np.array_equal(image_result[0], uninterrupted)
    reference = embedder.encode_text("a red kite on the beach").vector  # same seeded weights
    assert np.allclose(text_result[0].vector, reference, atol=1e-6)


def test_image_batch_parks_at_a_block_while_text_runs(fresh, embedder, tmp_path: Path) -> None:
    batch = _batch(fresh, tmp_path)
    uninterrupted = fresh.encode_images(batch)
    blocks_run = []
    counters = [
        block.register_forward_hook(lambda *_: blocks_run.append(1))
        for block in image_blocks(fresh._model)
    ]
    text_tower = fresh._text_tower or fresh._model  # the text tower texts run through
    inside, release, handle = _pause_at(text_tower.transformer.resblocks[0])
    try:
        text, text_result = _start(lambda: fresh.encode_text("a dog in the snow"))
        assert inside.wait(GUARD_S)
        images, image_result = _start(lambda: fresh.encode_images(batch))
        deadline = time.monotonic() + GUARD_S
        while fresh._text_first.parked == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # waiting for the image thread to arrive, not measuring time
        assert fresh._text_first.parked == 1
        assert blocks_run == []  # parked before its first block
    finally:
        release.set()
        handle.remove()
    text.join(GUARD_S)
    images.join(GUARD_S)
    for counter in counters:
        counter.remove()
    assert len(blocks_run) == len(image_blocks(fresh._model))
    assert np.array_equal(image_result[0], uninterrupted)
    reference = embedder.encode_text("a dog in the snow").vector  # same seeded weights
    assert np.allclose(text_result[0].vector, reference, atol=1e-6)
    assert fresh._text_first.parked == 0


def test_concurrent_texts_and_images_give_the_same_vectors(fresh, tmp_path: Path) -> None:
    batch = _batch(fresh, tmp_path, count=2)
    texts = [f"photo number {i}" for i in range(6)]
    want_images = fresh.encode_images(batch)
    want_texts = {t: fresh.encode_text(t).vector for t in texts}
    fresh._text_cache.clear()
    errors: list[BaseException] = []

    def run(work) -> None:
        try:
            work()
        except BaseException as exc:  # reported below
            errors.append(exc)

    def images() -> None:
        for _ in range(3):
            assert np.array_equal(fresh.encode_images(batch), want_images)

    def text_worker() -> None:
        for t in texts:
            assert np.allclose(fresh.encode_text(t).vector, want_texts[t], atol=1e-6)

    threads = [threading.Thread(target=run, args=(w,)) for w in (images, text_worker, text_worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD_S)
    assert not errors
    assert not any(thread.is_alive() for thread in threads)


def test_image_blocks_are_found_for_open_clip_and_generic_towers(fresh) -> None:
    assert image_blocks(fresh._model) == list(fresh._model.visual.transformer.resblocks)
    assert fresh._yield_points > len(image_blocks(fresh._model))

    class Tower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = torch.nn.Conv2d(3, 4, 3)
            self.stages = torch.nn.Sequential(
                torch.nn.Sequential(torch.nn.ReLU()), torch.nn.Sequential(torch.nn.ReLU())
            )

    class Model(torch.nn.Module):
        def __init__(self, visual: torch.nn.Module) -> None:
            super().__init__()
            self.visual = visual

    tower = Tower()
    assert image_blocks(Model(tower)) == list(tower.stages)
    assert image_blocks(Model(torch.nn.Linear(2, 2))) == []
    assert embedder_module._install_yield_points(Model(torch.nn.Linear(2, 2)), print) == 0


def test_a_weights_file_is_loaded_without_drawing_random_weights_first(
    embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = Image.open(make_photo(tmp_path / "a.jpg", 3)).convert("RGB")
    st_file, _ = _save_checkpoints(embedder, tmp_path)
    reference = load_embedder(tiny_settings(str(st_file)), tmp_path / "models")
    draws: list[str] = []
    for name in ("normal_", "uniform_", "kaiming_uniform_", "xavier_uniform_", "trunc_normal_"):
        original = getattr(torch.nn.init, name)
        monkeypatch.setattr(
            torch.nn.init,
            name,
            lambda t, *a, _o=original, _n=name, **k: (draws.append(_n), _o(t, *a, **k))[1],
        )
    loaded = load_embedder(tiny_settings(str(st_file)), tmp_path / "models")
    assert draws == []  # every tensor comes from the file: drawing them first is wasted time
    assert np.array_equal(loaded.encode_image(image), reference.encode_image(image))
    torch.nn.Linear(4, 4)
    assert draws, "torch's initialisers are back once the model is built"


def test_random_weights_are_still_drawn_from_the_seed(embedder, tmp_path: Path) -> None:
    st_file, _ = _save_checkpoints(embedder, tmp_path)
    load_embedder(tiny_settings(str(st_file)), tmp_path / "models")
    again = load_embedder(tiny_settings(), tmp_path / "models2")
    assert again.identity == embedder.identity
