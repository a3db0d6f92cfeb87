"""Near-duplicates: groups of near-identical photos, each with the photo to keep first.

Two photos are joined when they have the same content, when their
perceptual hashes are close (:mod:`.phash`: resized and re-encoded copies,
whatever the model) or when their embeddings are (the model's cosine
threshold: bursts, crops, edits; :mod:`.thresholds`, provisional per model).
Only candidate pairs are tested (:mod:`.candidates`: neighbours from the
vector index, equal contents and hashes, shared hash quarters), a group is a
connected component (:mod:`.unionfind`, :mod:`.grouping`), a camera RAW and
its JPEG are one photo (:mod:`.formats`, :mod:`.siblings`), and each group is
ordered by the keep rule (:mod:`.keeprule`). :mod:`.service` puts the steps
together, :mod:`.backfill` hashes photos indexed before hashes existed, and
:mod:`.records` holds what a search returns. The ``Library`` facade offers it
as ``Library.duplicates`` (:mod:`photoseek.core.library.duplicateops`).

Nothing here imports the catalog at package import: the catalog's own pHash
table (:mod:`photoseek.core.catalog.phashes`) imports :mod:`.phash`.
"""
