"""Search: the query language and the searcher that ranks photos exactly.

Offers :func:`parse_query` (:mod:`.query`) and :class:`Searcher` with its
options and results (:mod:`.searcher`).
"""

from photoseek.core.search.query import QueryTerm, parse_query
from photoseek.core.search.searcher import (
    Searcher,
    SearchFilters,
    SearchHit,
    SearchOptions,
    SearchResults,
)

__all__ = [
    "QueryTerm",
    "SearchFilters",
    "SearchHit",
    "SearchOptions",
    "SearchResults",
    "Searcher",
    "parse_query",
]
