"""Preview and viewer: they follow the current photo, show its metadata, step and zoom.

One photo in this library has a name that is not valid UTF-8 (``caf\\xe9.jpg``,
as an old camera card or a Samba share makes them): it shows, previews and
copies its path exactly like the others.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from photoseek.gui.models.results import format_size
from photoseek.gui.views.searchpane import SearchPane
from photoseek.pathtext import display_path
from tests.conftest import make_photo, make_photos

ODD_NAME = os.fsdecode(b"caf\xe9.jpg")


@pytest.fixture
def photos_dir(tmp_path: Path) -> Path:
    """23 photos and one whose name is Latin-1, not UTF-8."""
    folder = tmp_path / "photos"
    make_photos(folder, 23)
    make_photo(folder / ODD_NAME, seed=777)
    return folder


def current_row(pane: SearchPane) -> int:
    return pane.grid.currentIndex().row()


def show_row(qtbot, pane: SearchPane, row: int) -> None:  # type: ignore[no-untyped-def]
    """Make ``row`` current and wait until the preview has decoded it.

    Waits on the preview's state, not with ``waitSignal`` on the loader's
    signal: that signal comes from a pool thread, and a second emission
    queued before the first was handled reached pytest-qt's blocker after
    it had been cleaned up, which crashed the test process (once in CI).
    """
    photo_id = pane.results.row_at(row).record.id
    pane.grid.setCurrentIndex(pane.results.index(row))
    qtbot.waitUntil(
        lambda: pane.preview.decoded is not None and pane.preview.decoded[0] == photo_id,
        timeout=60000,
    )
    _photo, size, error = pane.preview.decoded
    assert size is not None and error == ""


def odd_row(pane: SearchPane) -> int:
    return next(i for i, r in enumerate(pane.results.rows()) if r.record.path.name == ODD_NAME)


def test_the_preview_follows_the_current_photo(qtbot, pane: SearchPane) -> None:
    show_row(qtbot, pane, 3)
    record = pane.results.row_at(3).record
    preview = pane.preview
    assert preview.row().record.id == record.id
    assert preview.name_label.full_text() == record.path.name
    assert preview.path_label.full_text() == str(record.path)
    assert preview.fields["Dimensions"].text() == "160 × 120"
    assert preview.fields["Size"].text() == format_size(record.size)
    assert preview.fields["Type"].text() == "JPEG"
    assert preview.fields["Date"].text().endswith("(modified)")
    assert preview.fields["Status"].text() == "available"
    assert preview.image.source() is not None and preview.image.pixmap() is not None


def test_the_preview_shows_the_score_of_a_search(qtbot, pane: SearchPane) -> None:
    pane.search_bar.set_text("red kite")
    qtbot.waitUntil(
        lambda: bool(pane.session.request.text) and not pane.session.busy, timeout=60000
    )
    show_row(qtbot, pane, 0)
    assert pane.preview.fields["Score"].text() == f"{pane.results.row_at(0).score:.3f}"


def test_arrows_in_the_preview_move_through_the_results(qtbot, pane: SearchPane) -> None:
    show_row(qtbot, pane, 5)
    pane.preview.setFocus()
    qtbot.keyClick(pane.preview, Qt.Key.Key_Right)
    assert current_row(pane) == 6
    assert pane.preview.row().record.id == pane.results.row_at(6).record.id
    qtbot.keyClick(pane.preview, Qt.Key.Key_Up)
    qtbot.keyClick(pane.preview, Qt.Key.Key_Left)
    assert current_row(pane) == 4


def test_space_toggles_the_preview(qtbot, pane: SearchPane, context) -> None:
    pane.grid.setFocus()
    qtbot.keyClick(pane.grid, Qt.Key.Key_Space)
    assert not pane.preview.isVisible() and context.settings.preview_visible is False
    qtbot.keyClick(pane.grid, Qt.Key.Key_Space)
    assert pane.preview.isVisible() and context.settings.preview_visible is True


def test_an_undecodable_name_shows_previews_and_copies_exactly(qtbot, pane: SearchPane) -> None:
    row = odd_row(pane)
    record = pane.results.row_at(row).record
    assert os.fsencode(record.path.name) == b"caf\xe9.jpg"
    assert pane.results.index(row).data() == "$'caf\\xe9.jpg'"
    show_row(qtbot, pane, row)  # decoded through core, by its exact name
    assert pane.preview.path_label.full_text() == display_path(record.path)
    pane.photo_actions().copy_paths.trigger()
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.text() == display_path(record.path)  # pasted into a shell, it names the file
    uri = bytes(mime.data("text/uri-list").data()).strip()
    assert urllib.parse.unquote_to_bytes(uri.removeprefix(b"file://")) == os.fsencode(record.path)


def test_enter_opens_the_viewer_which_zooms_steps_and_closes(qtbot, pane: SearchPane) -> None:
    show_row(qtbot, pane, 2)
    pane.grid.setFocus()
    qtbot.keyClick(pane.grid, Qt.Key.Key_Return)
    assert pane.is_viewing()
    viewer, canvas = pane.viewer, pane.viewer.canvas
    assert viewer.row().record.id == pane.results.row_at(2).record.id
    qtbot.waitUntil(canvas.hasFocus, timeout=60000)
    qtbot.waitUntil(canvas.has_picture, timeout=60000)
    size = pane.grid.thumbnail_size

    fitted = canvas.zoom
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(canvas, Qt.Key.Key_Plus, ctrl)
    assert canvas.zoom == pytest.approx(fitted * 1.25) and not canvas.fitting
    qtbot.keyClick(canvas, Qt.Key.Key_Minus, ctrl)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus, ctrl)
    assert canvas.zoom == pytest.approx(fitted / 1.25)
    qtbot.keyClick(canvas, Qt.Key.Key_1, ctrl)
    assert canvas.zoom == pytest.approx(1.0)
    qtbot.keyClick(canvas, Qt.Key.Key_0, ctrl)
    assert canvas.fitting
    assert pane.grid.thumbnail_size == size  # Ctrl +/- zoomed the photo, not the grid

    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert viewer.row().record.id == pane.results.row_at(3).record.id
    assert current_row(pane) == 3  # the grid follows
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert not pane.is_viewing()
    qtbot.waitUntil(pane.grid.hasFocus, timeout=60000)


def test_the_wheel_zooms_the_viewer(qtbot, pane: SearchPane) -> None:
    pane.grid.setCurrentIndex(pane.results.index(0))
    pane.photo_actions().view.trigger()
    canvas = pane.viewer.canvas
    qtbot.waitUntil(canvas.has_picture, timeout=60000)
    before = canvas.zoom
    canvas.zoom_in()
    canvas.zoom_in()
    assert canvas.zoom == pytest.approx(before * 1.25**2)
    canvas.fit()
    assert canvas.zoom == pytest.approx(before)


def test_a_double_click_or_enter_on_the_preview_opens_the_viewer(qtbot, pane: SearchPane) -> None:
    index = pane.results.index(1)
    rect = pane.grid.visualRect(index)
    viewport, left = pane.grid.viewport(), Qt.MouseButton.LeftButton
    qtbot.mousePress(viewport, left, pos=rect.center())  # Qt's view opens what was pressed
    qtbot.mouseDClick(viewport, left, pos=rect.center())
    assert pane.is_viewing() and pane.viewer.row().record.id == pane.results.row_at(1).record.id
    pane.viewer.closed.emit()
    show_row(qtbot, pane, 4)
    pane.preview.setFocus()
    qtbot.keyClick(pane.preview, Qt.Key.Key_Return)
    assert pane.is_viewing() and pane.viewer.row().record.id == pane.results.row_at(4).record.id


def test_the_viewer_shows_the_undecodable_name_too(qtbot, pane: SearchPane) -> None:
    row = odd_row(pane)
    pane.grid.setCurrentIndex(pane.results.index(row))
    photo_id = pane.results.row_at(row).record.id
    pane.photo_actions().view.trigger()  # waited for on the viewer's state (see show_row)
    qtbot.waitUntil(
        lambda: pane.viewer.decoded is not None and pane.viewer.decoded[0] == photo_id,
        timeout=60000,
    )
    assert pane.viewer.decoded[1] is not None  # the full photo, decoded through core
    assert pane.viewer.title.text().startswith("$'caf\\xe9.jpg'")
