"""What a duplicate search returns: groups of photos, each in keep-rule order, with why."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from photoseek.core.duplicates.thresholds import Thresholds

__all__ = [
    "EMBEDDING",
    "PHASH",
    "SAME_CONTENT",
    "SIBLING",
    "DuplicateGroup",
    "DuplicatePhoto",
    "DuplicateReport",
    "Link",
    "link_text",
]

SAME_CONTENT = "same content"
PHASH = "pHash"
EMBEDDING = "embedding"
SIBLING = "same photo"
"""The reasons a photo is in a group; SIBLING: a RAW's JPEG (or the reverse) kept with it."""


@dataclass(frozen=True)
class Link:
    """Why a photo is in its group: its closest other member and how close.

    ``reason`` is ``"same content"`` (byte-identical: same fingerprint),
    ``"pHash"`` (Hamming distance within the threshold), ``"embedding"``
    (cosine at or above the threshold) or ``"same photo"`` (the RAW or the
    JPEG of a photo in the group, which only its sibling joined).
    ``phash_distance`` (bits of 64) and ``cosine`` are given whenever they
    are known, whichever test joined the pair; None when a photo has no
    pHash, or the pair's cosine was not computed.
    """

    to: int
    reason: str
    phash_distance: int | None
    cosine: float | None


@dataclass(frozen=True)
class DuplicatePhoto:
    """One photo of a group; ``unit`` is shared by the files of one photo (a RAW and its
    JPEG: keep one, keep both)."""

    id: int
    path: Path
    size: int
    width: int | None
    height: int | None
    format: str | None
    date: str
    keep: bool
    link: Link
    unit: int

    @property
    def pixels(self) -> int:
        """Width times height (0 when unknown)."""
        return (self.width or 0) * (self.height or 0)


@dataclass(frozen=True)
class DuplicateGroup:
    """Near-identical photos, in keep-rule order: the first is the one to keep.

    ``keep`` is true for the first photo and for files that are one photo
    with it (its RAW or JPEG sibling).
    """

    photos: tuple[DuplicatePhoto, ...]

    @property
    def kept(self) -> DuplicatePhoto:
        """The photo the keep rule suggests keeping."""
        return self.photos[0]

    @property
    def others(self) -> tuple[DuplicatePhoto, ...]:
        """The photos the keep rule would let go."""
        return tuple(photo for photo in self.photos if not photo.keep)


@dataclass(frozen=True)
class DuplicateReport:
    """Every group found, largest first, and what the search looked at.

    ``photos`` were examined (indexed, in an available folder, with a vector
    of the model); ``offline`` were left out because their folder is
    unavailable; ``hashed`` had no pHash yet and got one now (``stored``:
    whether those were saved in the catalog, else only used for this run).
    """

    groups: list[DuplicateGroup]
    thresholds: Thresholds
    photos: int
    offline: int
    hashed: int
    stored: bool
    seconds: float


def link_text(link: Link, target: str) -> str:
    """Why a photo is in its group, for people: ``pHash 2/64, cosine 0.991, like <target>``."""
    if link.reason == SAME_CONTENT:
        return f"same content as {target}"
    if link.reason == SIBLING:
        return f"one photo with {target} (RAW + JPEG)"
    phash = f"pHash {link.phash_distance}/64" if link.phash_distance is not None else ""
    cosine = f"cosine {link.cosine:.3f}" if link.cosine is not None else ""
    parts = [phash, cosine] if link.reason == PHASH else [cosine, phash]
    return ", ".join(part for part in [*parts, f"like {target}"] if part)
