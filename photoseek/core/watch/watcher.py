"""Folder watching: watchdog events as hints, coalesced, and released once files are stable.

Events are never trusted as the truth. They only say which directories to
re-examine; the catalog is then reconciled with what is on disk there. A new
or changed file is released only when its size and mtime have not changed for
``stable_s`` seconds (a copy arrives in chunks; a file moved in from outside
gives only ``created``). Lost events (an inotify queue overflow, a Windows
buffer overflow, events while nobody listened) are caught by the caller's
periodic full reconcile, and an overflow asks for one at once.

Coalescing is done here rather than with watchdog's ``EventDebouncer``
because release needs per-file state (stable size and mtime), and no
watchdog path patterns are used: content, not the extension, decides what is
a photo (the scanner's ignore rules apply when a directory is reconciled).

Folders on network or removable volumes are polled. When the inotify watch
limit is hit, the folder falls back to polling with one warning that names
the sysctl to raise.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from photoseek.core.records import Changes
from photoseek.core.watch.timing import POLL_INTERVAL_S, STABLE_S
from photoseek.core.watch.volumes import polling_reason

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # 2 + 4 + ... + 60 s: about four minutes of retries
MAX_BACKOFF_S = 60.0
INOTIFY_SYSCTL = "fs.inotify.max_user_watches"
_IGNORED_EVENTS = frozenset({"opened", "closed_no_write"})
_WATCHDOG_LOGGERS = ("watchdog.observers.inotify", "watchdog.observers.inotify_c")


@dataclass
class _Pending:
    last_event: float
    signature: tuple[int, int] | None = None
    changed_at: float = 0.0
    attempts: int = 0  # failed looks (e.g. a file locked by the program writing it)
    retry_at: float = 0.0


class _Collector(FileSystemEventHandler):
    """Receives watchdog events on observer threads; thread-safe."""

    def __init__(self, watcher: FolderWatcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _IGNORED_EVENTS:
            return
        self._watcher.note_event(event)


class _OverflowLogHook(logging.Handler):
    """watchdog reports a kernel queue overflow only in its log: turn that into a flag."""

    def __init__(self, watcher: FolderWatcher) -> None:
        super().__init__(logging.WARNING)
        self._watcher = watcher

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self._watcher.mark_overflow()


class _ShutdownNoiseFilter(logging.Filter):
    """watchdog logs an ERROR when an emitter thread races observer.stop(); it is harmless."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


_SHUTDOWN_NOISE = _ShutdownNoiseFilter()


