"""The catalog's zero-shot tags (schema v4, :mod:`photoseek.core.catalog.schema_v4`).

A model has at most one *active* tag space; its tags are materialised in
``photo_tags`` from the stored margins and the threshold, so a new threshold
re-tags from the scores alone. Everything is keyed by content (fingerprint),
like embeddings: a moved or renamed photo keeps its tags.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from photoseek.core.catalog.base import CatalogBase
from photoseek.core.lazyimport import lazy_module
from photoseek.core.vectors.codec import STORED_DTYPE, FloatArray

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = ["TAGGED_SQL", "StoredSpace", "TagTable", "store_scores"]

#: An SQL condition on photos ``p``: the photo has a tag (parameters: model id, tag).
TAGGED_SQL = "p.fingerprint IN (SELECT fingerprint FROM photo_tags WHERE model_id = ? AND tag = ?)"


@dataclass(frozen=True)
class StoredSpace:
    """A model's active tag space as stored: names in score order, label vectors with the
    neutral vector last, and the user's threshold (None: the model's default)."""

    model_id: int
    space: str
    label_set: str
    labels: tuple[str, ...]
    vectors: FloatArray
    threshold: float | None


def store_scores(
    tx: sqlite3.Connection,
    space: StoredSpace,
    fingerprint: str,
    margins: FloatArray,
    threshold: float,
) -> None:
    """One content's margins, and its tags (inside the caller's transaction)."""
    tx.execute(
        "INSERT OR REPLACE INTO label_scores (model_id, space, fingerprint, scores) "
        "VALUES (?, ?, ?, ?)",
        (space.model_id, space.space, fingerprint, _encode(margins)),
    )
    tx.execute(
        "DELETE FROM photo_tags WHERE model_id = ? AND fingerprint = ?",
        (space.model_id, fingerprint),
    )
    tx.executemany(
        "INSERT OR IGNORE INTO photo_tags (model_id, tag, fingerprint) VALUES (?, ?, ?)",
        [
            (space.model_id, space.labels[i], fingerprint)
            for i in np.flatnonzero(margins >= threshold)
        ],
    )


def _encode(margins: FloatArray) -> bytes:
    return np.ascontiguousarray(margins, dtype=STORED_DTYPE).tobytes()


class TagTable(CatalogBase):
    """Tag spaces, stored margins and materialised tags."""

    def tag_space(self, model_id: int) -> StoredSpace | None:
        """The model's active tag space, if it was ever tagged."""
        rows = self._query(
            "SELECT space, label_set, labels, vectors, threshold FROM tag_spaces "
            "WHERE model_id = ? AND active = 1",
            (model_id,),
        )
        if not rows:
            return None
        space, label_set, labels, blob, threshold = rows[0]
        names = tuple(json.loads(labels))
        vectors = np.frombuffer(blob, dtype="<f4").reshape(len(names) + 1, -1).copy()
        return StoredSpace(model_id, space, label_set, names, vectors, threshold)

    def replace_tag_space(
        self,
        space: StoredSpace,
        fingerprints: Sequence[str],
        margins: FloatArray,
        threshold: float,
    ) -> None:
        """Make ``space`` the model's active one with these margins, and tag (one transaction)."""
        blob = np.ascontiguousarray(space.vectors, dtype="<f4").tobytes()
        encoded = np.ascontiguousarray(margins, dtype=STORED_DTYPE)
        with self.transaction() as tx:
            tx.execute("UPDATE tag_spaces SET active = 0 WHERE model_id = ?", (space.model_id,))
            tx.execute(
                "INSERT INTO tag_spaces (model_id, space, label_set, labels, vectors, threshold, "
                "active) VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (model_id, space) DO UPDATE "
                "SET label_set = excluded.label_set, labels = excluded.labels, "
                "vectors = excluded.vectors, active = 1",
                (
                    space.model_id,
                    space.space,
                    space.label_set,
                    json.dumps(list(space.labels)),
                    blob,
                    space.threshold,
                ),
            )
            tx.execute(
                "DELETE FROM label_scores WHERE model_id = ? AND space = ?",
                (space.model_id, space.space),
            )
            tx.executemany(
                "INSERT INTO label_scores (model_id, space, fingerprint, scores) "
                "VALUES (?, ?, ?, ?)",
                (
                    (space.model_id, space.space, fp, encoded[row].tobytes())
                    for row, fp in enumerate(fingerprints)
                ),
            )
            _materialise(tx, space, fingerprints, margins, threshold)

    def retag(self, space: StoredSpace, threshold: float, *, stored: float | None) -> None:
        """Tags again from the stored margins at ``threshold`` (nothing is re-embedded);
        ``stored`` is kept as the user's threshold (None: the model's default)."""
        with self.transaction() as tx:
            rows = tx.execute(
                "SELECT fingerprint, scores FROM label_scores WHERE model_id = ? AND space = ?",
                (space.model_id, space.space),
            ).fetchall()
            fingerprints = [row[0] for row in rows]
            joined = b"".join(row[1] for row in rows)
            margins = np.frombuffer(joined, dtype=STORED_DTYPE).reshape(len(rows), -1)
            tx.execute(
                "UPDATE tag_spaces SET threshold = ? WHERE model_id = ? AND space = ?",
                (stored, space.model_id, space.space),
            )
            _materialise(tx, space, fingerprints, margins, threshold)

    def tag_counts(self, model_id: int) -> list[tuple[str, int]]:
        """Each tag with its number of indexed photos, most first."""
        rows = self._query(
            "SELECT t.tag, COUNT(DISTINCT p.id) FROM photo_tags t "
            "JOIN photos p ON p.fingerprint = t.fingerprint AND p.status = 'indexed' "
            "WHERE t.model_id = ? GROUP BY t.tag ORDER BY 2 DESC, 1",
            (model_id,),
        )
        return [(row[0], int(row[1])) for row in rows]

    def photo_tags(self, model_id: int, fingerprint: str) -> list[str]:
        """The tags of one content, in label order."""
        rows = self._query(
            "SELECT tag FROM photo_tags WHERE model_id = ? AND fingerprint = ?",
            (model_id, fingerprint),
        )
        return [row[0] for row in rows]

    def stored_vectors(self, model_id: int, dim: int) -> tuple[list[str], FloatArray]:
        """Every stored vector of the model, with its content's fingerprint."""
        rows = self._query(
            "SELECT fingerprint, vector FROM embeddings WHERE model_id = ?", (model_id,)
        )
        joined = b"".join(row[1] for row in rows)
        matrix = np.frombuffer(joined, dtype=STORED_DTYPE).reshape(len(rows), dim)
        return [row[0] for row in rows], matrix.astype(np.float32)


def _materialise(
    tx: sqlite3.Connection,
    space: StoredSpace,
    fingerprints: Sequence[str],
    margins: FloatArray,
    threshold: float,
) -> None:
    tx.execute("DELETE FROM photo_tags WHERE model_id = ?", (space.model_id,))
    rows, columns = np.nonzero(np.asarray(margins, np.float32) >= threshold)
    tx.executemany(
        "INSERT INTO photo_tags (model_id, tag, fingerprint) VALUES (?, ?, ?)",
        (
            (space.model_id, space.labels[c], fingerprints[r])
            for r, c in zip(rows.tolist(), columns.tolist(), strict=True)
        ),
    )
