"""Without a display the app says so in one line and exits 1, creating no QApplication."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from photoseek.gui.startup import NO_DISPLAY_MESSAGE, missing_display
from tests.conftest import tiny_env

DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


def test_which_platforms_need_a_display() -> None:
    assert missing_display({}, "linux")
    assert missing_display({}, "freebsd14")
    assert not missing_display({"DISPLAY": ":0"}, "linux")
    assert not missing_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not missing_display({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not missing_display({}, "darwin")
    assert not missing_display({}, "win32")


def test_the_message_points_to_the_command_line_and_the_service() -> None:
    assert "\n" not in NO_DISPLAY_MESSAGE
    assert "no display" in NO_DISPLAY_MESSAGE
    assert "photoseek --help" in NO_DISPLAY_MESSAGE and "photoseek watch" in NO_DISPLAY_MESSAGE


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland platforms")
def test_no_display_is_one_line_and_exit_1_without_a_qapplication(tmp_path: Path) -> None:
    env = {k: v for k, v in tiny_env(tmp_path / "data").items() if k not in DISPLAY_VARIABLES}
    code = (
        "import sys\n"
        "from photoseek.cli import main\n"
        "code = main([])\n"
        "print('qt imported' if 'PySide6' in sys.modules else 'no qt', file=sys.stdout)\n"
        "raise SystemExit(code)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 1
    assert out.stderr.splitlines() == [NO_DISPLAY_MESSAGE]
    assert out.stdout.strip() == "no qt"
    module = subprocess.run(
        [sys.executable, "-m", "photoseek"], env=env, capture_output=True, text=True, timeout=120
    )
    assert (module.returncode, module.stderr.splitlines()) == (1, [NO_DISPLAY_MESSAGE])
    assert not (tmp_path / "data" / "catalog.sqlite3").exists()  # no library was opened
