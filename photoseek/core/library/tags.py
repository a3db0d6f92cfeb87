"""Zero-shot tags through the facade: tag the library, thresholds, counts, a photo's tags.

:meth:`TagOps.tag` is a job (it holds the writer lock): it builds the label
space with the model, scores every stored vector of the model in one matrix
product and stores the margins and tags in one transaction. From then on
the indexer tags each new photo in the transaction that stores its vector.
Reads (:meth:`tags`, :meth:`photo_tags`, :meth:`tag_threshold`) never load
the model.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from photoseek.core.catalog.tags import MAX_LABELS, StoredSpace
from photoseek.core.errors import LibraryError, PhotoseekError
from photoseek.core.library.base import LibraryBase
from photoseek.core.zeroshot.labels import LabelSet
from photoseek.core.zeroshot.service import ZeroShot
from photoseek.core.zeroshot.tagging import build_space, default_threshold, margins
from photoseek.core.zeroshot.templates import TemplateSet

log = logging.getLogger("photoseek.core.library")

__all__ = ["TagOps", "TagSummary"]


@dataclass(frozen=True)
class TagSummary:
    """What a tagging run did."""

    label_set: str
    labels: int
    photos: int
    threshold: float
    seconds: float


class TagOps(LibraryBase):
    """Tags: zero-shot labels stored per content for the chosen model."""

    def zeroshot(self) -> ZeroShot:
        """Zero-shot with the library's model (loaded now if it is not)."""
        embedder = self.embedder
        with self._lock:
            if self._zeroshot is None or self._zeroshot.identity != embedder.identity:
                self._zeroshot = ZeroShot(embedder, self.paths.cache_dir)
            return self._zeroshot

    def tag(self, labels: LabelSet, templates: TemplateSet) -> TagSummary:
        """Tag every photo of the model with ``labels`` (the model's tag space from now on)."""
        if len(labels.labels) > MAX_LABELS:
            raise PhotoseekError(f"a label set for tags has at most {MAX_LABELS} labels")
        with self.writing("tagging"):
            space = build_space(self.zeroshot(), self.model_id, labels, templates)
            return self._tag_all(space)

    def _tag_all(self, space: StoredSpace) -> TagSummary:
        started = time.perf_counter()
        old = self.catalog.tag_space(space.model_id)
        if old is not None:  # the user's threshold is the model's, whatever the label set
            space = replace(space, threshold=old.threshold)
        threshold = self._threshold_of(space)
        embeddings, vectors = self.catalog.stored_vectors(space.model_id, space.vectors.shape[1])
        scores = margins(space.vectors, vectors)
        self.catalog.replace_tag_space(space, embeddings, scores, threshold)
        seconds = time.perf_counter() - started
        log.info("tagged %d contents with %s in %.2f s", len(embeddings), space.label_set, seconds)
        return TagSummary(space.label_set, len(space.labels), len(embeddings), threshold, seconds)

    def tag_threshold(self) -> float | None:
        """The margin threshold tags use now (None: the library was never tagged)."""
        space = self._active_space()
        return None if space is None else self._threshold_of(space)

    def set_tag_threshold(self, threshold: float | None) -> float:
        """Re-tag from the stored margins at ``threshold`` (None: the model's default)."""
        space = self._active_space()
        if space is None:
            raise LibraryError("the library has no tags yet: run `photoseek tag` first")
        value = default_threshold(self._model_arch()) if threshold is None else threshold
        self.catalog.retag(space, value, stored=threshold)
        return value

    def tags(self) -> list[tuple[str, int]]:
        """Each tag of the model's active label space with its photo count, most first."""
        space = self._active_space()
        return [] if space is None else self.catalog.tag_counts(space)

    def tag_names(self) -> tuple[str, ...]:
        """The labels of the active tag space (empty: never tagged)."""
        space = self._active_space()
        return () if space is None else space.labels

    def photo_tags(self, photo_id: int) -> list[str]:
        """The tags of one photo."""
        space = self._active_space()
        record = self.catalog.photos([photo_id]).get(photo_id)
        if space is None or record is None or record.fingerprint is None:
            return []
        return self.catalog.content_tags(space, record.fingerprint)

    def _active_space(self) -> StoredSpace | None:
        model_id = self.known_model_id()
        return None if model_id is None else self.catalog.tag_space(model_id)

    def _threshold_of(self, space: StoredSpace) -> float:
        if space.threshold is not None:
            return space.threshold
        return default_threshold(self._model_arch())

    def _model_arch(self) -> str:
        return self.settings.arch
