"""Find files in ``resources/`` from a checkout, an installed wheel or a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path


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