class FolderWatcher:
    """Watches top folders and hands out coalesced, stable :class:`Changes`."""

    def __init__(
        self, *, stable_s: float = STABLE_S, poll_interval_s: float = POLL_INTERVAL_S
    ) -> None:
        self.stable_s = stable_s
        self.poll_interval_s = poll_interval_s
        self._lock = threading.Lock()
        self._files: dict[Path, _Pending] = {}
        self._changes = Changes()
        self._native: BaseObserver = Observer()
        self._polling: BaseObserver = PollingObserver(timeout=poll_interval_s)
        self._watches: dict[Path, tuple[BaseObserver, ObservedWatch]] = {}
        self.modes: dict[Path, str] = {}
        self._warned_limit = False
        self._hook = _OverflowLogHook(self)
        self._started = False

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Start the observer threads."""
        for name in _WATCHDOG_LOGGERS:
            logging.getLogger(name).addHandler(self._hook)
            logging.getLogger(name).addFilter(_SHUTDOWN_NOISE)
        self._native.start()
        self._polling.start()
        self._started = True

    def stop(self) -> None:
        """Stop watching everything (joins the observer threads)."""
        if not self._started:
            return
        for observer in (self._native, self._polling):
            observer.stop()
        for observer in (self._native, self._polling):
            observer.join(timeout=5)
        for name in _WATCHDOG_LOGGERS:
            logging.getLogger(name).removeHandler(self._hook)
        self._started = False

    def watch(self, folders: list[Path]) -> dict[Path, str]:
        """Watch exactly ``folders`` (existing ones); return how each is watched."""
        wanted = {f for f in folders if f.is_dir()}
        for gone in set(self._watches) - wanted:
            self._unwatch(gone)
        for folder in sorted(wanted - set(self._watches)):
            self._watch_one(folder)
        for folder in folders:
            if folder not in wanted:
                self.modes[folder] = "unavailable"
        return dict(self.modes)

    def watched(self) -> set[Path]:
        """The folders under a live watch."""
        return set(self._watches)

    def _unwatch(self, folder: Path) -> None:
        observer, handle = self._watches.pop(folder)
        try:
            observer.unschedule(handle)
        except (KeyError, OSError) as exc:  # already gone with its folder
            log.debug("unwatch %s: %s", folder, exc)
        self.modes.pop(folder, None)

    def _watch_one(self, folder: Path) -> None:
        reason = polling_reason(folder)
        if reason is None:
            try:
                handle = self._native.schedule(_Collector(self), str(folder), recursive=True)
                self._watches[folder] = (self._native, handle)
                self.modes[folder] = "native events"
                return
            except OSError as exc:
                reason = self._native_failure(folder, exc)
        handle = self._polling.schedule(_Collector(self), str(folder), recursive=True)
        self._watches[folder] = (self._polling, handle)
        self.modes[folder] = f"polling every {self.poll_interval_s:.0f}s: {reason}"
        log.info("watching %s by polling: %s", folder, reason)

    def _native_failure(self, folder: Path, exc: OSError) -> str:
        if exc.errno in (errno.ENOSPC, errno.EMFILE):
            if not self._warned_limit:
                log.warning(
                    "the inotify watch limit is reached; %s and any further folders are polled "
                    "instead (slower to notice changes). Raise it with: "
                    "sudo sysctl %s=524288 (add to /etc/sysctl.conf to keep it)",
                    folder,
                    INOTIFY_SYSCTL,
                )
                self._warned_limit = True
            return f"inotify limit reached ({INOTIFY_SYSCTL})"
        log.warning("native watching of %s failed (%s); polling instead", folder, exc)
        return f"native watching failed: {exc}"

    # -- events ------------------------------------------------------------------

    def note_event(self, event: FileSystemEvent) -> None:
        """Record one watchdog event (called on observer threads)."""
        now = time.monotonic()
        paths = [_path(event.src_path)]
        if getattr(event, "dest_path", ""):
            paths.append(_path(event.dest_path))
        with self._lock:
            for path in paths:
                self._note_path(path, event, now)

    def _note_path(self, path: Path, event: FileSystemEvent, now: float) -> None:
        if event.is_directory:
            if event.event_type != "modified":  # a directory's mtime changing says nothing new
                self._changes.trees.add(path)
            return
        if event.event_type == "deleted" or path in self._changes.trees:
            self._changes.dirs.add(path.parent)
            return
        pending = self._files.get(path)
        if pending is None:
            self._files[path] = _Pending(last_event=now)
        else:
            pending.last_event = now

    def mark_overflow(self) -> None:
        """Events were lost: the next :meth:`take` asks for a full reconcile."""
        log.warning("file system events were lost; a full rescan follows")
        with self._lock:
            self._changes.overflow = True

    def pending_count(self) -> int:
        """Files seen changing that are not yet stable."""
        with self._lock:
            return len(self._files)

    def take(self, now: float | None = None) -> Changes:
        """The changes ready for reconciling; unstable files stay pending."""
        now = time.monotonic() if now is None else now
        with self._lock:
            ready, self._changes = self._changes, Changes()
            for path in list(self._files):
                if self._is_stable(path, self._files[path], now):
                    del self._files[path]
                    ready.dirs.add(path.parent)
        return ready

    def _is_stable(self, path: Path, pending: _Pending, now: float) -> bool:
        if now < pending.retry_at:
            return False
        try:
            st = path.stat()
        except FileNotFoundError:
            return True  # gone: reconcile records the deletion
        except OSError as exc:  # retry with backoff; in the end reconcile records why
            pending.attempts += 1
            pending.retry_at = now + min(2.0**pending.attempts, MAX_BACKOFF_S)
            log.debug("cannot look at %s yet (%s); attempt %d", path, exc, pending.attempts)
            return pending.attempts > MAX_ATTEMPTS
        signature = (st.st_size, st.st_mtime_ns)
        if signature != pending.signature:
            pending.signature, pending.changed_at = signature, now
            return False
        quiet_since = max(pending.last_event, pending.changed_at)
        return now - quiet_since >= self.stable_s


def _path(raw: str | bytes) -> Path:
    return Path(raw.decode() if isinstance(raw, bytes) else raw)
