"""Search: turn a query into a vector, find candidates, re-score them exactly.

Without filters the HNSW index proposes candidates (``ef`` from
:meth:`VectorIndex.choose_ef`, so the top results equal an exact search)
with their exact cosines: the index holds the catalog's own vectors (the
library brings it up to date from the catalog's change log before every
search), and hnswlib scores each candidate against its stored vector. The
results' rows are read only for photos still indexed, so an id the index
holds but the catalog no longer searches is dropped (a commit between the
catch-up and the read). Reading the candidates' vectors again from the
catalog, as an earlier version did, cost as much as the knn itself (2.7 of
5.6 ms for a repeated text at 100,000 photos). With filters that leave at
most ``EXACT_LIMIT`` photos, those are scored exhaustively against the
catalog's vectors (exact and fast with numpy); broader filters over-fetch
from the index.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from photoseek.core.catalog.pathcodec import prefix_range, to_db
from photoseek.core.catalog.reads import PHOTO_DATE_SQL
from photoseek.core.catalog.store import Catalog
from photoseek.core.catalog.tags import TAGGED_SQL, VISIBLE_SQL
from photoseek.core.errors import ImageError, QueryError
from photoseek.core.imaging.modelinput import model_input
from photoseek.core.lazyimport import lazy_module
from photoseek.core.model.textpath import QueryEncoder
from photoseek.core.records import PhotoRecord
from photoseek.core.search.query import QueryTerm, parse_query
from photoseek.core.vectors import codec as vectorcodec
from photoseek.core.vectors.index import VectorIndex
from photoseek.core.vectors.matrix import VectorMatrix

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

log = logging.getLogger(__name__)

EXACT_LIMIT = 20_000
MIN_CANDIDATES = 100
SORTS = ("relevance", "date")


@dataclass(frozen=True)
class SearchFilters:
    """Restrict results; every field is optional."""

    folder: Path | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    formats: frozenset[str] | None = None  # sniffed formats: "jpeg", "png", ...
    tags: frozenset[str] | None = None  # every one of these zero-shot tags
    tag_params: tuple[tuple[object, ...], ...] = ()  # set by the library when it checks tags
    visible_params: tuple[object, ...] = ()  # set by the library: the content filter hides

    def is_empty(self) -> bool:
        """Whether no filter is set."""
        return not (
            self.folder
            or self.date_from
            or self.date_to
            or self.formats
            or self.tags
            or self.visible_params
        )

    def sql(self) -> tuple[str, list[object]]:
        """An SQL condition over photos ``p`` and its parameters."""
        clauses: list[str] = []
        params: list[object] = []
        if self.folder is not None:
            low, high = prefix_range(self.folder)
            clauses.append("(p.path = ? OR (p.path >= ? AND p.path < ?))")
            params += [to_db(self.folder), low, high]
        if self.date_from is not None:
            clauses.append(f"{PHOTO_DATE_SQL} >= ?")
            params.append(self.date_from.isoformat())
        if self.date_to is not None:
            clauses.append(f"{PHOTO_DATE_SQL} < ?")
            params.append((self.date_to + timedelta(days=1)).isoformat())
        if self.formats:
            clauses.append(f"p.format IN ({','.join('?' * len(self.formats))})")
            params += sorted(self.formats)
        if self.tags and len(self.tag_params) != len(self.tags):
            raise QueryError("tag filters must be checked by the library first")
        for tag_params in self.tag_params:
            clauses.append(TAGGED_SQL)
            params += list(tag_params)
        if self.visible_params:
            clauses.append(VISIBLE_SQL)
            params += list(self.visible_params)
        return " AND ".join(clauses) or "1", params


@dataclass(frozen=True)
class SearchOptions:
    """How many results, which ones, in what order.

    ``offset`` skips the best ``offset`` hits (the next page); ``min_score``
    is a cosine cut-off and must be a finite number.
    """

    limit: int = 50
    filters: SearchFilters = field(default_factory=SearchFilters)
    min_score: float | None = None
    sort: str = "relevance"
    offset: int = 0
    short_query_templates: tuple[str, ...] = ()  # see Searcher.query_vector
    show_hidden: bool = False  # True: the content filter hides nothing

    def check(self) -> None:
        """Raise :class:`QueryError` for options no search can honour."""
        if self.sort not in SORTS:
            raise QueryError(f"unknown sort {self.sort!r} (use {' or '.join(SORTS)})")
        if self.limit < 1:
            raise QueryError("limit must be at least 1")
        if self.offset < 0:
            raise QueryError("offset must not be negative")
        if self.min_score is not None and not math.isfinite(self.min_score):
            raise QueryError(f"the relevance cut-off must be a number, not {self.min_score}")


@dataclass(frozen=True)
class SearchHit:
    """One result: the photo and its cosine similarity to the query."""

    photo: PhotoRecord
    score: float


@dataclass(frozen=True)
class SearchResults:
    """Results, best first (or newest first), plus anything the user should know.

    ``total`` is the exact number of photos that match when it is known: with
    a relevance cut-off (every photo at or above it, found by an exact scan of
    the stored vectors, however many there are) and with narrow filters.
    """

    hits: list[SearchHit]
    warnings: list[str]
    elapsed_s: float
    total: int | None = None


def _is_short(text: str) -> bool:
    """One or two plain words: a label-like query."""
    words = text.split()
    return 0 < len(words) <= 2 and all(w.replace("-", "").replace("'", "").isalnum() for w in words)


class Searcher:
    """Answers queries against one model's vectors."""

    def __init__(
        self,
        catalog: Catalog,
        index: VectorIndex,
        embedder: QueryEncoder,
        model_id: int,
        matrix: Callable[[], VectorMatrix] | None = None,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.embedder = embedder
        self.model_id = model_id
        self._matrix = matrix

    def search(self, query: str, options: SearchOptions) -> SearchResults:
        """Answer a query string in the syntax of :mod:`photoseek.core.search.query`."""
        return self.search_terms(parse_query(query), options)

    def search_terms(self, terms: list[QueryTerm], options: SearchOptions) -> SearchResults:
        """Answer parsed query terms."""
        options.check()
        started = time.perf_counter()
        vector, warnings = self.query_vector(terms, options.short_query_templates)
        results = self.rank(vector, options, warnings)
        return replace(results, elapsed_s=time.perf_counter() - started)

    def query_vector(
        self, terms: list[QueryTerm], short_query_templates: Sequence[str] = ()
    ) -> tuple[vectorcodec.FloatArray, list[str]]:
        """The normalised weighted sum of the terms' vectors, and warnings for the user.

        With ``short_query_templates`` (templates with ``{}``), a text term of
        one or two words ("dog", "red car") is embedded as a zero-shot label
        is: the normalised mean of the templates filled with it (each prompt's
        vector is cached like any text's).
        """
        warnings: list[str] = []
        total = np.zeros(self.embedder.identity.dim, dtype=np.float32)
        for term in terms:
            if short_query_templates and term.text is not None and _is_short(term.text):
                prompts = [t.format(term.text) for t in short_query_templates]
                vectors = [self.embedder.encode_text(p).vector for p in prompts]
                vector = vectorcodec.first_row(vectorcodec.normalize(np.mean(vectors, axis=0)))
                total += term.weight * vector
                continue
            total += term.weight * self._term_vector(term, warnings)
        if not np.any(total):
            raise QueryError("the query's terms cancel each other out")
        return vectorcodec.first_row(vectorcodec.normalize(total)), warnings

    def rank(
        self, vector: vectorcodec.FloatArray, options: SearchOptions, warnings: list[str]
    ) -> SearchResults:
        """The hits for a query vector under ``options`` (one page: offset, limit)."""
        options.check()
        started = time.perf_counter()
        end = options.offset + options.limit
        total: int | None = None
        if options.min_score is not None and self._matrix is not None:
            ids, scores = self._exact_above(vector, options)
            total = len(ids)
        else:
            ids, scores = self._rank(vector, replace(options, limit=end))
            if options.min_score is not None:  # no matrix (tests): cut the ranked list
                keep = int(np.sum(scores >= options.min_score))
                ids, scores = ids[:keep], scores[:keep]
        hits = self._hits(ids, scores, options.sort, end)[options.offset :]
        return SearchResults(hits, list(warnings), time.perf_counter() - started, total)

    def _exact_above(
        self, vector: vectorcodec.FloatArray, options: SearchOptions
    ) -> tuple[list[int], np.ndarray]:
        """Every photo at or above the cut-off (and within the filters), best first."""
        assert self._matrix is not None and options.min_score is not None
        labels, scores = self._matrix().scores(vector)
        above = scores >= options.min_score
        labels, scores = labels[above], scores[above]
        if not options.filters.is_empty():
            where, params = options.filters.sql()
            allowed = self.catalog.filtered_ids(self.model_id, where, params)
            inside = np.fromiter((int(i) in allowed for i in labels), bool, len(labels))
            labels, scores = labels[inside], scores[inside]
        order = np.lexsort((labels, -scores))
        return [int(i) for i in labels[order]], scores[order]

    def photo_vector(self, photo_id: int) -> vectorcodec.FloatArray:
        """The stored vector of an indexed photo."""
        ids, matrix = self.catalog.live_vectors(
            self.model_id, [photo_id], self.embedder.identity.dim
        )
        if not ids:
            raise QueryError(f"photo {photo_id} is not indexed")
        return vectorcodec.first_row(matrix)

    def _term_vector(self, term: QueryTerm, warnings: list[str]) -> vectorcodec.FloatArray:
        if term.text is not None:
            encoded = self.embedder.encode_text(term.text)
            if encoded.truncated:
                warnings.append(
                    f"text longer than CLIP's 77-token limit was cut: {term.text[:40]!r}..."
                )
            return encoded.vector
        assert term.image is not None
        return self.image_vector(term.image)

    def image_vector(self, path: Path) -> vectorcodec.FloatArray:
        """The vector of an indexed photo, or of any image file (embedded now)."""
        resolved = path.expanduser().resolve()
        record = self.catalog.photo_at(resolved)
        if record is not None:
            dim = self.embedder.identity.dim
            return vectorcodec.first_row(self.catalog.vectors(self.model_id, [record.id], dim))
        if not resolved.exists():
            raise QueryError(f"image not found: {path}")
        try:
            image = model_input(resolved, self.embedder.image_size)
        except ImageError as exc:
            raise QueryError(f"cannot use {path} as a query: {exc.reason}") from exc
        vector = self.embedder.encode_image(image)
        return vectorcodec.first_row(vectorcodec.quantize(vector[None, :]))

    def _rank(
        self, vector: vectorcodec.FloatArray, options: SearchOptions
    ) -> tuple[list[int], np.ndarray]:
        """Candidates best first with their cosines; the index's may include ids no longer
        searchable, which :meth:`_hits` drops."""
        wanted = options.limit
        if options.filters.is_empty():
            return self._candidates(vector, max(2 * wanted, MIN_CANDIDATES))
        where, params = options.filters.sql()
        allowed = self.catalog.filtered_ids(self.model_id, where, params)
        if len(allowed) <= EXACT_LIMIT:
            return self._rescore(vector, sorted(allowed))
        oversample = max(2 * wanted, MIN_CANDIDATES) * len(self.index) // len(allowed)
        ids, scores = self._candidates(vector, oversample)
        inside = [n for n, i in enumerate(ids) if i in allowed]
        return [ids[n] for n in inside], scores[inside]

    def _candidates(self, vector: vectorcodec.FloatArray, k: int) -> tuple[list[int], np.ndarray]:
        count = len(self.index)
        k = min(k, count)
        if k == 0:
            return [], np.zeros(0, dtype=np.float32)
        labels, sims = self.index.query(vector, k, ef=VectorIndex.choose_ef(k, count))
        return [int(label) for label in labels], np.asarray(sims, dtype=np.float32)

    def _rescore(
        self, vector: vectorcodec.FloatArray, candidates: list[int]
    ) -> tuple[list[int], np.ndarray]:
        dim = self.embedder.identity.dim
        ids, matrix = self.catalog.live_vectors(self.model_id, candidates, dim)
        if not ids:
            return [], np.zeros(0, dtype=np.float32)
        scores = matrix @ vector
        order = np.argsort(-scores, kind="stable")
        return [ids[i] for i in order], scores[order]

    def _hits(self, ids: list[int], scores: np.ndarray, sort: str, count: int) -> list[SearchHit]:
        """The first ``count`` of the ranked ids that are still indexed, as hits.

        Rows are read for the first ``count`` ids, and for the rest only if
        some of those were no longer indexed (usually one query)."""
        records = self.catalog.photos(ids[:count], indexed_only=True)
        if len(records) < count and len(ids) > count:
            records.update(self.catalog.photos(ids[count:], indexed_only=True))
        hits = [
            SearchHit(records[i], float(s))
            for i, s in zip(ids, scores, strict=True)
            if i in records
        ][:count]
        if sort == "date":
            hits.sort(key=lambda h: h.photo.sort_date, reverse=True)
        return hits
