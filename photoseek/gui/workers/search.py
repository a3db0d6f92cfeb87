"""Searching and browsing off the GUI thread, and keeping the grid current.

:class:`SearchSession` is what the search pane drives. Each
:meth:`SearchSession.run` of a :class:`SearchRequest` (text, image chips,
filters, cut-off, sort) starts a new *generation*: the queue of the previous
one is cleared and any late page of it is dropped when it arrives, so a newer
query always supersedes an older one. An empty request browses the library
newest first (``Library.browse``); anything else searches
(``Library.search_pages`` over ``QueryTerm``\\ s: the text through
``parse_query`` plus one term per image chip). Pages come one at a time: the
first when the request starts, the next ones when the grid scrolls near the
end (the model's ``fetchMore``).

Searches run in a pool of one thread (a search waits there for the model,
never on the GUI thread); browsing, name matches and record refreshes in a
pool of two, so browsing never waits behind a search that waits for the model.
Every library call the app's search side makes runs through :class:`CallRunner`.

Decisions the pane documents to users:

* **Filters while browsing.** ``Library.browse`` filters by folder only, so
  date and file-type filters are applied to the browsed pages here (a page
  request reads on until it has a page of matching photos or the library
  ends). The count is exact while browsing all photos or a top folder without
  other filters (the library's folder statistics), or once every page is
  loaded; otherwise it says how many are shown.
* **Without a cut-off** a search shows the best :data:`RELEVANCE_LIMIT`
  photos (every photo matches a CLIP query a little); with one it shows every
  photo at or above it, and the exact count.
* **Name matches** (``Library.name_matches``: the words in a file or folder
  name) are a second, small list, filled for every text query.
* **Library changes** (:meth:`SearchSession.apply_changes`): while browsing,
  new photos appear where they sort (newest first), removed ones disappear,
  changed and moved ones are updated in place (or leave when they no longer
  match the filters). While showing search results, removed photos disappear
  and changed ones repaint, but new photos are *not* slipped into a ranked
  list under the user's eyes: ``new_photos_changed(True)`` asks the pane to
  offer "search again".
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from photoseek.core.errors import PhotoseekError, QueryError
from photoseek.core.library import FolderStats
from photoseek.core.progress import Phase, Progress
from photoseek.core.records import ChangeSet, PhotoRecord
from photoseek.gui.context import AppContext
from photoseek.gui.models.results import ResultRow, ResultsModel
from photoseek.gui.workers.calls import CallRunner
from photoseek.gui.workers.sources import (
    NO_CAP,
    RELEVANCE_LIMIT,
    BrowseSource,
    ResultPage,
    SearchRequest,
    SearchSource,
    record_passes,
)

log = logging.getLogger(__name__)

__all__ = [  # the request, sources and runner live in .sources and .calls
    "NO_CAP",
    "RELEVANCE_LIMIT",
    "BrowseSource",
    "CallRunner",
    "ResultPage",
    "SearchRequest",
    "SearchSession",
    "SearchSource",
    "SessionState",
    "count_text",
    "loading_text",
    "record_passes",
]

NAME_LIMIT = 200


# -- the session ----------------------------------------------------------------------


class SessionState(enum.StrEnum):
    """What the session is doing, for the search bar's state line."""

    IDLE = "idle"
    LOADING_MODEL = "loading model"
    SEARCHING = "searching"
    ERROR = "error"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else ("es" if word.endswith("ch") else "s"))


def loading_text(progress: Progress | None) -> str:
    """What the search box says while the first search waits for the model."""
    if progress is not None and progress.phase == Phase.DOWNLOADING_MODEL and progress.total:
        return f"Downloading the model… {100 * progress.done // progress.total} %"
    return "Loading the model…"


def count_text(request: SearchRequest, shown: int, more: bool, total: int | None) -> str:
    """The result count for people: exact when known, else how many are shown."""
    if request.is_browse:
        if total is not None:
            return _plural(total, "photo")
        return _plural(shown, "photo") if not more else f"{shown:,} shown"
    if request.min_score is not None and total is not None:
        return f"{_plural(total, 'match')} above {request.min_score:.2f}"
    if not more:
        return _plural(shown, "match")
    return f"best {shown:,} shown"


