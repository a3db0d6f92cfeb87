"""The duplicate review's slow work, off the GUI thread: finding groups, trashing, restoring.

:class:`DuplicateSearch` runs ``Library.duplicates`` in a thread of its own
and reports progress, the report or one sentence of failure through
signals (queued to the GUI thread); a newer search cancels the older one.
:func:`trash_photos` moves files to the system trash (never deletes them)
and remembers where each went; :func:`restore_files` moves them back, for
an undo while the app runs. Both are plain functions for a
:class:`~photoseek.gui.workers.calls.CallRunner`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QThreadPool, Signal, SignalInstance

from photoseek.core.duplicates.records import DuplicatePhoto
from photoseek.core.errors import Cancelled, PhotoseekError
from photoseek.core.library import Library
from photoseek.core.progress import Progress
from photoseek.gui.workers.calls import FunctionTask
from photoseek.pathtext import display_path

log = logging.getLogger(__name__)

__all__ = [
    "DuplicateSearch",
    "RestoreReport",
    "TrashReport",
    "TrashedFile",
    "restore_files",
    "trash_photos",
]

_SHUTDOWN_WAIT_MS = 10_000


class DuplicateSearch(QObject):
    """Finds the library's duplicate groups in a thread of its own."""

    progress = Signal(object)  # photoseek.core.progress.Progress
    finished = Signal(object)  # photoseek.core.duplicates.records.DuplicateReport
    failed = Signal(str)  # why it could not, one sentence

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._cancel = threading.Event()
        self._closed = False

    def start(self, threshold: float | None = None) -> None:
        """Find the groups (cancelling a search still running); ``threshold``: the cosine."""
        if self._closed:
            return
        self._cancel.set()
        cancel = self._cancel = threading.Event()
        self._pool.start(FunctionTask(lambda: self._run(threshold, cancel)))

    def cancel(self) -> None:
        """Stop the running search (it reports nothing more)."""
        self._cancel.set()

    def shutdown(self) -> None:
        """Cancel, and wait for the search thread to end."""
        self._closed = True
        self._cancel.set()
        self._pool.clear()
        self._pool.waitForDone(_SHUTDOWN_WAIT_MS)

    def _run(self, threshold: float | None, cancel: threading.Event) -> None:
        def report(progress: Progress) -> None:
            if not cancel.is_set():
                self._emit(self.progress, progress)

        try:
            found = self._library.duplicates(threshold, on_progress=report, cancel=cancel)
        except Cancelled:
            return
        except PhotoseekError as exc:
            self._emit(self.failed, str(exc), cancel)
            return
        except Exception as exc:  # whatever fails, the app keeps running and says so
            log.exception("the duplicate search failed")
            self._emit(self.failed, f"the duplicate search failed: {exc}", cancel)
            return
        self._emit(self.finished, found, cancel)

    def _emit(
        self, signal: SignalInstance, value: object, cancel: threading.Event | None = None
    ) -> None:
        if self._closed or (cancel is not None and cancel.is_set()):
            return
        with contextlib.suppress(RuntimeError):  # the receiver went away while the app quit
            signal.emit(value)


# -- the trash ---------------------------------------------------------------------------


class Trash(Protocol):
    """What moves a file to the system trash (:class:`photoseek.gui.desktop.Desktop`)."""

    def move_to_trash(self, path: Path) -> Path:
        """Move ``path`` to the trash; return where it is now (``OSError`` if it cannot)."""
        ...


@dataclass(frozen=True)
class TrashedFile:
    """A photo's file moved to the trash, and where it went."""

    photo_id: int
    original: Path
    in_trash: Path


@dataclass
class TrashReport:
    """The files moved to the trash, the ones that stayed (with why), and the library version
    after the move (for the change set the views apply)."""

    moved: list[TrashedFile] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    version: int = 0


@dataclass
class RestoreReport:
    """The files put back, and the ones left in the trash (with why)."""

    restored: list[TrashedFile] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def trash_photos(trash: Trash, library: Library, photos: list[DuplicatePhoto]) -> TrashReport:
    """Move each photo's file to the system trash, remembering where it went."""
    report = TrashReport()
    for photo in photos:
        try:
            where = trash.move_to_trash(photo.path)
        except OSError as exc:
            report.failed.append((photo.path, str(exc)))
            continue
        report.moved.append(TrashedFile(photo.id, photo.path, where))
        log.info("moved %s to the trash (%s)", photo.path, where)
    report.version = library.version
    return report


def restore_files(files: list[TrashedFile]) -> RestoreReport:
    """Move files back from the trash to where they were; never over a file that is there now."""
    report = RestoreReport()
    for file in files:
        try:
            _restore(file)
        except OSError as exc:
            report.failed.append((file.original, exc.strerror or str(exc)))
            continue
        report.restored.append(file)
    return report


def _restore(file: TrashedFile) -> None:
    if file.original.exists() or file.original.is_symlink():
        raise OSError(
            errno.EEXIST, f"a file is at {display_path(file.original)} again; it stays in the trash"
        )
    if not file.in_trash.exists():
        raise OSError(errno.ENOENT, "it is no longer in the trash")
    file.original.parent.mkdir(parents=True, exist_ok=True)
    try:
        file.in_trash.rename(file.original)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(file.in_trash, file.original)  # a trash on another disk: copy back
    _forget_trash_entry(file.in_trash)
    log.info("restored %s from the trash", file.original)


def _forget_trash_entry(in_trash: Path) -> None:
    """Drop the freedesktop trash's note about a file taken back out (``info/<name>.trashinfo``)."""
    if in_trash.parent.name != "files":
        return  # not a freedesktop trash (macOS, Windows): nothing else to tidy
    info = in_trash.parent.parent / "info" / f"{in_trash.name}.trashinfo"
    try:
        info.unlink(missing_ok=True)
    except OSError as exc:  # a stale entry shows in the trash; the photo is back anyway
        log.warning("trash entry %s not removed: %s", info, exc)
