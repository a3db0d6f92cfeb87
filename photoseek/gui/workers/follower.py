"""Follow the library's commits: this process's indexing, or another process's.

Every second, off the GUI thread, :class:`Follower` asks the library what
changed since it last looked (:meth:`Library.changes_since`) and emits a
non-empty :class:`~photoseek.core.records.ChangeSet` as :attr:`Follower.changed`
on the GUI thread, so the grid updates as photos arrive, whoever writes them.

In *reader* mode (a watch service, or another photoseek process, is the
writer) it first applies the writer's commits to this process's search
index (:meth:`Library.follow`, cheap when nothing changed) and reports what
the writer is doing (:meth:`Library.service_status`) as
:attr:`Follower.service_changed`.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import replace

from PySide6.QtCore import QObject, Signal, Slot

from photoseek.core.errors import PhotoseekError
from photoseek.core.library import Library, ServiceStatus
from photoseek.core.records import ChangeSet

log = logging.getLogger(__name__)

FOLLOW_INTERVAL_S = 1.0


class ChangeFeed:
    """What changed in a library since the last :meth:`take` (thread-safe)."""

    def __init__(self, library: Library) -> None:
        self._library = library
        self._lock = threading.Lock()
        self._version = library.version

    def take(self) -> ChangeSet | None:
        """The changes since the previous call, or None when there are none."""
        with self._lock:
            changes = self._library.changes_since(self._version)
            self._version = changes.version
        return changes if changes else None


class Follower(QObject):
    """A thread that polls the library's change log (and, as a reader, the writer)."""

    changed = Signal(object)  # ChangeSet
    service_changed = Signal(object)  # ServiceStatus of the process that writes
    error = Signal(str)  # one sentence, said once until it goes away
    _post = Signal(str, object)

    def __init__(
        self,
        library: Library,
        parent: QObject | None = None,
        *,
        interval_s: float = FOLLOW_INTERVAL_S,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.interval_s = interval_s
        self._feed = ChangeFeed(library)
        self._reading = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._names_wanted = threading.Event()
        self._last_service: ServiceStatus | None = None
        self._last_error: str | None = None
        self._post.connect(self._deliver)

    @property
    def reading(self) -> bool:
        """Whether another process writes, so this one follows its commits."""
        return self._reading.is_set()

    @Slot(str)
    def set_role(self, role: str) -> None:
        """Follow as a reader when the background worker's role is ``reader``."""
        if role == "reader":
            self._reading.set()
        else:
            self._reading.clear()
            self._last_service = None

    def start(self) -> None:
        """Start polling (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="photoseek-follower", daemon=True
            )
            self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to stop (returns at once)."""
        self._stop.set()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Stop polling; True when the thread ended within ``timeout_s``."""
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    # -- the thread ----------------------------------------------------------------

    def warm_names(self) -> None:
        """Load the name index at the next tick (0.5 s at 100,000 photos).

        The app asks once the model is loaded (or has failed): loading the names
        meanwhile slowed the model's imports, which need Python's lock too.
        """
        self._names_wanted.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            if self._names_wanted.is_set():
                self._names_wanted.clear()
                self._warm_names()
            self.poll()

    def _warm_names(self) -> None:
        try:
            self.library.name_index.load()
        except Exception as exc:  # a name match will try again and report it
            log.warning("loading the photo names: %s", exc)

    def poll(self) -> None:
        """One look at the library (the thread calls this; tests may too)."""
        try:
            if self._reading.is_set():
                self.library.follow()
            changes = self._feed.take()
            if changes is not None:
                self._post.emit("changed", changes)
            if self._reading.is_set():
                self._report_writer()
            self._post.emit("ok", None)
        except PhotoseekError as exc:
            log.warning("following the library: %s", exc)
            self._post.emit("error", str(exc))
        except Exception as exc:  # never let the follower die silently
            log.exception("following the library failed")
            self._post.emit("error", f"following the library failed: {exc}")

    def _report_writer(self) -> None:
        status = self.library.service_status()
        if status.pid == os.getpid():  # a state file this process left: not the writer's
            status = replace(status, state=None, detail={}, pid=(status.writer or {}).get("pid"))
        if status != self._last_service:
            self._last_service = status
            self._post.emit("service", status)

    # -- the GUI thread -------------------------------------------------------------

    @Slot(str, object)
    def _deliver(self, kind: str, payload: object) -> None:
        if kind == "changed":
            self.changed.emit(payload)
        elif kind == "service":
            self.service_changed.emit(payload)
        elif kind == "error" and payload != self._last_error:
            self._last_error = str(payload)
            self.error.emit(self._last_error)
        elif kind == "ok":
            self._last_error = None