class SearchSession(QObject):
    """Runs what the pane asks for and keeps the results and name-match models current."""

    state_changed = Signal(str, str)  # SessionState value, one sentence ("" when idle)
    count_changed = Signal(str)
    message = Signal(str)  # warnings for the status bar (a query cut at 77 tokens ...)
    names_changed = Signal(int)  # how many photos match by name
    new_photos_changed = Signal(bool)  # new photos arrived that a search does not show

    def __init__(
        self,
        context: AppContext,
        results: ResultsModel,
        names: ResultsModel,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._library = context.library
        self._results = results
        self._names = names
        self._searches = CallRunner(1, self)
        self._reads = CallRunner(2, self)
        self._generation = 0
        self._request = SearchRequest()
        self._source: BrowseSource | SearchSource | None = None
        self._awaiting_first = False
        self._names_due: SearchRequest | None = None  # names to look up after the first page
        self._queued_changes: list[ChangeSet] = []
        self._total: int | None = None
        self._state = SessionState.IDLE
        self._new_photos = False
        results.fetch_requested.connect(self.fetch_more)
        context.model.loading.connect(self._model_loading)
        context.model.failed.connect(self._model_failed)

    # -- public ---------------------------------------------------------------------

    @property
    def request(self) -> SearchRequest:
        """The request shown (or being fetched) now."""
        return self._request

    @property
    def generation(self) -> int:
        """Bumped by every :meth:`run`."""
        return self._generation

    @property
    def state(self) -> SessionState:
        """What the session is doing."""
        return self._state

    @property
    def busy(self) -> bool:
        """Whether the first page of the current request is still on its way."""
        return self._awaiting_first

    def run(self, request: SearchRequest) -> None:
        """Show ``request``: a newer request supersedes whatever is still running."""
        self._generation += 1
        generation = self._generation
        self._request = request
        self._names_due = None
        self._searches.clear()
        self._set_new_photos(False)
        self._results.set_more(False)  # no old page is fetched for the old rows any more
        self._queued_changes.clear()
        try:
            source = self._source_for(request)
        except QueryError as exc:
            self._source, self._awaiting_first = None, False
            self._set_state(SessionState.ERROR, str(exc))
            self._request_names(generation, request)
            return
        self._source, self._awaiting_first, self._total = source, True, None
        waiting = source.needs_model and not self._context.model.is_ready
        if waiting and self._context.model.error:
            self._set_state(SessionState.ERROR, self._context.model.error)
        elif waiting:
            self._set_state(SessionState.LOADING_MODEL, loading_text(None))
        else:
            self._set_state(SessionState.SEARCHING, "")
        runner = self._searches if source.needs_model else self._reads
        runner.submit(
            source.next_page,
            lambda page: self._first_page(generation, page),
            lambda exc: self._failed(generation, exc),
        )
        if source.needs_model:  # see _names_after_first_page
            self._names_due = request
        else:
            self._request_names(generation, request)
        self._request_browse_total(generation)

    def rerun(self) -> None:
        """Run the current request again (new photos, a trimmed change log)."""
        self.run(self._request)

    def fetch_more(self) -> None:
        """Fetch the next page of the current request (the grid scrolled near its end)."""
        source, generation = self._source, self._generation
        if source is None or self._awaiting_first:
            self._results.set_more(False)
            return
        runner = self._searches if source.needs_model else self._reads
        runner.submit(
            source.next_page,
            lambda page: self._next_page(generation, page),
            lambda exc: self._failed(generation, exc),
        )

    def apply_changes(self, changes: ChangeSet) -> None:
        """Bring the shown rows up to date with what changed in the library (no reset)."""
        if not changes:
            return
        if self._awaiting_first:  # the page on its way may predate the change: apply after it
            self._queued_changes.append(changes)
            return
        if not changes.complete:
            self.rerun()
            return
        removed = set(changes.removed)
        dropped = self._results.remove_ids(removed)
        self._names.remove_ids(removed)
        if self._total is not None and not self._request.is_browse:
            self._total = max(0, self._total - dropped)
        refreshed = (set(changes.changed) | set(changes.moved)) - removed
        new = set(changes.new) - removed - refreshed
        if not self._request.is_browse:
            shown = {i for i in refreshed if self._shows(i)}
            if new:
                self._set_new_photos(True)
            self._refresh(shown, set())
        else:
            self._refresh(refreshed, new)
            self._request_browse_total(self._generation)
        self._emit_count()

    def read(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run another short library call (folders, saving a pasted image) off the GUI thread."""
        self._reads.submit(work, done, failed)

    def shutdown(self) -> None:
        """Stop the workers; nothing is delivered afterwards."""
        self._generation += 1
        self._searches.shutdown()
        self._reads.shutdown()

    # -- pages --------------------------------------------------------------------------

    def _source_for(self, request: SearchRequest) -> BrowseSource | SearchSource:
        if request.is_browse:
            filters = request.options().filters  # tag: words of the text included
            return BrowseSource(self._library, filters, show_hidden=request.show_hidden)
        return SearchSource(self._library, request.terms(), request.options())

    def _first_page(self, generation: int, page: ResultPage) -> None:
        if generation != self._generation:
            return  # a late page of a superseded request
        self._awaiting_first = False
        self._names_after_first_page(generation)
        self._results.reset_rows(page.rows, page.more)
        if not self._request.is_browse:
            self._total = page.total
        self._set_state(SessionState.IDLE, "")
        for warning in page.warnings:
            self.message.emit(warning)
        self._emit_count()
        queued, self._queued_changes = self._queued_changes, []
        for changes in queued:
            self.apply_changes(changes)

    def _next_page(self, generation: int, page: ResultPage) -> None:
        if generation != self._generation:
            return
        self._results.append_rows(page.rows, page.more)
        if page.total is not None and not self._request.is_browse:
            self._total = page.total
        self._emit_count()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._awaiting_first = False
        self._names_after_first_page(generation)
        self._results.set_more(False)
        text = str(exc) if isinstance(exc, PhotoseekError) else f"The search failed: {exc}"
        self._set_state(SessionState.ERROR, text)

    def _model_loading(self, progress: Progress) -> None:
        if self._state == SessionState.LOADING_MODEL:
            self._set_state(SessionState.LOADING_MODEL, loading_text(progress))

    def _model_failed(self, message: str) -> None:
        if self._state == SessionState.LOADING_MODEL:
            self._set_state(SessionState.ERROR, message)

    # -- names and totals ---------------------------------------------------------------

    def _names_after_first_page(self, generation: int) -> None:
        """A search's name matches are looked up once its first page is in (or it failed).

        The first lookup after a start loads every photo's path (0.5 s at
        100,000 photos, seconds while the model loads beside it); made at
        once, it slowed the first query's results, which users wait for more.
        """
        request, self._names_due = self._names_due, None
        if request is not None:
            self._request_names(generation, request)

    def _request_names(self, generation: int, request: SearchRequest) -> None:
        text, filters = request.text.strip(), request.filters
        if not text:
            self._names.reset_rows([], False)
            self.names_changed.emit(0)
            return

        def matches() -> list[ResultRow]:
            found = self._library.name_matches(text, folder=filters.folder, limit=NAME_LIMIT)
            return [ResultRow(r) for r in found if record_passes(filters, r)]

        self._reads.submit(matches, lambda rows: self._names_ready(generation, rows))

    def _names_ready(self, generation: int, rows: list[ResultRow]) -> None:
        if generation != self._generation:
            return
        self._names.reset_rows(rows, False)
        self.names_changed.emit(len(rows))

    def _request_browse_total(self, generation: int) -> None:
        request = self._request
        filters = request.options().filters
        if not request.is_browse or filters.date_from or filters.date_to or filters.formats:
            return
        if filters.tags:
            return  # a tag's total is not in the folder statistics
        folder, show_hidden = filters.folder, request.show_hidden

        def total(stats: list[FolderStats]) -> None:
            if generation != self._generation:
                return
            shown = {s.folder.path: s.indexed + (s.hidden if show_hidden else 0) for s in stats}
            if folder is None:
                self._total = sum(shown.values())
            else:  # a folder inside a top folder: unknown
                self._total = shown.get(folder)
            if not self._awaiting_first:
                self._emit_count()

        self._reads.submit(self._library.folder_stats, total)

    def _emit_count(self) -> None:
        total = self._total
        if self._request.is_browse and total is not None and not self._results.more_available:
            total = None  # every page is loaded: the rows are the exact count
        text = count_text(
            self._request, self._results.rowCount(), self._results.more_available, total
        )
        self.count_changed.emit(text)

    # -- changes ------------------------------------------------------------------------

    def _shows(self, photo_id: int) -> bool:
        return (
            self._results.row_of(photo_id) is not None or self._names.row_of(photo_id) is not None
        )

    def _refresh(self, refreshed: set[int], new: set[int]) -> None:
        wanted = sorted(refreshed | new)
        if not wanted:
            return
        generation = self._generation
        self._reads.submit(
            lambda: self._library.photos(wanted),
            lambda records: self._refreshed(generation, records, refreshed, new),
        )

    def _refreshed(
        self,
        generation: int,
        records: dict[int, PhotoRecord],
        refreshed: set[int],
        new: set[int],
    ) -> None:
        if generation != self._generation:
            return
        filters, browsing = self._request.filters, self._request.is_browse
        kept = {i: r for i, r in records.items() if record_passes(filters, r)}
        gone = [i for i in refreshed if i not in kept]
        self._results.remove_ids(gone)
        self._names.remove_ids(gone)
        if browsing:
            resorted = [i for i in refreshed if i in kept and self._date_moved(kept[i])]
            self._results.remove_ids(resorted)
            new = new | set(resorted)
        self._results.update_records(kept[i] for i in refreshed if i in kept)
        self._names.update_records(kept[i] for i in refreshed if i in kept)
        if browsing and self._source is not None:
            rows = [ResultRow(kept[i]) for i in new if i in kept]
            self._results.insert_sorted(rows, self._source.bound)
        self._emit_count()

    def _date_moved(self, record: PhotoRecord) -> bool:
        row = self._results.row_of(record.id)
        return row is not None and self._results.row_at(row).record.sort_date != record.sort_date

    # -- state --------------------------------------------------------------------------

    def _set_state(self, state: SessionState, text: str) -> None:
        self._state = state
        self.state_changed.emit(state.value, text)

    def _set_new_photos(self, present: bool) -> None:
        if present != self._new_photos:
            self._new_photos = present
            self.new_photos_changed.emit(present)
