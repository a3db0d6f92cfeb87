"""``PHOTOSEEK_QUIT_WHEN_SHOWN=1``: the app quits once its window is on screen (no test code).

The installer's smoke test starts a PyInstaller bundle this way, where no
driver script can patch the app (``packaging/smoke_test.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from photoseek.core.writerlock import WriterLock
from photoseek.gui.launch import QUIT_WHEN_SHOWN_ENV
from tests.conftest import tiny_env

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 180


def test_the_app_quits_cleanly_once_shown_without_starting_its_workers(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = tiny_env(data_dir)
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO), **{QUIT_WHEN_SHOWN_ENV: "1"})
    out = subprocess.run(
        [sys.executable, "-m", "photoseek"],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    log = (data_dir / "logs" / "photoseek.log").read_text(encoding="utf-8")
    assert "window_shown" in log and "quitting once shown" in log
    assert "loaded " not in log  # the workers never started: no model was loaded
    assert WriterLock(data_dir / "writer.lock").holder() is None
