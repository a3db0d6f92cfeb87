"""The content filter: a user's written policy that hides matching photos everywhere.

The policy is a list of descriptions ("medical images", "screenshots of
chats", "photos of ID documents"). Each is a label of a label space of kind
``hide``; a photo whose margin over the neutral prompts reaches the filter's
threshold for any description is hidden: from searches, similar photos,
browsing, name matches, albums and their exports, and from every count (tag
counts; ``status`` reports how many are hidden) unless a read asks to show
them (``show_hidden``). Photos are scored in the transaction that stores their
vectors, like tags, so a new photo is never shown unfiltered; setting the
policy scores every stored vector in one transaction. It is off until a
policy is set, the threshold is adjustable and stored per model, and it
never deletes or moves anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from photoseek.core.catalog.tags import StoredSpace
from photoseek.core.errors import LibraryError, PhotoseekError
from photoseek.core.library.tags import TagOps
from photoseek.core.zeroshot.labelfile import current_label_set
from photoseek.core.zeroshot.labels import Label, LabelSet
from photoseek.core.zeroshot.tagging import (
    build_space,
    default_threshold,
    margins,
    space_key,
    templates_of,
)
from photoseek.core.zeroshot.templates import TemplateSet, template_set

log = logging.getLogger("photoseek.core.library")

__all__ = ["FilterOps"]

HIDE = "hide"
POLICY_SET = "content filter"


class FilterOps(TagOps):
    """Set, tune and read the content filter."""

    def set_content_filter(self, descriptions: Sequence[str]) -> int:
        """Hide photos matching any of ``descriptions`` (empty: the filter is off);
        returns how many photos it hides now."""
        cleaned = list(dict.fromkeys(d.strip() for d in descriptions if d.strip()))
        with self.writing("content filter"):
            model_id = self.model_id
            if not cleaned:
                self.catalog.drop_tag_space(model_id, HIDE)
                return 0
            labels = LabelSet(POLICY_SET, tuple(Label(d) for d in cleaned))
            if len(labels.labels) != len({d.casefold() for d in cleaned}):
                raise PhotoseekError("the content filter names a description twice")
            space = replace(
                build_space(self.zeroshot(), model_id, labels, template_set("bare")), kind=HIDE
            )
            old = self.catalog.tag_space(model_id, HIDE)
            if old is not None:
                space = replace(space, threshold=old.threshold)  # the user's threshold stays
            embeddings, vectors = self.catalog.stored_vectors(model_id, space.vectors.shape[1])
            threshold = self._threshold_of(space)
            scores = margins(space.vectors, vectors)
            self.catalog.replace_tag_space(space, embeddings, scores, threshold)
            return self.catalog.hidden_count(space)

    def content_filter(self) -> list[str]:
        """The descriptions the filter hides (empty: off)."""
        space = self._hide_space()
        return [] if space is None else list(space.labels)

    def content_filter_threshold(self) -> float | None:
        """The filter's margin threshold for this model (None: the filter is off)."""
        space = self._hide_space()
        return None if space is None else self._threshold_of(space)

    def set_content_filter_threshold(self, threshold: float | None) -> int:
        """Re-score the filter at ``threshold`` (None: the default); how many it hides now."""
        space = self._hide_space()
        if space is None:
            raise LibraryError("the content filter is off: give it descriptions first")
        value = default_threshold(self.settings.arch) if threshold is None else threshold
        self.catalog.retag(space, value, stored=threshold)
        return self.catalog.hidden_count(space)

    def hidden_count(self) -> int:
        """How many indexed photos the filter hides (0 when it is off)."""
        space = self._hide_space()
        return 0 if space is None else self.catalog.hidden_count(space)

    def tags(self, *, show_hidden: bool = False) -> list[tuple[str, int]]:
        """Each tag with its photo count, most first; hidden photos are not counted."""
        space = self._active_space()
        if space is None:
            return []
        return self.catalog.tag_counts(space, None if show_hidden else self._hide_space())

    def refresh_zero_shot(self) -> list[str]:
        """Re-tag (and re-filter) where what is stored is stale; what was done, in words.

        The watch loop calls this once it has caught up. The tags are stale
        when their label set changed since (its file was edited: its digest
        moved), or when this model has none but another model of the library
        had (a model change: the new model is tagged with the same set and
        templates). The content filter follows a model change the same way.
        Needs the model only when something is stale.
        """
        done: list[str] = []
        plan = self._stale_tags()
        if plan is not None:
            labels, templates = plan
            summary = self.tag(labels, templates)
            done.append(f"tagged {summary.photos} photos with {summary.label_set}")
        model_id = self.known_model_id()
        if model_id is not None and self.catalog.tag_space(model_id, HIDE) is None:
            other = self.catalog.latest_space(HIDE)
            if other is not None and other.model_id != model_id:
                hidden = self.set_content_filter(list(other.labels))
                done.append(f"content filter applied to this model: {hidden} photos hidden")
        return done

    def _stale_tags(self) -> tuple[LabelSet, TemplateSet] | None:
        model_id = self.known_model_id()
        if model_id is None:
            return None
        space = self.catalog.tag_space(model_id)
        source = space if space is not None else self.catalog.latest_space()
        if source is None:
            return None
        folder = self.paths.label_sets_dir
        try:
            templates = template_set(templates_of(source.space), folder)
        except PhotoseekError as exc:  # the user's template file is gone: keep the tags
            log.info("tags not refreshed: %s", exc)
            return None
        labels = current_label_set(folder, source.label_set, source.labels)
        if space is not None and space.space == space_key(labels, templates):
            return None
        return labels, templates

    def _hide_space(self) -> StoredSpace | None:
        model_id = self.known_model_id()
        return None if model_id is None else self.catalog.tag_space(model_id, HIDE)
