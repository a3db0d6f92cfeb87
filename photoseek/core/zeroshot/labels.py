"""Labels and label sets, and the built-in set for personal photos.

A :class:`Label` has a display name (also the word its prompts use),
optional synonyms (more words for the same thing, averaged in) and optional
prompts of its own (whole sentences, used as they are). A
:class:`LabelSet` is a named tuple of labels; its :attr:`~LabelSet.digest`
changes whenever any of that changes, which is what keys cached label
vectors and stored scores.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

__all__ = ["BUILTIN_SET", "Label", "LabelSet", "builtin_label_set"]

BUILTIN_SET = "personal"


@dataclass(frozen=True)
class Label:
    """One category."""

    name: str
    synonyms: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        """The words templates are filled with: the name, then the synonyms."""
        return (self.name, *self.synonyms)


@dataclass(frozen=True)
class LabelSet:
    """Named labels (names unique, case-insensitively)."""

    name: str
    labels: tuple[Label, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        """The labels' names, in order."""
        return [label.name for label in self.labels]

    @property
    def digest(self) -> str:
        """A short hash of every label, synonym and prompt, in order."""
        content = [[label.name, list(label.synonyms), list(label.prompts)] for label in self.labels]
        encoded = json.dumps(content, ensure_ascii=False).encode("utf-8")
        return hashlib.blake2b(encoded, digest_size=8).hexdigest()

    def find(self, name: str) -> Label | None:
        """The label called ``name`` (case-insensitive), if any."""
        wanted = name.casefold()
        return next((label for label in self.labels if label.name.casefold() == wanted), None)


def _l(name: str, *synonyms: str, prompts: tuple[str, ...] = ()) -> Label:
    return Label(name, tuple(synonyms), prompts)


_PERSONAL = (
    _l("people", "a person", "friends"),
    _l("children", "kids", "a child"),
    _l("baby", "an infant"),
    _l("selfie", prompts=("a selfie taken with a phone.", "a selfie of a person smiling.")),
    _l("group photo", "a group of people posing"),
    _l("dog", "puppy"),
    _l("cat", "kitten"),
    _l("bird", "a parrot"),
    _l("horse", "a pony"),
    _l("rabbit", "bunny"),
    _l("fish in an aquarium", "aquarium"),
    _l("food", "a meal", "a dish"),
    _l("drinks", "a cocktail", "a glass of wine", "coffee"),
    _l("cake", "dessert"),
    _l("landscape", "scenery", "a view"),
    _l("beach", "the seaside", "the coast"),
    _l("mountains", "a mountain range", "alps"),
    _l("forest", "woods", "trees"),
    _l("lake", "a river"),
    _l("waterfall"),
    _l("desert", "sand dunes"),
    _l("garden", "flowers"),
    _l("city", "a skyline", "downtown"),
    _l("street", "a road in town"),
    _l("buildings", "architecture"),
    _l("interior", "a room", "a living room"),
    _l("kitchen"),
    _l("church", "a cathedral"),
    _l("museum", "an exhibition"),
    _l("restaurant", "a cafe"),
    _l("document", "a printed page", prompts=("a photo of a printed document.",)),
    _l("receipt", "an invoice", prompts=("a photo of a shopping receipt.",)),
    _l("screenshot", prompts=("a screenshot of a phone screen.", "a screenshot of a computer.")),
    _l("whiteboard", "a blackboard"),
    _l("handwriting", "handwritten notes", prompts=("a photo of handwritten text on paper.",)),
    _l("sign", "text on a sign"),
    _l("map"),
    _l("art", "a painting", "a sculpture"),
    _l("drawing", "a child's drawing", "a sketch"),
    _l("sunset", "sunrise", "dusk"),
    _l("night", "city lights at night"),
    _l("snow", "winter", "a snowy landscape"),
    _l("sky", "clouds"),
    _l("fireworks"),
    _l("car", "a vehicle"),
    _l("bicycle", "a bike"),
    _l("boat", "a ship", "a sailboat"),
    _l("airplane", "a plane", "an airport"),
    _l("train", "a railway station"),
    _l("sports", "a football match", "a game"),
    _l("swimming", "a swimming pool"),
    _l("hiking", "a trail"),
    _l("camping", "a tent"),
    _l("playground"),
    _l("toys", "a teddy bear"),
    _l("concert", "a band on stage", "live music"),
    _l("wedding", "a bride", "a wedding ceremony"),
    _l("birthday", "a birthday party", "a birthday cake with candles"),
    _l("christmas", "a christmas tree"),
    _l("party", "a celebration"),
    _l("computer", "a laptop", "electronics"),
    _l("crowd", "tourists", "a crowd of people"),
)


def builtin_label_set() -> LabelSet:
    """The built-in set for personal photos (:data:`BUILTIN_SET`)."""
    return LabelSet(BUILTIN_SET, _PERSONAL)
