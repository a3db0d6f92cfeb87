"""Runs the real app (``photoseek`` without a command) and uses it as a person would.

    python tests/gui/e2e_driver.py SHOTS_DIR empty
    python tests/gui/e2e_driver.py SHOTS_DIR library QUERY

Once the window is on screen the script goes step by step, each step waiting (with a
generous deadline, never a fixed sleep) for what the user would wait for:

* ``empty``: the empty state of a library without folders -> ``empty-library.png``.
* ``library``: the grid with its thumbnails (Space in the grid hides the preview
  pane first) -> ``browse.png``; QUERY typed into the search field with real key
  events, until its ranked results fill the grid -> ``search.png``; a click on the
  first result, then Space to show the preview pane, until the photo is decoded
  there -> ``preview.png``.

Screenshots are the window at 1280x800 (``QWidget.grab``). What the script sees is
printed as ``e2e {json}`` lines (one per step; ``{"step": "done"}`` last); a step
that does not come true in time prints ``e2e {"step": "failed", ...}`` and the app
exits with 1.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from photoseek.cli import main
from photoseek.gui import launch
from photoseek.gui.mainwindow import MainWindow
from photoseek.gui.views.grid import ThumbnailGrid
from photoseek.pathtext import display_path

SHOTS = Path(sys.argv[1])
MODE = sys.argv[2]
QUERY = sys.argv[3] if len(sys.argv) > 3 else ""
WINDOW_SIZE = (1280, 800)
POLL_MS = 50
STEADY_POLLS = 4  # a condition must hold this many polls in a row (layouts settle)
DEADLINE_S = 120.0

# A step yields (what, condition) and is resumed once the condition holds.
Wait = tuple[str, Callable[[], bool]]


def report(step: str, **values: object) -> None:
    print("e2e " + json.dumps({"step": step, **values}), flush=True)


class Script:
    """Runs a generator of waits on a timer: the event loop keeps running in between."""

    def __init__(self, steps: Iterator[Wait]) -> None:
        self._steps = steps
        self._waiting: Wait | None = None
        self._deadline = 0.0
        self._held = 0
        self._timer = QTimer()
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def start(self) -> None:
        self._advance()
        self._timer.start()

    def _poll(self) -> None:
        if self._waiting is None:
            return
        what, condition = self._waiting
        try:
            holds = condition()
        except Exception:
            self._fail(what, traceback.format_exc())
            return
        self._held = self._held + 1 if holds else 0
        if self._held >= STEADY_POLLS:
            self._advance()
        elif time.monotonic() > self._deadline:
            self._fail(what, f"not true within {DEADLINE_S:.0f} s")

    def _advance(self) -> None:
        try:
            self._waiting = next(self._steps)
        except StopIteration:
            self._waiting = None
            self._timer.stop()
            report("done")
            QTimer.singleShot(0, QApplication.quit)
            return
        except Exception:
            self._fail("a step", traceback.format_exc())
            return
        self._held = 0
        self._deadline = time.monotonic() + DEADLINE_S

    def _fail(self, what: str, why: str) -> None:
        self._waiting = None
        self._timer.stop()
        report("failed", waiting_for=what, why=why)
        QTimer.singleShot(0, lambda: QApplication.exit(1))


# -- looking at the window ----------------------------------------------------------------


def screenshot(window: MainWindow, name: str) -> dict[str, object]:
    """Save the window as SHOTS/NAME.png; its path and size."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    pixmap = window.grab()
    if not pixmap.save(str(path), "PNG"):
        raise OSError(f"cannot save {path}")
    return {"screenshot": str(path), "width": pixmap.width(), "height": pixmap.height()}


def visible_indexes(grid: ThumbnailGrid) -> list[QModelIndex]:
    model, area = grid.model(), grid.viewport().rect()
    indexes = (model.index(row, 0) for row in range(model.rowCount()))
    return [index for index in indexes if grid.visualRect(index).intersects(area)]


def thumbnails_shown(grid: ThumbnailGrid) -> bool:
    """Every photo in view has its thumbnail (not the placeholder)."""
    shown = visible_indexes(grid)
    return bool(shown) and all(_pixmap(i.data(Qt.ItemDataRole.DecorationRole)) for i in shown)


def _pixmap(value: object) -> bool:
    return isinstance(value, QPixmap) and not value.isNull()


