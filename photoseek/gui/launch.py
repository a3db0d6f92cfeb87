"""Everything :func:`photoseek.gui.app.main` does once it knows there is a display.

Kept apart from ``app.py`` so that the no-display check imports no Qt.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from photoseek.core.errors import PhotoseekError
from photoseek.core.library import Library
from photoseek.core.library.modelchoice import stored_choice
from photoseek.core.model.embedder import DEFAULT_ARCH, DEFAULT_PRETRAINED, ModelSettings
from photoseek.gui import app as app_module
from photoseek.gui.context import AppContext, LibraryEvents, ModelState
from photoseek.gui.instance import SingleInstance, server_name
from photoseek.gui.mainwindow import MainWindow
from photoseek.gui.settings import AppSettings
from photoseek.gui.theme import ThemeFollower, apply_app_identity
from photoseek.gui.views.emptystate import EmptyState
from photoseek.gui.workers.appworkers import AppWorkers
from photoseek.logsetup import configure_logging
from photoseek.modelargs import named_model
from photoseek.paths import AppPaths, resolve_paths

log = logging.getLogger("photoseek.gui")

EXIT_OK, EXIT_ERROR = 0, 1
WORKERS_AT_THE_LATEST_MS = 3000
# Set to 1: quit as soon as the window is on screen, before the workers start (the
# installer's smoke test checks that a bundle's window shows and that it quits cleanly).
QUIT_WHEN_SHOWN_ENV = "PHOTOSEEK_QUIT_WHEN_SHOWN"


def run(args: argparse.Namespace) -> int:
    """Start the app for the global options in ``args``; run it; the exit code."""
    steps = StartupSteps()
    paths = resolve_paths(args.data_dir)
    configure_logging(_log_dir(paths), int(getattr(args, "verbose", 0) or 0))
    app = make_application()
    instance = SingleInstance(server_name(paths.data_dir), app)
    if not instance.claim():
        return EXIT_OK
    ThemeFollower(app)
    steps.mark("qt")
    settings = AppSettings(paths)
    try:
        library = open_library(paths, model_settings(args, settings))
        library.follows_choice = named_model(args) is None  # a switch made elsewhere: follow it
    except PhotoseekError as exc:
        log.error("cannot open the library: %s", exc)
        return show_startup_error(app, str(exc))
    steps.mark("library")
    context = AppContext(paths, library, settings, ModelState(), LibraryEvents())
    workers = AppWorkers(context, app)
    window = MainWindow(context, workers)
    steps.mark("window")
    start_workers = _once(workers.start)

    def on_screen() -> None:
        window_shown(steps)
        if os.environ.get(QUIT_WHEN_SHOWN_ENV) == "1":
            log.info("quitting once shown (%s=1)", QUIT_WHEN_SHOWN_ENV)
            QTimer.singleShot(0, app.quit)
            return
        QTimer.singleShot(0, start_workers)  # torch imports after the first frame, not before

    painted = FirstPaint(window, on_screen)
    window.show()
    QTimer.singleShot(WORKERS_AT_THE_LATEST_MS, start_workers)  # a window that never paints
    instance.raise_requested.connect(window.bring_to_front)
    window.quit_requested.connect(app.quit)
    del painted  # the window owns it
    code = EXIT_ERROR
    try:
        code = int(app.exec())
    finally:
        clean = shut_down(window, workers, library, instance)
    if not clean:  # a thread still imports torch: exit now, the OS releases the writer lock
        logging.shutdown()
        os._exit(code)
    return code


def make_application() -> QApplication:
    """The QApplication, named for the desktop (.desktop file, WM_CLASS), with its icon."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["photoseek"])
    apply_app_identity(app)
    app.setQuitOnLastWindowClosed(False)  # the window may go to the tray; Quit quits
    return app


def _once(action: Callable[[], object]) -> Callable[[], None]:
    """``action``, run on the first call only."""
    done = False

    def run_once() -> None:
        nonlocal done
        if not done:
            done = True
            action()

    return run_once


