"""The app's background worker: the library's writer when no watch service is.

A thread runs the core watch loop, :class:`~photoseek.core.watch.service.WatchService`
(catch up, then follow the folders), exactly as ``photoseek watch`` does, at
low priority, pausing on battery where the setting asks, yielding to
searches (the core sees :meth:`Library.searching`). Around it:

* **Who writes.** The worker first takes the writer lock itself, as
  ``desktop app``. When another process holds it (a watch service started
  at login, an ``index`` run), the worker becomes a *reader* (``role`` is
  ``reader``; the follower applies the writer's commits) and waits for the
  lock, announcing that it waits. When that writer stops, the worker
  becomes the writer again.
* **Handing over.** While the app writes, a watch service that starts waits
  for the lock; the loop runs with ``hand_over=True``, so it notices, stops
  (the batch in progress is committed, the lock released) and the worker
  becomes a reader until the service is gone.
* **After the model.** :meth:`hold` (before :meth:`start`) keeps the
  loop from starting until :meth:`begin`: the app holds it while the model
  loads. The lock is taken at once (a service that starts meanwhile sees the
  app as the writer), but the catch-up waits: it cannot embed without the
  model, and its scan competed with the model's imports for the two cores
  and Python's lock (at 100,000 photos the model became ready 2-3 s later).
* **Control** from the GUI thread: :meth:`pause`/:meth:`resume` (embedding
  stops after the current batch; changes on disk are still applied),
  :meth:`rescan` (a full reconciling pass now), :meth:`stop` (within a few
  seconds: the batch in progress commits, the lock is released).

Everything it reports arrives on the GUI thread: ``progress`` (throttled),
``state_changed`` (what the loop does: ``scanning``, ``indexing``,
``watching``, ``paused`` ..., or ``reader``), ``role_changed``,
``paused_changed``, ``message`` (one sentence) and ``error`` (one sentence:
the worker never stops on an error; it tries again).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from photoseek.core.errors import Cancelled, PhotoseekError
from photoseek.core.library import Library
from photoseek.core.progress import Progress
from photoseek.core.watch.service import ServiceOptions, WatchService
from photoseek.core.writerlock import LibraryLockedError
from photoseek.gui.context import LibraryEvents

log = logging.getLogger(__name__)

APP_PURPOSE = "desktop app"
WRITER, READER, STOPPED = "writer", "reader", "stopped"
RETRY_AFTER_ERROR_S = 30.0
HANDOVER_WAIT_S = 30.0
PROGRESS_INTERVAL_S = 0.2
STATE_POLL_MS = 250
LOADING_STOP_WAIT_S = 1.0


class BackgroundWorker(QObject):
    """Keeps the library current in a thread, as its writer or as a reader of another."""

    progress = Signal(object)  # Progress
    state_changed = Signal(str)
    role_changed = Signal(str)  # "writer", "reader", "stopped"
    paused_changed = Signal(bool)
    message = Signal(str)  # what happened, one sentence (a hand-over)
    error = Signal(str)  # why indexing stopped for now, one sentence (it tries again)
    _post = Signal(str, object)

    def __init__(
        self,
        library: Library,
        parent: QObject | None = None,
        *,
        options: ServiceOptions | None = None,
        pause_on_battery: bool = False,
        events: LibraryEvents | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        base = options or ServiceOptions(low_priority=True)
        self.options = replace(base, hand_over=True, pause_on_battery=pause_on_battery)
        self.role = STOPPED
        self.state = "stopped"
        self.writer: dict[str, object] | None = None  # who writes while this is a reader
        self._paused = False
        self._stop = threading.Event()
        self._go = threading.Event()
        self._go.set()
        self._run_stop = threading.Event()
        self._service: WatchService | None = None
        self._thread: threading.Thread | None = None
        self._last_progress = (0.0, "")
        self._last_error: str | None = None
        self._post.connect(self._deliver)
        self._state_timer = QTimer(self)
        self._state_timer.setInterval(STATE_POLL_MS)
        self._state_timer.timeout.connect(self._poll_state)
        if events is not None:
            self.progress.connect(events.progress)
            self.state_changed.connect(events.state)
            self.message.connect(events.message)

    # -- control (GUI thread) ---------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the worker's thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def paused(self) -> bool:
        """Whether the user paused indexing."""
        return self._paused

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="photoseek-background", daemon=True)
        self._thread.start()
        self._state_timer.start()

    def hold(self) -> None:
        """Take the writer role when started, but run the loop only after :meth:`begin`."""
        self._go.clear()

    @Slot()
    def begin(self) -> None:
        """Let a held loop start (idempotent)."""
        self._go.set()

    def request_stop(self) -> None:
        """Ask the worker to stop (returns at once)."""
        self._stop.set()
        self._run_stop.set()
        self._go.set()

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Stop and wait up to ``timeout_s``; True when the thread ended (the lock is released).

        While the model loads (torch imports for seconds and cannot be interrupted)
        there is no batch to commit, so the wait is short: the caller may then
        leave the lock to the process exit.
        """
        service = self._service
        if service is not None and service.state.state == "loading model":
            timeout_s = min(timeout_s, LOADING_STOP_WAIT_S)
        self.request_stop()
        self._state_timer.stop()
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        stopped = not self._thread.is_alive()
        if not stopped:
            log.warning("the background worker did not stop within %.0f s", timeout_s)
        return stopped

    def pause(self) -> None:
        """Stop embedding after the current batch; changes on disk are still followed."""
        self.set_paused(True)

    def resume(self) -> None:
        """Embed again."""
        self.set_paused(False)

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        """Pause or resume indexing."""
        if paused == self._paused:
            return
        self._paused = paused
        service = self._service
        if service is not None:
            service.pause() if paused else service.resume()
        self.paused_changed.emit(paused)

    def set_pause_on_battery(self, enabled: bool) -> None:
        """Whether indexing pauses on battery (applies at once)."""
        self.options = replace(self.options, pause_on_battery=enabled)
        service = self._service
        if service is not None:
            service.options.pause_on_battery = enabled

    def rescan(self) -> bool:
        """Reconcile every folder with the disk now; False when another process writes."""
        if self.role != WRITER:
            return False
        self._run_stop.set()  # the loop starts the next run, which begins with a full pass
        return True

    # -- the thread -------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    if not self._become_writer():
                        break
                    self._post.emit("role", (WRITER, None))
                    self._go.wait()
                    if self._stop.is_set():
                        break
                    self._run_once()
                except Cancelled:
                    continue
                except PhotoseekError as exc:
                    self._failed(str(exc))
                except Exception as exc:  # a bug must not end indexing for the session
                    log.exception("background worker failed")
                    self._failed(f"indexing stopped because of an error ({exc})")
        finally:
            self._release()
            self._post.emit("role", (STOPPED, None))

    def _become_writer(self) -> bool:
        """Take the writer lock, as a reader meanwhile if another process holds it."""
        library = self.library
        if library.read_only:
            self._post.emit("role", (READER, library.writer_lock.holder()))
            self._stop.wait()
            return False
        try:
            library.acquire_writer(APP_PURPOSE)
            return True
        except LibraryLockedError:
            pass
        self._post.emit("role", (READER, library.writer_lock.holder()))
        try:
            library.acquire_writer(APP_PURPOSE, wait=self._stop)
        except Cancelled:
            return False
        return not self._stop.is_set()

    def _run_once(self) -> None:
        run_stop = threading.Event()
        self._run_stop = run_stop
        if self._stop.is_set():
            run_stop.set()
        service = WatchService(self.library, replace(self.options), on_progress=self._report)
        if self._paused:
            service.pause()
        self._service = service
        self._post.emit("role", (WRITER, None))
        try:
            service.run(run_stop, wait=True)  # the lock is held already: no waiting
        finally:
            self._service = None
            self._release()
        if service.handed_over and not self._stop.is_set():
            self._post.emit("role", (READER, None))
            self._post.emit("message", "a watch service takes over indexing this library")
            self._wait_for_taker()

    def _wait_for_taker(self) -> None:
        """After handing over, give the waiting process the time to take the lock."""
        deadline = time.monotonic() + HANDOVER_WAIT_S
        lock = self.library.writer_lock
        while not self._stop.is_set() and time.monotonic() < deadline:
            waiting = lock.waiting()
            pid = waiting.get("pid") if waiting else None
            if not isinstance(pid, int) or pid == os.getpid() or not _pid_exists(pid):
                return
            self._stop.wait(0.2)

    def _failed(self, message: str) -> None:
        log.error("background worker: %s; trying again in %.0f s", message, RETRY_AFTER_ERROR_S)
        self._release()
        self._post.emit("error", message)
        self._stop.wait(RETRY_AFTER_ERROR_S)

    def _release(self) -> None:
        try:
            self.library.release_writer()
        except PhotoseekError as exc:  # the index is a cache: caught up at the next start
            log.warning("search index not saved: %s", exc)

    def _report(self, item: Progress) -> None:
        """The loop's progress (its thread): throttled, phase changes always pass."""
        now = time.monotonic()
        last_time, last_phase = self._last_progress
        if (
            item.phase == last_phase
            and not item.phase.final
            and now - last_time < PROGRESS_INTERVAL_S
        ):
            return
        self._last_progress = (now, item.phase)
        self._post.emit("progress", item)

    # -- the GUI thread -----------------------------------------------------------------

    @Slot(str, object)
    def _deliver(self, kind: str, payload: object) -> None:
        if kind == "progress":
            self.progress.emit(payload)
        elif kind == "message":
            self.message.emit(str(payload))
        elif kind == "error":
            self.error.emit(str(payload))
        elif kind == "role" and isinstance(payload, tuple):
            role, writer = payload
            self.writer = writer if role == READER else None
            if role != self.role:
                self.role = role
                log.info("background worker: %s", role)
                self.role_changed.emit(role)
            self._set_state({WRITER: "starting", READER: READER}.get(role, STOPPED))

    def _poll_state(self) -> None:
        service = self._service
        if self.role != WRITER or service is None:
            return
        self._set_state(service.state.state)
        error = service.state.last_error
        if service.state.state == "error" and error and error != self._last_error:
            self.error.emit(error)
        self._last_error = error

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)


def _pid_exists(pid: int) -> bool:
    """Whether a process ``pid`` runs (psutil imported here: it costs start-up 50 ms)."""
    import psutil

    return bool(psutil.pid_exists(pid))
