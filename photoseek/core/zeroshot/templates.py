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

User template sets are plain UTF-8 files beside the label sets,
``<label sets dir>/NAME.templates``: one template per line, each with exactly
one ``{}`` where the label goes; blank lines and lines starting with ``#``
are ignored::

    # my templates
    a photo of {} from our holidays.
    a blurry phone picture of {}.

A built-in name cannot be taken by a file. A set's :attr:`TemplateSet.key`
holds a digest of its templates, so editing a file makes new label vectors
and re-tags.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from photoseek.core.errors import PhotoseekError
from photoseek.core.model.openclipfiles import open_clip_file

__all__ = [
    "DEFAULT_TEMPLATES",
    "TEMPLATE_SETS",
    "TemplateSet",
    "parse_templates",
    "template_set",
    "template_set_names",
]

TEMPLATE_SUFFIX = ".templates"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

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
        return [template.replace("{}", term) for template in self.templates]

    @property
    def digest(self) -> str:
        """A short hash of the templates, in order."""
        joined = "\n".join(self.templates).encode("utf-8")
        return hashlib.blake2b(joined, digest_size=6).hexdigest()

    @property
    def key(self) -> str:
        """The set's name and digest: what cached label vectors and tags are keyed by."""
        return f"{self.name}.{self.digest}"


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


def template_set(name: str, folder: Path | None = None) -> TemplateSet:
    """The template set called ``name``: built in, or the user's file in ``folder``."""
    read = TEMPLATE_SETS.get(name)
    if read is not None:
        return TemplateSet(name, read())
    path = folder / f"{name}{TEMPLATE_SUFFIX}" if folder is not None and _NAME.match(name) else None
    if path is None or not path.is_file():
        known = ", ".join(template_set_names(folder))
        raise PhotoseekError(f"no template set called {name!r} (there are: {known})")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PhotoseekError(f"cannot read the template set {path}: {exc}") from exc
    return TemplateSet(name, parse_templates(name, text))


def parse_templates(name: str, text: str) -> tuple[str, ...]:
    """The templates written in ``text`` (the file format above)."""
    templates = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        rest = stripped.replace("{}", "", 1)
        if "{}" not in stripped or "{" in rest or "}" in rest:
            raise PhotoseekError(
                f"template set {name!r}, line {number}: a template has exactly one {{}} "
                f"where the label goes: {stripped!r}"
            )
        templates.append(stripped)
    if not templates:
        raise PhotoseekError(f"template set {name!r} has no templates")
    return tuple(templates)


def template_set_names(folder: Path | None) -> list[str]:
    """The built-in sets, then the user's in ``folder``."""
    user: list[str] = []
    if folder is not None and folder.is_dir():
        user = sorted(p.stem for p in folder.glob(f"*{TEMPLATE_SUFFIX}") if _NAME.match(p.stem))
    return [*TEMPLATE_SETS, *(name for name in user if name not in TEMPLATE_SETS)]
