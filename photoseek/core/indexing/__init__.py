"""The indexing pipeline: read once, fingerprint, decode in a pool, embed, commit per batch.

Offers :class:`IndexJob` (:mod:`.pipeline`) and :class:`IndexerOptions`
(:mod:`.options`), content fingerprints (:mod:`.fingerprint`), the checked
read of a queued file (:mod:`.reading`), the work source (:mod:`.worksource`),
progress counts (:mod:`.tracker`) and the pass that makes missing thumbnails
(:mod:`.thumbnailing`). The names are imported when first used: the app's
window shows before the pipeline (and Pillow) is imported.
"""

from typing import TYPE_CHECKING

from photoseek.core.lazyimport import lazy_attributes

if TYPE_CHECKING:
    from photoseek.core.indexing.options import IndexerOptions
    from photoseek.core.indexing.pipeline import IndexJob

__all__ = ["IndexJob", "IndexerOptions"]

__getattr__ = lazy_attributes(
    {
        "IndexJob": "photoseek.core.indexing.pipeline",
        "IndexerOptions": "photoseek.core.indexing.options",
    }
)
