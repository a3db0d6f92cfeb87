"""Bring the catalog in line with what is on disk, one top folder at a time.

New paths become pending rows, files whose (size, mtime) changed are
re-examined, vanished files become tombstones (a moved file later adopts its
old id), and a folder whose volume is missing is marked unavailable with all
its photos kept.

A camera RAW that a JPEG or HEIF beside it stands for is not listed by the
scanner (unless the library indexes both: ``ScanContext.keep_paired_raw``),
so the rules above cover the pair with nothing of their own: a RAW whose
JPEG is deleted is new at the next scan of its folder and gets indexed; a
JPEG that arrives beside an indexed RAW is new, and the RAW leaves the
library like a vanished file (a tombstone, whose vector is reused if the
JPEG goes again within a week).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from photoseek.core.catalog.pathcodec import is_below
from photoseek.core.catalog.store import Catalog, MoveCandidate
from photoseek.core.catalog.values import as_int64
from photoseek.core.indexing.fingerprint import fingerprint
from photoseek.core.records import Changes, Folder, PhotoState
from photoseek.core.watch.excludes import excluder
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
    listed: int = 0  # files seen on disk

    def add(self, other: ScanSummary) -> None:
        """Accumulate another folder's summary."""
        self.new += other.new
        self.changed += other.changed
        self.vanished += other.vanished
        self.problems += other.problems
        self.moved += other.moved
        self.unavailable += other.unavailable
        self.listed += other.listed


@dataclass(frozen=True)
class ScanContext:
    """What every scan of one run shares: folders to leave out, who listens, when to stop,
    and whether a RAW beside its JPEG or HEIF is indexed too (the library's setting)."""

    exclude: frozenset[tuple[int, int]] = frozenset()
    on_progress: Callable[[int], None] | None = None
    cancel: threading.Event | None = None
    keep_paired_raw: bool = False


_PLAIN = ScanContext()


def reconcile_folder(
    catalog: Catalog, folder: Folder, context: ScanContext = _PLAIN
) -> ScanSummary:
    """Scan one top folder and record the differences in one transaction."""
    scan = scan_folder(
        folder.path,
        expected_device=folder.device,
        had_photos=folder.photo_count > 0,
        exclude=context.exclude,
        on_progress=context.on_progress,
        cancel=context.cancel,
        skip=excluder(folder.path, folder.excludes),
        keep_paired_raw=context.keep_paired_raw,
    )
    if not scan.available:
        log.warning("folder %s is unavailable: %s", folder.path, scan.reason)
        catalog.set_folder_state(folder.id, "unavailable", scan.reason)
        return ScanSummary(unavailable=[folder.path])
    summary = _record_differences(catalog, folder, scan, catalog.photo_states(folder.id))
    catalog.set_folder_state(folder.id, "ok", None, device=_device(scan))
    return summary


def _offset(context: ScanContext, already: int) -> ScanContext:
    """The context for the next folder: its counts follow those of the folders before."""
    report = context.on_progress
    if report is None:
        return context
    return replace(context, on_progress=lambda count: report(already + count))


def reconcile_all(catalog: Catalog, context: ScanContext = _PLAIN) -> ScanSummary:
    """Reconcile every top folder of the library, then pair moved files with their past.

    ``context.on_progress`` is called with the number of files listed so far
    in the whole library.
    """
    total = ScanSummary()
    for folder in catalog.folders():
        summary = reconcile_folder(catalog, folder, _offset(context, total.listed))
        total.add(summary)
        if context.on_progress is not None:
            context.on_progress(total.listed)
    total.moved = adopt_moved_files(catalog)
    return total


def reconcile_changes(
    catalog: Catalog, changes: Changes, context: ScanContext = _PLAIN
) -> ScanSummary:
    """Reconcile only what a watcher reported: directories and subtrees.

    An overflow, or a change at or above a top folder, falls back to
    reconciling that whole top folder (or everything).
    """
    if changes.overflow:
        return reconcile_all(catalog, context)
    folders = catalog.folders()
    total = ScanSummary()
    whole: set[int] = set()
    units: dict[Path, tuple[Folder, bool]] = {}
    for path, recursive in [(t, True) for t in changes.trees] + [(d, False) for d in changes.dirs]:
        folder = _owner(folders, path)
        if folder is None:
            if any(is_below(f.path, path) for f in folders):  # a top folder itself moved
                whole.update(f.id for f in folders if is_below(f.path, path))
            continue
        if path == folder.path and recursive:
            whole.add(folder.id)
        elif not is_ignored_path(folder.path, path) or path == folder.path:
            units[path] = (folder, recursive or units.get(path, (folder, False))[1])
    for folder in folders:
        if folder.id in whole:
            total.add(reconcile_folder(catalog, folder, context))
    for path, (folder, recursive) in _outermost(units).items():
        if folder.id not in whole:
            total.add(_reconcile_directory(catalog, folder, path, recursive, context))
    total.moved = adopt_moved_files(catalog)
    return total


def _owner(folders: list[Folder], path: Path) -> Folder | None:
    return next((f for f in folders if is_below(path, f.path)), None)


def _outermost(units: dict[Path, tuple[Folder, bool]]) -> dict[Path, tuple[Folder, bool]]:
    """Drop directories already covered by a recursive unit above them."""
    trees = [p for p, (_, recursive) in units.items() if recursive]
    return {
        path: unit
        for path, unit in units.items()
        if not any(path != tree and is_below(path, tree) for tree in trees)
    }


def _reconcile_directory(
    catalog: Catalog, folder: Folder, directory: Path, recursive: bool, context: ScanContext
) -> ScanSummary:
    if not folder.path.is_dir():
        return reconcile_folder(catalog, folder, context)  # the top folder itself went away
    skip = excluder(folder.path, folder.excludes)
    if skip is not None and skip(directory):
        scan = FolderScan(root=directory, available=True)  # all of it is left out
    else:
        scan = scan_directory(
            directory,
            recursive=recursive,
            exclude=context.exclude,
            skip=skip,
            keep_paired_raw=context.keep_paired_raw,
        )
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
        except Exception as exc:  # unreadable now: the indexer records why
            log.debug("cannot fingerprint %s for move pairing: %s", row.path, exc)
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
    catalog: Catalog, folder: Folder, scan: FolderScan, known: dict[Path, PhotoState]
) -> ScanSummary:
    new: list[tuple[Path, int, int, int]] = []
    changed: list[tuple[int, int, int]] = []
    seen: set[Path] = set()
    for file in scan.files:
        seen.add(file.path)
        state = known.get(file.path)
        if state is None:
            new.append((file.path, file.size, file.mtime_ns, file.inode))
        elif (state.size, state.mtime_ns) != (file.size, file.mtime_ns):
            changed.append((state.id, file.size, file.mtime_ns))
    problems = [(s.path, s.reason) for s in scan.skipped if s.path not in known]
    seen.update(s.path for s in scan.skipped)
    vanished = [
        state.id
        for path, state in known.items()
        if path not in seen
        and not any(is_below(path, unlisted) for unlisted in scan.unlisted_folders)
    ]  # a folder that cannot be read now is not a folder whose photos were deleted
    catalog.record_scan(folder.id, new, changed, vanished, problems)
    return ScanSummary(len(new), len(changed), len(vanished), len(problems), listed=len(scan.files))


def _device(scan: FolderScan) -> int | None:
    try:
        return as_int64(scan.root.stat().st_dev)
    except OSError:
        return None
