"""Plain data records passed between core modules and to the front ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ModelIdentity:
    """Which weights produced a vector. Vectors of different identities never mix."""

    arch: str
    pretrained: str
    digest: str
    dim: int

    @property
    def key(self) -> str:
        """A stable string naming this identity (used for index file names)."""
        return f"{self.arch}/{self.pretrained}/{self.digest}"

    @property
    def slug(self) -> str:
        """The key made safe for a file name."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.key)
        return safe[:120]


@dataclass(frozen=True)
class Folder:
    """A top folder the user added."""

    id: int
    path: Path
    device: int | None
    status: str
    status_reason: str | None
    photo_count: int = 0
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PhotoState:
    """What the catalog knows of one path, for incremental scanning."""

    id: int
    size: int
    mtime_ns: int
    status: str


@dataclass(frozen=True)
class WorkItem:
    """A photo that needs decoding or embedding.

    ``size`` and ``mtime_ns`` are what the scan saw: a file that no longer
    matches them changed since and is not read now. ``fingerprint`` is the
    content it had when last indexed (None for a new file), so an unchanged
    content whose mtime moved reuses its vector.
    """

    id: int
    path: Path
    size: int
    mtime_ns: int
    fingerprint: str | None = None


@dataclass(frozen=True)
class PhotoMeta:
    """What decoding learned about a photo."""

    format: str
    width: int
    height: int
    taken_at: str | None


@dataclass(frozen=True)
class PhotoRecord:
    """A catalogued photo as search results show it."""

    id: int
    path: Path
    size: int
    mtime_ns: int
    fingerprint: str | None
    format: str | None
    width: int | None
    height: int | None
    taken_at: str | None
    folder_available: bool
    sort_date: str = ""
    folder_id: int | None = None


@dataclass(frozen=True)
class Problem:
    """A file photoseek skipped, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class ChangeSet:
    """What changed in the library after a version (see ``Library.changes_since``).

    ``version`` is the version to ask from next time. Photo ids: ``new``
    ones joined the library (status indexed), ``changed`` ones are still in
    it with other content or metadata, ``moved`` ones have a new path (also
    listed in ``changed`` or ``new`` when their content changed too, never
    in ``removed``), ``removed`` ones left it. ``complete`` is false when the
    versions asked for were trimmed from the log: reload everything.
    """

    version: int
    new: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    complete: bool = True

    def __bool__(self) -> bool:
        return bool(self.new or self.changed or self.moved or self.removed or not self.complete)


@dataclass
class Changes:
    """What a watcher says to re-examine: directories (their own files) and subtrees."""

    dirs: set[Path] = field(default_factory=set)
    trees: set[Path] = field(default_factory=set)
    overflow: bool = False

    def __bool__(self) -> bool:
        return bool(self.dirs or self.trees or self.overflow)