class FirstPaint(QObject):
    """Calls ``callback`` once, when ``widget`` paints for the first time (it is on screen)."""

    def __init__(self, widget: QWidget, callback: Callable[[], object]) -> None:
        super().__init__(widget)
        self._callback: Callable[[], object] | None = callback
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Wait for the first paint event."""
        if event.type() == QEvent.Type.Paint and self._callback is not None:
            callback, self._callback = self._callback, None
            watched.removeEventFilter(self)
            callback()
        return False


class StartupSteps:
    """When each start-up step ended, in seconds after the process started."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = [("imports", time.time() - app_module.started_at)]

    def mark(self, name: str) -> None:
        """The step ``name`` ends now."""
        self.steps.append((name, time.time() - app_module.started_at))

    def describe(self) -> str:
        """``imports 1.10 s, qt 1.20 s, ...`` (cumulative)."""
        return ", ".join(f"{name} {at:.2f} s" for name, at in self.steps)


def window_shown(steps: StartupSteps | None = None) -> float:
    """Log (and remember) the seconds from process start to the window's first paint."""
    now = time.time()
    app_module.window_shown_at = now
    elapsed = now - app_module.started_at
    detail = f" ({steps.describe()})" if steps is not None else ""
    log.info("window_shown %.3f s after process start%s", elapsed, detail)
    return elapsed


def model_settings(args: argparse.Namespace, settings: AppSettings) -> ModelSettings:
    """The command line's model where given (or its environment variables), else the
    library's chosen model (``photoseek model use``, the settings' model choice), else the
    model an older version stored in the app's settings, else the default.

    Architecture and weights go together (a tag belongs to its architecture).
    """
    arch, pretrained, device = settings.model(DEFAULT_ARCH, DEFAULT_PRETRAINED, "auto")
    chosen = named_model(args) or stored_choice(resolve_paths(args.data_dir).catalog)
    if chosen is not None:
        arch, pretrained = chosen.arch, chosen.pretrained
    if args.device != "auto":
        device = args.device
    return ModelSettings(arch, pretrained, device)


def open_library(paths: AppPaths, model: ModelSettings) -> Library:
    """The library for writing; read-only where its folder cannot be written."""
    try:
        return Library(paths, model)
    except PhotoseekError as exc:
        if not paths.catalog.is_file():
            raise
        log.warning("opening the library read-only: %s", exc)
        return Library(paths.check_readable(), model, read_only=True)


def show_startup_error(app: QApplication, message: str) -> int:
    """A window (not a dialog) that says why the library cannot be opened; exit code 1."""
    window = QMainWindow()
    window.setWindowTitle("photoseek")
    view = EmptyState(
        "photoseek cannot open its library",
        f"{message}. The command line says more: photoseek doctor.",
        "Quit",
        window,
    )
    view.button_clicked.connect(app.quit)
    window.setCentralWidget(view)
    window.resize(640, 420)
    window.show()
    app.setQuitOnLastWindowClosed(True)
    app.exec()
    return EXIT_ERROR


def shut_down(
    window: MainWindow, workers: AppWorkers, library: Library, instance: SingleInstance
) -> bool:
    """Stop everything within seconds; False when a worker still runs (the library stays open)."""
    started = time.monotonic()
    window.shutdown()
    instance.close()
    clean = workers.shutdown()
    if clean:
        library.close()
    else:
        log.info("a worker is still busy (loading the model): the process exit ends it")
    log.info("stopped in %.1f s", time.monotonic() - started)
    return clean


def _log_dir(paths: AppPaths) -> Path | None:
    """The log folder, unless the data dir cannot hold logs (then the console only)."""
    data_dir = paths.data_dir
    if data_dir.exists() and (not data_dir.is_dir() or not os.access(data_dir, os.W_OK)):
        return None
    return paths.log_dir
