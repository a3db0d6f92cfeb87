"""Folder operations of the facade: add, remove, stats, excludes, relocate, retry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from photoseek.core.catalog.folders import FolderAdded
from photoseek.core.catalog.pathcodec import is_below
from photoseek.core.errors import LibraryError
from photoseek.core.library.base import LibraryBase
from photoseek.core.records import Folder
from photoseek.core.watch.excludes import check_patterns
from photoseek.core.watch.scanner import device_of


@dataclass(frozen=True)
class FolderStats:
    """A top folder and how many of its photos are indexed (and shown), pending, problems,
    and hidden by the content filter (indexed, not counted in ``indexed``)."""

    folder: Folder
    indexed: int
    pending: int
    problems: int
    hidden: int = 0


class FolderOps(LibraryBase):
    """The library's top folders. Single small transactions, safe beside a running job."""

    def add_folder(self, path: Path) -> FolderAdded:
        """Add a top folder to watch and index (``index`` scans it).

        Refuses folders that are not there, photoseek's own folders and folders
        inside them; says which folders already in the library it absorbs.
        """
        resolved = path.expanduser().resolve()
        if not resolved.is_dir():
            raise LibraryError(f"not a folder: {path}")
        for own in self.paths.own_dirs():
            own = own.resolve()
            if resolved == own or own in resolved.parents:
                raise LibraryError(f"{path} is photoseek's own data folder ({own})")
        return self.catalog.add_folder(resolved, device_of(resolved))

    def remove_folder(self, path: Path) -> int:
        """Forget a top folder and its photos; return how many photos were dropped."""
        dropped = self.catalog.remove_folder(path.expanduser().resolve())
        self._sync_index()
        return dropped

    def folders(self) -> list[Folder]:
        """The top folders with their photo counts and availability."""
        return self.catalog.folders()

    def folder_stats(self) -> list[FolderStats]:
        """Each top folder with its indexed, pending, problem and hidden counts (for a library
        panel): the photos the content filter hides are counted as hidden, not indexed."""
        counts = self.catalog.folder_counts()
        model_id = self.known_model_id()
        space = None if model_id is None else self.catalog.tag_space(model_id, "hide")
        hidden = {} if space is None else self.catalog.hidden_by_folder(space)
        return [
            FolderStats(
                folder,
                indexed=counts.get(folder.id, {}).get("indexed", 0) - hidden.get(folder.id, 0),
                pending=counts.get(folder.id, {}).get("pending", 0),
                problems=counts.get(folder.id, {}).get("error", 0),
                hidden=hidden.get(folder.id, 0),
            )
            for folder in self.catalog.folders()
        ]

    def set_excludes(self, path: Path, patterns: list[str]) -> Folder:
        """Set the exclude patterns of a top folder (the next scan applies them)."""
        folder = self._folder(path)
        self.catalog.set_excludes(folder.id, check_patterns(patterns))
        return self._folder(path)

    def relocate_folder(self, old: Path, new: Path) -> Folder:
        """A folder moved (another disk, another drive letter): follow it, keeping everything.

        Photos keep their ids, fingerprints and vectors, and nothing is read
        again when the files at ``new`` have the sizes and mtimes known.
        """
        folder = self._folder(old)
        target = new.expanduser().resolve()
        if not target.is_dir():
            raise LibraryError(f"not a folder: {new}")
        for other in self.catalog.folders():
            if other.id != folder.id and (
                is_below(target, other.path) or is_below(other.path, target)
            ):
                raise LibraryError(f"{new} overlaps {other.path}, already in the library")
        self.catalog.relocate_folder(folder, target, device_of(target))
        self._sync_index()
        return self._folder(target)

    def retry_problems(self) -> int:
        """Make every problem file pending again (``index`` or the watcher retries them)."""
        return self.catalog.retry_problems()

    def _folder(self, path: Path) -> Folder:
        resolved = path.expanduser().resolve()
        folder = self.catalog.folder_by_path(resolved) or self.catalog.folder_by_path(path)
        if folder is None:
            raise LibraryError(f"{path} is not a folder of this library")
        return folder
