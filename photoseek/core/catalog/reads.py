"""Catalog reads for search and browsing: live ids, vectors, photo records, filters, dates.

A mixin of :class:`photoseek.core.catalog.store.Catalog`, which provides the
locked connection through ``_query``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from photoseek.core.catalog.base import CatalogBase, chunks, marks
from photoseek.core.catalog.pathcodec import from_db, prefix_range, to_db
from photoseek.core.catalog.tags import TAGGED_SQL, VISIBLE_SQL
from photoseek.core.errors import LibraryError
from photoseek.core.records import PhotoRecord
from photoseek.core.vectors import codec as vectorcodec

_PHOTO_COLUMNS = (
    "p.id, p.path, p.size, p.mtime_ns, p.fingerprint, p.format, p.width, p.height, "
    "p.taken_at, f.status, p.sort_date, p.folder_id"
)

#: The date a photo sorts and filters by: EXIF taken-at, else its mtime (local time).
PHOTO_DATE_SQL = "p.sort_date"


@dataclass(frozen=True)
class BrowseCursor:
    """Where a page of :meth:`SearchReads.browse` ended; pass it to get the next page."""

    sort_date: str
    id: int


class SearchReads(CatalogBase):
    """Read-only queries behind search and browsing."""

    def live_ids(self, model_id: int) -> set[int]:
        """Ids of photos that belong in this model's vector index.

        Read as one row (the ids joined by commas), not one row per photo:
        ``sqlite3`` lets go of Python's lock for every row it steps to and
        must win it back, so while other threads run Python (the app's start:
        imports, the window) 100,000 rows took 5 s where one row takes 0.15 s.
        """
        rows = self._query(
            "SELECT group_concat(p.id) FROM photos p JOIN embeddings e "
            "ON e.fingerprint = p.fingerprint AND e.model_id = ? WHERE p.status = 'indexed'",
            (model_id,),
        )
        joined = rows[0][0] if rows else None
        return set(map(int, str(joined).split(","))) if joined else set()

    def vectors(self, model_id: int, ids: Sequence[int], dim: int) -> vectorcodec.FloatArray:
        """Vectors of ``ids`` in the given order (every id must have one)."""
        found = self._vector_blobs(model_id, ids, live_only=False)
        missing = [i for i in ids if i not in found]
        if missing:
            raise LibraryError(f"{len(missing)} photos have no vector for this model")
        return vectorcodec.decode_many((found[i] for i in ids), dim)

    def live_vectors(
        self, model_id: int, ids: Sequence[int], dim: int
    ) -> tuple[list[int], vectorcodec.FloatArray]:
        """The ids (in the given order) that are indexed and have a vector, and those vectors."""
        found = self._vector_blobs(model_id, ids, live_only=True)
        kept = [i for i in ids if i in found]
        return kept, vectorcodec.decode_many((found[i] for i in kept), dim)

    def _vector_blobs(
        self, model_id: int, ids: Sequence[int], *, live_only: bool
    ) -> dict[int, bytes]:
        status = "AND p.status = 'indexed'" if live_only else ""
        by_id: dict[int, bytes] = {}
        for chunk in chunks(list(ids)):
            # CROSS JOIN keeps photos the outer loop: without statistics SQLite
            # otherwise plans a long IN list by scanning every vector of the model
            # (17.7 s per chunk at 100,000 photos instead of 11 ms).
            rows = self._query(
                f"SELECT p.id, e.vector FROM photos p CROSS JOIN embeddings e "
                f"ON e.fingerprint = p.fingerprint AND e.model_id = ? "
                f"WHERE p.id IN ({marks(len(chunk))}) {status}",
                (model_id, *chunk),
            )
            by_id.update((int(r[0]), bytes(r[1])) for r in rows)
        return by_id

    def photos(self, ids: Sequence[int], *, indexed_only: bool = False) -> dict[int, PhotoRecord]:
        """Records of the given photo ids that are in the library (indexed, pending or offline);
        with ``indexed_only``, of those that are indexed (searchable) alone."""
        status = "p.status = 'indexed'" if indexed_only else "p.status != 'deleted'"
        found: dict[int, PhotoRecord] = {}
        for chunk in chunks(list(ids)):
            rows = self._query(
                f"SELECT {_PHOTO_COLUMNS} FROM photos p JOIN folders f ON f.id = p.folder_id "
                f"WHERE p.id IN ({marks(len(chunk))}) AND {status}",
                tuple(chunk),
            )
            found.update((int(r[0]), _record(r)) for r in rows)
        return found

    def photo_at(self, path: Path) -> PhotoRecord | None:
        """The indexed photo at ``path``, if any."""
        rows = self._query(
            f"SELECT {_PHOTO_COLUMNS} FROM photos p JOIN folders f ON f.id = p.folder_id "
            "WHERE p.path = ? AND p.status = 'indexed'",
            (to_db(path),),
        )
        return _record(rows[0]) if rows else None

    def filtered_ids(self, model_id: int, where: str, params: Sequence[object]) -> set[int]:
        """Live ids that satisfy an SQL condition on ``p`` (photos) and ``f`` (folders)."""
        rows = self._query(
            "SELECT p.id FROM photos p JOIN folders f ON f.id = p.folder_id "
            "JOIN embeddings e ON e.fingerprint = p.fingerprint AND e.model_id = ? "
            f"WHERE p.status = 'indexed' AND ({where})",
            (model_id, *params),
        )
        return {int(r[0]) for r in rows}

    def visible_ids(self, ids: Sequence[int], visible: Sequence[object]) -> set[int]:
        """Those of ``ids`` the content filter (``visible``: model id, space) does not hide."""
        shown: set[int] = set()
        for chunk in chunks(list(ids)):
            rows = self._query(
                f"SELECT p.id FROM photos p WHERE p.id IN ({marks(len(chunk))}) AND {VISIBLE_SQL}",
                (*chunk, *visible),
            )
            shown.update(int(r[0]) for r in rows)
        return shown

    def photo_dates(self, ids: Sequence[int]) -> dict[int, str]:
        """The sort date (EXIF taken-at, else mtime) of each id."""
        dates: dict[int, str] = {}
        for chunk in chunks(list(ids)):
            rows = self._query(
                f"SELECT p.id, p.sort_date FROM photos p WHERE p.id IN ({marks(len(chunk))})",
                tuple(chunk),
            )
            dates.update((int(r[0]), str(r[1])) for r in rows)
        return dates

    def browse(
        self,
        *,
        folder_id: int | None = None,
        under: Path | None = None,
        limit: int = 200,
        after: BrowseCursor | None = None,
        tagged: Sequence[object] | None = None,
        visible: Sequence[object] | None = None,
    ) -> list[PhotoRecord]:
        """Indexed photos newest first (sort date, then id), one page after ``after``.

        ``folder_id`` keeps one top folder's photos, ``under`` the photos below
        a folder inside it, ``tagged`` (a tag's ``StoredSpace.tag_params``) the
        photos with that tag, ``visible`` (model id, space) leaves out what the
        content filter hides.
        Pages are an index walk (``photos_by_date`` or
        ``photos_by_folder_date``), so any page of 100,000 photos costs about
        the same as the first.
        """
        clauses: list[str] = ["p.status = 'indexed'"]
        params: list[object] = []
        if folder_id is not None:
            clauses.append("p.folder_id = ?")
            params.append(folder_id)
        if under is not None:
            low, high = prefix_range(under)
            clauses.append("p.path >= ? AND p.path < ?")
            params += [low, high]
        if tagged is not None:
            clauses.append(TAGGED_SQL)
            params += list(tagged)
        if visible is not None:
            clauses.append(VISIBLE_SQL)
            params += list(visible)
        if after is not None:
            clauses.append("(p.sort_date, p.id) < (?, ?)")
            params += [after.sort_date, after.id]
        rows = self._query(
            f"SELECT {_PHOTO_COLUMNS} FROM photos p JOIN folders f ON f.id = p.folder_id "
            f"WHERE {' AND '.join(clauses)} ORDER BY p.sort_date DESC, p.id DESC LIMIT ?",
            (*params, limit),
        )
        return [_record(r) for r in rows]

    def name_rows(self, ids: Sequence[int] | None) -> list[tuple[int, bytes, str, bytes]]:
        """(id, path, sort date, top folder path) of indexed photos: all, or among ``ids``.

        Paths as stored (bytes: decoding 100,000 into ``Path`` objects costs seconds).

        What :class:`photoseek.core.search.nameindex.NameIndex` keeps in memory.
        """
        sql = (
            "SELECT p.id, p.path, p.sort_date, f.path FROM photos p "
            "JOIN folders f ON f.id = p.folder_id WHERE p.status = 'indexed'"
        )
        if ids is None:
            rows = self._query(sql)
        else:
            rows = []
            for chunk in chunks(list(ids)):
                rows += self._query(f"{sql} AND p.id IN ({marks(len(chunk))})", tuple(chunk))
        return [(int(r[0]), _raw(r[1]), str(r[2] or ""), _raw(r[3])) for r in rows]

    def thumbnail_sources(self) -> dict[str, Path]:
        """One readable path per indexed content (in an available folder), by fingerprint."""
        rows = self._query(
            "SELECT p.fingerprint, MIN(p.path) FROM photos p JOIN folders f ON f.id = p.folder_id "
            "WHERE p.status = 'indexed' AND f.status = 'ok' AND p.fingerprint IS NOT NULL "
            "GROUP BY p.fingerprint"
        )
        return {str(r[0]): from_db(r[1]) for r in rows}

    def indexed_count(self, folder_id: int | None = None) -> int:
        """How many photos are in the library (or one top folder of it)."""
        if folder_id is None:
            rows = self._query("SELECT COUNT(*) FROM photos WHERE status = 'indexed'")
        else:
            rows = self._query(
                "SELECT COUNT(*) FROM photos WHERE status = 'indexed' AND folder_id = ?",
                (folder_id,),
            )
        return int(rows[0][0])


def _record(row: sqlite3.Row) -> PhotoRecord:
    return PhotoRecord(
        id=int(row[0]),
        path=from_db(row[1]),
        size=int(row[2]),
        mtime_ns=int(row[3]),
        fingerprint=row[4],
        format=row[5],
        width=row[6],
        height=row[7],
        taken_at=row[8],
        folder_available=row[9] == "ok",
        sort_date=str(row[10] or ""),
        folder_id=int(row[11]),
    )


def _raw(value: bytes | str) -> bytes:
    """A stored path's bytes (TEXT from a version-1 row is accepted too)."""
    return value if isinstance(value, bytes) else to_db(value)
