"""The app as users start it: ``photoseek`` with no command, in a process of its own."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from photoseek.core.library import Library
from photoseek.core.library.modelchoice import CHOSEN_MODEL_KEY, ModelName, choice_json
from photoseek.core.model.embedder import DEFAULT_ARCH, DEFAULT_PRETRAINED
from photoseek.core.writerlock import WriterLock
from photoseek.gui.launch import model_settings
from photoseek.gui.settings import AppSettings
from photoseek.paths import resolve_paths
from tests.conftest import make_photos, tiny_env
from tests.gui.x11 import skip_if_xcb_cannot_load, x11_env

DRIVER = Path(__file__).with_name("app_driver.py")
REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 180


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = tiny_env(data_dir)
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO), **extra)
    return env


def _library_with_photos(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    make_photos(tmp_path / "pics", 4)
    subprocess.run(
        [sys.executable, "-m", "photoseek", "add", str(tmp_path / "pics")],
        env=_env(data_dir),
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    return data_dir


def _shown_line(stdout: str) -> list[str]:
    lines = [line for line in stdout.splitlines() if line.startswith("shown ")]
    assert len(lines) == 1, stdout
    return lines[0].split()


def test_the_window_is_shown_before_torch_is_imported_and_quitting_is_clean(tmp_path: Path) -> None:
    data_dir = _library_with_photos(tmp_path)
    out = subprocess.run(
        [sys.executable, str(DRIVER), "quit-when-shown"],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert out.returncode == 0, out.stderr
    _, seconds, torch, title = _shown_line(out.stdout)
    assert torch == "torch=False" and title == "title=photoseek"
    print(f"\nprocess start -> window shown: {float(seconds):.2f} s")
    log = (data_dir / "logs" / "photoseek.log").read_text(encoding="utf-8")
    assert "window_shown" in log and "Traceback" not in out.stderr
    lock = WriterLock(data_dir / "writer.lock")
    assert lock.holder() is None  # the app released the library


def test_a_library_that_cannot_be_opened_gets_a_window_that_says_why(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.write_text("a file, not a folder")
    out = subprocess.run(
        [sys.executable, str(DRIVER), "quit-when-shown"],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert out.returncode == 1
    errors = [line for line in out.stdout.splitlines() if line.startswith("error ")]
    assert len(errors) == 1 and str(data_dir) in errors[0], out.stdout
    assert "Traceback" not in out.stderr


@pytest.fixture
def running_app(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, Path]]:
    data_dir = _library_with_photos(tmp_path)
    quit_file = tmp_path / "quit-now"
    app = subprocess.Popen(
        [sys.executable, str(DRIVER), "stay", str(quit_file)],
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert app.stdout is not None
        assert app.stdout.readline().startswith("shown "), app.stderr
        yield app, data_dir, quit_file
    finally:
        quit_file.touch()
        try:
            app.wait(timeout=TIMEOUT)
        finally:
            if app.poll() is None:
                app.kill()


def test_a_second_start_raises_the_running_window_and_exits_0(
    running_app: tuple[subprocess.Popen[str], Path, Path],
) -> None:
    app, data_dir, quit_file = running_app
    second = subprocess.run(
        [sys.executable, "-m", "photoseek"],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert second.returncode == 0, second.stderr
    assert app.stdout is not None and app.stdout.readline().strip() == "raised"
    assert app.poll() is None  # the first one keeps running
    quit_file.touch()
    assert app.wait(timeout=TIMEOUT) == 0


def test_the_app_indexes_the_library_while_it_runs(
    running_app: tuple[subprocess.Popen[str], Path, Path],
) -> None:
    app, data_dir, _quit = running_app
    paths = resolve_paths(data_dir)
    deadline = time.monotonic() + TIMEOUT
    import sqlite3

    def indexed() -> int:
        with sqlite3.connect(f"file:{paths.catalog}?mode=ro", uri=True) as db:
            return int(
                db.execute("SELECT COUNT(*) FROM photos WHERE status = 'indexed'").fetchone()[0]
            )

    while indexed() < 4:
        assert time.monotonic() < deadline, "the app did not index the library"
        assert app.poll() is None
        time.sleep(0.2)


def _args(data_dir: Path, **values: str) -> argparse.Namespace:
    base = {"model": None, "pretrained": None, "device": "auto", "data_dir": str(data_dir)}
    return argparse.Namespace(**{**base, **values})


def test_the_command_line_model_wins_over_the_library_and_settings(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    settings = AppSettings(resolve_paths(data))
    assert model_settings(_args(data), settings) == model_settings(_args(data), settings)
    assert model_settings(_args(data), settings).arch == DEFAULT_ARCH
    settings.set_model("ViT-L-14", "datacomp_xl_s13b_b90k", "cuda")  # as an older version did
    chosen = model_settings(_args(data), settings)
    assert (chosen.arch, chosen.pretrained, chosen.device) == (
        "ViT-L-14",
        "datacomp_xl_s13b_b90k",
        "cuda",
    )
    given = model_settings(_args(data, model="ViT-B-16", device="cpu"), settings)
    assert (given.arch, given.pretrained, given.device) == ("ViT-B-16", DEFAULT_PRETRAINED, "cpu")
    file_only = model_settings(_args(data, pretrained="/w/model.safetensors"), settings)
    assert (file_only.arch, file_only.pretrained) == (DEFAULT_ARCH, "/w/model.safetensors")
    choice = choice_json(ModelName("ViT-B-32", "datacomp_xl_s13b_b90k"))
    with Library(resolve_paths(data)) as library, library.catalog.transaction() as tx:
        # as a finished switch leaves it: the library chose ViT-B-32
        tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (CHOSEN_MODEL_KEY, choice))
    library_choice = model_settings(_args(data), settings)
    assert (library_choice.arch, library_choice.pretrained, library_choice.device) == (
        "ViT-B-32",
        "datacomp_xl_s13b_b90k",
        "cuda",
    )
    given = model_settings(_args(data, model="ViT-B-16", device="cpu"), settings)
    assert (given.arch, given.pretrained) == ("ViT-B-16", DEFAULT_PRETRAINED)


def test_on_a_real_x11_display(tmp_path: Path, x11_display: str) -> None:
    """The same start on an X server (xcb), as on a desktop: no offscreen plugin."""
    data_dir = _library_with_photos(tmp_path)
    out = subprocess.run(
        [sys.executable, str(DRIVER), "quit-when-shown"],
        env=x11_env(_env(data_dir), x11_display),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    skip_if_xcb_cannot_load(out.returncode, out.stderr)
    assert out.returncode == 0, out.stderr
    _, _seconds, torch, title = _shown_line(out.stdout)
    assert torch == "torch=False" and title == "title=photoseek"
