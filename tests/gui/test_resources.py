"""The icon, its PNG sizes and the .desktop file, found from a checkout, a wheel or a bundle."""

from __future__ import annotations

import configparser
import shutil
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from photoseek import resources
from photoseek.gui.theme import app_icon
from photoseek.resources import (
    DESKTOP_FILE,
    ICON_SIZES,
    ICON_SVG,
    icon_files,
    icon_png_name,
    resource,
    resources_dir,
)

REPO = Path(__file__).resolve().parents[2]


def test_found_in_the_checkout() -> None:
    assert resources_dir() == REPO / "resources"
    assert resource(ICON_SVG).is_file() and resource(DESKTOP_FILE).is_file()
    with pytest.raises(FileNotFoundError):
        resource("no-such-file.png")


def test_every_standard_png_size_exists_at_its_size() -> None:
    files = icon_files()
    assert sorted(files) == list(ICON_SIZES)
    for size, path in files.items():
        image = QImage(str(path))
        assert (image.width(), image.height()) == (size, size), path
        assert image.hasAlphaChannel()


def _render(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(resource(ICON_SVG))).render(painter)
    painter.end()
    return image


@pytest.mark.parametrize("size", [16, 48])
def test_the_pngs_are_renderings_of_the_svg(qapp, size: int) -> None:  # type: ignore[no-untyped-def]
    """resources/render_icons.py was run after the SVG last changed."""
    committed = QImage(str(resource(icon_png_name(size)))).convertToFormat(
        QImage.Format.Format_ARGB32_Premultiplied
    )
    rendered = _render(size)
    differing = sum(
        1
        for x in range(size)
        for y in range(size)
        if abs(committed.pixelColor(x, y).red() - rendered.pixelColor(x, y).red()) > 8
    )
    assert differing <= size * size // 50


def test_the_app_icon_holds_every_size(qapp) -> None:  # type: ignore[no-untyped-def]
    icon = app_icon()
    assert not icon.isNull()
    sizes = {size.width() for size in icon.availableSizes()}
    assert set(ICON_SIZES) <= sizes
    assert not icon.pixmap(QSize(16, 16)).isNull()


def test_the_desktop_file_names_the_program_icon_and_window_class() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(resource(DESKTOP_FILE), encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"].split()[0] == "photoseek"
    assert desktop["Icon"] == "photoseek"
    assert desktop["StartupWMClass"] == "photoseek"  # the app names itself so (theme.py)
    assert desktop["Terminal"] == "false"


def _copy_resources(target: Path) -> Path:
    shutil.copytree(REPO / "resources", target)
    return target


def test_found_in_a_pyinstaller_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _copy_resources(tmp_path / "bundle" / "resources")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    assert resources_dir() == tmp_path / "bundle" / "resources"
    assert sorted(icon_files()) == list(ICON_SIZES)


def test_found_in_an_installed_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "photoseek"
    _copy_resources(package / "_resources")
    monkeypatch.setattr(resources, "__file__", str(package / "resources.py"))
    assert resources_dir() == package / "_resources"
    assert resource(DESKTOP_FILE).is_file()
