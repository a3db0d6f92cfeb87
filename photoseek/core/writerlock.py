"""One writer per library: a lock file in the data dir (filelock, OS-level locks).

The lock is an OS file lock (fcntl on POSIX, msvcrt on Windows), so it dies
with its process: a crashed writer never leaves a stale lock behind. Next to
it, ``writer.json`` says who holds it (pid, what for, since when) so other
processes can explain why they open the library read-only, and
``writer-waiting.json`` says who waits for it (a watch service started at
login while the app writes): the holder may hand over when it sees that.
Both are written atomically; failing to write them (a full disk) never
costs the lock itself.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoseek.core.atomicfile import write_json_atomically
from photoseek.core.errors import Cancelled, LibraryError
from photoseek.core.lazyimport import lazy_module

if TYPE_CHECKING:
    import filelock
else:  # imported at the first lock taken or probed: it costs the app's start-up 30 ms
    filelock = lazy_module("filelock")

log = logging.getLogger(__name__)

_PROBE_GRACE_S = 1.0
WAIT_POLL_S = 1.0


class LibraryLockedError(LibraryError):
    """Another process is writing this library."""


class WriterLock:
    """The library's writer lock; held from :meth:`acquire` until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.owner_file = path.with_name("writer.json")
        self.waiting_file = path.with_name("writer-waiting.json")
        self._file_lock: filelock.FileLock | None = None

    @property
    def _lock(self) -> filelock.FileLock:
        """The OS-level lock, made on first use."""
        if self._file_lock is None:
            self._file_lock = filelock.FileLock(str(self.path), thread_local=False)
        return self._file_lock

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._file_lock is not None and bool(self._file_lock.is_locked)

    def acquire(self, purpose: str, *, wait: threading.Event | None = None) -> None:
        """Take the lock, or raise :class:`LibraryLockedError` naming the holder.

        With ``wait``, keep trying (announcing the wait in ``writer-waiting.json``)
        until the lock is free, or until ``wait`` is set: then raise
        :class:`Cancelled`.
        """
        if self.held:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(f"cannot create {self.path.parent}: {exc.strerror}") from exc
        if wait is None:
            self._take(purpose)
            return
        self._wait_and_take(purpose, wait)

    def _take(self, purpose: str) -> None:
        try:  # a short wait, so that another process's holder() probe never fails us
            self._lock.acquire(timeout=_PROBE_GRACE_S)
        except filelock.Timeout:
            raise LibraryLockedError(_locked_message(self.holder())) from None
        except OSError as exc:
            raise LibraryError(f"cannot take the writer lock {self.path}: {exc.strerror}") from exc
        _write_quietly(
            self.owner_file, {"pid": os.getpid(), "purpose": purpose, "since": time.time()}
        )
        log.debug("writer lock taken for %s", purpose)

    def _wait_and_take(self, purpose: str, wait: threading.Event) -> None:
        announced = False
        try:
            while True:
                try:
                    self._take(purpose)
                    return
                except LibraryLockedError:
                    if not announced:
                        log.info("waiting for the writer to finish: %s", self.holder())
                        _write_quietly(
                            self.waiting_file,
                            {"pid": os.getpid(), "purpose": purpose, "since": time.time()},
                        )
                        announced = True
                if wait.wait(WAIT_POLL_S):
                    raise Cancelled("stopped while waiting for the library's writer")
        finally:
            if announced:
                self._remove(self.waiting_file)

    def release(self) -> None:
        """Give the lock back (no-op when not held)."""
        if self.held:
            self._remove(self.owner_file)
            self._lock.release()

    def holder(self) -> dict[str, Any] | None:
        """Who holds the lock (pid, purpose, since), or None when nobody does."""
        if self.held:
            return _read_json(self.owner_file)
        probe = filelock.FileLock(str(self.path), thread_local=False)
        try:
            probe.acquire(timeout=0)
        except filelock.Timeout:
            return _read_json(self.owner_file) or {"pid": None, "purpose": "unknown"}
        except OSError:  # a read-only data dir: nobody can be writing it
            return None
        probe.release()
        return None

    def waiting(self) -> dict[str, Any] | None:
        """Who waits to become the writer (pid, purpose, since), or None."""
        return _read_json(self.waiting_file)

    @staticmethod
    def _remove(path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.debug("cannot remove %s: %s", path, exc)


def _locked_message(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "another photoseek process is writing this library"
    who = f"pid {holder.get('pid')}" if holder.get("pid") else "another process"
    purpose = holder.get("purpose", "writing")
    return (
        f"another photoseek process ({who}, {purpose}) is writing this library; "
        "it keeps the library up to date, or stop it first"
    )


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_quietly(path: Path, data: dict[str, Any]) -> None:
    """Write a small state file; a failure (full disk) is logged, never raised."""
    try:
        write_json_atomically(path, data, durable=False)
    except OSError as exc:
        log.warning("cannot write %s: %s", path, exc)
