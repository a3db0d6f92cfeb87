"""End to end: the real app on an X server (Xvfb), used as a person would, with screenshots.

``tests/gui/e2e_driver.py`` runs ``photoseek`` (no command) and, once its window is
shown, types, clicks and presses keys with real Qt events, waiting for what a user
waits for; it prints what it saw and saves the window as PNGs. The tests skip where
Xvfb (or Qt's xcb plugin) is missing, and the library one where ``../shared/photos``
is absent.

The same runs write the README's screenshots when asked:

    PHOTOSEEK_SCREENSHOT_DIR=resources/screenshots python -m pytest tests/gui/test_e2e.py
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from photoseek.paths import resolve_paths
from tests.conftest import tiny_env
from tests.gui.x11 import skip_if_xcb_cannot_load, x11_env

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).with_name("e2e_driver.py")
REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 240
WINDOW = (1280, 800)
QUERY = "red kite on the beach"
COCO_PHOTOS = 40  # of the 363: enough to fill the window, quick to index
SCREENSHOT_DIR_ENV = "PHOTOSEEK_SCREENSHOT_DIR"


def _env(data_dir: Path, display: str) -> dict[str, str]:
    env = tiny_env(data_dir)
    env.update(PYTHONPATH=str(REPO))
    return x11_env(env, display)


def _photoseek(data_dir: Path, *args: str) -> None:
    env = tiny_env(data_dir)
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    subprocess.run(
        [sys.executable, "-m", "photoseek", *args],
        env=env,
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )


def _drive(data_dir: Path, display: str, shots: Path, *args: str) -> dict[str, dict]:
    """Run the driver; what it saw, by step (it must have finished every step)."""
    out = subprocess.run(
        [sys.executable, str(DRIVER), str(shots), *args],
        env=_env(data_dir, display),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    skip_if_xcb_cannot_load(out.returncode, out.stderr)
    seen = {}
    for line in out.stdout.splitlines():
        if line.startswith("e2e "):
            report = json.loads(line[4:])
            seen[report.pop("step")] = report
    log = f"stdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    assert "failed" not in seen, log
    assert out.returncode == 0 and "done" in seen, log
    assert "Traceback" not in out.stderr, log
    assert seen["shown"]["platform"] == "xcb"
    return seen


def _screenshot(report: dict, min_colours: int) -> Path:
    """The step's screenshot: the whole window, and not blank."""
    path = Path(report["screenshot"])
    assert path.is_file()
    assert (report["width"], report["height"]) == WINDOW
    with Image.open(path) as image:
        assert image.size == WINDOW
        colours = image.convert("RGB").getcolors(maxcolors=WINDOW[0] * WINDOW[1])
    assert colours is not None and len(colours) >= min_colours, f"{path.name} looks blank"
    return path


def _publish(*screenshots: Path) -> None:
    """Copy the screenshots where PHOTOSEEK_SCREENSHOT_DIR says (the README's)."""
    target = os.environ.get(SCREENSHOT_DIR_ENV)
    if not target:
        return
    folder = Path(target).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for shot in screenshots:
        shutil.copyfile(shot, folder / shot.name)


def _pixels_differ(a: Path, b: Path) -> bool:
    with Image.open(a) as first, Image.open(b) as second:
        return first.convert("RGB").tobytes() != second.convert("RGB").tobytes()


def test_a_new_library_opens_on_the_empty_state(tmp_path: Path, x11_display: str) -> None:
    seen = _drive(tmp_path / "data", x11_display, tmp_path / "shots", "empty")
    empty = seen["empty"]
    assert empty["title"] == "Add a folder to start"
    assert empty["button"] == "Add a Folder…" and empty["button_visible"]
    _publish(_screenshot(empty, min_colours=16))


def _library(shared_photos: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A library of 40 COCO photos and the formats folder, indexed with the tiny model."""
    pictures = tmp_path / "Pictures"
    (pictures / "coco").mkdir(parents=True)
    for photo in sorted((shared_photos / "coco" / "images").glob("*.jpg"))[:COCO_PHOTOS]:
        shutil.copy2(photo, pictures / "coco" / photo.name)
    shutil.copytree(shared_photos / "formats", pictures / "formats")
    data_dir = tmp_path / "data"
    _photoseek(data_dir, "add", str(pictures))
    _photoseek(data_dir, "index")
    return data_dir, pictures


def _indexed(data_dir: Path) -> int:
    catalog = resolve_paths(data_dir).catalog
    with sqlite3.connect(f"file:{catalog}?mode=ro", uri=True) as db:
        query = "SELECT COUNT(*) FROM photos WHERE status = 'indexed'"
        return int(db.execute(query).fetchone()[0])


def test_browse_search_select_and_preview(
    shared_photos: Path, tmp_path: Path, x11_display: str
) -> None:
    data_dir, pictures = _library(shared_photos, tmp_path)
    photos = _indexed(data_dir)
    assert photos > COCO_PHOTOS
    seen = _drive(data_dir, x11_display, tmp_path / "shots", "library", QUERY)

    browse = seen["browse"]
    assert browse["rows"] == photos and browse["count"] == f"{photos} photos"
    assert browse["thumbnails"] >= 12  # a window full of photos, every one with its thumbnail

    search = seen["search"]
    assert search["query"] == QUERY and search["state"] == "idle"
    assert search["rows"] > 0 and search["count"].endswith("matches")
    scores = search["scores"]
    assert len(scores) == search["rows"] and scores == sorted(scores, reverse=True)

    selected = Path(seen["selected"]["path"])
    assert seen["selected"]["current"] == 0
    assert selected.is_file() and pictures in selected.parents

    preview = seen["preview"]
    assert preview["visible"]
    assert preview["path"] == str(selected) and preview["name"] == selected.name
    with Image.open(selected) as image:
        width, height = image.size
    assert preview["dimensions"] == f"{width} × {height}"
    assert preview["score"] == f"{scores[0]:.3f}"
    assert preview["decoded"] and min(preview["decoded"]) > 0
    assert preview["shown"] and min(preview["shown"]) > 0

    shots = [_screenshot(seen[step], min_colours=1000) for step in ("browse", "search", "preview")]
    assert _pixels_differ(shots[0], shots[1]) and _pixels_differ(shots[1], shots[2])
    _publish(*shots)
