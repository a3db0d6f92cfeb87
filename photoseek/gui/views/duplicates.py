"""The duplicate review: groups of near-identical photos, side by side, keep one, undo.

Layout: a line saying what was found (and progress while looking), the
groups on the left, the selected group's photos side by side on the right
(:class:`~photoseek.gui.views.duplicatescards.GroupStrip`, the keep rule's
suggestion first and preselected), and Undo at the bottom.

Nothing slow runs on the GUI thread: the groups are found by
:class:`~photoseek.gui.workers.duplicates.DuplicateSearch`, thumbnails come
from a :class:`~photoseek.gui.workers.thumbnails.ThumbnailLoader` (the
cache, made on demand), and the files move in a
:class:`~photoseek.gui.workers.calls.CallRunner`. "Keep This One" moves the
group's other photos to the system trash (never a deletion; a RAW and its
JPEG stay together) and says so in ``trashed`` with a
:class:`~photoseek.core.records.ChangeSet`, as the search pane's own "Move to
Trash" does: views drop those photos at once, and the library itself learns
of the removal from its watcher or next rescan. Undo moves the files back
from where the trash put them, while the app runs (the dialog keeps its
history when it is closed), and the group comes back.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from photoseek.core.duplicates.records import DuplicateGroup, DuplicateReport
from photoseek.core.progress import Phase, Progress
from photoseek.core.records import ChangeSet
from photoseek.gui.context import AppContext
from photoseek.gui.desktop import Desktop
from photoseek.gui.views.duplicatescards import CARD_WIDTH, GroupStrip
from photoseek.gui.workers.calls import CallRunner
from photoseek.gui.workers.duplicates import (
    DuplicateSearch,
    RestoreReport,
    Trash,
    TrashedFile,
    TrashReport,
    restore_files,
    trash_photos,
)
from photoseek.gui.workers.thumbnails import ThumbnailLoader
from photoseek.pathtext import display_path

log = logging.getLogger(__name__)

__all__ = ["DuplicatesDialog", "progress_line"]

_PHASES = {
    Phase.BUILDING_INDEX: "building the search index",
    Phase.HASHING: "hashing photos indexed before photoseek compared them",
    Phase.DUPLICATES: "comparing photos",
}


def progress_line(progress: Progress) -> str:
    """One line for the search's progress, e.g. ``comparing photos 1,024 / 5,310``."""
    what = _PHASES.get(progress.phase, "looking for duplicates")
    if progress.total:
        return f"{what} {progress.done:,} / {progress.total:,}"
    return f"{what}…"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


