"""Run a slow library call off the GUI thread; get its result back on the GUI thread.

:class:`OffThread` owns a small :class:`QThreadPool`. :meth:`OffThread.call`
runs a function there and hands its result (or the exception it raised) to a
callback on the GUI thread through a queued signal. Calls given the same
``key`` supersede each other: only the newest one's result is delivered, an
older one that finishes later is dropped (a generation counter per key).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class _Call(QRunnable):
    def __init__(self, owner: OffThread, ticket: int, work: Callable[[], Any]) -> None:
        super().__init__()
        self._owner, self._ticket, self._work = owner, ticket, work

    def run(self) -> None:
        try:
            result, error = self._work(), None
        except BaseException as exc:  # delivered to the caller's on_error, never lost
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the owner is gone (the app quit meanwhile)
            self._owner.finished.emit(self._ticket, result, error)


class OffThread(QObject):
    """A thread pool for slow calls whose results come back on the GUI thread."""

    finished = Signal(int, object, object)  # ticket, result, error (internal)

    def __init__(self, parent: QObject | None = None, *, threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._next_ticket = 0
        self._pending: dict[int, tuple[str | None, ResultCallback | None, ErrorCallback]] = {}
        self._latest: dict[str, int] = {}
        self._closed = False
        self.finished.connect(self._deliver)

    def call(
        self,
        work: Callable[[], Any],
        on_result: ResultCallback | None = None,
        on_error: ErrorCallback | None = None,
        *,
        key: str | None = None,
    ) -> None:
        """Run ``work()`` in the pool; ``on_result(value)`` or ``on_error(exc)`` on this thread.

        With ``key``, a later call with the same key makes this one's result stale.
        """
        if self._closed:
            return
        self._next_ticket += 1
        ticket = self._next_ticket
        if key is not None:
            self._latest[key] = ticket
        self._pending[ticket] = (key, on_result, on_error or _log_error)
        self.pool.start(_Call(self, ticket, work))

    @property
    def busy(self) -> bool:
        """Whether a call is queued or running."""
        return bool(self._pending)

    @Slot(int, object, object)
    def _deliver(self, ticket: int, result: Any, error: BaseException | None) -> None:
        key, on_result, on_error = self._pending.pop(ticket, (None, None, _log_error))
        if self._closed or (key is not None and self._latest.get(key) != ticket):
            return  # superseded by a newer call, or the app is quitting
        if error is not None:
            on_error(error)
        elif on_result is not None:
            on_result(result)

    def shutdown(self, wait_ms: int = 5000) -> bool:
        """Drop queued calls and results; wait up to ``wait_ms`` for running ones."""
        self._closed = True
        self.pool.clear()
        return bool(self.pool.waitForDone(wait_ms))


def _log_error(exc: BaseException) -> None:
    log.error("background call failed: %s", exc, exc_info=exc)
