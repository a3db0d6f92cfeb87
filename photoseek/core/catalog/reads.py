"""Catalog reads for search: live ids, vectors, photo records, filters, dates.

A mixin of :class:`photoseek.core.catalog.store.Catalog`, which provides the
locked connection through ``_query``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from photoseek.core.errors import LibraryError
from photoseek.core.records import PhotoRecord
from photoseek.core.vectors import codec as vectorcodec

_CHUNK = 500  # SQLite host parameters per IN (...) list

_PHOTO_COLUMNS = (
    "p.id, p.path, p.size, p.mtime_ns, p.fingerprint, p.format, p.width, p.height, "
    "p.taken_at, f.status"
)

#: The date a photo sorts and filters by: EXIF taken-at, else its mtime (local time).
PHOTO_DATE_SQL = (
    "COALESCE(p.taken_at, strftime('%Y-%m-%dT%H:%M:%S', p.mtime_ns / 1000000000, "
    "'unixepoch', 'localtime'))"
)


def _chunks(items: Sequence[int], size: int = _CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SearchReads:
    """Read-only queries behind search; needs ``_query`` from the catalog."""

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def live_ids(self, model_id: int) -> set[int]:
        """Ids of photos that belong in this model's vector index."""
        rows = self._query(
            "SELECT p.id FROM photos p JOIN embeddings e "
            "ON e.fingerprint = p.fingerprint AND e.model_id = ? WHERE p.status = 'indexed'",
            (model_id,),
        )
        return {int(r[0]) for r in rows}

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
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"SELECT p.id, e.vector FROM photos p JOIN embeddings e "
                f"ON e.fingerprint = p.fingerprint AND e.model_id = ? "
                f"WHERE p.id IN ({marks}) {status}",
                (model_id, *chunk),
            )
            by_id.update((int(r[0]), bytes(r[1])) for r in rows)
        return by_id

    def photos(self, ids: Sequence[int]) -> dict[int, PhotoRecord]:
        """Records of the given photo ids (missing ids are absent)."""
        found: dict[int, PhotoRecord] = {}
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"SELECT {_PHOTO_COLUMNS} FROM photos p JOIN folders f ON f.id = p.folder_id "
                f"WHERE p.id IN ({marks})",
                tuple(chunk),
            )
            found.update((int(r[0]), _record(r)) for r in rows)
        return found

    def photo_at(self, path: Path) -> PhotoRecord | None:
        """The indexed photo at ``path``, if any."""
        rows = self._query(
            f"SELECT {_PHOTO_COLUMNS} FROM photos p JOIN folders f ON f.id = p.folder_id "
            "WHERE p.path = ? AND p.status = 'indexed'",
            (str(path),),
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

    def photo_dates(self, ids: Sequence[int]) -> dict[int, str]:
        """The sort date (EXIF taken-at, else mtime) of each id."""
        dates: dict[int, str] = {}
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"SELECT p.id, {PHOTO_DATE_SQL} FROM photos p WHERE p.id IN ({marks})",
                tuple(chunk),
            )
            dates.update((int(r[0]), str(r[1])) for r in rows)
        return dates


def _record(row: sqlite3.Row) -> PhotoRecord:
    return PhotoRecord(
        id=int(row[0]),
        path=Path(row[1]),
        size=int(row[2]),
        mtime_ns=int(row[3]),
        fingerprint=row[4],
        format=row[5],
        width=row[6],
        height=row[7],
        taken_at=row[8],
        folder_available=row[9] == "ok",
    )
