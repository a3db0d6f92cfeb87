"""Prompt template sets: a template is a sentence with ``{}`` where the label goes.

* ``openai``: the 80 templates the CLIP paper ensembled for ImageNet
  (open_clip's ``OPENAI_IMAGENET_TEMPLATES``);
* ``simple``: OpenAI's later 7-template subset, about as good as all 80
  (``SIMPLE_IMAGENET_TEMPLATES``);
* ``personal``: a few written here for personal photos (phone pictures,
  family snapshots, scans and screenshots);
* ``photo``: the single default prompt, ``a photo of a {}.``;
* ``bare``: the label alone, no template.

open_clip's lists are read from its ``zero_shot_metadata.py`` without
importing open_clip (:func:`~photoseek.core.model.openclipfiles.open_clip_file`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from photoseek.core.errors import PhotoseekError
from photoseek.core.model.openclipfiles import open_clip_file

__all__ = ["DEFAULT_TEMPLATES", "TEMPLATE_SETS", "TemplateSet", "template_set"]

DEFAULT_TEMPLATES = "simple"

PERSONAL_TEMPLATES = (
    "a photo of {}.",
    "a photo of a {}.",
    "a close-up photo of a {}.",
    "a phone photo of {}.",
    "a snapshot of {}.",
    "a picture of {} from a family album.",
    "a blurry photo of {}.",
    "a photo showing {}.",
)


@dataclass(frozen=True)
class TemplateSet:
    """A named list of templates."""

    name: str
    templates: tuple[str, ...]

    def fill(self, term: str) -> list[str]:
        """The prompts for ``term``."""
        return [template.format(term) for template in self.templates]


def _from_open_clip(attribute: str) -> Callable[[], tuple[str, ...]]:
    def read() -> tuple[str, ...]:
        functions = getattr(open_clip_file("zero_shot_metadata"), attribute)
        return tuple(make("{}") for make in functions)  # each is lambda c: f"...{c}..."

    return read


TEMPLATE_SETS: dict[str, Callable[[], tuple[str, ...]]] = {
    "openai": _from_open_clip("OPENAI_IMAGENET_TEMPLATES"),
    "simple": _from_open_clip("SIMPLE_IMAGENET_TEMPLATES"),
    "personal": lambda: PERSONAL_TEMPLATES,
    "photo": lambda: ("a photo of a {}.",),
    "bare": lambda: ("{}",),
}


def template_set(name: str) -> TemplateSet:
    """The template set called ``name`` (one of :data:`TEMPLATE_SETS`)."""
    read = TEMPLATE_SETS.get(name)
    if read is None:
        raise PhotoseekError(
            f"no template set called {name!r}: use one of {', '.join(TEMPLATE_SETS)}"
        )
    return TemplateSet(name, read())
