"""Every live vector of one model in one matrix, for exact scans.

A relevance cut-off ("every photo scoring at least 0.25") has no natural
``k``: growing the HNSW ``k`` until the scores fall below the cut-off would
be slow and, near the cut-off, inexact. Instead the stored vectors are held
in one float16 matrix (1 KB per 512-d vector: 100 MB for 100,000 photos) and
scored exhaustively, in float32 chunks; on two cores that is a few
milliseconds per 100,000 photos. The matrix is built from the catalog on
first use and then kept in step with it by the same change-log sync as the
HNSW index (:class:`photoseek.core.indexkeeper.IndexKeeper`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from photoseek.core.lazyimport import lazy_module
from photoseek.core.vectors.codec import STORED_DTYPE, FloatArray

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:
    np = lazy_module("numpy")

_CHUNK = 16_384


class VectorMatrix:
    """Live vectors by label, scored exhaustively. Thread-safe."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._lock = threading.Lock()
        self._labels = np.zeros(0, dtype=np.int64)
        self._vectors = np.zeros((0, dim), dtype=STORED_DTYPE)
        self._rows: dict[int, int] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)

    def put(self, labels: Sequence[int], vectors: npt.NDArray[np.floating]) -> None:
        """Add or replace the vectors of ``labels`` (shape ``(len(labels), dim)``)."""
        if len(labels) == 0:
            return
        data = np.asarray(vectors, dtype=STORED_DTYPE).reshape(len(labels), self.dim)
        with self._lock:
            new: list[int] = []
            for i, label in enumerate(labels):
                at = self._rows.get(int(label))
                if at is None:
                    new.append(i)
                else:
                    self._vectors[at] = data[i]
            if not new:
                return
            start = len(self._labels)
            self._labels = np.concatenate([self._labels, np.asarray(labels, np.int64)[new]])
            self._vectors = np.concatenate([self._vectors, data[new]])
            for offset, i in enumerate(new):
                self._rows[int(labels[i])] = start + offset

    def remove(self, labels: Iterable[int]) -> None:
        """Forget these labels (unknown ones are ignored)."""
        with self._lock:
            gone = [self._rows[int(label)] for label in labels if int(label) in self._rows]
            if not gone:
                return
            keep = np.ones(len(self._labels), dtype=bool)
            keep[gone] = False
            self._labels, self._vectors = self._labels[keep], self._vectors[keep]
            self._rows = {int(label): row for row, label in enumerate(self._labels)}

    def labels(self) -> set[int]:
        """A copy of the labels held."""
        with self._lock:
            return set(self._rows)

    def scores(self, query: FloatArray) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Every label and its cosine similarity to the unit vector ``query``."""
        with self._lock:
            labels, vectors = self._labels, self._vectors
        out = np.empty(len(labels), dtype=np.float32)
        q = np.asarray(query, dtype=np.float32)
        for start in range(0, len(labels), _CHUNK):
            out[start : start + _CHUNK] = vectors[start : start + _CHUNK].astype(np.float32) @ q
        return labels.copy(), out
