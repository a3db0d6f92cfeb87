"""The catalog's smart albums: saved queries and their cut-offs per model (schema v4)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from photoseek.core.catalog.base import CatalogBase
from photoseek.core.errors import QueryError

__all__ = ["AlbumTable", "StoredAlbum"]


@dataclass(frozen=True)
class StoredAlbum:
    """An album as stored: its query, its filters (JSON-ready) and its cut-offs by model id."""

    name: str
    query: str
    filters: dict[str, Any]
    cutoffs: dict[int, float]


class AlbumTable(CatalogBase):
    """Saved queries."""

    def save_album(
        self, name: str, query: str, filters: dict[str, Any], model_id: int, cutoff: float | None
    ) -> None:
        """Add or replace the album ``name`` (its other models' cut-offs go: the query changed)."""
        with self.transaction() as tx:
            tx.execute("DELETE FROM albums WHERE name = ?", (name,))
            tx.execute("DELETE FROM album_cutoffs WHERE album = ?", (name,))
            tx.execute(
                "INSERT INTO albums (name, query, filters, created_at) VALUES (?, ?, ?, ?)",
                (name, query, json.dumps(filters, sort_keys=True), time.time()),
            )
            if cutoff is not None:
                tx.execute(
                    "INSERT INTO album_cutoffs (album, model_id, min_score) VALUES (?, ?, ?)",
                    (name, model_id, cutoff),
                )

    def set_album_cutoff(self, name: str, model_id: int, cutoff: float) -> None:
        """The album's cut-off for one model."""
        self.album(name)  # raises for an unknown album
        with self.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO album_cutoffs (album, model_id, min_score) "
                "VALUES ((SELECT name FROM albums WHERE name = ?), ?, ?)",
                (name, model_id, cutoff),
            )

    def remove_album(self, name: str) -> None:
        """Forget the album (no photo is touched)."""
        self.album(name)
        with self.transaction() as tx:
            tx.execute("DELETE FROM album_cutoffs WHERE album = ?", (name,))
            tx.execute("DELETE FROM albums WHERE name = ?", (name,))

    def album(self, name: str) -> StoredAlbum:
        """The album called ``name`` (case-insensitive); :class:`QueryError` if there is none."""
        rows = self._query("SELECT name, query, filters FROM albums WHERE name = ?", (name,))
        if not rows:
            known = ", ".join(a.name for a in self.albums()) or "none yet"
            raise QueryError(f"no album called {name!r} (albums: {known})")
        return self._stored(rows[0])

    def albums(self) -> list[StoredAlbum]:
        """Every album, by name."""
        rows = self._query("SELECT name, query, filters FROM albums ORDER BY name COLLATE NOCASE")
        return [self._stored(row) for row in rows]

    def _stored(self, row: Any) -> StoredAlbum:
        cutoffs = self._query(
            "SELECT model_id, min_score FROM album_cutoffs WHERE album = ?", (row[0],)
        )
        return StoredAlbum(
            row[0], row[1], json.loads(row[2]), {int(r[0]): float(r[1]) for r in cutoffs}
        )
