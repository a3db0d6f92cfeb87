"""The catalog's zero-shot tags (schema v4, :mod:`photoseek.core.catalog.schema_v4`).

A model has at most one *active* tag space. Each stored vector of the model
has one row in it: the margins (float16 blob) and the tags they give at the
threshold as two bit masks, so a new threshold re-tags from the margins
alone and a tag filter is a bit test. Rows are keyed by the stored vector
(``embeddings.id``, a content): a moved or renamed photo keeps its tags.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from photoseek.core.catalog.base import CatalogBase
from photoseek.core.errors import PhotoseekError
from photoseek.core.lazyimport import lazy_module
from photoseek.core.vectors.codec import STORED_DTYPE, FloatArray

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:
    np = lazy_module("numpy")

__all__ = [
    "MAX_LABELS",
    "TAGGED_SQL",
    "VISIBLE_SQL",
    "StoredSpace",
    "TagTable",
    "store_scores",
    "tag_bit",
]

MAX_LABELS = 126  # two 63-bit masks
_WORD = 63

#: An SQL condition on photos ``p``: the content filter does not hide it.
#: Parameters: model id, the filter's space.
VISIBLE_SQL = (
    "p.fingerprint NOT IN (SELECT e.fingerprint FROM label_scores s JOIN embeddings e "
    "ON e.id = s.embedding WHERE s.model_id = ? AND s.space = ? "
    "AND (s.tags0 != 0 OR s.tags1 != 0))"
)

#: An SQL condition on photos ``p``: the photo has a tag. Parameters
#: (:meth:`StoredSpace.tag_params`): model id, space, mask word (0 or 1), bit.
TAGGED_SQL = (
    "p.fingerprint IN (SELECT e.fingerprint FROM label_scores s JOIN embeddings e "
    "ON e.id = s.embedding WHERE s.model_id = ? AND s.space = ? "
    "AND ((CASE ? WHEN 0 THEN s.tags0 ELSE s.tags1 END) >> ?) & 1)"
)


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
    kind: str = "tags"  # or "hide": the content filter

    def tag_params(self, name: str) -> list[object]:
        """The parameters of :data:`TAGGED_SQL` for the tag ``name`` (case-insensitive)."""
        word, bit = tag_bit(self.labels, name)
        return [self.model_id, self.space, word, bit]


def tag_bit(labels: Sequence[str], name: str) -> tuple[int, int]:
    """(mask word, bit) of the label ``name``."""
    wanted = name.casefold()
    index = next(i for i, label in enumerate(labels) if label.casefold() == wanted)
    return divmod(index, _WORD)


def masks(margins: npt.ArrayLike, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """The two tag masks of each row of ``margins`` (labels at or above ``threshold``)."""
    hits = np.atleast_2d(np.asarray(margins, np.float32)) >= threshold
    if hits.shape[1] > MAX_LABELS:
        raise PhotoseekError(f"a label set for tags has at most {MAX_LABELS} labels")
    weights = np.left_shift(np.int64(1), np.arange(_WORD, dtype=np.int64))
    low = (hits[:, :_WORD] * weights[: min(_WORD, hits.shape[1])]).sum(axis=1)
    high_hits = hits[:, _WORD:]
    high = (high_hits * weights[: high_hits.shape[1]]).sum(axis=1) if high_hits.size else 0 * low
    return low.astype(np.int64), np.asarray(high, np.int64)


def store_scores(
    tx: sqlite3.Connection,
    space: StoredSpace,
    fingerprint: str,
    margins: FloatArray,
    threshold: float,
) -> None:
    """The margins and tags of the model's stored vector of one content (inside the
    caller's transaction, after the vector was stored)."""
    row = tx.execute(
        "SELECT id FROM embeddings WHERE model_id = ? AND fingerprint = ?",
        (space.model_id, fingerprint),
    ).fetchone()
    if row is None:
        return
    low, high = masks(margins, threshold)
    tx.execute(
        "INSERT OR REPLACE INTO label_scores (model_id, space, embedding, scores, tags0, tags1) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (space.model_id, space.space, int(row[0]), _encode(margins), int(low[0]), int(high[0])),
    )


def _encode(margins: npt.ArrayLike) -> bytes:
    return np.ascontiguousarray(margins, dtype=STORED_DTYPE).tobytes()


