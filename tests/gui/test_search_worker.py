"""The search session: requests, paging, stale pages, the exact cut-off, library changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QModelIndex

from photoseek.core.errors import QueryError
from photoseek.core.progress import Phase, Progress
from photoseek.core.records import ChangeSet
from photoseek.core.search.query import QueryTerm
from photoseek.core.search.searcher import SearchFilters, SearchOptions, SearchResults
from photoseek.gui.context import AppContext
from photoseek.gui.models.results import ResultsModel
from photoseek.gui.workers import sources
from photoseek.gui.workers.search import (
    NO_CAP,
    RELEVANCE_LIMIT,
    SearchRequest,
    SearchSession,
    count_text,
    loading_text,
    record_passes,
)
from tests.conftest import make_photo, make_photos, run_index


class Session:
    """A session with its two models, and the counts it reported."""

    def __init__(self, context: AppContext) -> None:
        self.results = ResultsModel()
        self.names = ResultsModel()
        self.session = SearchSession(context, self.results, self.names)
        self.counts: list[str] = []
        self.states: list[tuple[str, str]] = []
        self.resets: list[list[int]] = []
        self.session.count_changed.connect(self.counts.append)
        self.session.state_changed.connect(lambda s, t: self.states.append((s, t)))
        self.results.modelReset.connect(lambda: self.resets.append(self.ids()))

    def ids(self) -> list[int]:
        return [row.record.id for row in self.results.rows()]

    def run(self, qtbot, request: SearchRequest) -> None:  # type: ignore[no-untyped-def]
        self.session.run(request)
        qtbot.waitUntil(lambda: not self.session.busy, timeout=60000)

    def fetch_all(self, qtbot) -> None:  # type: ignore[no-untyped-def]
        while self.results.canFetchMore(QModelIndex()):
            self.results.fetchMore(QModelIndex())
            qtbot.waitUntil(lambda: not self.results.fetching, timeout=60000)


@pytest.fixture
def session(context: AppContext) -> Iterator[Session]:
    made = Session(context)
    yield made
    made.session.shutdown()


# -- requests ---------------------------------------------------------------------------


def test_text_and_chips_make_one_query(tmp_path: Path) -> None:
    kite = tmp_path / "kite.jpg"
    request = SearchRequest('"beach" - 0.5*people', images=(kite,))
    assert request.terms() == [
        QueryTerm(1.0, text="beach"),
        QueryTerm(-0.5, text="people"),
        QueryTerm(1.0, image=kite),
    ]
    assert SearchRequest(images=(kite,)).terms() == [QueryTerm(1.0, image=kite)]
    assert not request.is_browse and SearchRequest("  ").is_browse
    with pytest.raises(QueryError, match="unbalanced quote"):
        SearchRequest('"beach').terms()
    assert request.options().limit == RELEVANCE_LIMIT
    cut = SearchRequest("beach", min_score=0.25, sort="date").options()
    assert (cut.limit, cut.min_score, cut.sort) == (NO_CAP, 0.25, "date")


def test_counts_read_well() -> None:
    browse, query = SearchRequest(), SearchRequest("kite")
    assert count_text(browse, 200, True, 1204) == "1,204 photos"
    assert count_text(browse, 200, True, None) == "200 shown"
    assert count_text(browse, 1, False, None) == "1 photo"
    assert count_text(query, 100, True, None) == "best 100 shown"
    assert count_text(query, 24, False, None) == "24 matches"
    assert count_text(SearchRequest("kite", min_score=0.25), 37, False, 37) == (
        "37 matches above 0.25"
    )


# -- browsing -----------------------------------------------------------------------------


def test_browsing_pages_through_the_library_newest_first(
    qtbot, context: AppContext, session: Session, monkeypatch
) -> None:
    monkeypatch.setattr(sources, "BROWSE_PAGE", 5)
    session.run(qtbot, SearchRequest())
    assert session.results.rowCount() == 5
    qtbot.waitUntil(lambda: session.counts[-1] == "24 photos", timeout=60000)  # the statistics
    session.fetch_all(qtbot)
    expected = [p.id for p in context.library.browse(limit=100).photos]
    assert session.ids() == expected
    assert len(session.resets) == 1  # later pages were appended


def test_browsing_applies_date_and_type_filters(qtbot, context: AppContext, session) -> None:
    photos = context.library.browse(limit=100).photos
    day = date.fromisoformat(photos[0].sort_date[:10])
    for filters, expected in (
        (SearchFilters(formats=frozenset({"jpeg"})), 24),
        (SearchFilters(formats=frozenset({"png"})), 0),
        (SearchFilters(date_from=day + timedelta(days=1)), 0),
        (SearchFilters(date_from=day, date_to=day), 24),
        (SearchFilters(date_to=day - timedelta(days=1)), 0),
    ):
        session.run(qtbot, SearchRequest(filters=filters))
        assert session.results.rowCount() == expected, filters
        assert all(record_passes(filters, r.record) for r in session.results.rows())
    assert session.counts[-1] == "0 photos"


# -- searching ----------------------------------------------------------------------------


def test_the_cut_off_finds_every_photo_above_it(
    qtbot, context, session, monkeypatch, exact_scores
) -> None:
    scores = exact_scores(context, "red kite")
    cut = round(float(np.median(list(scores.values()))), 2)
    expected = {i for i, s in scores.items() if np.float32(s) >= np.float32(cut)}
    assert 0 < len(expected) < 24
    monkeypatch.setattr(sources, "SEARCH_PAGE", 3)  # several pages, each with the exact total
    session.run(qtbot, SearchRequest("red kite", min_score=cut))
    session.fetch_all(qtbot)
    assert set(session.ids()) == expected
    assert session.counts[-1] == f"{len(expected)} matches above {cut:.2f}"
    shown = [r.score for r in session.results.rows()]
    assert shown == sorted(shown, reverse=True) and min(shown) >= cut


def test_a_late_page_of_an_old_query_is_dropped(qtbot, context, session, monkeypatch) -> None:
    real = context.library.search_pages
    held, started = threading.Event(), threading.Event()

    def pages(query, options=None, *, page_size=100) -> Iterator[SearchResults]:  # type: ignore[no-untyped-def]
        if any(term.text == "slow" for term in query):
            started.set()
            assert held.wait(60)
        yield from real(query, options, page_size=page_size)

    monkeypatch.setattr(context.library, "search_pages", pages)
    session.session.run(SearchRequest("slow"))
    assert started.wait(60)
    session.session.run(SearchRequest("red kite"))  # supersedes: queued behind the slow one
    held.set()
    qtbot.waitUntil(lambda: not session.session.busy, timeout=60000)
    qtbot.waitUntil(lambda: session.session._searches._pool.activeThreadCount() == 0, timeout=60000)
    QCoreApplication.processEvents()  # deliver the slow page, if it was still queued
    best = SearchOptions(limit=RELEVANCE_LIMIT)
    fast = [hit.photo.id for hit in context.library.search("red kite", best).hits]
    assert session.resets == [fast]  # the slow query's page never reached the grid
    assert session.session.request.text == "red kite"


def test_a_malformed_query_is_reported_at_once(qtbot, session: Session) -> None:
    session.run(qtbot, SearchRequest())
    session.session.run(SearchRequest('"beach'))
    assert session.states[-1] == ("error", "unbalanced quote in query")
    assert session.results.rowCount() == 24  # the last good results stay
    session.session.run(SearchRequest("@/no/such/photo.jpg"))  # checked in the worker
    qtbot.waitUntil(lambda: session.states[-1][0] == "error", timeout=60000)
    assert "image not found" in session.states[-1][1]


def test_text_also_finds_names(qtbot, session: Session) -> None:
    found: list[int] = []
    session.session.names_changed.connect(found.append)
    session.run(qtbot, SearchRequest("photo 00003"))
    qtbot.waitUntil(lambda: found == [1], timeout=60000)
    assert session.names.row_at(0).record.path.name == "photo_00003.jpg"
    session.run(qtbot, SearchRequest())
    assert session.names.rowCount() == 0


# -- library changes ----------------------------------------------------------------------


def changes_after(context: AppContext, version: int) -> ChangeSet:
    run_index(context.library)
    return context.library.changes_since(version)


def test_browsing_follows_the_library_in_place(qtbot, context, session, photos_dir) -> None:
    session.run(qtbot, SearchRequest())
    version = context.library.version
    make_photos(photos_dir, 2, start=100)
    (photos_dir / "photo_00005.jpg").unlink()
    make_photo(photos_dir / "photo_00007.jpg", seed=999)  # new content
    changes = changes_after(context, version)
    assert changes.new and changes.removed and changes.changed
    inserted, removed = [], []
    session.results.rowsInserted.connect(lambda *a: inserted.append(a))
    session.results.rowsRemoved.connect(lambda *a: removed.append(a))
    session.session.apply_changes(changes)
    qtbot.waitUntil(lambda: session.results.rowCount() == 25, timeout=60000)
    assert len(session.resets) == 1  # never reset
    assert inserted and removed
    assert session.ids() == [p.id for p in context.library.browse(limit=100).photos]
    changed = session.results.row_at(session.results.row_of(changes.changed[0])).record
    assert changed.fingerprint == context.library.photo(changes.changed[0]).fingerprint


def test_search_results_drop_removed_photos_and_offer_new_ones(
    qtbot, context, session, photos_dir
) -> None:
    offers: list[bool] = []
    session.session.new_photos_changed.connect(offers.append)
    session.run(qtbot, SearchRequest("red kite"))
    version = context.library.version
    gone = session.results.row_at(0).record
    gone.path.unlink()
    make_photos(photos_dir, 1, start=200)
    session.session.apply_changes(changes_after(context, version))
    assert session.results.row_of(gone.id) is None
    assert session.results.rowCount() == 23  # the new photo is not slipped in...
    assert offers == [True]  # ...it is offered: "search again"
    session.session.rerun()
    qtbot.waitUntil(lambda: session.results.rowCount() == 24, timeout=60000)
    assert offers == [True, False]


def test_a_trimmed_change_log_reloads(qtbot, session: Session) -> None:
    session.run(qtbot, SearchRequest())
    session.session.apply_changes(ChangeSet(version=5, complete=False))
    qtbot.waitUntil(lambda: len(session.resets) == 2, timeout=60000)


def test_changes_wait_for_a_page_on_its_way(qtbot, context, session, photos_dir) -> None:
    version = context.library.version
    make_photos(photos_dir, 1, start=300)
    changes = changes_after(context, version)
    session.session.run(SearchRequest())
    session.session.apply_changes(changes)  # the page may predate the change: kept for later
    qtbot.waitUntil(lambda: session.results.rowCount() == 25, timeout=60000)
    assert session.ids() == [p.id for p in context.library.browse(limit=100).photos]


def test_the_wait_for_the_model_shows_its_download() -> None:
    download = Progress(Phase.DOWNLOADING_MODEL, 150, 600, unit="bytes")
    assert loading_text(download) == "Downloading the model… 25 %"
    assert loading_text(Progress(Phase.LOADING_MODEL)) == "Loading the model…"
