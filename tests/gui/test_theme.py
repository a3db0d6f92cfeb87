"""The palette follows the system's light or dark scheme; the app names itself for the desktop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from photoseek.gui.theme import ThemeFollower, is_dark, make_palette


@pytest.fixture
def app(qapp) -> Iterator[QApplication]:  # type: ignore[no-untyped-def]
    before = QPalette(qapp.palette())
    yield qapp
    qapp.setPalette(before)


def test_the_palettes_are_what_they_say() -> None:
    assert is_dark(make_palette(True)) and not is_dark(make_palette(False))
    dark = make_palette(True)
    disabled = dark.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    assert disabled != dark.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Text)


def test_a_scheme_change_switches_the_palette(app: QApplication, qtbot) -> None:  # type: ignore[no-untyped-def]
    follower = ThemeFollower(app)
    with qtbot.waitSignal(follower.changed, timeout=60000) as dark:
        follower.follow(Qt.ColorScheme.Dark)
    assert dark.args == [True] and is_dark(app.palette())
    with qtbot.waitSignal(follower.changed, timeout=60000) as light:
        follower.follow(Qt.ColorScheme.Light)
    assert light.args == [False] and not is_dark(app.palette())


def test_an_unknown_scheme_keeps_the_platform_palette(app: QApplication) -> None:
    before = app.palette().color(QPalette.ColorRole.Window)
    ThemeFollower(app).follow(Qt.ColorScheme.Unknown)
    assert app.palette().color(QPalette.ColorRole.Window) == before


def test_the_follower_listens_to_the_style_hints(app: QApplication) -> None:
    follower = ThemeFollower(app)
    hints = app.styleHints()
    assert hints.receivers("2colorSchemeChanged(Qt::ColorScheme)") >= 1
    assert follower.dark == is_dark(app.palette())
