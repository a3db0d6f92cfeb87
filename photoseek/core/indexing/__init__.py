"""The indexing pipeline: read once, fingerprint, decode in a pool, embed, commit per batch.

Offers :class:`IndexJob` and :class:`IndexerOptions` (:mod:`.pipeline`),
content fingerprints (:mod:`.fingerprint`), the checked read of a queued
file (:mod:`.reading`), the work source (:mod:`.worksource`), progress
counts (:mod:`.tracker`) and the pass that makes missing thumbnails
(:mod:`.thumbnailing`).
"""

from photoseek.core.indexing.pipeline import IndexerOptions, IndexJob

__all__ = ["IndexJob", "IndexerOptions"]
