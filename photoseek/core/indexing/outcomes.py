"""What happened to one queued photo in a decode worker, before its batch commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from photoseek.core.records import PhotoMeta, WorkItem


@dataclass(frozen=True)
class Decoded:
    """Decoded and preprocessed: the model embeds ``tensor`` (a torch tensor or a numpy array).

    ``phash`` is the content's perceptual hash (None if it could not be made).
    """

    item: WorkItem
    fingerprint: str
    meta: PhotoMeta
    tensor: Any
    decoder: str
    phash: int | None = None


@dataclass(frozen=True)
class Reused:
    """Content with a current vector: nothing to decode or embed."""

    item: WorkItem
    fingerprint: str
    moved_from: int | None = None  # a catalogued photo whose file went away: this is it, moved


@dataclass(frozen=True)
class Failed:
    """A problem, recorded with its reason (and the decoder that failed, when known)."""

    item: WorkItem
    fingerprint: str | None
    reason: str
    decoder: str | None = None


@dataclass(frozen=True)
class Changed:
    """The file is not what the scan saw: note its new size and mtime, read it later."""

    item: WorkItem
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Vanished:
    """The file is gone: the next scan of its folder records that."""

    item: WorkItem


Outcome = Decoded | Reused | Failed | Changed | Vanished
