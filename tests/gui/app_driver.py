"""Runs the real app (``photoseek`` without a command) and reports what the app tests check.

    python tests/gui/app_driver.py quit-when-shown
    python tests/gui/app_driver.py stay QUIT_FILE      (quits once QUIT_FILE exists)

Prints ``shown SECONDS torch=BOOL title=TITLE`` when the window is on screen (SECONDS from
process start, torch: whether it was imported by then) and ``raised`` when a second start
asks this one to show its window.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from photoseek.cli import main
from photoseek.gui import launch
from photoseek.gui.mainwindow import MainWindow

MODE = sys.argv[1]
QUIT_FILE = Path(sys.argv[2]) if len(sys.argv) > 2 else None
_window_shown = launch.window_shown


def shown(steps: launch.StartupSteps | None = None) -> float:
    elapsed = _window_shown(steps)
    torch = "torch" in sys.modules
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    title = windows[0].windowTitle() if windows and windows[0].isVisible() else "-"
    print(f"shown {elapsed:.3f} torch={torch} title={title}", flush=True)
    if MODE == "quit-when-shown":
        QTimer.singleShot(0, QApplication.quit)
    elif QUIT_FILE is not None:
        timer = QTimer(QApplication.instance())
        timer.timeout.connect(lambda: QUIT_FILE.exists() and QApplication.quit())
        timer.start(100)
    return elapsed


class ReportingInstance(launch.SingleInstance):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.raise_requested.connect(lambda: print("raised", flush=True))


_startup_error = launch.show_startup_error


def startup_error(app: QApplication, message: str) -> int:
    print(f"error {message}", flush=True)
    QTimer.singleShot(0, app.quit)
    return _startup_error(app, message)


launch.window_shown = shown
launch.show_startup_error = startup_error
launch.SingleInstance = ReportingInstance  # type: ignore[misc]
raise SystemExit(main([]))
