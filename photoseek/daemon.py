"""The headless folder-watch service behind ``photoseek watch`` (no Qt).

Start-up: take the writer lock, reconcile every folder and index what is
pending (this catches whatever happened while the service was down). Then
watch: every tick, the watcher's stable changes are reconciled and indexed;
the folder list is re-read every few seconds (``photoseek add`` from another
process is picked up, an unavailable folder that came back is rescanned); a
full reconciling rescan runs periodically and at once after lost events.
A stop request (SIGTERM/SIGINT) is honoured between photos: the current
batch is committed, the index saved, the lock released.

The service publishes what it is doing in ``service.json`` in the data dir,
which ``photoseek status`` reads.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from photoseek.core.indexing.pipeline import Progress
from photoseek.core.library import Library
from photoseek.core.watch.watcher import POLL_INTERVAL_S, STABLE_S, FolderWatcher

log = logging.getLogger(__name__)

STATE_FILE = "service.json"
HEARTBEAT_S = 30.0


@dataclass
class ServiceOptions:
    """Timing of the service; the defaults suit a desktop."""

    stable_s: float = STABLE_S
    poll_interval_s: float = POLL_INTERVAL_S
    reconcile_interval_s: float = 15 * 60
    folder_check_s: float = 5.0
    tick_s: float = 0.5


@dataclass
class ServiceState:
    """What ``service.json`` holds."""

    pid: int
    state: str = "starting"
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    done: int = 0
    total: int = 0
    current: str | None = None
    problems: int = 0
    waiting_files: int = 0
    last_full_scan: float | None = None
    folders: dict[str, str] = field(default_factory=dict)


def state_path(data_dir: Path) -> Path:
    """Where the running service publishes its state."""
    return data_dir / STATE_FILE


def read_state(data_dir: Path) -> dict[str, Any] | None:
    """The last published service state, or None."""
    try:
        data = json.loads(state_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class WatchService:
    """Keeps one library current until asked to stop."""

    def __init__(
        self,
        library: Library,
        options: ServiceOptions | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.library = library
        self.options = options or ServiceOptions()
        self.on_progress = on_progress
        self.state = ServiceState(pid=os.getpid())
        self._last_publish = 0.0
        self.watcher = FolderWatcher(
            stable_s=self.options.stable_s, poll_interval_s=self.options.poll_interval_s
        )

    def run(self, stop: threading.Event, *, once: bool = False) -> None:
        """Catch up, then (unless ``once``) watch until ``stop`` is set."""
        self.library.acquire_writer("watch service")
        try:
            if not once:  # watch first, so changes during the (long) catch-up are queued
                self.watcher.start()
                self._rewatch()
            self._full_pass(stop)
            if not once and not stop.is_set():
                self._watch(stop)
        finally:
            self.watcher.stop()
            self.library.flush()
            self._set_state("stopped", force=True)
            log.info("watch service stopped")

    def _watch(self, stop: threading.Event) -> None:
        options = self.options
        self._set_state("watching", force=True)
        now = time.monotonic()
        next_full, next_folders = now + options.reconcile_interval_s, now + options.folder_check_s
        while not stop.wait(options.tick_s):
            now = time.monotonic()
            changes = self.watcher.take(now)
            if now >= next_folders:
                changes.trees.update(self._rewatch())
                next_folders = now + options.folder_check_s
            if changes.overflow or now >= next_full:
                self._full_pass(stop)
                next_full = now + options.reconcile_interval_s
            elif changes:
                self._run(self.library.apply_changes(changes, stop))
                self._set_state("watching", force=True)
            else:
                self._idle_publish()

    def _full_pass(self, stop: threading.Event) -> None:
        log.info("reconciling every folder")
        self._run(self.library.index(stop))
        self.state.last_full_scan = time.time()
        self._set_state("watching", force=True)

    def _rewatch(self) -> set[Path]:
        """Follow folder changes made elsewhere; return folders that need a full rescan.

        Those are folders watched since the last call: added by another process,
        or back after being unavailable (a remounted volume, a restored folder).
        """
        self.library.follow()
        before = self.watcher.watched()
        modes = self.watcher.watch([f.path for f in self.library.folders()])
        self.state.folders = {str(path): mode for path, mode in modes.items()}
        return self.watcher.watched() - before

    def _run(self, progress: Iterator[Progress]) -> None:
        self._set_state("indexing", force=True)
        for item in progress:
            self.state.done, self.state.total = item.done, item.total
            self.state.current, self.state.problems = item.current, item.problems
            self._publish()
            if self.on_progress is not None:
                self.on_progress(item)

    def _idle_publish(self) -> None:
        waiting = self.watcher.pending_count()
        if waiting != self.state.waiting_files:
            self.state.waiting_files = waiting
            self._publish(force=True)
        else:
            self._publish(min_interval=HEARTBEAT_S)  # idle: no disk write every tick

    def _set_state(self, state: str, *, force: bool = False) -> None:
        self.state.state = state
        self._publish(force=force)

    def _publish(self, *, force: bool = False, min_interval: float = 1.0) -> None:
        now = time.monotonic()
        if not force and now - self._last_publish < min_interval:
            return
        self._last_publish = now
        self.state.updated_at = time.time()
        path = state_path(self.library.paths.data_dir)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        try:
            tmp.write_text(json.dumps(asdict(self.state)), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:  # status reporting must never stop the service
            log.debug("cannot write %s: %s", path, exc)
