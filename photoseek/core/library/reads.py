"""Reads of the facade: search, similar photos, names, browsing, thumbnails, changes, status.

Every read may run in any thread, beside a running job and beside other reads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from photoseek.core.catalog.reads import BrowseCursor
from photoseek.core.errors import QueryError
from photoseek.core.imaging.thumbnails import DEFAULT_SIZE
from photoseek.core.library.base import LibraryBase
from photoseek.core.library.tagfilter import checked_tags, split_tag_terms, with_tags
from photoseek.core.records import ChangeSet, PhotoRecord, Problem
from photoseek.core.reports import LibraryStatus, ServiceStatus, library_status, service_status
from photoseek.core.search.names import name_matches
from photoseek.core.search.query import QueryTerm, parse_query, validate_terms
from photoseek.core.search.searcher import Searcher, SearchOptions, SearchResults

log = logging.getLogger("photoseek.core.library")


@dataclass(frozen=True)
class BrowsePage:
    """One page of photos newest first; pass ``cursor`` back for the next (None: the end)."""

    photos: list[PhotoRecord]
    cursor: BrowseCursor | None


class Reads(LibraryBase):
    """Answers to the front ends' questions."""

    def _searcher(self) -> Searcher:
        self.follow()
        while True:  # index and encoder of one model, even across a model switch's swap
            generation = self._generation
            keeper = self._index_keeper()
            encoder = self.query_encoder()
            if encoder.identity != keeper.identity:  # the light path named other weights
                encoder = self.embedder
                keeper = self._index_keeper()
            model_id = self.model_id
            if generation == self._generation:
                return Searcher(self.catalog, keeper.index, encoder, model_id, keeper.matrix)

    def search(self, query: str, options: SearchOptions | None = None) -> SearchResults:
        """Answer a query (see :mod:`photoseek.core.search.query` for the syntax).

        The query is checked before the model loads: a malformed query or a
        missing ``@photo`` fails at once. ``tag:NAME`` words filter by tag.
        """
        text, tags = split_tag_terms(query)
        options = with_tags(options or SearchOptions(), tags)
        return self.search_terms(parse_query(text), options)

    def search_terms(
        self, terms: list[QueryTerm], options: SearchOptions | None = None
    ) -> SearchResults:
        """Answer parsed query terms (a front end adds image terms as it likes: chips)."""
        terms = self._checked(terms)
        options = self._check_options(options or SearchOptions())
        with self.searching():
            return self._searcher().search_terms(terms, options)

    def search_pages(
        self,
        query: str | list[QueryTerm],
        options: SearchOptions | None = None,
        *,
        page_size: int = 100,
    ) -> Iterator[SearchResults]:
        """The results of a query (text, or parsed terms) page by page.

        A grid shows the first page at once. Each page holds the next
        ``page_size`` hits, best first; iteration ends after ``options.limit``
        hits or when no more photos match. With a relevance cut-off every
        photo at or above it is found (pass a large ``limit`` for no cap) and
        each page's ``total`` is their exact number.
        """
        options = self._check_options(options or SearchOptions())
        terms = self._checked(parse_query(query) if isinstance(query, str) else query)
        if options.sort == "date":  # dates order the whole result: rank it once, then page
            with self.searching():
                results = self._searcher().search_terms(terms, options)
            for start in range(0, max(len(results.hits), 1), page_size):
                yield replace(results, hits=results.hits[start : start + page_size])
            return
        with self.searching():
            searcher = self._searcher()
            vector, warnings = searcher.query_vector(terms, options.short_query_templates)
        for offset in range(0, options.limit, page_size):
            wanted = min(page_size, options.limit - offset)
            with self.searching():
                page = searcher.rank(
                    vector, replace(options, limit=wanted, offset=offset), warnings
                )
            yield page
            if len(page.hits) < wanted:
                return

    def _checked(self, terms: list[QueryTerm]) -> list[QueryTerm]:
        return validate_terms(terms, lambda path: self.catalog.photo_at(path) is not None)

    def _check_options(self, options: SearchOptions) -> SearchOptions:
        """Refuse what no search can honour, before the model loads."""
        options.check()
        visible = () if options.show_hidden else self._visible_params()
        if visible:
            options = replace(options, filters=replace(options.filters, visible_params=visible))
        tags = options.filters.tags
        if tags:
            checked = checked_tags(self.catalog, self.known_model_id(), tags)
            options = replace(options, filters=replace(options.filters, tag_params=checked))
        folder = options.filters.folder
        if folder is not None and self.catalog.folder_containing(folder) is None:
            known = ", ".join(str(f.path) for f in self.catalog.folders()) or "none yet"
            raise QueryError(f"{folder} is not in the library (its folders: {known})")
        return options

    def _visible_params(self) -> tuple[object, ...]:
        """The content filter's SQL parameters (empty: it is off)."""
        model_id = self.known_model_id()
        space = None if model_id is None else self.catalog.tag_space(model_id, "hide")
        return () if space is None else (space.model_id, space.space)

    def similar(self, image: Path, options: SearchOptions | None = None) -> SearchResults:
        """Photos that look like ``image`` (an indexed photo or any image file)."""
        terms = self._checked([QueryTerm(1.0, image=image)])
        options = self._check_options(options or SearchOptions())
        return self._searcher().search_terms(terms, options)

    def similar_to(self, photo_id: int, options: SearchOptions | None = None) -> SearchResults:
        """Photos that look like the indexed photo ``photo_id``, the photo itself left out."""
        options = self._check_options(options or SearchOptions())
        searcher = self._searcher()
        vector = searcher.photo_vector(photo_id)
        results = searcher.rank(vector, replace(options, limit=options.limit + 1), [])
        hits = [hit for hit in results.hits if hit.photo.id != photo_id][: options.limit]
        return replace(results, hits=hits)

    def name_matches(
        self,
        text: str,
        *,
        folder: Path | None = None,
        limit: int = 200,
        show_hidden: bool = False,
    ) -> list[PhotoRecord]:
        """Photos whose file or folder name holds every word of ``text`` (no model needed);
        none the content filter hides unless ``show_hidden``."""
        found = name_matches(self.catalog, self.name_index, text, folder=folder, limit=limit)
        visible = () if show_hidden else self._visible_params()
        if not visible or not found:
            return found
        shown = self.catalog.visible_ids([p.id for p in found], visible)
        return [p for p in found if p.id in shown]

    def photo(self, photo_id: int) -> PhotoRecord | None:
        """The photo with this id, if it is in the library."""
        return self.catalog.photos([photo_id]).get(photo_id)

    def photos(self, ids: list[int]) -> dict[int, PhotoRecord]:
        """The photos with these ids that are in the library."""
        return self.catalog.photos(ids)

    def browse(
        self,
        folder: Path | None = None,
        *,
        limit: int = 200,
        cursor: BrowseCursor | None = None,
        tag: str | None = None,
        show_hidden: bool = False,
    ) -> BrowsePage:
        """Photos newest first (EXIF date, else mtime), a page at a time; no model needed.

        ``folder`` is a top folder or any folder inside one; ``tag`` keeps the
        photos with that zero-shot tag.
        """
        if limit < 1:
            raise QueryError("limit must be at least 1")
        tagged = None
        if tag is not None:
            (tagged,) = checked_tags(self.catalog, self.known_model_id(), frozenset([tag]))
        folder_id, under = None, None
        if folder is not None:
            resolved = folder.expanduser().resolve()
            owner = self.catalog.folder_containing(resolved)
            if owner is None:
                raise QueryError(f"{folder} is not in the library")
            folder_id, under = owner.id, (None if owner.path == resolved else resolved)
        visible = () if show_hidden else self._visible_params()
        photos = self.catalog.browse(
            folder_id=folder_id,
            under=under,
            limit=limit,
            after=cursor,
            tagged=tagged,
            visible=visible or None,
        )
        last = photos[-1] if len(photos) == limit else None
        return BrowsePage(photos, BrowseCursor(last.sort_date, last.id) if last else None)

    def thumbnail(self, photo_id: int, size: int | None = None) -> Path | None:
        """A JPEG thumbnail of the photo about ``size`` px on its long side.

        From the cache (keyed by content), or made now from the file; None
        when the photo is unknown or its file cannot be read (offline disk).
        Slow when made: call it from a worker thread.
        """
        photo = self.photo(photo_id)
        if photo is None or photo.fingerprint is None:
            return None
        wanted = self.thumbnails.nearest_size(size or DEFAULT_SIZE)
        try:
            return self.thumbnails.get_or_make(photo.fingerprint, photo.path, wanted)
        except Exception as exc:  # an unreadable file has no thumbnail; not the caller's error
            log.info("no thumbnail for %s: %s", photo.path, exc)
            return None

    def changes_since(self, version: int) -> ChangeSet:
        """What changed in the library after ``version`` (0: the start); see :class:`ChangeSet`."""
        return self.catalog.library_changes(version)

    @property
    def version(self) -> int:
        """The library's current version, for :meth:`changes_since`."""
        return self.catalog.change_seq()

    def status(self) -> LibraryStatus:
        """Folders, counts and pending work for the chosen model, without loading it."""
        return library_status(self, self.known_model_id())

    def service_status(self) -> ServiceStatus:
        """Whether a watch service writes this library, and what it is doing."""
        return service_status(self.paths.data_dir, self.writer_lock.holder())

    def problems(self) -> list[Problem]:
        """Every file that was skipped, with its reason."""
        return self.catalog.problems()