class DuplicatesDialog(QDialog):
    """Find duplicate groups and keep one photo of each (not modal)."""

    trashed = Signal(object)  # ChangeSet: the photos moved to the trash (removed)
    restored = Signal(list)  # ids of photos Undo put back

    def __init__(
        self,
        context: AppContext,
        parent: QWidget | None = None,
        *,
        desktop: Trash | None = None,
        threshold: float | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Duplicates")
        self.setAccessibleName("Duplicates")
        self.setModal(False)
        self._library = context.library
        self._threshold = threshold
        self.desktop: Trash = desktop or Desktop(self)
        self.search = DuplicateSearch(self._library, self)
        self.thumbnails = ThumbnailLoader(self._library, self, threads=1)
        self.calls = CallRunner(1, self)
        self.groups: list[DuplicateGroup] = []
        self.history: list[tuple[int, DuplicateGroup, list[TrashedFile]]] = []
        self._moving = False
        self._closed = False
        self._build()
        self._connect()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.resize(1000, 620)

    # -- parts ------------------------------------------------------------------------

    def _build(self) -> None:
        self.summary = QLabel("", self)
        self.summary.setWordWrap(True)
        self.find_button = QPushButton("Find Again", self)
        self.find_button.setAutoDefault(False)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(False)
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Result")
        self.list = QListWidget(self)
        self.list.setAccessibleName("Duplicate groups")
        self.strip = GroupStrip(self)
        self.undo_action = QAction("Undo", self)
        self.undo_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo))
        self.undo_action.setEnabled(False)
        self.addAction(self.undo_action)
        self.undo_button = QPushButton("Undo", self)
        self.undo_button.setAutoDefault(False)
        self.undo_button.setEnabled(False)
        self.undo_button.setToolTip("Put the photos last moved to the trash back where they were")
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.find_button)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.list)
        split.addWidget(self.strip)
        split.setStretchFactor(1, 1)
        split.setSizes([240, 760])
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.undo_button)
        column = QVBoxLayout(self)
        column.addLayout(top)
        column.addWidget(self.progress)
        column.addWidget(split, 1)
        column.addLayout(bottom)

    def _connect(self) -> None:
        self.find_button.clicked.connect(self.find_groups)
        self.search.progress.connect(self._progress)
        self.search.finished.connect(self._found)
        self.search.failed.connect(self._failed)
        self.list.currentRowChanged.connect(self._show_row)
        self.strip.keep_requested.connect(self.keep)
        self.thumbnails.ready.connect(self._thumbnails_ready)
        self.undo_action.triggered.connect(self.undo)
        self.undo_button.clicked.connect(self.undo)

    # -- finding ------------------------------------------------------------------------

    def find_groups(self) -> None:
        """Look for the groups again (in the worker; the list fills when it is done)."""
        self.summary.setText("Looking for duplicates…")
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.find_button.setEnabled(False)
        self.search.start(self._threshold)

    def _progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
        self.summary.setText(progress_line(progress))

    def _found(self, report: DuplicateReport) -> None:
        self.progress.setVisible(False)
        self.find_button.setEnabled(True)
        in_trash = {file.photo_id for _, _, files in self.history for file in files}
        self.groups = [g for g in (_without(g, in_trash) for g in report.groups) if g is not None]
        self.summary.setText(_summary(report, self.groups))
        self._fill()

    def _failed(self, text: str) -> None:
        self.progress.setVisible(False)
        self.find_button.setEnabled(True)
        self.summary.setText(f"Duplicates could not be found: {text}")

    def _fill(self, select: int = 0) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for group in self.groups:
            item = QListWidgetItem(f"{len(group.photos)} photos · {group.kept.path.name}")
            item.setToolTip(display_path(group.kept.path))
            self.list.addItem(item)
        self.list.blockSignals(False)
        if self.groups:
            self.list.setCurrentRow(min(select, len(self.groups) - 1))
        else:
            self._show_row(-1)

    # -- one group ------------------------------------------------------------------------

    def current_group(self) -> DuplicateGroup | None:
        """The group shown."""
        row = self.list.currentRow()
        return self.groups[row] if 0 <= row < len(self.groups) else None

    def _show_row(self, row: int) -> None:
        self.thumbnails.drop_pending()
        group = self.groups[row] if 0 <= row < len(self.groups) else None
        self.strip.show_group(group, "No duplicates left to review." if self.groups == [] else "")
        if group is None:
            return
        pixels = round(CARD_WIDTH * self.devicePixelRatioF())
        for photo in reversed(group.photos):  # the newest request loads first: the kept photo
            self.thumbnails.request(photo.id, pixels)

    def _thumbnails_ready(self) -> None:
        for loaded in self.thumbnails.take_loaded():
            if loaded.generation == self.thumbnails.generation:
                self.strip.set_thumbnail(loaded.photo_id, loaded.image)

    # -- keeping and undoing --------------------------------------------------------------

    def keep(self, photo_id: int) -> None:
        """Keep this photo of the group shown (and its RAW or JPEG); trash the others."""
        group, row = self.current_group(), self.list.currentRow()
        if group is None or self._moving:
            return
        kept = next((photo for photo in group.photos if photo.id == photo_id), None)
        if kept is None:
            return
        others = [photo for photo in group.photos if photo.unit != kept.unit]
        self._moving = True
        self.message.setText(f"Moving {_count(len(others), 'photo')} to the trash…")
        trash, library = self.desktop, self._library
        self.calls.submit(
            lambda: trash_photos(trash, library, others),
            lambda report: self._trashed(row, group, report),
            self._move_failed,
        )

    def _trashed(self, row: int, group: DuplicateGroup, report: TrashReport) -> None:
        self._moving = False
        text = f"Moved {_count(len(report.moved), 'photo')} to the trash."
        if report.failed:
            path, reason = report.failed[0]
            text += f" {_count(len(report.failed), 'photo')} stayed ({path.name}: {reason})."
        self.message.setText(text)
        if not report.moved:
            return
        self.history.append((row, group, report.moved))
        self._set_undo(True)
        if group in self.groups:
            self.groups.remove(group)
            self._fill(row)
        ids = [file.photo_id for file in report.moved]
        self.trashed.emit(ChangeSet(version=report.version, removed=ids))

    def undo(self) -> None:
        """Move the photos last trashed back where they were; their group comes back."""
        if not self.history or self._moving:
            return
        row, group, files = self.history.pop()
        self._set_undo(bool(self.history))
        self._moving = True
        self.message.setText(f"Putting {_count(len(files), 'photo')} back…")
        self.calls.submit(
            lambda: restore_files(files),
            lambda report: self._restored(row, group, files, report),
            self._move_failed,
        )

    def _restored(
        self, row: int, group: DuplicateGroup, files: list[TrashedFile], report: RestoreReport
    ) -> None:
        self._moving = False
        text = f"Put {_count(len(report.restored), 'photo')} back."
        if report.failed:
            reason = report.failed[0][1]
            text += f" {_count(len(report.failed), 'photo')} stayed in the trash ({reason})."
            left = [file for file in files if file not in report.restored]
            self.history.append((row, group, left))  # what stayed can be tried again
            self._set_undo(True)
        self.message.setText(text)
        if not report.restored:
            return
        if group not in self.groups:
            self.groups.insert(min(row, len(self.groups)), group)
            self._fill(min(row, len(self.groups) - 1))
        self.restored.emit([file.photo_id for file in report.restored])

    def _move_failed(self, exc: BaseException) -> None:
        self._moving = False
        self.message.setText(f"The files could not be moved: {exc}")

    def _set_undo(self, enabled: bool) -> None:
        self.undo_action.setEnabled(enabled)
        self.undo_button.setEnabled(enabled)

    # -- lifetime -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop looking and loading; the undo history stays while the app runs."""
        self.thumbnails.drop_pending()
        if not self.find_button.isEnabled():  # a search was running: it reports nothing now
            self.search.cancel()
            self.progress.setVisible(False)
            self.find_button.setEnabled(True)
            self.summary.setText("The search was stopped: Find Again.")
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop every worker (the app quits)."""
        if self._closed:
            return
        self._closed = True
        self.search.shutdown()
        self.thumbnails.shutdown()
        self.calls.shutdown()


def _without(group: DuplicateGroup, gone: set[int]) -> DuplicateGroup | None:
    """``group`` without photos in the trash; None when fewer than two photos are left."""
    photos = tuple(photo for photo in group.photos if photo.id not in gone)
    if len({photo.unit for photo in photos}) < 2:
        return None
    return group if len(photos) == len(group.photos) else DuplicateGroup(photos)


def _summary(report: DuplicateReport, groups: list[DuplicateGroup]) -> str:
    limits = report.thresholds
    cosine = " test off" if limits.cosine > 1 else f" ≥ {limits.cosine:g}"
    spare = sum(len(group.others) for group in groups)
    return (
        f"{_count(len(groups), 'group')} of near-duplicates among {_count(report.photos, 'photo')}"
        f" ({_count(spare, 'photo')} could go). Similarity{cosine}, picture hash within "
        f"{limits.phash_distance} of 64 bits."
    )
