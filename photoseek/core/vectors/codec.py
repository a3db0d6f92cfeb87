"""How vectors are stored in the catalog: little-endian float16 blobs.

float16 halves the catalog against float32 (1 KB per 512-d vector); the
rounding changes cosine scores by about 1e-4, well below the spread between
search results. The vector index is always built from the decoded float16
values so that index scores and exact re-scores agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from photoseek.core.lazyimport import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:
    np = lazy_module("numpy")


STORED_DTYPE = "<f2"  # little-endian float16, as numpy spells it (numpy loads on first use)

if TYPE_CHECKING:
    FloatArray = npt.NDArray[np.float32]
else:
    FloatArray = "numpy.ndarray"  # annotations only: the real alias is for type checkers


def normalize(vectors: npt.ArrayLike) -> FloatArray:
    """L2-normalise rows (a 1-d input is one row); zero rows stay zero."""
    array = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalized: FloatArray = (array / norms).astype(np.float32)
    return normalized


def first_row(matrix: FloatArray) -> FloatArray:
    """Row 0 of a matrix, typed as a vector."""
    row: FloatArray = matrix[0]
    return row


def quantize(vectors: FloatArray) -> FloatArray:
    """Round vectors exactly as storing and reloading them would."""
    return vectors.astype(STORED_DTYPE).astype(np.float32)


def encode(vector: FloatArray) -> bytes:
    """One vector as a stored blob."""
    return np.ascontiguousarray(vector, dtype=STORED_DTYPE).tobytes()


def decode_many(blobs: Iterable[bytes], dim: int) -> FloatArray:
    """Stored blobs as a float32 matrix of shape (n, dim)."""
    joined = b"".join(blobs)
    matrix = np.frombuffer(joined, dtype=STORED_DTYPE).astype(np.float32)
    return matrix.reshape(-1, dim)
