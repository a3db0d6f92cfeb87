"""photoseek.ico (Windows' icon: several sizes in one file) from resources/icons/*.png.

    PYTHON packaging/windows/makeicon.py OUT.ico

Needs Pillow (the build environment has it). build.py writes
``packaging/build/photoseek.ico`` on Windows for the spec's executables and
for Inno Setup's ``SetupIconFile``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[2] / "resources" / "icons"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # 256 is the largest an .ico holds


def write_ico(target: Path) -> Path:
    """Write the multi-size icon to ``target``; ``target``."""
    from PIL import Image

    largest = Image.open(ICONS / "photoseek-256.png")
    largest.save(target, format="ICO", sizes=[(size, size) for size in ICO_SIZES])
    return target


if __name__ == "__main__":
    write_ico(Path(sys.argv[1]))
