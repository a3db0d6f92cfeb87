"""One app per user and library: a second start raises the first; a stale socket is replaced."""

from __future__ import annotations

import socket
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDir

from photoseek.gui.instance import SingleInstance, send_message, server_name


@pytest.fixture
def name(tmp_path: Path) -> str:
    return server_name(tmp_path / "data")


@pytest.fixture
def first(qapp, name: str) -> Iterator[SingleInstance]:  # type: ignore[no-untyped-def]
    instance = SingleInstance(name)
    yield instance
    instance.close()


def test_the_name_depends_on_user_and_library_and_fits_a_socket_path(tmp_path: Path) -> None:
    one, other = server_name(tmp_path / "a"), server_name(tmp_path / "b")
    assert one != other and one == server_name(tmp_path / "a" / ".." / "a")
    assert one.startswith("photoseek-") and len(one) < 60
    assert all(c.isalnum() or c in "-_." for c in one)


def test_a_second_instance_asks_the_first_to_raise_and_steps_back(
    qtbot, first: SingleInstance, name: str
) -> None:  # type: ignore[no-untyped-def]
    assert first.claim() and first.is_primary
    second = SingleInstance(name)
    with qtbot.waitSignal(first.raise_requested, timeout=60000):
        assert not second.claim()
    assert not second.is_primary


def test_every_line_sent_is_received(qtbot, first: SingleInstance, name: str) -> None:  # type: ignore[no-untyped-def]
    assert first.claim()
    received: list[str] = []
    first.message_received.connect(received.append)
    assert send_message(name, "hello")
    qtbot.waitUntil(lambda: received == ["hello"], timeout=60000)


def test_nobody_listening_means_no_delivery(qapp, name: str) -> None:  # type: ignore[no-untyped-def]
    assert not send_message(name, "raise", timeout_ms=200)


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes leave nothing behind")
def test_a_stale_socket_of_a_crashed_app_is_replaced(
    qtbot, first: SingleInstance, name: str
) -> None:  # type: ignore[no-untyped-def]
    path = Path(QDir.tempPath()) / name
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # the file stays, as after a crash; nobody accepts on it
    try:
        assert path.exists()
        assert first.claim() and first.is_primary
        with qtbot.waitSignal(first.raise_requested, timeout=60000):
            assert not SingleInstance(name).claim()
    finally:
        first.close()
        path.unlink(missing_ok=True)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_only_this_user_can_connect(first: SingleInstance, name: str) -> None:
    assert first.claim()
    mode = (Path(QDir.tempPath()) / name).stat().st_mode
    assert stat.S_ISSOCK(mode) and mode & 0o077 == 0


def test_closing_frees_the_name(qtbot, first: SingleInstance, name: str) -> None:  # type: ignore[no-untyped-def]
    assert first.claim()
    first.close()
    again = SingleInstance(name)
    try:
        assert again.claim()
    finally:
        again.close()
