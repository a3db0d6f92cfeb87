"""Runs the real app (``python -m photoseek --data-dir DIR``) and reports start-up figures.

    python tests/benchmarks/app_bench_driver.py shown DIR
    python tests/benchmarks/app_bench_driver.py first-result DIR QUERY

The app runs exactly as ``python -m photoseek --data-dir DIR`` does (the
``photoseek`` module is run as ``__main__`` with that command line); the
driver only wraps :func:`photoseek.gui.launch.window_shown` to see the first
paint, and, in ``first-result`` mode, types ``QUERY`` into the search field at
that moment, as a user who starts typing at once. Lines on stdout, seconds
from process start (the app's own ``started_at``, from /proc):

    shown SECONDS torch=BOOL           the window's first paint; whether torch was imported
    model SECONDS                      the model is ready (first-result mode)
    result SECONDS rows=N              the grid painted the query's first results
    error TEXT                         nothing came within the time limit
"""

from __future__ import annotations

import runpy
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from photoseek.gui import app as app_module
from photoseek.gui import launch
from photoseek.gui.mainwindow import MainWindow

MODE, DATA_DIR = sys.argv[1], sys.argv[2]
QUERY = sys.argv[3] if len(sys.argv) > 3 else ""
LIMIT_S = 120.0
_window_shown = launch.window_shown


def _since_start() -> float:
    return time.time() - app_module.started_at


def _say(line: str) -> None:
    print(line, flush=True)


class _ResultWatch(QObject):
    """Reports the first grid paint that shows ``QUERY``'s results, then quits."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.pane = window.pane
        self.armed = False
        self.pane.results.modelReset.connect(self._reset)
        self.pane.results.rowsInserted.connect(self._reset)
        self.pane.grid.viewport().installEventFilter(self)
        window.context.model.ready.connect(lambda: _say(f"model {_since_start():.3f}"))

    def _reset(self, *_args: object) -> None:
        results = self.pane.results
        searched = self.pane.session.request.text == QUERY
        self.armed = searched and results.rowCount() > 0 and results.row_at(0).score is not None
        if self.armed:
            self.pane.grid.viewport().update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.armed:
            self.armed = False
            watched.removeEventFilter(self)
            QApplication.sendEvent(watched, event)  # paint now, then report the time
            _say(f"result {_since_start():.3f} rows={self.pane.results.rowCount()}")
            QTimer.singleShot(0, QApplication.quit)
            return True
        return False


def shown(steps: launch.StartupSteps | None = None) -> float:
    elapsed = _window_shown(steps)
    _say(f"shown {elapsed:.3f} torch={'torch' in sys.modules}")
    if MODE == "shown":
        QTimer.singleShot(0, QApplication.quit)
        return elapsed
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
    _ResultWatch(window)
    from PySide6.QtTest import QTest  # here: the app itself never imports it before its window

    field = window.pane.search_bar.field
    field.setFocus()
    QTest.keyClicks(field, QUERY)  # the user types at once; the usual pause follows

    def give_up() -> None:
        _say(f"error no result within {LIMIT_S:.0f} s")
        QApplication.quit()

    QTimer.singleShot(int(LIMIT_S * 1000), give_up)
    return elapsed


launch.window_shown = shown
sys.argv = ["photoseek", "--data-dir", DATA_DIR]
runpy.run_module("photoseek", run_name="__main__", alter_sys=True)
