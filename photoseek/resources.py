"""Find files in ``resources/`` from a checkout, an installed wheel or a PyInstaller bundle.

The folder holds the app icon (``photoseek.svg`` and PNG renderings of it in
the standard sizes under ``icons/``) and the freedesktop ``.desktop`` file.
It is looked for, in this order, in a PyInstaller bundle (``sys._MEIPASS``),
in an installed wheel (``pyproject.toml`` force-includes ``resources`` as
``photoseek/_resources``) and beside the package in a source checkout (or an
editable install). Nothing here imports Qt.
"""

from __future__ import annotations

import sys
from pathlib import Path

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICON_SVG = "photoseek.svg"
DESKTOP_FILE = "photoseek.desktop"


def resources_dir() -> Path:
    """The folder holding icons, the .desktop file and the stylesheet."""
    bundle = getattr(sys, "_MEIPASS", None)
    candidates = [
        Path(bundle) / "resources" if bundle else None,
        Path(__file__).resolve().parent / "_resources",  # installed wheel
        Path(__file__).resolve().parents[1] / "resources",  # source checkout / editable
    ]
    for candidate in candidates:
        if candidate is not None and candidate.is_dir():
            return candidate
    raise FileNotFoundError("photoseek resources folder not found")


def resource(name: str) -> Path:
    """Path of one resource file; raises FileNotFoundError if it is missing."""
    path = resources_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"photoseek resource missing: {name}")
    return path


def icon_png_name(size: int) -> str:
    """The resource name of the app icon rendered at ``size`` px."""
    return f"icons/photoseek-{size}.png"


def icon_files() -> dict[int, Path]:
    """The app icon's PNG renderings that exist, by size in px (missing sizes left out)."""
    root = resources_dir()
    found = {size: root / icon_png_name(size) for size in ICON_SIZES}
    return {size: path for size, path in found.items() if path.is_file()}
