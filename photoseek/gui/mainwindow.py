"""The main window: it assembles the parts and routes their signals, nothing more.

Layout: the notice bar on top; below it the library panel beside the search
pane (or, while the library has no folder, the empty state); the status bar
at the bottom. The search pane comes from a factory (the real
:class:`~photoseek.gui.views.searchpane.SearchPane` by default), the tray
from a :data:`~photoseek.gui.tray.TrayFactory` and the folder questions
from :class:`~photoseek.gui.views.folderdialogs.FolderPrompts`, so tests
replace what offscreen Qt cannot show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from photoseek import __version__
from photoseek.core.library import ServiceStatus
from photoseek.gui.context import AppContext
from photoseek.gui.menus import build_menus, split_photo_actions
from photoseek.gui.models.folders import folder_label
from photoseek.gui.settings import THUMBNAIL_SIZES
from photoseek.gui.theme import app_icon
from photoseek.gui.tray import Tray, TrayFactory, system_tray
from photoseek.gui.views.emptystate import EmptyState
from photoseek.gui.views.folderdialogs import FolderPrompts
from photoseek.gui.views.notices import INFO, WARNING, NoticeBar
from photoseek.gui.views.progresstext import state_text, writer_text
from photoseek.gui.views.settingsdialog import SettingsDialog
from photoseek.gui.views.sidebar import LibraryPanel
from photoseek.gui.views.statusbar import StatusBar
from photoseek.gui.windowactions import build_window_actions
from photoseek.gui.workers.appworkers import AppWorkers
from photoseek.gui.workers.background import READER, WRITER
from photoseek.gui.workers.offthread import OffThread
from photoseek.pathtext import display_path

if TYPE_CHECKING:
    from photoseek.gui.views.duplicates import DuplicatesDialog

log = logging.getLogger(__name__)

PaneFactory = Callable[[AppContext, QWidget], Any]  # returns a SearchPane (see searchpane.py)
CheckpointChooser = Callable[[QWidget], Path | None]

TRAY_TITLE = "photoseek keeps running"
TRAY_TEXT = (
    "photoseek keeps your library current from the system tray. Open it again from the tray "
    "icon; quit it from the tray menu. (Settings: “Keep indexing in the system tray”.)"
)
READ_ONLY_TEXT = (
    "photoseek can only read this library (its folder cannot be written here): you can browse "
    "and search it, but nothing is indexed or changed."
)
CHECKPOINT_FILTER = "Model checkpoints (*.safetensors *.bin *.pt *.pth *.ckpt);;All files (*)"


def search_pane(context: AppContext, parent: QWidget) -> Any:
    """The real search pane (imported here: the window module stays importable on its own)."""
    from photoseek.gui.views.searchpane import SearchPane

    return SearchPane(context, parent)


def choose_checkpoint(parent: QWidget) -> Path | None:
    """Ask for a local model checkpoint file."""
    chosen, _filter = QFileDialog.getOpenFileName(
        parent, "Choose a Model Checkpoint File", str(Path.home()), CHECKPOINT_FILTER
    )
    return Path(chosen) if chosen else None


class MainWindow(QMainWindow):
    """photoseek's one window."""

    quit_requested = Signal()

    def __init__(
        self,
        context: AppContext,
        workers: AppWorkers | None = None,
        *,
        pane_factory: PaneFactory = search_pane,
        tray_factory: TrayFactory = system_tray,
        prompts: FolderPrompts | None = None,
        checkpoint_chooser: CheckpointChooser = choose_checkpoint,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.settings = context.settings
        self.workers = workers
        self.checkpoint_chooser = checkpoint_chooser
        self._quitting = False
        self._settings_dialog: SettingsDialog | None = None
        self._duplicates_dialog: DuplicatesDialog | None = None
        self.setWindowTitle("photoseek")
        self.setWindowIcon(app_icon())
        self.setAccessibleName("photoseek")
        self.setAcceptDrops(True)
        self.calls = OffThread(self)
        self._build_parts(pane_factory, prompts)
        build_window_actions(self)
        self._set_writer_actions(self.workers is not None)
        self._build_menus()
        self.status = StatusBar(self.pause_action, self)
        self.setStatusBar(self.status)
        self.tray: Tray | None = tray_factory(app_icon(), self.pause_action, self)
        self._connect()
        self._show_tray_if_wanted()
        self.restore_state()
        self.panel.refresh()

    # -- parts ----------------------------------------------------------------------------

    def _build_parts(self, pane_factory: PaneFactory, prompts: FolderPrompts | None) -> None:
        self.notices = NoticeBar(self)
        self.panel = LibraryPanel(self.context, self.calls, prompts, self)
        self.pane = pane_factory(self.context, self)
        self.empty = EmptyState(parent=self)
        self.empty.button_clicked.connect(self.panel.ask_add_folder)
        self.content = QStackedWidget(self)
        self.content.addWidget(self.pane)
        self.content.addWidget(self.empty)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setAccessibleName("Library and photos")
        self.splitter.addWidget(self.panel)
        self.splitter.addWidget(self.content)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.notices)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

    def _build_menus(self) -> None:
        self.size_actions = build_menus(self, split_photo_actions(self._pane_actions()))

    def _pane_actions(self) -> list[QAction]:
        actions = getattr(self.pane, "photo_actions", None)
        if actions is None:
            return []
        return list(actions().actions())

    # -- wiring ---------------------------------------------------------------------------

    def _connect(self) -> None:
        events, model, pane = self.context.events, self.context.model, self.pane
        self.panel.folder_selected.connect(pane.show_folder)
        self.panel.tag_selected.connect(pane.show_tag)
        self.panel.album_selected.connect(pane.show_album)
        self.panel.tags_loaded.connect(pane.set_tags)
        self.panel.hidden_counted.connect(pane.set_hidden_count)
        self.panel.folders_loaded.connect(self._folders_loaded)
        self.panel.folder_unavailable.connect(self._folder_unavailable)
        self.panel.folder_available.connect(lambda path: self.notices.dismiss(_missing_key(path)))
        self.panel.rescan_requested.connect(self.rescan)
        self.panel.error.connect(lambda text: self.notices.show_notice(text, key="folders"))
        pane.status_message.connect(self.status.show_message)
        pane.count_changed.connect(self.status.set_count)
        for name, slot in (
            ("preview_visibility_changed", self._pane_preview_changed),
            ("thumbnail_size_changed", self._pane_thumbnails_changed),
        ):
            signal = getattr(pane, name, None)  # the pane's own controls changed the view
            if signal is not None:
                signal.connect(slot)
        events.changed.connect(pane.apply_changes)
        events.message.connect(self.status.show_message)
        events.progress.connect(self.status.show_progress)
        events.state.connect(self._state_changed)
        model.loading.connect(self.status.show_model_progress)
        model.ready.connect(self._model_ready)
        model.failed.connect(self._model_failed)
        if model.is_ready:
            self.status.model_ready()
        if self.context.library.read_only:
            self.notices.show_notice(READ_ONLY_TEXT, key="read-only", level=INFO)
            self.retry_action.setEnabled(False)
        if self.tray is not None:
            self.tray.show_requested.connect(self.bring_to_front)
            self.tray.quit_requested.connect(self.request_quit)
        if self.workers is not None:
            background = self.workers.background
            background.role_changed.connect(self._role_changed)
            background.paused_changed.connect(self._paused_changed)
            self.workers.follower.service_changed.connect(self._service_changed)
            self.workers.error.connect(lambda text: self.notices.show_notice(text, key="worker"))

    def _folders_loaded(self, count: int) -> None:
        self.content.setCurrentWidget(self.pane if count else self.empty)

    def _folder_unavailable(self, path: Path, reason: str) -> None:
        self.notices.show_notice(
            f"“{folder_label(path)}” is unavailable ({reason}): its photos stay in the library, "
            "shown as offline, until it is back. If it moved, show photoseek where it is now.",
            key=_missing_key(path),
            level=WARNING,
            action=("Folder Moved…", lambda: self._relocate(path)),
        )

    def _relocate(self, path: Path) -> None:
        self.panel.select_folder(path)
        self.panel.ask_relocate()

    def _state_changed(self, state: str) -> None:
        self.status.show_state(state)
        if self.tray is not None:
            self.tray.set_tooltip(f"photoseek: {state_text(state) or state}")
        if state != "error":
            self.notices.dismiss("worker")

    def _role_changed(self, role: str) -> None:
        self._set_writer_actions(role == WRITER)
        if role != READER:
            self.notices.dismiss("writer")
            return
        writer = self.workers.background.writer if self.workers is not None else None
        if writer and writer.get("purpose") != "watch service":
            self.notices.show_notice(
                f"{writer_text(writer)}: photoseek shows what it does and indexes again "
                "when it ends.",
                key="writer",
                level=INFO,
            )

    def _service_changed(self, status: ServiceStatus) -> None:
        self.status.show_service(status)

    def _set_writer_actions(self, writer: bool) -> None:
        for action in (self.pause_action, self.rescan_action):
            action.setEnabled(writer)
            action.setToolTip("" if writer else "Another photoseek process indexes this library")

    # -- the model ------------------------------------------------------------------------

    def _model_ready(self) -> None:
        self.status.model_ready()
        self.notices.dismiss("model")

    def _model_failed(self, message: str) -> None:
        self.status.model_failed(message)
        self.notices.show_notice(
            message, key="model", action=("Use a Checkpoint File…", self.use_checkpoint)
        )

    def use_checkpoint(self) -> None:
        """Ask for a local checkpoint file and load the model from it (also from then on)."""
        checkpoint = self.checkpoint_chooser(self)
        if checkpoint is None:
            return
        running = self.context.library.settings
        self.settings.set_model(running.arch, str(checkpoint), running.device)
        self.settings.sync()
        self.notices.dismiss("model")
        if self.workers is not None:
            self.workers.use_checkpoint(checkpoint)
            self.status.show_message(f"loading the model from {display_path(checkpoint)}")
        else:
            self.status.show_message("the checkpoint is used from the next start")

    # -- indexing control -------------------------------------------------------------------

    def _pause_toggled(self, paused: bool) -> None:
        self.pause_action.setText("Resume Indexing" if paused else "Pause Indexing")
        icon = QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause
        self.pause_action.setIcon(self.style().standardIcon(icon))
        if self.workers is not None:
            self.workers.background.set_paused(paused)

    def _paused_changed(self, paused: bool) -> None:
        if self.pause_action.isChecked() != paused:
            self.pause_action.setChecked(paused)

    def rescan(self) -> None:
        """Compare every folder with the disk now (as the writer)."""
        if self.workers is not None and self.workers.background.rescan():
            self.status.show_message("rescanning every folder")

    # -- view -------------------------------------------------------------------------------

    def _preview_toggled(self, visible: bool) -> None:
        self.settings.preview_visible = visible
        setter = getattr(self.pane, "set_preview_visible", None)
        if setter is not None:
            setter(visible)

    def _pane_preview_changed(self, visible: bool) -> None:
        if self.preview_action.isChecked() != visible:
            self.preview_action.blockSignals(True)
            self.preview_action.setChecked(visible)
            self.preview_action.blockSignals(False)

    def _pane_thumbnails_changed(self, size: int) -> None:
        action = self.size_actions.get(size)
        if action is not None:
            action.setChecked(True)

    def set_thumbnail_size(self, size: int) -> None:
        """Show thumbnails at ``size`` px (stored in the settings)."""
        self.settings.thumbnail_size = size
        size = self.settings.thumbnail_size
        if size in self.size_actions:
            self.size_actions[size].setChecked(True)
        setter = getattr(self.pane, "set_thumbnail_size", None)
        if setter is not None:
            setter(size)

    def _step_thumbnails(self, step: int) -> None:
        position = THUMBNAIL_SIZES.index(self.settings.thumbnail_size) + step
        self.set_thumbnail_size(THUMBNAIL_SIZES[max(0, min(len(THUMBNAIL_SIZES) - 1, position))])

    def toggle_full_screen(self) -> None:
        """Enter or leave full screen."""
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.full_screen_action.setChecked(self.isFullScreen())

    # -- settings and about ---------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        """Show the settings window (not modal)."""
        if self._settings_dialog is None:
            dialog = SettingsDialog(
                self.context, self.calls, tray_available=self.tray is not None, parent=self
            )
            dialog.changed.connect(self._setting_changed)
            self._settings_dialog = dialog
        self._settings_dialog.show()
        self._settings_dialog.raise_()
        self._settings_dialog.activateWindow()
        return self._settings_dialog

    def open_duplicates(self) -> DuplicatesDialog:
        """Show the duplicate review (not modal); the first time, it starts looking."""
        if self._duplicates_dialog is None:
            from photoseek.gui.views.duplicates import DuplicatesDialog  # on first use

            dialog = DuplicatesDialog(self.context, self)
            dialog.trashed.connect(self.pane.apply_changes)  # as the pane's own Move to Trash
            dialog.restored.connect(lambda _ids: self.pane.refresh_request())
            self._duplicates_dialog = dialog
            dialog.find_groups()
        self._duplicates_dialog.show()
        self._duplicates_dialog.raise_()
        self._duplicates_dialog.activateWindow()
        return self._duplicates_dialog

    def _setting_changed(self, name: str) -> None:
        if name == "thumbnail_size":
            self.set_thumbnail_size(self.settings.thumbnail_size)
        elif name == "close_to_tray":
            self._show_tray_if_wanted()
        elif name == "pause_on_battery" and self.workers is not None:
            self.workers.background.set_pause_on_battery(self.settings.pause_on_battery)
        elif name == "short_query_prompts":
            self.pane.refresh_request()

    def about(self) -> None:
        """A short about box (asked for)."""
        QMessageBox.about(
            self,
            "About photoseek",
            f"<b>photoseek {__version__}</b><p>Find photos on your own disk by what is in them. "
            "Nothing leaves your computer.</p>",
        )

    # -- tray, closing, quitting ------------------------------------------------------------

    def _show_tray_if_wanted(self) -> None:
        if self.tray is None:
            return
        if self.settings.close_to_tray:
            self.tray.show()
        else:
            self.tray.hide()

    def bring_to_front(self) -> None:
        """Show the window on top (a second start, the tray icon)."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Hide to the tray (and say so, once) or quit, as the settings say."""
        self.save_state()
        if not self._quitting and self.tray is not None and self.settings.close_to_tray:
            event.ignore()
            self.hide()
            self._explain_tray_once()
            return
        event.accept()
        self.request_quit()

    def _explain_tray_once(self) -> None:
        if self.settings.close_explained or self.tray is None:
            return
        self.tray.notify(TRAY_TITLE, TRAY_TEXT)
        self.settings.close_explained = True
        self.settings.sync()

    def request_quit(self) -> None:
        """Quit the app (the workers stop; the batch in progress is committed)."""
        if self._quitting:
            return
        self._quitting = True
        self.save_state()
        self.hide()
        log.info("quitting")
        self.quit_requested.emit()

    # -- drag and drop ----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept folders (to add) and image files (to search by)."""
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """A dropped folder is added; a dropped image becomes the search."""
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        self.drop_paths(paths)
        event.acceptProposedAction()

    def drop_paths(self, paths: list[Path]) -> None:
        """What a drop of these paths does: add the folders, search by the first file."""
        folders = [path for path in paths if path.is_dir()]
        files = [path for path in paths if path.is_file()]
        for folder in folders:
            self.panel.add_folder(folder)
        if files and not folders:
            self.pane.search_image(files[0])

    # -- state ------------------------------------------------------------------------------

    def restore_state(self) -> None:
        """Put the window and the splitter back where they were."""
        geometry, state = self.settings.window_state()
        if not (geometry and self.restoreGeometry(QByteArray(geometry))):
            self.resize(1200, 780)
        if not (state and self.splitter.restoreState(QByteArray(state))):
            self.splitter.setSizes([240, 960])

    def save_state(self) -> None:
        """Remember the window's geometry and the splitter."""
        self.settings.save_window_state(
            bytes(self.saveGeometry().data()), bytes(self.splitter.saveState().data())
        )

    def shutdown(self) -> None:
        """Before the app quits: save, stop the pane and the panel's calls, leave the tray."""
        self.save_state()
        self.settings.sync()
        shutdown = getattr(self.pane, "shutdown", None)
        if shutdown is not None:
            shutdown()
        self.calls.shutdown()
        if self._duplicates_dialog is not None:
            self._duplicates_dialog.shutdown()
        if self.tray is not None:
            self.tray.hide()


def _missing_key(path: Path) -> str:
    return f"missing:{path}"
