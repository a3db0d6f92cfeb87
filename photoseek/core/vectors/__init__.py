"""The vector index: an HNSW cache derived from the catalog's vectors.

Offers :class:`VectorIndex` and :func:`open_or_rebuild`; :mod:`.files` saves
and verifies the index files, :mod:`.hnsw` holds the stateless helpers over
the native hnswlib index, :mod:`.codec` says how vectors are stored.
"""

from photoseek.core.vectors.index import VectorIndex
from photoseek.core.vectors.opening import open_or_rebuild

__all__ = ["VectorIndex", "open_or_rebuild"]
