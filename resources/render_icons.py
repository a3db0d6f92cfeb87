"""Render ``photoseek.svg`` to the PNG sizes in ``icons/`` (run after editing the SVG).

    QT_QPA_PLATFORM=offscreen python resources/render_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from photoseek.resources import ICON_SIZES, ICON_SVG, icon_png_name

HERE = Path(__file__).resolve().parent


def render(svg: Path, size: int, target: Path) -> None:
    """Draw ``svg`` into a transparent ``size`` x ``size`` PNG at ``target``."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(target), "PNG"):
        raise OSError(f"cannot write {target}")


def main() -> int:
    """Render every size."""
    app = QGuiApplication(sys.argv[:1])
    for size in ICON_SIZES:
        render(HERE / ICON_SVG, size, HERE / icon_png_name(size))
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
