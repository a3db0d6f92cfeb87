"""Warm search: a running service answers `photoseek search` exactly as the cold path would."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from photoseek.core.library import Library
from photoseek.warm import address, client
from photoseek.warm.server import WarmSearchServer
from tests.conftest import REPO, make_photos, run_index, tiny_env
from tests.core.test_textpath import _library, _weights_file

pytestmark = pytest.mark.skipif(not address.SUPPORTED, reason="no Unix sockets here")


@pytest.fixture
def runtime_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, short socket folder for this test (and the processes it starts)."""
    folder = tmp_path_factory.mktemp("run")
    folder.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    return folder


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    """(the data folder, the weights file) of a library of 8 photos, indexed."""
    weights = _weights_file(tmp_path)
    make_photos(tmp_path / "pics", 8)
    with _library(tmp_path / "data", weights) as library:
        library.add_folder(tmp_path / "pics")
        run_index(library)
    return tmp_path / "data", weights


def _search(env: dict[str, str], *words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "photoseek", *words],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _serving(data: Path, weights: Path) -> tuple[Library, WarmSearchServer]:
    library = _library(data, weights)
    server = WarmSearchServer(library)
    assert server.start()
    return library, server


def test_a_running_server_answers_as_the_cold_path_does(runtime_dir: Path, indexed) -> None:
    data, weights = indexed
    env = tiny_env(data, str(weights))
    cold = _search({**env, client.DISABLE_VARIABLE: "1"}, "search", "a red kite", "--json")
    library, server = _serving(data, weights)
    try:
        warm = _search(env, "search", "a red kite", "--json")
        text = _search(env, "--data-dir", str(data), "search", "a red kite", "--limit", "3")
        assert server.served == 2
    finally:
        server.stop()
        library.close()
    assert warm.returncode == cold.returncode == 0, warm.stderr + cold.stderr
    assert json.loads(warm.stdout) == json.loads(cold.stdout)
    assert len(json.loads(warm.stdout)) == 8
    assert text.returncode == 0 and len(text.stdout.splitlines()) == 3


def test_what_the_server_does_not_answer_goes_cold(runtime_dir: Path, indexed) -> None:
    data, weights = indexed
    env = tiny_env(data, str(weights))
    library, server = _serving(data, weights)
    try:
        other_model = _search({**env, "PHOTOSEEK_PRETRAINED": "none"}, "search", "a red kite")
        status = _search(env, "status")
        image = _search(env, "search", f"@{next((data.parent / 'pics').iterdir())}")
        assert server.served == 0
    finally:
        server.stop()
        library.close()
    assert status.returncode == 0
    assert image.returncode == 0 and len(image.stdout.splitlines()) == 8
    assert other_model.returncode != 0 or other_model.stdout  # the cold path's own answer


def test_a_stale_socket_is_a_cold_search(runtime_dir: Path, indexed) -> None:
    data, weights = indexed
    path = address.socket_path(os.path.realpath(data))
    assert path is not None
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()  # the file stays, nobody listens: a process that died
    assert client.ask(["--data-dir", str(data), "search", "kite"]) is None
    answered = _search(tiny_env(data, str(weights)), "search", "a red kite")
    assert answered.returncode == 0 and len(answered.stdout.splitlines()) == 8
    library, server = _serving(data, weights)  # a new server takes the stale name over
    server.stop()
    library.close()
    assert not Path(path).exists()


def test_the_socket_is_the_users_own(runtime_dir: Path, indexed) -> None:
    data, weights = indexed
    library, server = _serving(data, weights)
    try:
        path = Path(address.socket_path(os.path.realpath(data)) or "")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert not WarmSearchServer(library).start()  # one server per library
    finally:
        server.stop()
        library.close()


def test_a_shared_socket_folder_is_never_used(tmp_path: Path, monkeypatch) -> None:
    shared = tmp_path / "shared"
    (shared / "photoseek").mkdir(parents=True)
    (shared / "photoseek").chmod(0o777)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    assert address.socket_path("/some/library") is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["search", "kite"], "search"),
        (["--data-dir", "/x", "-v", "search", "kite"], "search"),
        (["--data-dir=/x", "--model", "m", "status"], "status"),
        (["--help"], None),
        (["--unknown", "search", "kite"], None),
        (["--data-dir"], None),
    ],
)
def test_the_client_reads_only_the_global_options(argv: list[str], expected: str | None) -> None:
    found = client._command_and_data_dir(argv)
    assert (found[0] if found else None) == expected