def steady(window: MainWindow) -> bool:
    """The model is loaded and the background worker is done indexing (the status is quiet)."""
    state = window.status._state  # what the status bar was last told
    return window.context.model.is_ready and state not in ("starting", "indexing", "scanning")


# -- the steps ----------------------------------------------------------------------------


def empty_library(window: MainWindow) -> Iterator[Wait]:
    yield "the empty state", lambda: window.content.currentWidget() is window.empty
    yield "the model and the worker to settle", lambda: steady(window)
    report(
        "empty",
        title=window.empty.title.text(),
        button=window.empty.button.text(),
        button_visible=window.empty.button.isVisible(),
        **screenshot(window, "empty-library"),
    )


def library(window: MainWindow) -> Iterator[Wait]:
    pane = window.pane
    grid, session, results = pane.grid, pane.session, pane.results
    yield (
        "the library's photos in the grid",
        lambda: (
            window.content.currentWidget() is pane
            and session.request.is_browse
            and not session.busy
            and results.rowCount() > 0
        ),
    )
    grid.setFocus(Qt.FocusReason.MouseFocusReason)
    if pane.preview.isVisible():
        QTest.keyClick(grid, Qt.Key.Key_Space)  # the whole width for the grid
    yield "the preview pane to hide", lambda: not pane.preview.isVisible()
    yield "the model and the worker to settle", lambda: steady(window)
    yield "the thumbnails in view", lambda: thumbnails_shown(grid)
    report(
        "browse",
        rows=results.rowCount(),
        thumbnails=len(visible_indexes(grid)),
        count=window.status.count.text(),
        **screenshot(window, "browse"),
    )

    field = pane.search_bar.field
    QTest.mouseClick(field, Qt.MouseButton.LeftButton)
    QTest.keyClicks(field, QUERY)
    yield "the search to run", lambda: session.request.text == QUERY
    yield (
        "the ranked results",
        lambda: (
            not session.busy
            and session.state == "idle"
            and results.rowCount() > 0
            and results.row_at(0).score is not None
        ),
    )
    yield "the thumbnails in view", lambda: thumbnails_shown(grid)
    report(
        "search",
        query=field.text(),
        state=str(session.state),
        rows=results.rowCount(),
        scores=[results.row_at(r).score for r in range(results.rowCount())],
        count=window.status.count.text(),
        **screenshot(window, "search"),
    )

    first = results.index(0)
    chosen = results.row_at(0)
    QTest.mouseClick(
        grid.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        grid.visualRect(first).center(),
    )
    yield "the click to select the first result", lambda: grid.selected_rows() == [0]
    report("selected", path=display_path(chosen.record.path), current=grid.currentIndex().row())
    placeholder = results.cached_pixmap(chosen.record)
    QTest.keyClick(grid, Qt.Key.Key_Space)
    preview = pane.preview

    def decoded() -> bool:
        source = preview.image.source()
        return (
            preview.isVisible()
            and preview.row() is not None
            and preview.row().record.id == chosen.record.id
            and source is not None
            and not source.isNull()
            and (placeholder is None or source.cacheKey() != placeholder.cacheKey())
        )

    yield "the photo decoded in the preview", decoded
    source = preview.image.source()
    shown = preview.image.pixmap()
    report(
        "preview",
        visible=preview.isVisible(),
        path=preview.path_label.full_text(),
        name=preview.name_label.full_text(),
        dimensions=preview.fields["Dimensions"].text(),
        score=preview.fields["Score"].text(),
        decoded=[source.width(), source.height()] if source is not None else None,
        shown=[shown.width(), shown.height()] if shown is not None else None,
        **screenshot(window, "preview"),
    )


# -- the app ------------------------------------------------------------------------------

_window_shown = launch.window_shown


def shown(steps: launch.StartupSteps | None = None) -> float:
    elapsed = _window_shown(steps)
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    window = windows[0]
    window.resize(*WINDOW_SIZE)
    report("shown", seconds=round(elapsed, 3), platform=QApplication.platformName())
    steps_for = {"empty": empty_library, "library": library}[MODE]
    script = Script(steps_for(window))
    QTimer.singleShot(0, script.start)
    _scripts.append(script)
    return elapsed


_scripts: list[Script] = []


def startup_error(app: QApplication, message: str) -> int:
    report("failed", waiting_for="the window", why=message)
    return launch.EXIT_ERROR


launch.window_shown = shown
launch.show_startup_error = startup_error
raise SystemExit(main([]))
