"""The app's zero-shot parts: the sidebar's tags (click to filter), tags in the preview,
saving a search as an album and showing it, and the content filter's toggle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from photoseek.core.library import Library
from photoseek.core.zeroshot.labels import Label, LabelSet
from photoseek.core.zeroshot.templates import template_set
from photoseek.gui.context import AppContext
from photoseek.gui.mainwindow import MainWindow, search_pane
from tests.gui.mainwindow_fakes import AnsweringPrompts, FakeTray, fake_tray_factory

WAIT = 60000
PHOTOS = 24


@pytest.fixture
def tagged(context: AppContext) -> AppContext:
    library: Library = context.library
    library.tag(LabelSet("t", (Label("dog"), Label("beach"))), template_set("photo"))
    library.set_tag_threshold(-2.0)  # every photo has both tags
    return context


@pytest.fixture
def window(qtbot, tagged: AppContext) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    trays: list[FakeTray] = []
    win = MainWindow(
        tagged,
        None,
        prompts=AnsweringPrompts(),
        pane_factory=search_pane,
        tray_factory=fake_tray_factory(trays),
    )
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.panel.folders_loaded, timeout=WAIT):
        win.panel.refresh()
    qtbot.waitUntil(lambda: win.pane.results.rowCount() == PHOTOS, timeout=WAIT)
    yield win
    win.shutdown()


def _refreshed(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.panel.tags_loaded, timeout=WAIT):
        window.panel.refresh()


def test_the_sidebar_lists_tags_with_counts_and_a_click_filters(qtbot, window: MainWindow) -> None:
    panel = window.panel.tags
    qtbot.waitUntil(panel.isVisible, timeout=WAIT)
    texts = [panel.list.item(i).text() for i in range(panel.list.count())]
    assert texts == ["All tags", f"beach  ({PHOTOS})", f"dog  ({PHOTOS})"]
    library = window.context.library
    library.set_tag_threshold(float(_median_margin(library)))  # about half the photos
    _refreshed(qtbot, window)
    dogs = {p.id for p in library.browse(limit=100, tag="dog").photos}
    assert 0 < len(dogs) < PHOTOS
    row = next(i for i in range(panel.list.count()) if panel.list.item(i).text().startswith("dog"))
    panel.list.itemClicked.emit(panel.list.item(row))
    results = window.pane.results
    qtbot.waitUntil(lambda: results.rowCount() == len(dogs), timeout=WAIT)
    assert {results.row_at(r).record.id for r in range(results.rowCount())} == dogs
    assert window.pane.filter_bar.tag() == "dog"
    panel.list.itemClicked.emit(panel.list.item(0))  # All tags
    qtbot.waitUntil(lambda: results.rowCount() == PHOTOS, timeout=WAIT)


def _median_margin(library: Library) -> float:
    import numpy as np

    from photoseek.core.zeroshot.tagging import margins

    space = library.catalog.tag_space(library.model_id)
    _, vectors = library.catalog.stored_vectors(library.model_id, space.vectors.shape[1])
    return float(np.median(margins(space.vectors, vectors)[:, list(space.labels).index("dog")]))


def test_the_preview_shows_the_photos_tags(qtbot, window: MainWindow) -> None:
    pane = window.pane
    pane.grid.setCurrentIndex(pane.results.index(0))
    tags = pane.preview.fields["Tags"]
    qtbot.waitUntil(lambda: tags.text() == "dog, beach", timeout=WAIT)


def test_a_search_saved_as_an_album_shows_again_from_the_sidebar(qtbot, window: MainWindow) -> None:
    pane = window.pane
    asked: list[str] = []

    def name(_parent: object, query: str) -> str:
        asked.append(query)
        return "Sunny days"

    window.albums.prompt = name
    window.save_album_action.trigger()  # the box is empty: nothing to save
    assert window.context.library.albums() == []
    pane.search_bar.set_text("a sunny day")
    qtbot.waitUntil(lambda: pane.session.request.text == "a sunny day", timeout=WAIT)
    pane.filter_bar.set_min_score(-1.0)
    window.save_album_action.trigger()
    qtbot.waitUntil(lambda: bool(window.context.library.albums()), timeout=WAIT)
    (album,) = window.context.library.albums()
    assert (album.name, album.query, album.min_score, asked) == (
        "Sunny days",
        "a sunny day",
        -1.0,
        ["a sunny day"],
    )
    albums = window.panel.albums
    qtbot.waitUntil(albums.isVisible, timeout=WAIT)
    pane.search_bar.set_text("")
    pane.filter_bar.set_min_score(None)
    qtbot.waitUntil(lambda: pane.session.request.is_browse, timeout=WAIT)
    albums.list.itemClicked.emit(albums.list.item(0))
    assert pane.search_bar.text() == "a sunny day"
    assert pane.filter_bar.min_score() == -1.0
    qtbot.waitUntil(lambda: pane.session.request.text == "a sunny day", timeout=WAIT)
    qtbot.waitUntil(lambda: pane.results.rowCount() == PHOTOS, timeout=WAIT)


def test_hidden_photos_leave_the_grid_and_the_toggle_brings_them_back(
    qtbot, window: MainWindow
) -> None:
    library = window.context.library
    library.set_content_filter(["screenshots of chats"])
    library.set_content_filter_threshold(-2.0)  # hides every photo
    _refreshed(qtbot, window)
    bar, results = window.pane.filter_bar, window.pane.results
    assert bar.hidden_check.isVisible() and bar.hidden_check.text() == f"Show hidden ({PHOTOS})"
    window.pane.session.rerun()
    qtbot.waitUntil(lambda: results.rowCount() == 0 and not window.pane.session.busy, timeout=WAIT)
    bar.hidden_check.setChecked(True)
    qtbot.waitUntil(lambda: results.rowCount() == PHOTOS, timeout=WAIT)


def test_the_short_search_setting_reaches_the_search(qtbot, window: MainWindow) -> None:
    pane = window.pane
    assert pane.request().short_query_templates == ()
    window.context.settings.short_query_prompts = True
    window._setting_changed("short_query_prompts")
    assert pane.request().short_query_templates == template_set("simple").templates
    pane.search_bar.set_text("dog")
    qtbot.waitUntil(lambda: pane.session.request.text == "dog", timeout=WAIT)
    assert pane.session.request.short_query_templates == template_set("simple").templates
    qtbot.waitUntil(lambda: not pane.session.busy and pane.results.rowCount() > 0, timeout=WAIT)
