"""Tag filters in searches: ``--tag beach`` and ``tag:beach`` words in a query.

A ``tag:NAME`` word (``tag:"red car"`` for a name with spaces) anywhere in a
query is taken out of the text and becomes a filter: only photos with every
named tag. The names are checked against the model's active label space
before the model loads.
"""

from __future__ import annotations

import re
from dataclasses import replace

from photoseek.core.catalog.store import Catalog
from photoseek.core.errors import QueryError
from photoseek.core.search.searcher import SearchOptions

__all__ = ["checked_tags", "split_tag_terms", "with_tags"]

_TAG_WORD = re.compile(r'(?<!\S)tag:(?:"([^"]+)"|(\S+))', re.IGNORECASE)


def split_tag_terms(query: str, *, require_text: bool = True) -> tuple[str, frozenset[str]]:
    """The query without its ``tag:`` words, and the tags they name (``require_text``: a
    query of tags alone is an error; the app's image chips may be the rest of a query)."""
    tags = frozenset(
        (quoted or bare).strip() for quoted, bare in _TAG_WORD.findall(query) if quoted or bare
    )
    text = " ".join(_TAG_WORD.sub(" ", query).split())
    if tags and not text and require_text:
        raise QueryError(
            "a query needs text or a photo besides its tags "
            "(to list a tag's photos: photoseek tags NAME)"
        )
    return text, tags


def with_tags(options: SearchOptions, tags: frozenset[str]) -> SearchOptions:
    """``options`` also filtered by ``tags``."""
    if not tags:
        return options
    merged = (options.filters.tags or frozenset()) | tags
    return replace(options, filters=replace(options.filters, tags=merged))


def checked_tags(
    catalog: Catalog, model_id: int | None, names: frozenset[str]
) -> tuple[tuple[object, ...], ...]:
    """The SQL parameters of each tag's filter; an unknown tag is a :class:`QueryError`."""
    space = None if model_id is None else catalog.tag_space(model_id)
    if space is None:
        raise QueryError("the library has no tags yet: run `photoseek tag` first")
    known = {name.casefold() for name in space.labels}
    unknown = sorted(n for n in names if n.casefold() not in known)
    if unknown:
        raise QueryError(
            f"no tag {unknown[0]!r} in the label set {space.label_set!r} "
            "(`photoseek tags` lists them)"
        )
    return tuple(tuple(space.tag_params(name)) for name in sorted(names))
