"""Smart albums through the facade: saved queries that stay up to date as photos arrive.

An album is a query (text, ``@photos``, weights, negative terms), filters
(folder, dates, formats, tags) and a relevance cut-off stored *per model*:
its photos are whatever the query finds now, so a photo indexed later joins
it, and a model change never silently changes it (the new model has no
cut-off until one is set; meanwhile the album shows its best ``limit``
photos and says so). :meth:`export_album` puts links (or copies) of an
album's photos in a folder; nothing is ever moved or deleted.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from photoseek.core.catalog.albums import StoredAlbum
from photoseek.core.errors import PhotoseekError, QueryError
from photoseek.core.library.reads import Reads
from photoseek.core.library.tagfilter import split_tag_terms, with_tags
from photoseek.core.search.query import parse_query
from photoseek.core.search.searcher import SearchFilters, SearchOptions, SearchResults

log = logging.getLogger("photoseek.core.library")

__all__ = ["Album", "AlbumOps", "ExportSummary"]

ALBUM_LIMIT = 100_000  # an album with a cut-off holds every photo above it


@dataclass(frozen=True)
class Album:
    """A saved query; ``min_score`` is its cut-off for the library's model (None: none)."""

    name: str
    query: str
    filters: SearchFilters
    min_score: float | None
    other_models: int  # how many other models have a cut-off for it


@dataclass
class ExportSummary:
    """What an export did: files made, and photos skipped with why."""

    folder: Path
    made: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)


class AlbumOps(Reads):
    """Saved queries (smart albums)."""

    def save_album(
        self,
        name: str,
        query: str,
        filters: SearchFilters | None = None,
        min_score: float | None = None,
    ) -> Album:
        """Save (or replace) the album ``name``; the query and filters are checked first."""
        name = name.strip()
        if not name or len(name) > 200:
            raise QueryError("an album needs a name (up to 200 characters)")
        filters = filters or SearchFilters()
        text, tags = split_tag_terms(query)
        options = with_tags(SearchOptions(filters=filters, min_score=min_score), tags)
        self._checked(parse_query(text))
        self._check_options(options)
        self.catalog.save_album(name, query, _filters_json(filters), self.model_id, min_score)
        return self.album(name)

    def set_album_cutoff(self, name: str, min_score: float) -> Album:
        """The album's cut-off for the library's model."""
        self.catalog.set_album_cutoff(name, self.model_id, min_score)
        return self.album(name)

    def album(self, name: str) -> Album:
        """The album ``name`` for the library's model."""
        return self._album(self.catalog.album(name))

    def albums(self) -> list[Album]:
        """Every album, by name."""
        return [self._album(stored) for stored in self.catalog.albums()]

    def remove_album(self, name: str) -> None:
        """Forget an album (its photos are untouched)."""
        self.catalog.remove_album(name)

    def album_results(
        self, name: str, limit: int = 200, *, show_hidden: bool = False
    ) -> SearchResults:
        """The album's photos now, best first: every one above its cut-off (up to ``limit``),
        or, without a cut-off for this model, its best ``limit``; none the content filter
        hides unless ``show_hidden``."""
        album = self.album(name)
        options = SearchOptions(
            limit=limit, filters=album.filters, min_score=album.min_score, show_hidden=show_hidden
        )
        results = self.search(album.query, options)
        if album.min_score is None and album.other_models:
            note = (
                f"album {album.name!r} has no cut-off for this model yet, only for another: "
                f"its best {limit} photos are shown (photoseek album cutoff NAME SCORE)"
            )
            results = replace(results, warnings=[*results.warnings, note])
        return results

    def export_album(
        self, name: str, folder: Path, *, copy: bool = False, show_hidden: bool = False
    ) -> ExportSummary:
        """Links (or copies) of the album's photos in ``folder``, one per photo (none the
        content filter hides unless ``show_hidden``)."""
        results = self.album_results(name, limit=ALBUM_LIMIT, show_hidden=show_hidden)
        folder = folder.expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        summary = ExportSummary(folder)
        used = {entry.name for entry in folder.iterdir()}
        for hit in results.hits:
            source = hit.photo.path
            if not hit.photo.folder_available or not source.exists():
                summary.skipped.append((source, "its file is not on disk now"))
                continue
            target = folder / _free_name(source.name, used)
            try:
                if copy:
                    shutil.copy2(source, target)
                else:
                    target.symlink_to(source)
            except OSError as exc:
                summary.skipped.append((source, str(exc)))
                continue
            summary.made += 1
        return summary

    def _album(self, stored: StoredAlbum) -> Album:
        model_id = self.known_model_id()
        cutoff = stored.cutoffs.get(model_id) if model_id is not None else None
        others = sum(1 for m in stored.cutoffs if m != model_id)
        return Album(stored.name, stored.query, _filters_of(stored.filters), cutoff, others)


def _free_name(name: str, used: set[str]) -> str:
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    used.add(candidate)
    return candidate


def _filters_json(filters: SearchFilters) -> dict[str, Any]:
    return {
        "folder": str(filters.folder) if filters.folder else None,
        "after": filters.date_from.isoformat() if filters.date_from else None,
        "before": filters.date_to.isoformat() if filters.date_to else None,
        "types": sorted(filters.formats) if filters.formats else None,
        "tags": sorted(filters.tags) if filters.tags else None,
    }


def _filters_of(data: dict[str, Any]) -> SearchFilters:
    try:
        return SearchFilters(
            folder=Path(data["folder"]) if data.get("folder") else None,
            date_from=date.fromisoformat(data["after"]) if data.get("after") else None,
            date_to=date.fromisoformat(data["before"]) if data.get("before") else None,
            formats=frozenset(data["types"]) if data.get("types") else None,
            tags=frozenset(data["tags"]) if data.get("tags") else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PhotoseekError(f"an album's stored filters cannot be read: {exc}") from exc
