"""A private Xvfb server for tests that run the app on a real X display (Qt's xcb platform)."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import time
from collections.abc import Iterator

import pytest

XVFB_SCREEN = "1440x900x24"
XCB_MISSING = 'Could not load the Qt platform plugin "xcb"'


@contextlib.contextmanager
def xvfb(screen: str = XVFB_SCREEN, start_timeout: float = 30) -> Iterator[str | None]:
    """Run Xvfb while the block runs: its display (":N"), or None when it did not start.

    Xvfb picks a free display number itself (``-displayfd``), so tests running at the
    same time never collide on one.
    """
    read_end, write_end = os.pipe()
    try:
        server = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-screen", "0", screen, "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(write_end,),
        )
    finally:
        os.close(write_end)
    try:
        number = _display_number(read_end, server, time.monotonic() + start_timeout)
        yield None if number is None else f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def _display_number(fd: int, server: subprocess.Popen[bytes], deadline: float) -> int | None:
    """The number Xvfb writes (then a newline) once it accepts connections."""
    text = b""
    while not text.endswith(b"\n"):
        if time.monotonic() > deadline:
            return None
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 16)
            if not chunk:  # it exited before it was ready
                return None
            text += chunk
        elif server.poll() is not None:
            return None
    return int(text.strip())


def x11_env(env: dict[str, str], display: str) -> dict[str, str]:
    """``env`` for Qt's xcb platform on ``display`` (no offscreen plugin, no Wayland)."""
    env = {k: v for k, v in env.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = display
    return env


def skip_if_xcb_cannot_load(returncode: int, stderr: str) -> None:
    """Skip (not fail) where Qt's xcb plugin cannot load: a system library is missing."""
    if returncode and XCB_MISSING in stderr:
        pytest.skip("Qt's xcb plugin cannot load here (a system library is missing)")
