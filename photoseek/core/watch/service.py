"""The watch loop: keep one library current until asked to stop (no Qt, no prints).

``photoseek watch`` (the headless service) and the desktop app's background
worker are thin wrappers around :class:`WatchService`:

1. Become the library's writer. If another process is (the app, an
   ``index`` run), wait for it, saying so in the state file, instead of
   failing: a service started at login never exits into a restart loop.
2. Start watching, then reconcile every folder (what happened while nobody
   watched) and embed what is pending.
3. Every tick: apply the watcher's stable changes (removals and moves are
   in the catalog and the index at once), re-read the folder list (``add``
   from another process, a volume that came back), run the periodic full
   rescan, and embed pending photos in slices of a few seconds, so a long
   burst of new photos never holds back a deletion or a rename.

The model is loaded only when there is something to embed. A systemic
error (a full disk, a damaged catalog) is logged and published, and the
loop retries after a pause instead of exiting. A stop request is honoured
between photos: the batch in progress is committed, the index saved, the
writer lock released.

The loop publishes what it is doing in ``service.json`` in the data dir
(``Library.service_status`` reads it).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from photoseek.core.atomicfile import write_json_atomically
from photoseek.core.cluster.connection import connected_if
from photoseek.core.errors import Cancelled, PhotoseekError
from photoseek.core.library import Library
from photoseek.core.progress import Progress
from photoseek.core.records import Changes
from photoseek.core.reports import SERVICE_PURPOSE, state_path
from photoseek.core.watch.priority import lower_thread_priority, on_battery
from photoseek.core.watch.timing import POLL_INTERVAL_S, STABLE_S

if TYPE_CHECKING:
    from photoseek.core.cluster.options import ClusterOptions
    from photoseek.core.indexing.pipeline import IndexJob
    from photoseek.core.library.switch import ModelSwitcher

__all__ = ["ServiceOptions", "ServiceState", "WatchService"]

log = logging.getLogger(__name__)

HEARTBEAT_S = 30.0


@dataclass
class ServiceOptions:
    """Timing of the service; the defaults suit a desktop."""

    stable_s: float = STABLE_S
    poll_interval_s: float = POLL_INTERVAL_S
    reconcile_interval_s: float = 15 * 60
    folder_check_s: float = 5.0
    tick_s: float = 0.5
    slice_s: float = 2.0  # embedding between two looks at the file-system changes
    error_backoff_s: float = 60.0
    low_priority: bool = True  # the loop's thread (and its decode pool) at low CPU/IO priority
    pause_on_battery: bool = False  # the desktop app turns this on where the platform tells
    battery_check_s: float = 30.0
    hand_over: bool = False  # give the writer role up when another process waits for it
    release_after_s: float = 120.0  # idle this long: the image tower's memory is given back
    cluster: ClusterOptions | None = None  # embed (catch-up, new photos, a switch) on Ray


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
    last_error: str | None = None
    folders: dict[str, str] = field(default_factory=dict)


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
        from photoseek.core.watch.watcher import FolderWatcher  # watchdog: when watching

        self.watcher = FolderWatcher(
            stable_s=self.options.stable_s, poll_interval_s=self.options.poll_interval_s
        )
        self._job: IndexJob | None = None
        self._work_waiting: bool | None = None  # before the model loads; None: count again
        self._last_publish = 0.0
        self._paused = threading.Event()
        self._battery = False
        self._battery_checked = 0.0
        self.handed_over = False
        self._zero_shot_due = True  # tags and the content filter checked once caught up
        self._idle_since: float | None = None  # when the last embedding work finished
        self._switcher: ModelSwitcher | None = None  # a model switch this loop carries out

    # -- control (any thread) ---------------------------------------------------------

    def pause(self) -> None:
        """Stop embedding after the current batch (changes on disk are still followed)."""
        self._paused.set()

    def resume(self) -> None:
        """Embed again."""
        self._paused.clear()

    @property
    def paused(self) -> bool:
        """Whether embedding is paused by :meth:`pause`."""
        return self._paused.is_set()

    def _held(self) -> str | None:
        """Why embedding waits now, if it does: paused, a search running, on battery."""
        if self._paused.is_set():
            return "paused"
        if self.library.search_active:
            return None if self._job is None else "yielding to a search"
        if self.options.pause_on_battery:
            now = time.monotonic()
            if now - self._battery_checked >= self.options.battery_check_s:
                self._battery, self._battery_checked = bool(on_battery()), now
            if self._battery:
                return "paused: on battery"
        return None

    # -- lifecycle ------------------------------------------------------------------

    def run(self, stop: threading.Event, *, once: bool = False, wait: bool = True) -> None:
        """Catch up, then (unless ``once``) watch until ``stop`` is set.

        ``wait``: when another process writes the library, wait for it (else
        raise its :class:`LibraryLockedError`).
        """
        if self.options.low_priority:
            lower_thread_priority()
        self._set_state("waiting" if wait else "starting", force=True)
        try:
            self.library.acquire_writer(SERVICE_PURPOSE, wait=stop if wait else None)
        except Cancelled:
            self._set_state("stopped", force=True)
            return
        self.handed_over = False
        try:
            with connected_if(self.options.cluster):
                self._run_writer(stop, once=once)
        finally:
            self._shutdown()

    def _run_writer(self, stop: threading.Event, *, once: bool) -> None:
        """The service's work while it holds the writer role (and the cluster, if any)."""
        try:
            if not once:  # watch first, so changes during the (long) catch-up are queued
                self.watcher.start()
                self._rewatch()
            self._guarded(partial(self._full_pass, stop), stop)
            while once and not stop.is_set() and self._has_work():
                self._guarded(partial(self._embed_slice, stop, until=None), stop)
            while once and not stop.is_set() and self._switch_due():
                self._guarded(partial(self._switch_slice, stop, until=None), stop)
            if once and not stop.is_set():
                self._guarded(self._zero_shot, stop)
            if not once:
                self._watch(stop)
        finally:
            self._close_jobs()  # while the cluster is still connected: its actors stop

    def _close_jobs(self) -> None:
        if self._job is not None:
            self._job.close()
            self._job = None
        self._close_switcher()

    def _shutdown(self) -> None:
        self.watcher.stop()
        self._close_jobs()
        try:
            self.library.release_writer()
        except PhotoseekError as exc:  # the index is a cache: caught up at the next start
            log.warning("search index not saved on stop: %s", exc)
        self._set_state("stopped", force=True)
        log.info("watch service stopped")

    # -- the loop -------------------------------------------------------------------

    def _watch(self, stop: threading.Event) -> None:
        options = self.options
        now = time.monotonic()
        next_full, next_folders = now + options.reconcile_interval_s, now + options.folder_check_s
        while not stop.is_set():
            now = time.monotonic()
            changes = self.watcher.take(now)
            if now >= next_folders:
                changes.trees.update(self._rewatch())
                next_folders = now + options.folder_check_s
                if options.hand_over and self._someone_waits():
                    self.handed_over = True
                    log.info("another process waits to write this library: handing over")
                    return
            if changes.overflow or now >= next_full:
                self._guarded(partial(self._full_pass, stop), stop)
                next_full = time.monotonic() + options.reconcile_interval_s
            elif changes:
                self._guarded(partial(self._apply, changes), stop)
            held = self._held()
            if held is None and self._has_work():
                until = time.monotonic() + options.slice_s
                self._guarded(partial(self._embed_slice, stop, until=until), stop)
                continue  # straight back to the changes: removals never wait behind a burst
            if held is None and self._switch_due():  # the library's own photos come first
                until = time.monotonic() + options.slice_s
                self._guarded(partial(self._switch_slice, stop, until=until), stop)
                continue
            if held is None and self._zero_shot_due:
                self._guarded(self._zero_shot, stop)
            self._release_when_idle(time.monotonic())
            if held is not None and self.state.state != held:
                self._set_state(held, force=True)
            elif held is None and self.state.state not in ("watching", "error"):
                self._set_state("watching", force=True)
            self._idle_publish()
            stop.wait(options.tick_s)

    def _guarded(self, step: Callable[[], None], stop: threading.Event) -> None:
        """Run one step; a systemic error is published and retried later, never fatal."""
        try:
            step()
        except Cancelled:
            return
        except PhotoseekError as exc:
            log.error(
                "watch service: %s; trying again in %.0f s", exc, self.options.error_backoff_s
            )
            self.state.last_error = str(exc)
            self._set_state("error", force=True)
            stop.wait(self.options.error_backoff_s)

    def _zero_shot(self) -> None:
        """Caught up: re-tag what a changed label set or model left stale (needs the model
        only then)."""
        self._zero_shot_due = False
        for done in self.library.refresh_zero_shot():
            log.info("watch service: %s", done)

    def _full_pass(self, stop: threading.Event) -> None:
        self._zero_shot_due = True  # checked once this pass's work is done
        log.info("reconciling every folder")
        self._set_state("scanning", force=True)
        self.library.scan(self._report, stop)
        self.state.last_full_scan = time.time()
        self._refresh()
        self._set_state("watching", force=True)

    def _apply(self, changes: Changes) -> None:
        self.library.reconcile(changes)
        self._refresh()

    def _refresh(self) -> None:
        """A scan ran: there may be new work (counted once, not on every idle tick)."""
        self._work_waiting = None
        if self._job is not None:
            self._job.refresh()

    def _has_work(self) -> bool:
        if self._job is not None:
            return not self._job.finished
        if self._work_waiting is None:
            self._work_waiting = self.library.work_count() > 0
        return self._work_waiting

    def _embed_slice(self, stop: threading.Event, *, until: float | None) -> None:
        if self._job is None:
            self._set_state("loading model", force=True)
            self.library.image_encoder(self._report, stop)  # the light image path where exact
            self._job = self.library.index_job(self.options.cluster)
        self._idle_since = None
        self._set_state("indexing", force=True)
        self._follow(self._job.run(stop, until=until, hold=lambda: self._held() is not None))
        if self._job.finished:
            self._idle_since = time.monotonic()
            if self.options.cluster is not None:  # the cluster's actors are not held while idle
                self._job.close()
                self._job = None
                self._work_waiting = None
            self._set_state("watching", force=True)

    # -- a model switch -------------------------------------------------------------

    def _switch_due(self) -> bool:
        """Whether a recorded model switch should run now (one catalog read)."""
        record = self.library.model_switch()
        if record is None or record.state != "running":
            self._close_switcher()  # paused or cancelled: its decode workers stop
            return False
        if self._switcher is not None and self._switcher.record.target != record.target:
            self._close_switcher()  # another target was chosen meanwhile
        return True

    def _switch_slice(self, stop: threading.Event, *, until: float | None) -> None:
        """Embed a slice for the switch's target; on completion answer with it."""
        if self._switcher is None:
            self._switcher = self.library.model_switcher(self.options.cluster)
        self._idle_since = None
        self._set_state("switching model", force=True)
        switcher = self._switcher
        self._follow(switcher.run(stop, until=until, hold=lambda: self._held() is not None))
        if switcher.finished:  # the library answers with the target now
            self._switcher = None
            if self._job is not None:  # the old model's job
                self._job.close()
                self._job = None
            self._work_waiting = None
            self._zero_shot_due = True
            log.info("watch service: the library answers with %s now", switcher.record.target)
            self._set_state("watching", force=True)

    def _close_switcher(self) -> None:
        if self._switcher is not None:
            self._switcher.close()
            self._switcher = None

    def _release_when_idle(self, now: float) -> None:
        """No photo to embed for ``release_after_s``: close the job, give the image tower back.

        Warm text searches keep the light text tower; new photos load the
        image tower again (about a second on the light path).
        """
        idle = self._idle_since
        if idle is None or now - idle < self.options.release_after_s or self._has_work():
            return
        self._idle_since = None
        self._work_waiting = None  # counted again: the finished job's answer is stale
        if self._job is not None:
            self._job.close()
            self._job = None
        if self.library.release_image_model():
            log.info("idle for %.0f s: the image tower's memory is given back", now - idle)

    def _someone_waits(self) -> bool:
        """Whether another live process announced that it waits for the writer lock."""
        waiting = self.library.writer_lock.waiting()
        if waiting is None:
            return False
        pid = waiting.get("pid")
        if not isinstance(pid, int) or pid == os.getpid():
            return False
        import psutil

        return bool(psutil.pid_exists(pid))  # a crashed waiter's note is no reason

    def _rewatch(self) -> set[Path]:
        """Follow folder changes made elsewhere; return folders that need a full rescan.

        Those are folders watched since the last call: added by another process,
        or back after being unavailable (a remounted volume, a restored folder).
        """
        before = self.watcher.watched()
        modes = self.watcher.watch([f.path for f in self.library.folders()])
        self.state.folders = {str(path): mode for path, mode in modes.items()}
        return self.watcher.watched() - before

    # -- reporting ------------------------------------------------------------------

    def _follow(self, progress: Iterator[Progress]) -> None:
        for item in progress:
            self._report(item)

    def _report(self, item: Progress) -> None:
        if item.phase.embeds:
            self.state.done, self.state.total = item.done, item.total or 0
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
        try:
            write_json_atomically(path, asdict(self.state), durable=False)
        except OSError as exc:  # status reporting must never stop the service
            log.debug("cannot write %s: %s", path, exc)
