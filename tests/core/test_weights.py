"""Finding weights for a tag: drop-in files, the old hub cache, a download, offline advice."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from photoseek.core.errors import Cancelled, ModelUnavailableError
from photoseek.core.model import download
from photoseek.core.model.weights import dropin_name, resolve_weights
from photoseek.core.progress import Phase, Progress
from tests.core.test_download import WeightsServer

ARCH, TAG = "ViT-B-32-256", "datacomp_s34b_b86k"
REPO = "laion/CLIP-ViT-B-32-256x256-DataComp-s34B-b86K"
HUB_PATH = f"/{REPO}/resolve/main/open_clip_model.safetensors"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[WeightsServer]:
    server = WeightsServer()
    monkeypatch.setattr(download, "HUB_BASE_URL", server.base_url)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield server
    server.close()


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize("suffix", [".safetensors", ".bin", ".pt", ".pth"])
def test_dropped_in_file_is_found_without_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dropped = tmp_path / dropin_name(ARCH, TAG, suffix)
    dropped.write_bytes(b"weights")
    assert resolve_weights(ARCH, TAG, tmp_path).file == dropped


def test_download_saves_under_the_dropin_name_and_is_found_next_time(
    hub: WeightsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.files[HUB_PATH] = b"x" * 100_000
    events: list[Progress] = []
    source = resolve_weights(ARCH, TAG, tmp_path, on_progress=events.append)
    assert source.file == tmp_path / f"{ARCH}-{TAG}.safetensors"
    assert source.file.read_bytes() == hub.files[HUB_PATH]
    assert events and events[-1] == Progress(
        Phase.DOWNLOADING_MODEL,
        done=100_000,
        total=100_000,
        unit="bytes",
        rate=events[-1].rate,
        eta_s=0.0,
        current=source.file.name,
    )
    monkeypatch.setattr(download, "HUB_BASE_URL", _closed_port_url())
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    requests = len(hub.requests)
    assert resolve_weights(ARCH, TAG, tmp_path).file == source.file
    assert len(hub.requests) == requests


def test_cancelled_download_is_cancelled_not_unavailable(
    hub: WeightsServer, tmp_path: Path
) -> None:
    hub.files[HUB_PATH] = b"x" * 100_000
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        resolve_weights(ARCH, TAG, tmp_path, cancel=cancel)
    assert not (tmp_path / dropin_name(ARCH, TAG)).exists()


def test_failed_download_says_what_to_do(hub: WeightsServer, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError) as info:
        resolve_weights(ARCH, TAG, tmp_path)  # the server has no such file
    message = str(info.value)
    assert message.startswith(f"download of {ARCH}/{TAG} failed (")
    assert str(tmp_path / dropin_name(ARCH, TAG)) in message
    assert "\n" not in message


def test_unreachable_hub_is_the_offline_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(download, "HUB_BASE_URL", _closed_port_url())
    with pytest.raises(ModelUnavailableError, match="cannot be downloaded") as info:
        resolve_weights(ARCH, TAG, tmp_path)
    message = str(info.value)
    assert f"{download.HUB_BASE_URL}{HUB_PATH}" in message
    assert str(tmp_path / dropin_name(ARCH, TAG)) in message


def test_older_download_in_the_hub_cache_layout_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo_dir = tmp_path / f"models--{REPO.replace('/', '--')}"
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text(commit)
    snapshot = repo_dir / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "open_clip_pytorch_model.bin").write_bytes(b"old download")
    found = resolve_weights(ARCH, TAG, tmp_path).file
    assert found is not None and found.read_bytes() == b"old download"
