"""Bring the catalog in line with what is on disk, one top folder at a time.

New paths become pending rows, files whose (size, mtime) changed are
re-examined, vanished files become tombstones (a moved file later adopts its
old id), and a folder whose volume is missing is marked unavailable with all
its photos kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from photoseek.core.catalog.store import Catalog, MoveCandidate
from photoseek.core.indexing.fingerprint import fingerprint
from photoseek.core.records import Changes, Folder, PhotoState
from photoseek.core.watch.scanner import FolderScan, is_ignored_path, scan_directory, scan_folder

log = logging.getLogger(__name__)


@dataclass
class ScanSummary:
    """What one reconciling scan found."""

    new: int = 0
    changed: int = 0
    vanished: int = 0
    problems: int = 0
    moved: int = 0
    unavailable: list[Path] = field(default_factory=list)

    def add(self, other: ScanSummary) -> None:
        """Accumulate another folder's summary."""
        self.new += other.new
        self.changed += other.changed
        self.vanished += other.vanished
        self.problems += other.problems
        self.moved += other.moved
        self.unavailable += other.unavailable


def reconcile_folder(catalog: Catalog, folder: Folder) -> ScanSummary:
    """Scan one top folder and record the differences in one transaction."""
    scan = scan_folder(
        folder.path, expected_device=folder.device, had_photos=folder.photo_count > 0
    )
    if not scan.available:
        log.warning("folder %s is unavailable: %s", folder.path, scan.reason)
        catalog.set_folder_state(folder.id, "unavailable", scan.reason)
        return ScanSummary(unavailable=[folder.path])
    summary = _record_differences(catalog, folder, scan, catalog.photo_states(folder.id))
    catalog.set_folder_state(folder.id, "ok", None, device=_device(scan))
    return summary


def reconcile_all(catalog: Catalog) -> ScanSummary:
    """Reconcile every top folder of the library, then pair moved files with their past."""
    total = ScanSummary()
    for folder in catalog.folders():
        total.add(reconcile_folder(catalog, folder))
    total.moved = adopt_moved_files(catalog)
    return total


def reconcile_changes(catalog: Catalog, changes: Changes) -> ScanSummary:
    """Reconcile only what a watcher reported: directories and subtrees.

    An overflow, or a change at or above a top folder, falls back to
    reconciling that whole top folder (or everything).
    """
    if changes.overflow:
        return reconcile_all(catalog)
    folders = catalog.folders()
    total = ScanSummary()
    whole: set[int] = set()
    units: dict[Path, tuple[Folder, bool]] = {}
    for path, recursive in [(t, True) for t in changes.trees] + [(d, False) for d in changes.dirs]:
        folder = _owner(folders, path)
        if folder is None:
            if any(f.path.is_relative_to(path) for f in folders):  # a top folder itself moved
                whole.update(f.id for f in folders if f.path.is_relative_to(path))
            continue
        if path == folder.path and recursive:
            whole.add(folder.id)
        elif not is_ignored_path(folder.path, path) or path == folder.path:
            units[path] = (folder, recursive or units.get(path, (folder, False))[1])
    for folder in folders:
        if folder.id in whole:
            total.add(reconcile_folder(catalog, folder))
    for path, (folder, recursive) in _outermost(units).items():
        if folder.id not in whole:
            total.add(_reconcile_directory(catalog, folder, path, recursive))
    total.moved = adopt_moved_files(catalog)
    return total


def _owner(folders: list[Folder], path: Path) -> Folder | None:
    return next((f for f in folders if path.is_relative_to(f.path)), None)


def _outermost(units: dict[Path, tuple[Folder, bool]]) -> dict[Path, tuple[Folder, bool]]:
    """Drop directories already covered by a recursive unit above them."""
    trees = [p for p, (_, recursive) in units.items() if recursive]
    return {
        path: unit
        for path, unit in units.items()
        if not any(path != tree and path.is_relative_to(tree) for tree in trees)
    }


def _reconcile_directory(
    catalog: Catalog, folder: Folder, directory: Path, recursive: bool
) -> ScanSummary:
    if not folder.path.is_dir():
        return reconcile_folder(catalog, folder)  # the top folder itself went away
    scan = scan_directory(directory, recursive=recursive)
    known = catalog.photo_states_under(folder.id, directory, recursive=recursive)
    return _record_differences(catalog, folder, scan, known)


def adopt_moved_files(catalog: Catalog) -> int:
    """Match new files to vanished ones by content so a moved photo keeps its id.

    Only new files whose size equals a vanished photo's are hashed (the
    indexer would hash them anyway). When several new files match one
    vanished photo (a move plus copies), the same inode wins (a rename on one
    volume), then the same file name.
    """
    new, tombs = catalog.move_candidates()
    vanished: dict[tuple[int, str | None], list[MoveCandidate]] = {}
    for tomb in tombs:
        vanished.setdefault((tomb.size, tomb.fingerprint), []).append(tomb)
    arrived: dict[tuple[int, str | None], list[MoveCandidate]] = {}
    for row in new:
        try:
            key = (row.size, fingerprint(row.path))
        except OSError:
            continue
        if key in vanished:
            arrived.setdefault(key, []).append(row)
    moves = [pair for key, arrivals in arrived.items() for pair in _pair(vanished[key], arrivals)]
    catalog.adopt(moves)
    return len(moves)


def _pair(vanished: list[MoveCandidate], arrivals: list[MoveCandidate]) -> list[tuple[int, int]]:
    """(tombstone id, new id) pairs for one content: same inode, then same name."""
    free = list(arrivals)
    pairs: list[tuple[int, int]] = []
    for tomb in vanished:
        if not free:
            break
        best = min(
            free,
            key=lambda a: (a.inode != tomb.inode, a.path.name != tomb.path.name, str(a.path)),
        )
        free.remove(best)
        pairs.append((tomb.id, best.id))
    return pairs


def _record_differences(
    catalog: Catalog, folder: Folder, scan: FolderScan, known: dict[str, PhotoState]
) -> ScanSummary:
    new: list[tuple[Path, int, int, int]] = []
    changed: list[tuple[int, int, int]] = []
    seen: set[str] = set()
    for file in scan.files:
        key = str(file.path)
        seen.add(key)
        state = known.get(key)
        if state is None:
            new.append((file.path, file.size, file.mtime_ns, file.inode))
        elif (state.size, state.mtime_ns) != (file.size, file.mtime_ns):
            changed.append((state.id, file.size, file.mtime_ns))
    problems = [(s.path, s.reason) for s in scan.skipped if str(s.path) not in known]
    seen.update(str(s.path) for s in scan.skipped)
    unlisted = tuple(str(folder) + "/" for folder in scan.unlisted_folders)
    vanished = [
        state.id
        for path, state in known.items()
        if path not in seen and not path.startswith(unlisted)  # unreadable now != deleted
    ]
    catalog.record_scan(folder.id, new, changed, vanished, problems)
    return ScanSummary(len(new), len(changed), len(vanished), len(problems))


def _device(scan: FolderScan) -> int | None:
    try:
        return scan.root.stat().st_dev
    except OSError:
        return None
