"""Tagging one indexing batch inside the transaction that stores its vectors.

The margins of the batch are one matrix product against the stored label
space, computed before the transaction opens; :meth:`BatchTags.store` then
writes one photo's margins and tags beside its vector, so a photo is never
searchable untagged (nor filtered as if it had no tags).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from photoseek.core.catalog.tags import StoredSpace, store_scores
from photoseek.core.lazyimport import lazy_module
from photoseek.core.vectors.codec import FloatArray
from photoseek.core.zeroshot.tagging import margins

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = ["BatchTags"]


@dataclass(frozen=True)
class BatchTags:
    """The margins of a batch's new vectors against the model's active tag space."""

    space: StoredSpace
    threshold: float
    rows: dict[str, FloatArray]  # fingerprint -> margins

    @classmethod
    def of(cls, space: StoredSpace, vectors: dict[str, FloatArray], default: float) -> BatchTags:
        """Score ``vectors`` (fingerprint -> vector); ``default``: the model's threshold."""
        fingerprints = list(vectors)
        matrix = margins(space.vectors, np.stack([vectors[fp] for fp in fingerprints]))
        threshold = space.threshold if space.threshold is not None else default
        return cls(space, threshold, dict(zip(fingerprints, matrix, strict=True)))

    def store(self, tx: sqlite3.Connection, fingerprint: str) -> None:
        """Write the margins and tags of one stored vector (nothing for a vector not stored)."""
        row = self.rows.get(fingerprint)
        if row is not None:
            store_scores(tx, self.space, fingerprint, row, self.threshold)
