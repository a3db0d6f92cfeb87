"""What can be done to photos, in one place: every ``QAction`` with its shortcut.

:class:`PhotoActions` acts on the current selection (a function the search
pane hands it) and owns the actions of the search pane's menus:

===================  ============================  ==========================================
action               shortcut                      does
===================  ============================  ==========================================
View                 Enter (in the grid)           opens the viewer (``view_requested``)
Open                 Ctrl+O (StandardKey.Open)     opens the files with the default app
Show in Folder       Ctrl+Shift+R                  reveals them in the file manager
Copy Image           Ctrl+C (StandardKey.Copy)     the photo, decoded through core, to the clipboard
Copy Path            Ctrl+Shift+C                  the paths, one per line (and as file URLs)
Export…              Ctrl+Shift+E                  copies the files into a chosen folder
Move to Trash        Del, Ctrl+Backspace           the system trash, after a confirmation
Find Similar         Ctrl+Shift+F                  adds the photos as image queries
Search by Pasted …   Ctrl+V (StandardKey.Paste)    the clipboard's image becomes a query
Select All           Ctrl+A (StandardKey.SelectAll)
-------------------  ----------------------------  ------------------------------------------
Find                 Ctrl+F (StandardKey.Find)     focuses the search field
Preview Pane         Ctrl+I (Space in the grid)    shows or hides the preview
Bigger / Smaller     Ctrl++ / Ctrl+- (ZoomIn/Out)  thumbnail size
===================  ============================  ==========================================

The actions above the line (:meth:`PhotoActions.actions`) are window-wide
shortcuts, so they work from any widget of the window; text fields keep their
own Ctrl+C/V/A/Del (Qt gives a focused line edit those keys first). The ones
below (:meth:`PhotoActions.view_actions`) are live only when the window asks
for them (``view_shortcuts=True``): a main window with its own Find, preview
and zoom actions would otherwise make those keys ambiguous, and Qt then
triggers neither. Slow work (decoding for the clipboard, exporting, trashing) runs in a
worker and reports one sentence through ``message``. The platform (open,
reveal, trash) and the two questions (the trash confirmation, the export
folder) are seams: tests pass fakes.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from photoseek.core.records import PhotoRecord
from photoseek.gui.context import AppContext
from photoseek.gui.desktop import Desktop, file_url, path_text
from photoseek.gui.imageio import decode_photo
from photoseek.gui.workers.calls import CallRunner
from photoseek.pathtext import display_path

log = logging.getLogger(__name__)

__all__ = [
    "ChooseFolder",
    "Confirm",
    "ExportReport",
    "PhotoActions",
    "TrashReport",
    "export_files",
    "trash_files",
]

Confirm = Callable[[QWidget, str, str], bool]
ChooseFolder = Callable[[QWidget], Path | None]
Selection = Callable[[], list[PhotoRecord]]

OPEN_AT_MOST = 20
SIMILAR_AT_MOST = 5


def ask_confirmation(parent: QWidget, title: str, text: str) -> bool:
    """Ask a yes/no question the user asked for (the trash); the default seam."""
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_folder(parent: QWidget) -> Path | None:
    """Ask for the export folder; the default seam."""
    chosen = QFileDialog.getExistingDirectory(parent, "Export Photos To")
    return Path(chosen) if chosen else None


# -- the slow parts, run in a worker ---------------------------------------------------


@dataclass
class ExportReport:
    """Where each exported photo went, and which could not be copied."""

    copied: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def export_files(sources: list[Path], folder: Path) -> ExportReport:
    """Copy ``sources`` into ``folder``; taken names get `` (2)``, `` (3)``...; never overwrites."""
    report = ExportReport()
    for source in sources:
        try:
            report.copied.append(_copy_new(source, folder))
        except OSError as exc:
            report.failed.append((source, exc.strerror or str(exc)))
    return report


def _copy_new(source: Path, folder: Path) -> Path:
    """Copy ``source`` to a name in ``folder`` that no file has yet (claimed with O_EXCL)."""
    stem, suffix = source.stem, source.suffix
    with source.open("rb") as reader:
        for number in range(1, 10_000):
            name = source.name if number == 1 else f"{stem} ({number}){suffix}"
            target = folder / name
            try:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                continue
            try:
                with os.fdopen(fd, "wb") as writer:
                    shutil.copyfileobj(reader, writer, 1 << 20)
                shutil.copystat(source, target)
            except OSError:
                target.unlink(missing_ok=True)
                raise
            return target
    raise OSError(f"no free name for {source.name} in {display_path(folder)}")


@dataclass
class TrashReport:
    """The photos moved to the trash, and the ones that stayed (with why)."""

    moved: list[int] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def trash_files(desktop: Desktop, records: list[PhotoRecord]) -> TrashReport:
    """Move each photo's file to the system trash (never deleted outright)."""
    report = TrashReport()
    for record in records:
        try:
            desktop.move_to_trash(record.path)
            report.moved.append(record.id)
        except OSError as exc:
            report.failed.append((record.path, str(exc)))
    return report


