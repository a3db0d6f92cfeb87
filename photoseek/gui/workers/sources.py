"""What the search pane asks for, and where its pages come from.

A :class:`SearchRequest` is the pane's state (text, image chips, filters,
cut-off, order); a :class:`BrowseSource` pages through the library newest
first (applying the date and type filters ``Library.browse`` does not know),
a :class:`SearchSource` through ``Library.search_pages``. Both run in the
session's pool threads, never on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from photoseek.core.library import Library
from photoseek.core.library.tagfilter import split_tag_terms
from photoseek.core.records import PhotoRecord
from photoseek.core.search.query import QueryTerm, parse_query
from photoseek.core.search.searcher import SearchFilters, SearchOptions, SearchResults
from photoseek.gui.models.results import ResultRow

__all__ = [
    "BROWSE_PAGE",
    "NO_CAP",
    "RELEVANCE_LIMIT",
    "SEARCH_PAGE",
    "BrowseSource",
    "ResultPage",
    "SearchRequest",
    "SearchSource",
    "record_passes",
]

BROWSE_PAGE = 200
SEARCH_PAGE = 100
RELEVANCE_LIMIT = 1000
NO_CAP = 10**9
_BROWSE_READ_AHEAD = 25  # browse pages read at most for one page of filtered photos


@dataclass(frozen=True)
class SearchRequest:
    """What the pane asks for: text and image chips, filters, cut-off and order."""

    text: str = ""
    images: tuple[Path, ...] = ()
    filters: SearchFilters = field(default_factory=SearchFilters)
    min_score: float | None = None
    sort: str = "relevance"
    show_hidden: bool = False  # the content filter hides nothing
    short_query_templates: tuple[str, ...] = ()  # a one- or two-word search as a label

    @property
    def is_browse(self) -> bool:
        """No text (but ``tag:`` words) and no image: show the library newest first."""
        return not split_tag_terms(self.text, require_text=False)[0] and not self.images

    def terms(self) -> list[QueryTerm]:
        """The query terms: the text's (``parse_query``, ``tag:`` words left out) plus one
        per image; QueryError if bad."""
        text, _tags = split_tag_terms(self.text, require_text=False)
        terms = parse_query(text) if text.strip() else []
        return terms + [QueryTerm(1.0, image=path) for path in self.images]

    def query_text(self) -> str:
        """The whole query in the search syntax (the text, then each image as ``@"path"``)."""
        parts = [self.text.strip()] if self.text.strip() else []
        parts += ['@"' + str(path).replace('"', "") + '"' for path in self.images]
        return " + ".join(parts)

    def options(self) -> SearchOptions:
        """Search options: with a cut-off no cap (every photo above it), else the best ones."""
        limit = NO_CAP if self.min_score is not None else RELEVANCE_LIMIT
        _text, tags = split_tag_terms(self.text, require_text=False)
        filters = self.filters
        if tags:
            filters = replace(filters, tags=(filters.tags or frozenset()) | tags)
        return SearchOptions(
            limit=limit,
            filters=filters,
            min_score=self.min_score,
            sort=self.sort,
            show_hidden=self.show_hidden,
            short_query_templates=self.short_query_templates,
        )


def record_passes(filters: SearchFilters, record: PhotoRecord) -> bool:
    """Whether ``record`` passes the filters (as the catalog's SQL would judge it).

    A tag filter cannot be judged from the record: such a view takes new photos
    only when it is run again.
    """
    if filters.tags:
        return False
    folder = filters.folder
    if folder is not None and folder != record.path and folder not in record.path.parents:
        return False
    day = record.sort_date[:10]
    if filters.date_from is not None and day < filters.date_from.isoformat():
        return False
    if filters.date_to is not None and day > filters.date_to.isoformat():
        return False
    return not filters.formats or record.format in filters.formats


@dataclass(frozen=True)
class ResultPage:
    """One page for the grid: rows, whether more follow, the exact total when known."""

    rows: list[ResultRow]
    more: bool
    total: int | None = None
    warnings: tuple[str, ...] = ()


class BrowseSource:
    """The library (or one folder) newest first, with date and type filters applied here."""

    needs_model = False

    def __init__(
        self, library: Library, filters: SearchFilters, *, show_hidden: bool = False
    ) -> None:
        self._library = library
        self._filters = filters
        self._tag = next(iter(sorted(filters.tags))) if filters.tags else None
        self._show_hidden = show_hidden
        self._cursor: Any = None
        self._done = False

    @property
    def bound(self) -> tuple[str, int] | None:
        """Where the next page starts (None once every page was read)."""
        return (
            None
            if self._done or self._cursor is None
            else (
                self._cursor.sort_date,
                self._cursor.id,
            )
        )

    def next_page(self) -> ResultPage:
        """The next page of photos that pass the filters (a worker-thread call)."""
        rows: list[ResultRow] = []
        for _ in range(_BROWSE_READ_AHEAD):
            if self._done:
                break
            page = self._library.browse(
                self._filters.folder,
                limit=BROWSE_PAGE,
                cursor=self._cursor,
                tag=self._tag,
                show_hidden=self._show_hidden,
            )
            self._cursor, self._done = page.cursor, page.cursor is None
            plain = replace(self._filters, tags=None)  # the tag: the catalog applied it
            rows += [ResultRow(p) for p in page.photos if record_passes(plain, p)]
            if len(rows) >= BROWSE_PAGE:
                break
        return ResultPage(rows, more=not self._done)


class SearchSource:
    """The pages of one search (``Library.search_pages``)."""

    needs_model = True
    bound = None

    def __init__(self, library: Library, terms: list[QueryTerm], options: SearchOptions) -> None:
        self._library = library
        self._terms = terms
        self._options = options
        self._pages: Iterator[SearchResults] | None = None
        self._done = False

    def next_page(self) -> ResultPage:
        """The next page of hits, best first (a worker-thread call; may wait for the model)."""
        if self._pages is None:
            self._pages = self._library.search_pages(
                self._terms, self._options, page_size=SEARCH_PAGE
            )
        if self._done:
            return ResultPage([], more=False)
        try:
            page = next(self._pages)
        except StopIteration:
            self._done = True
            return ResultPage([], more=False)
        rows = [ResultRow(hit.photo, hit.score) for hit in page.hits]
        self._done = len(rows) < SEARCH_PAGE
        return ResultPage(rows, not self._done, page.total, tuple(page.warnings))
