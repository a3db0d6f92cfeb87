"""The indexing pipeline: fingerprint, decode in a pool, embed, commit per batch.

Offers :class:`Indexer`, :class:`IndexerOptions` and :class:`Progress`
(:mod:`.pipeline`) and content fingerprints (:mod:`.fingerprint`).
"""

from photoseek.core.indexing.pipeline import Indexer, IndexerOptions, Progress

__all__ = ["Indexer", "IndexerOptions", "Progress"]