class TagTable(CatalogBase):
    """Tag spaces and each stored vector's margins and tags."""

    def tag_space(self, model_id: int, kind: str = "tags") -> StoredSpace | None:
        """The model's active space of ``kind`` (``tags`` or ``hide``), if there is one."""
        rows = self._query(
            "SELECT space, label_set, labels, vectors, threshold FROM tag_spaces "
            "WHERE model_id = ? AND active = 1 AND kind = ?",
            (model_id, kind),
        )
        if not rows:
            return None
        space, label_set, labels, blob, threshold = rows[0]
        names = tuple(json.loads(labels))
        vectors = np.frombuffer(blob, dtype="<f4").reshape(len(names) + 1, -1).copy()
        return StoredSpace(model_id, space, label_set, names, vectors, threshold, kind)

    def latest_space(self, kind: str = "tags") -> StoredSpace | None:
        """The active space of ``kind`` made last, for whichever model."""
        rows = self._query(
            "SELECT model_id FROM tag_spaces WHERE active = 1 AND kind = ? "
            "ORDER BY rowid DESC LIMIT 1",
            (kind,),
        )
        return self.tag_space(int(rows[0][0]), kind) if rows else None

    def drop_tag_space(self, model_id: int, kind: str) -> None:
        """The model has no active space of ``kind`` any more (its scores go too)."""
        with self.transaction() as tx:
            spaces = tx.execute(
                "SELECT space FROM tag_spaces WHERE model_id = ? AND kind = ?", (model_id, kind)
            ).fetchall()
            for (space,) in spaces:
                tx.execute(
                    "DELETE FROM label_scores WHERE model_id = ? AND space = ?", (model_id, space)
                )
            tx.execute("DELETE FROM tag_spaces WHERE model_id = ? AND kind = ?", (model_id, kind))

    def replace_tag_space(
        self,
        space: StoredSpace,
        embeddings: Sequence[int],
        margins: FloatArray,
        threshold: float,
    ) -> None:
        """Make ``space`` the model's active one with these margins and tags (one transaction)."""
        if len(space.labels) > MAX_LABELS:
            raise PhotoseekError(f"a label set for tags has at most {MAX_LABELS} labels")
        blob = np.ascontiguousarray(space.vectors, dtype="<f4").tobytes()
        encoded = np.ascontiguousarray(margins, dtype=STORED_DTYPE)
        low, high = masks(margins, threshold)
        with self.transaction() as tx:
            old = tx.execute(
                "SELECT space FROM tag_spaces WHERE model_id = ? AND kind = ?",
                (space.model_id, space.kind),
            ).fetchall()
            for (name,) in old:  # one space per kind keeps its scores: the active one
                tx.execute(
                    "DELETE FROM label_scores WHERE model_id = ? AND space = ?",
                    (space.model_id, name),
                )
            tx.execute(
                "UPDATE tag_spaces SET active = 0 WHERE model_id = ? AND kind = ?",
                (space.model_id, space.kind),
            )
            tx.execute(
                "INSERT INTO tag_spaces (model_id, space, label_set, labels, vectors, threshold, "
                "active, kind) VALUES (?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT (model_id, space) "
                "DO UPDATE SET label_set = excluded.label_set, labels = excluded.labels, "
                "vectors = excluded.vectors, active = 1, kind = excluded.kind",
                (
                    space.model_id,
                    space.space,
                    space.label_set,
                    json.dumps(list(space.labels)),
                    blob,
                    space.threshold,
                    space.kind,
                ),
            )
            tx.executemany(
                "INSERT INTO label_scores (model_id, space, embedding, scores, tags0, tags1) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                _rows(space, embeddings, encoded, low.tolist(), high.tolist()),
            )

    def retag(self, space: StoredSpace, threshold: float, *, stored: float | None) -> None:
        """Tags again from the stored margins at ``threshold`` (nothing is re-embedded);
        ``stored`` is kept as the user's threshold (None: the model's default)."""
        with self.transaction() as tx:
            rows = tx.execute(
                "SELECT embedding, scores FROM label_scores WHERE model_id = ? AND space = ?",
                (space.model_id, space.space),
            ).fetchall()
            joined = b"".join(row[1] for row in rows)
            margins = np.frombuffer(joined, dtype=STORED_DTYPE).reshape(len(rows), -1)
            low, high = masks(margins, threshold)
            tx.execute(
                "UPDATE tag_spaces SET threshold = ? WHERE model_id = ? AND space = ?",
                (stored, space.model_id, space.space),
            )
            tx.executemany(
                "UPDATE label_scores SET tags0 = ?, tags1 = ? "
                "WHERE model_id = ? AND space = ? AND embedding = ?",
                (
                    (lo, hi, space.model_id, space.space, row[0])
                    for lo, hi, row in zip(low.tolist(), high.tolist(), rows, strict=True)
                ),
            )

    def tag_counts(
        self, space: StoredSpace, hidden_by: StoredSpace | None = None
    ) -> list[tuple[str, int]]:
        """Each tag with its number of indexed photos, most first (tags of no photo left out);
        ``hidden_by``: the content filter whose hidden photos are not counted."""
        where, params = "", []
        if hidden_by is not None:
            where, params = f" AND {VISIBLE_SQL}", [hidden_by.model_id, hidden_by.space]
        rows = self._query(
            "SELECT s.tags0, s.tags1 FROM photos p "
            "JOIN embeddings e ON e.fingerprint = p.fingerprint AND e.model_id = ? "
            "JOIN label_scores s ON s.model_id = e.model_id AND s.space = ? AND s.embedding = e.id "
            f"WHERE p.status = 'indexed'{where}",
            (space.model_id, space.space, *params),
        )
        counts = _bit_counts(rows, len(space.labels))
        named = [(space.labels[i], int(n)) for i, n in enumerate(counts) if n]
        return sorted(named, key=lambda pair: (-pair[1], pair[0]))

    def content_tags(self, space: StoredSpace, fingerprint: str) -> list[str]:
        """The tags of one content, in label order."""
        rows = self._query(
            "SELECT s.tags0, s.tags1 FROM label_scores s JOIN embeddings e ON e.id = s.embedding "
            "WHERE s.model_id = ? AND s.space = ? AND e.fingerprint = ?",
            (space.model_id, space.space, fingerprint),
        )
        if not rows:
            return []
        low, high = int(rows[0][0]), int(rows[0][1])
        return [
            name
            for i, name in enumerate(space.labels)
            if ((low if i < _WORD else high) >> (i % _WORD)) & 1
        ]

    def hidden_count(self, space: StoredSpace) -> int:
        """How many indexed photos the content filter ``space`` hides."""
        rows = self._query(
            f"SELECT COUNT(*) FROM photos p WHERE p.status = 'indexed' AND NOT ({VISIBLE_SQL})",
            (space.model_id, space.space),
        )
        return int(rows[0][0])

    def hidden_by_folder(self, space: StoredSpace) -> dict[int, int]:
        """How many indexed photos the content filter ``space`` hides, per top folder id."""
        rows = self._query(
            "SELECT p.folder_id, COUNT(*) FROM photos p WHERE p.status = 'indexed' "
            f"AND NOT ({VISIBLE_SQL}) GROUP BY p.folder_id",
            (space.model_id, space.space),
        )
        return {int(r[0]): int(r[1]) for r in rows}

    def stored_vectors(self, model_id: int, dim: int) -> tuple[list[int], np.ndarray]:
        """Every stored vector of the model as stored (float16), with its ``embeddings.id``.

        Not converted here: numpy turns 100,000 x 512 float16 into float32 in
        0.6-0.9 s on this machine, torch in 0.08 s (:func:`~photoseek.core.
        zeroshot.tagging.margins` converts in chunks with torch).
        """
        rows = self._query("SELECT id, vector FROM embeddings WHERE model_id = ?", (model_id,))
        joined = b"".join(row[1] for row in rows)
        matrix = np.frombuffer(joined, dtype=STORED_DTYPE).reshape(len(rows), dim)
        return [row[0] for row in rows], matrix


def _rows(
    space: StoredSpace,
    embeddings: Sequence[int],
    encoded: np.ndarray,
    low: list[int],
    high: list[int],
) -> Iterable[tuple[object, ...]]:
    model_id, name = space.model_id, space.space
    for row, embedding in enumerate(embeddings):
        yield model_id, name, embedding, encoded[row].tobytes(), low[row], high[row]


def _bit_counts(rows: Sequence[Sequence[int]], labels: int) -> np.ndarray:
    if not rows:
        return np.zeros(labels, np.int64)
    words = np.asarray(rows, np.int64)  # (photos, 2)
    bits = np.arange(_WORD, dtype=np.int64)
    low = ((words[:, :1] >> bits) & 1).sum(axis=0)
    high = ((words[:, 1:] >> bits) & 1).sum(axis=0)
    return np.concatenate([low, high])[:labels]