# -- the actions -----------------------------------------------------------------------


class PhotoActions(QObject):
    """Every action on photos (and the search pane's view actions), with shortcuts."""

    view_requested = Signal(object)  # PhotoRecord to open in the viewer
    similar_requested = Signal(list)  # list[PhotoRecord] to add as image queries
    trashed = Signal(list)  # ids of the photos moved to the trash
    message = Signal(str)  # one sentence for the status bar

    def __init__(
        self,
        context: AppContext,
        selection: Selection,
        parent: QWidget,
        *,
        desktop: Desktop | None = None,
        confirm: Confirm = ask_confirmation,
        choose_folder: ChooseFolder = ask_folder,
        view_shortcuts: bool = False,
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._selection = selection
        self._widget = parent
        self.desktop = desktop or Desktop(self)
        self.confirm = confirm
        self.choose_folder = choose_folder
        self._runner = CallRunner(1, self)
        self._make_photo_actions()
        self._make_view_actions()
        parent.addActions(self.actions())
        if view_shortcuts:  # a window without its own Find, preview and zoom actions
            parent.addActions(self.view_actions())
        self.update_enabled()

    def _action(self, text: str, keys: list[QKeySequence], tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setShortcuts(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setStatusTip(tip)
        action.setToolTip(tip or text)
        return action

    def _make_photo_actions(self) -> None:
        std, key = QKeySequence.StandardKey, QKeySequence
        self.view = self._action("View\tEnter", [], "Show the photo in the viewer")
        self.open_external = self._action(
            "Open", key.keyBindings(std.Open), "Open with the default app"
        )
        self.reveal = self._action(
            "Show in Folder", [key("Ctrl+Shift+R")], "Show in the file manager"
        )
        self.copy_image = self._action("Copy Image", key.keyBindings(std.Copy), "Copy the photo")
        self.copy_paths = self._action("Copy Path", [key("Ctrl+Shift+C")], "Copy the file paths")
        self.export = self._action("Export…", [key("Ctrl+Shift+E")], "Copy the files into a folder")
        self.trash = self._action(
            "Move to Trash",
            [*key.keyBindings(std.Delete), key("Ctrl+Backspace")],
            "Move the files to the system trash",
        )
        self.find_similar = self._action(
            "Find Similar", [key("Ctrl+Shift+F")], "Search for photos that look like these"
        )
        self.view.triggered.connect(self._view)
        self.open_external.triggered.connect(self._open_external)
        self.reveal.triggered.connect(self._reveal)
        self.copy_image.triggered.connect(self._copy_image)
        self.copy_paths.triggered.connect(self._copy_paths)
        self.export.triggered.connect(self._export)
        self.trash.triggered.connect(self._trash)
        self.find_similar.triggered.connect(self._find_similar)

    def _make_view_actions(self) -> None:
        std, key = QKeySequence.StandardKey, QKeySequence
        self.paste_query = self._action(
            "Search by Pasted Image", key.keyBindings(std.Paste), "Search by the clipboard's image"
        )
        self.select_all = self._action("Select All", key.keyBindings(std.SelectAll))
        self.find = self._action("Find", key.keyBindings(std.Find), "Type a search")
        self.toggle_preview = self._action(
            "Preview Pane", [key("Ctrl+I")], "Show or hide the preview (Space in the grid)"
        )
        self.toggle_preview.setCheckable(True)
        self.zoom_in = self._action(
            "Bigger Thumbnails", [*key.keyBindings(std.ZoomIn), key("Ctrl+=")]
        )
        self.zoom_out = self._action("Smaller Thumbnails", key.keyBindings(std.ZoomOut))

    # -- lists for menus --------------------------------------------------------------

    def photo_actions(self) -> list[QAction]:
        """The actions on the selected photos, in menu order."""
        return [
            self.view,
            self.open_external,
            self.reveal,
            self.copy_image,
            self.copy_paths,
            self.export,
            self.find_similar,
            self.trash,
        ]

    def actions(self) -> list[QAction]:
        """Every action for the window's menus: the photo actions, then paste and select all.

        Their shortcuts are live wherever the pane is in a window.
        """
        return [*self.photo_actions(), self.paste_query, self.select_all]

    def view_actions(self) -> list[QAction]:
        """Find, preview pane and thumbnail size: for a window that has none of its own.

        Their shortcuts are live only with ``view_shortcuts=True`` (or once the
        window adds them); a window with its own Find (Ctrl+F), preview and
        zoom actions calls the pane's ``focus_search``, ``set_preview_visible``
        and ``set_thumbnail_size`` instead.
        """
        return [self.find, self.toggle_preview, self.zoom_in, self.zoom_out]

    def populate_menu(self, menu: QMenu) -> None:
        """Fill a context menu for the selection."""
        groups = [
            [self.view, self.open_external, self.reveal],
            [self.copy_image, self.copy_paths, self.export],
            [self.find_similar],
            [self.trash],
        ]
        for number, group in enumerate(groups):
            if number:
                menu.addSeparator()
            menu.addActions(group)

    def update_enabled(self) -> None:
        """Enable what makes sense for the current selection."""
        records = self._selection()
        for action in self.photo_actions():
            action.setEnabled(bool(records))

    def shutdown(self) -> None:
        """Stop the worker (an export in progress finishes its current file first)."""
        self._runner.shutdown()

    # -- doing ------------------------------------------------------------------------

    def _selected(self, *, available: bool = True) -> list[PhotoRecord]:
        records = self._selection()
        if not available:
            return records
        reachable = [r for r in records if r.folder_available]
        if records and not reachable:
            self.message.emit("The disk of the selected photos is not connected.")
        return reachable

    def _view(self) -> None:
        records = self._selection()
        if records:
            self.view_requested.emit(records[0])

    def _open_external(self) -> None:
        records = self._selected()
        for record in records[:OPEN_AT_MOST]:
            if not self.desktop.open_file(record.path):
                self.message.emit(f"No application opened {display_path(record.path.name)}.")
        if len(records) > OPEN_AT_MOST:
            self.message.emit(f"Opened the first {OPEN_AT_MOST} of {len(records):,} photos.")

    def _reveal(self) -> None:
        records = self._selected()
        if records:
            self.desktop.reveal([r.path for r in records[:OPEN_AT_MOST]])

    def _copy_paths(self) -> None:
        records = self._selected(available=False)
        if not records:
            return
        mime = QMimeData()
        mime.setText("\n".join(path_text(r.path) for r in records))
        mime.setUrls([file_url(r.path) for r in records])
        QGuiApplication.clipboard().setMimeData(mime)
        self.message.emit(
            "Copied the path." if len(records) == 1 else f"Copied {len(records):,} paths."
        )

    def _copy_image(self) -> None:
        records = self._selected()
        if not records:
            return
        record = records[0]
        name = display_path(record.path.name)
        self._runner.submit(
            lambda: decode_photo(record.path),
            lambda image: self._image_copied(image, name),
            lambda exc: self.message.emit(f"Cannot copy {name}: {exc}"),
        )

    def _image_copied(self, image: QImage, name: str) -> None:
        QGuiApplication.clipboard().setImage(image)
        self.message.emit(f"Copied the image of {name}.")

    def _export(self) -> None:
        records = self._selected()
        if not records:
            return
        folder = self.choose_folder(self._widget)
        if folder is None:
            return
        sources = [r.path for r in records]
        self.message.emit(f"Exporting {len(sources):,} photos…")
        self._runner.submit(
            lambda: export_files(sources, folder),
            lambda report: self._exported(report, folder),
            lambda exc: self.message.emit(f"The export failed: {exc}"),
        )

    def _exported(self, report: ExportReport, folder: Path) -> None:
        count = len(report.copied)
        text = f"Exported {count:,} photo{'s' if count != 1 else ''} to {display_path(folder)}."
        if report.failed:
            path, reason = report.failed[0]
            name = display_path(path.name)
            text += f" {len(report.failed):,} could not be copied ({name}: {reason})."
        self.message.emit(text)

    def _trash(self) -> None:
        records = self._selected()
        if not records:
            return
        what = (
            display_path(records[0].path.name) if len(records) == 1 else f"{len(records):,} photos"
        )
        question = f"Move {what} to the trash?\nYou can restore the files from the trash."
        if not self.confirm(self._widget, "Move to Trash", question):
            return
        desktop = self.desktop
        self._runner.submit(lambda: trash_files(desktop, records), self._trashed)

    def _trashed(self, report: TrashReport) -> None:
        if report.moved:
            self.trashed.emit(report.moved)
        count = len(report.moved)
        text = f"Moved {count:,} photo{'s' if count != 1 else ''} to the trash."
        if report.failed:
            text += f" {len(report.failed):,} stayed: {report.failed[0][1]}."
        self.message.emit(text)

    def _find_similar(self) -> None:
        records = self._selected(available=False)
        if records:
            self.similar_requested.emit(records[:SIMILAR_AT_MOST])
