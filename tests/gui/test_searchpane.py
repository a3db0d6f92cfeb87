"""The search pane as a user drives it: typing, history, keys, image queries, names, changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, Qt
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

from photoseek.core.search.searcher import SearchResults
from photoseek.gui.context import AppContext, ModelState
from photoseek.gui.desktop import file_url
from photoseek.gui.settings import AppSettings
from photoseek.gui.views.searchpane import SearchPane
from photoseek.gui.workers import sources
from photoseek.gui.workers.search import SearchRequest
from tests.conftest import make_photo, make_photos, run_index


def settle(qtbot, pane: SearchPane) -> None:  # type: ignore[no-untyped-def]
    """Wait until a typed query has run and its first page is shown."""
    qtbot.waitUntil(lambda: not pane.search_bar.pending() and not pane.session.busy, timeout=60000)


def count_runs(pane: SearchPane, monkeypatch: pytest.MonkeyPatch) -> list[SearchRequest]:
    runs: list[SearchRequest] = []
    real = pane.session.run

    def run(request: SearchRequest) -> None:
        runs.append(request)
        real(request)

    monkeypatch.setattr(pane.session, "run", run)
    return runs


def ids(pane: SearchPane) -> list[int]:
    return [row.record.id for row in pane.results.rows()]


# -- searching as you type ----------------------------------------------------------------


def test_it_starts_with_the_library_newest_first(pane: SearchPane, context) -> None:
    assert ids(pane) == [p.id for p in context.library.browse(limit=100).photos]
    assert pane.filter_bar.count_label.text() == "24 photos"
    assert not pane.filter_bar.sort_combo.isEnabled()  # browsing has no relevance


def test_quick_typing_makes_one_search(qtbot, pane: SearchPane, monkeypatch) -> None:
    runs = count_runs(pane, monkeypatch)
    for text in ("r", "re", "red", "red k", "red kite"):
        pane.search_bar.set_text(text)
    settle(qtbot, pane)
    assert [r.text for r in runs] == ["red kite"]
    assert pane.filter_bar.count_label.text() == "24 matches"
    assert pane.filter_bar.sort_combo.isEnabled()
    assert pane.results.row_at(0).score is not None


def test_enter_searches_at_once_and_remembers(qtbot, pane: SearchPane, context) -> None:
    field = pane.search_bar.field
    field.setText("red kite")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert pane.session.request.text == "red kite"  # no pause needed
    assert context.settings.history == ["red kite"]


def test_history_joins_when_the_user_pauses_not_per_keystroke(qtbot, pane, context) -> None:
    qtbot.keyClicks(pane.search_bar.field, "beach")
    qtbot.waitUntil(lambda: context.settings.history != [], timeout=60000)
    assert context.settings.history == ["beach"]


def test_history_walks_with_up_and_down(qtbot, pane: SearchPane, context) -> None:
    field = pane.search_bar.field
    for query in ("beach", "red kite"):
        field.setText(query)
        qtbot.keyClick(field, Qt.Key.Key_Return)
    field.setText("dra")
    qtbot.keyClick(field, Qt.Key.Key_Up)
    assert field.text() == "red kite"
    qtbot.keyClick(field, Qt.Key.Key_Up)
    assert field.text() == "beach"
    qtbot.keyClick(field, Qt.Key.Key_Up)  # the oldest: stays
    assert field.text() == "beach"
    qtbot.keyClick(field, Qt.Key.Key_Down)
    qtbot.keyClick(field, Qt.Key.Key_Down)
    assert field.text() == "dra"  # back to what was being typed
    completer = pane.search_bar.completer
    assert completer.model().stringList() == ["red kite", "beach"]
    pane.search_bar.show_history()
    assert completer.completionCount() == 2
    qtbot.waitUntil(completer.popup().isVisible, timeout=60000)
    context.settings.sync()
    assert AppSettings(context.paths).history == ["red kite", "beach"]  # kept on disk


def test_a_malformed_query_shows_its_sentence_inline(qtbot, pane: SearchPane) -> None:
    pane.search_bar.set_text('"red kite')
    settle(qtbot, pane)
    label = pane.search_bar.state_label
    assert label.isVisible() and label.text() == "unbalanced quote in query"
    assert QApplication.activeModalWidget() is None
    pane.search_bar.set_text('"red kite"')
    settle(qtbot, pane)
    assert not label.isVisible()


def test_the_syntax_hint_is_at_hand(pane: SearchPane) -> None:
    assert '"beach" + 0.5*@kite.jpg - people' in pane.search_bar.field.placeholderText()
    assert "@path" in pane.search_bar.help_button.toolTip()


def test_the_first_search_waits_for_the_model_visibly(
    qtbot, context: AppContext, make_pane, monkeypatch
) -> None:
    context.model = ModelState()  # still loading
    held = threading.Event()
    real = context.library.search_pages

    def pages(query, options=None, *, page_size=100) -> Iterator[SearchResults]:  # type: ignore[no-untyped-def]
        assert held.wait(60)  # the model loads in this worker, never on the GUI thread
        yield from real(query, options, page_size=page_size)

    monkeypatch.setattr(context.library, "search_pages", pages)
    pane = make_pane(context)
    pane.search_bar.set_text("red kite")
    qtbot.waitUntil(lambda: pane.search_bar.state_label.isVisible(), timeout=60000)
    assert pane.search_bar.state_label.text() == "Loading the model…"
    held.set()
    context.model.ready.emit()
    settle(qtbot, pane)
    assert not pane.search_bar.state_label.isVisible()
    assert pane.results.row_at(0).score is not None


# -- keyboard -----------------------------------------------------------------------------


def test_find_focuses_the_search_and_esc_clears_then_leaves(qtbot, pane: SearchPane) -> None:
    pane.grid.setFocus()
    qtbot.waitUntil(pane.grid.hasFocus, timeout=60000)
    qtbot.keyClick(pane.grid, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    field = pane.search_bar.field
    qtbot.waitUntil(field.hasFocus, timeout=60000)
    qtbot.keyClicks(field, "kite")
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert field.text() == "" and field.hasFocus()
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    qtbot.waitUntil(pane.grid.hasFocus, timeout=60000)


def test_the_grid_moves_with_the_keyboard(qtbot, pane: SearchPane) -> None:
    grid = pane.grid
    grid.setFocus()
    grid.setCurrentIndex(pane.results.index(0))
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert grid.currentIndex().row() == 1
    qtbot.keyClick(grid, Qt.Key.Key_End)
    assert grid.currentIndex().row() == 23
    qtbot.keyClick(grid, Qt.Key.Key_Home)
    assert grid.currentIndex().row() == 0
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    per_row = grid.currentIndex().row()
    assert per_row > 1  # a whole row of thumbnails down
    qtbot.keyClick(grid, Qt.Key.Key_PageDown)
    assert grid.currentIndex().row() > per_row
    qtbot.keyClick(grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert len(grid.selected_rows()) == 2  # Shift extends the selection
    qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(grid.selected_rows()) == 24


def test_thumbnail_size_follows_zoom_keys(qtbot, pane: SearchPane, context) -> None:
    sizes: list[int] = []
    pane.thumbnail_size_changed.connect(sizes.append)
    before = pane.grid.thumbnail_size
    pane.grid.setFocus()
    qtbot.keyClick(pane.grid, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert pane.grid.thumbnail_size > before
    assert context.settings.thumbnail_size == pane.grid.thumbnail_size == sizes[-1]
    qtbot.keyClick(pane.grid, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert pane.grid.thumbnail_size == before
    pane.filter_bar.size_slider.setValue(0)
    assert pane.grid.thumbnail_size == 96 == context.settings.thumbnail_size


# -- image queries ------------------------------------------------------------------------


def test_a_dropped_image_becomes_a_chip_and_removing_it_reruns_the_text(
    qtbot, pane: SearchPane, tmp_path: Path
) -> None:
    query = make_photo(tmp_path / "elsewhere" / "query.jpg", seed=4242)
    pane.search_bar.set_text("red kite")
    settle(qtbot, pane)
    mime = QMimeData()
    mime.setUrls([file_url(query)])
    where, buttons, keys = QPointF(10, 10), Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0)
    # a QPoint: PySide6 6.11 has no QPointF form of this constructor
    enter = QDragEnterEvent(where.toPoint(), Qt.DropAction.CopyAction, mime, buttons, keys)
    pane.dragEnterEvent(enter)  # what Qt calls while a drag passes over the pane
    assert enter.isAccepted()
    drop = QDropEvent(where, Qt.DropAction.CopyAction, mime, buttons, keys)
    pane.dropEvent(drop)
    assert drop.isAccepted()
    chips = pane.search_bar.chips
    assert chips.images() == (query,)
    settle(qtbot, pane)
    assert pane.session.request == SearchRequest(
        "red kite", (query,), pane.filter_bar.filters(), None, "relevance"
    )
    assert pane.filter_bar.count_label.text() == "24 matches"
    with_chip = [row.score for row in pane.results.rows()]
    qtbot.mouseClick(chips.chips()[0].remove_button, Qt.MouseButton.LeftButton)
    settle(qtbot, pane)
    assert pane.session.request.images == () and pane.session.request.text == "red kite"
    assert [row.score for row in pane.results.rows()] != with_chip


def test_a_pasted_image_becomes_a_chip(qtbot, pane: SearchPane, context) -> None:
    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(QColor("orange"))
    QGuiApplication.clipboard().setImage(image)
    field = pane.search_bar.field
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    chips = pane.search_bar.chips
    qtbot.waitUntil(lambda: len(chips.images()) == 1, timeout=60000)
    saved = chips.images()[0]
    assert saved.parent == context.library.paths.cache_dir / "queries"
    assert QImage(str(saved)).size() == image.size()
    assert field.text() == ""  # not pasted as text
    settle(qtbot, pane)
    assert pane.results.row_at(0).score is not None

    pane.grid.setFocus()  # Ctrl+V outside the field: the same, through the pane's action
    other = QImage(32, 32, QImage.Format.Format_RGB32)
    other.fill(QColor("navy"))
    QGuiApplication.clipboard().setImage(other)
    qtbot.keyClick(pane.grid, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(chips.images()) == 2, timeout=60000)


def test_backspace_in_an_empty_field_removes_the_newest_chip(
    qtbot, pane: SearchPane, context
) -> None:
    photos = context.library.browse(limit=2).photos
    for photo in photos:
        pane.search_image(photo.path)
    field = pane.search_bar.field
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    assert pane.search_bar.chips.images() == (photos[0].path,)


def test_find_similar_searches_by_the_photo(qtbot, pane: SearchPane) -> None:
    photo = pane.results.row_at(5).record
    pane.grid.setCurrentIndex(pane.results.index(5))
    pane.photo_actions().find_similar.trigger()
    settle(qtbot, pane)
    assert pane.search_bar.chips.images() == (photo.path,)
    assert pane.results.row_at(0).record.id == photo.id  # its own stored vector
    assert pane.results.row_at(0).score == pytest.approx(1.0, abs=1e-3)


# -- filters ------------------------------------------------------------------------------


def test_the_folder_filter_follows_the_library(qtbot, pane: SearchPane, context, tmp_path) -> None:
    combo = pane.filter_bar.folder_combo
    qtbot.waitUntil(lambda: combo.count() == 2, timeout=60000)
    second = tmp_path / "second"
    make_photos(second, 3, start=500)
    context.library.add_folder(second)
    run_index(context.library)
    context.events.folders_changed.emit()
    qtbot.waitUntil(lambda: combo.count() == 3, timeout=60000)
    pane.show_folder(second.resolve())
    settle(qtbot, pane)
    assert pane.results.rowCount() == 3
    assert pane.filter_bar.count_label.text() == "3 photos"
    pane.show_folder(None)
    settle(qtbot, pane)
    assert pane.results.rowCount() == 27


def test_type_and_date_filters_apply_to_browsing_and_search(qtbot, pane: SearchPane) -> None:
    pane.filter_bar.set_format("png")
    settle(qtbot, pane)
    assert pane.results.rowCount() == 0
    pane.filter_bar.set_format("jpeg")
    settle(qtbot, pane)
    assert pane.results.rowCount() == 24
    day = pane.results.row_at(0).record.sort_date[:10]
    later = date.fromisoformat(day) + timedelta(days=1)
    pane.filter_bar.set_date_range(later, None)
    pane.search_bar.set_text("red kite")
    settle(qtbot, pane)
    assert pane.results.rowCount() == 0 and pane.filter_bar.count_label.text() == "0 matches"
    pane.filter_bar.clear_date_range()
    settle(qtbot, pane)
    assert pane.results.rowCount() == 24


def test_the_cut_off_shows_the_exact_count(qtbot, pane, context, exact_scores) -> None:
    values = sorted(exact_scores(context, "red kite").values())
    cut = round(values[len(values) // 3], 2)
    expected = sum(np.float32(s) >= np.float32(cut) for s in values)
    pane.search_bar.set_text("red kite")
    settle(qtbot, pane)
    assert pane.filter_bar.cutoff_check.isEnabled()
    pane.filter_bar.set_min_score(cut)
    settle(qtbot, pane)
    assert pane.session.request.min_score == cut
    assert pane.filter_bar.count_label.text() == f"{expected} matches above {cut:.2f}"
    assert pane.results.rowCount() == expected


def test_sorting_by_date_orders_newest_first(qtbot, pane: SearchPane) -> None:
    pane.search_bar.set_text("red kite")
    pane.filter_bar.set_sort("date")
    settle(qtbot, pane)
    keys = [row.date_key for row in pane.results.rows()]
    assert [k[0] for k in keys] == sorted((k[0] for k in keys), reverse=True)
    assert pane.session.request.sort == "date"


# -- names and changes --------------------------------------------------------------------


def test_name_matches_show_above_the_grid(qtbot, pane: SearchPane) -> None:
    pane.search_bar.set_text("photo_00003")
    settle(qtbot, pane)
    qtbot.waitUntil(lambda: pane.names.rowCount() == 1, timeout=60000)
    assert pane._names_box.isVisible()
    assert pane.names_label.text() == "Names (1)"
    assert pane.names.row_at(0).record.path.name == "photo_00003.jpg"
    pane.search_bar.set_text("")
    settle(qtbot, pane)
    assert not pane._names_box.isVisible()


def test_changes_add_and_remove_rows_without_a_reset(
    qtbot, pane: SearchPane, context, photos_dir
) -> None:
    resets: list[int] = []
    pane.results.modelReset.connect(lambda: resets.append(1))
    version = context.library.version
    make_photos(photos_dir, 1, start=700)
    (photos_dir / "photo_00002.jpg").unlink()
    run_index(context.library)
    pane.apply_changes(context.library.changes_since(version))
    qtbot.waitUntil(lambda: pane.results.rowCount() == 24, timeout=60000)
    assert "photo_00700.jpg" in {row.record.path.name for row in pane.results.rows()}
    assert "photo_00002.jpg" not in {row.record.path.name for row in pane.results.rows()}
    assert resets == []
    qtbot.waitUntil(lambda: pane.filter_bar.count_label.text() == "24 photos", timeout=60000)


def test_new_photos_while_searching_offer_to_search_again(
    qtbot, pane: SearchPane, context, photos_dir
) -> None:
    pane.search_bar.set_text("red kite")
    settle(qtbot, pane)
    version = context.library.version
    make_photos(photos_dir, 1, start=800)
    run_index(context.library)
    pane.apply_changes(context.library.changes_since(version))
    assert pane._new_photos_bar.isVisible()
    qtbot.mouseClick(pane.search_again, Qt.MouseButton.LeftButton)
    settle(qtbot, pane)
    assert pane.results.rowCount() == 25 and not pane._new_photos_bar.isVisible()


def test_shutdown_stops_the_workers(pane: SearchPane) -> None:
    pane.shutdown()
    pane.search_bar.set_text("red kite")  # nothing runs any more, nothing fails
    pane._run(force=True)
    assert pane.session.request.text == ""


def test_scrolling_fetches_the_next_pages(qtbot, context, make_pane, monkeypatch) -> None:
    monkeypatch.setattr(sources, "BROWSE_PAGE", 4)
    pane = make_pane(context)
    pane.set_thumbnail_size(320)  # a few rows fill the grid: the rest waits for scrolling

    def scrolled_to_the_end() -> bool:
        pane.grid.scrollToBottom()
        return pane.results.rowCount() == 24

    qtbot.waitUntil(scrolled_to_the_end, timeout=60000)
    assert ids(pane) == [p.id for p in context.library.browse(limit=100).photos]
    assert not pane.results.canFetchMore(QModelIndex())
