"""Plain functions run in a thread pool, their results delivered on the GUI thread.

:class:`CallRunner` is how the app's search side calls the library off the
GUI thread; :class:`FunctionTask` is the pool task it (and the image loader)
starts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from photoseek.core.errors import PhotoseekError

log = logging.getLogger(__name__)

__all__ = ["CallRunner", "FunctionTask"]

_SHUTDOWN_WAIT_MS = 5000


class FunctionTask(QRunnable):
    """Runs one function in a pool thread (deleted by the pool when done)."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self._work = work
        self.setAutoDelete(True)

    def run(self) -> None:
        self._work()


class CallRunner(QObject):
    """Runs plain functions in its own pool; results come back on the GUI thread.

    ``submit(work, done, failed)`` calls ``work()`` in a pool thread and then
    ``done(result)`` (or ``failed(exception)``) on the thread that owns the
    runner. After :meth:`shutdown` nothing is delivered any more.
    """

    _finished = Signal(object, object)  # callback, its argument

    def __init__(self, threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._closed = False
        self._finished.connect(self._deliver)

    def submit(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``work`` in the pool; its result goes to ``done``, an exception to ``failed``."""
        if self._closed:
            return

        def call() -> None:
            try:
                result = work()
            except BaseException as exc:
                if not isinstance(exc, PhotoseekError):
                    log.exception("a background call failed")
                self._emit(failed or _ignore, exc)
            else:
                self._emit(done, result)

        self._pool.start(FunctionTask(call))

    def _emit(self, callback: Callable[[Any], None], argument: object) -> None:
        if not self._closed:
            with contextlib.suppress(RuntimeError):  # the runner was deleted while the app quit
                self._finished.emit(callback, argument)

    def _deliver(self, callback: Callable[[Any], None], argument: object) -> None:
        if not self._closed:
            callback(argument)

    def clear(self) -> None:
        """Drop the calls still queued (running ones finish)."""
        self._pool.clear()

    def shutdown(self, wait_ms: int = _SHUTDOWN_WAIT_MS) -> None:
        """Drop queued calls, wait for running ones, deliver nothing more."""
        self._closed = True
        self._pool.clear()
        self._pool.waitForDone(wait_ms)


def _ignore(_: object) -> None:
    """A failure nobody asked about (already logged)."""
