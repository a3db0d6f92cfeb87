"""Catalog access for the near-duplicate finder: its photo table and the stored pHashes.

A mixin of :class:`photoseek.core.catalog.store.Catalog`. The indexer writes
a content's pHash in its batch transaction
(:func:`photoseek.core.catalog.batchwrites.store_phash`); the duplicate
finder reads every candidate photo with its hash in one statement
(:meth:`PhashTable.duplicate_rows`) and stores the hashes it had to compute
(:meth:`PhashTable.store_phashes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from photoseek.core.catalog.base import CatalogBase
from photoseek.core.duplicates.phash import from_stored, to_stored

__all__ = ["DuplicateRow", "PhashTable"]


@dataclass(frozen=True)
class DuplicateRow:
    """An indexed photo as the duplicate finder needs it (``path``: the stored bytes)."""

    id: int
    path: bytes
    fingerprint: str
    size: int
    mtime_ns: int
    format: str | None
    width: int | None
    height: int | None
    sort_date: str
    phash: int | None
    available: bool


class PhashTable(CatalogBase):
    """Rows and pHashes for the duplicate finder."""

    def duplicate_rows(self, model_id: int) -> list[DuplicateRow]:
        """Every indexed photo with a vector of ``model_id``, its pHash (None: none yet) and
        whether its folder is available, by id."""
        rows = self._query(
            "SELECT p.id, p.path, p.fingerprint, p.size, p.mtime_ns, p.format, p.width, "
            "p.height, p.sort_date, h.phash, f.status = 'ok' FROM photos p "
            "JOIN folders f ON f.id = p.folder_id "
            "JOIN embeddings e ON e.fingerprint = p.fingerprint AND e.model_id = ? "
            "LEFT JOIN phashes h ON h.fingerprint = p.fingerprint "
            "WHERE p.status = 'indexed' ORDER BY p.id",
            (model_id,),
        )
        return [
            DuplicateRow(
                id=int(r[0]),
                path=r[1] if isinstance(r[1], bytes) else str(r[1]).encode(),
                fingerprint=str(r[2]),
                size=int(r[3]),
                mtime_ns=int(r[4]),
                format=r[5],
                width=r[6],
                height=r[7],
                sort_date=str(r[8] or ""),
                phash=None if r[9] is None else from_stored(int(r[9])),
                available=bool(r[10]),
            )
            for r in rows
        ]

    def store_phashes(self, hashes: Iterable[tuple[str, int]]) -> int:
        """Store (fingerprint, unsigned pHash) pairs in one transaction; returns how many.

        Hashes of contents no photo has any more are dropped at the same time.
        """
        values = [(fingerprint, to_stored(value)) for fingerprint, value in hashes]
        with self.transaction() as tx:
            tx.executemany(
                "INSERT INTO phashes (fingerprint, phash) VALUES (?, ?) "
                "ON CONFLICT(fingerprint) DO UPDATE SET phash = excluded.phash",
                values,
            )
            tx.execute(
                "DELETE FROM phashes WHERE fingerprint NOT IN "
                "(SELECT fingerprint FROM photos WHERE fingerprint IS NOT NULL)"
            )
        return len(values)

    def phash_of(self, fingerprint: str) -> int | None:
        """The stored pHash of a content, if any."""
        rows = self._query("SELECT phash FROM phashes WHERE fingerprint = ?", (fingerprint,))
        return from_stored(int(rows[0][0])) if rows else None
