"""Images off the GUI thread: grid thumbnails, and photos at the size a view needs.

:class:`ThumbnailLoader` serves the grid. It has two threads of its own,
asks :meth:`Library.thumbnail` for the cached JPEG (made on demand
when missing: slow), reads it as a :class:`QImage` scaled to the requested
pixels, and keeps it for the GUI thread, which takes the finished ones in
batches and turns them into ``QPixmap``. The newest request runs first (a
user scrolling wants what is on screen now), and only the newest few screens
of requests are kept. :meth:`ThumbnailLoader.drop_pending` clears the queue and bumps
a generation, so work that was already running when the query changed is
dropped when it ends.

:class:`ImageLoader` decodes whole photos through core (the preview at the
pane's size, the viewer at full resolution, a chip's tiny picture) in a pool
of one thread; a caller that wants only its latest request calls
:meth:`ImageLoader.clear` before asking again and ignores other keys.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

from photoseek.core.errors import PhotoseekError
from photoseek.core.library import Library
from photoseek.core.watch.priority import lower_thread_priority
from photoseek.gui.imageio import decode_photo, load_thumbnail_file
from photoseek.gui.workers.calls import FunctionTask

log = logging.getLogger(__name__)

__all__ = ["ImageLoader", "LoadedThumbnail", "ThumbnailLoader", "grid_thumbnail_threads"]

_SHUTDOWN_WAIT_MS = 5000
DEFAULT_BACKLOG = 160  # requests kept: about four screens of a 1280 x 860 window


class LoadedThumbnail(NamedTuple):
    """A finished request: the image is None when the photo has no thumbnail (offline)."""

    generation: int
    photo_id: int
    pixels: int
    image: QImage | None


class ThumbnailLoader(QObject):
    """Loads grid thumbnails as QImage in threads of its own; drops stale requests.

    Its threads live as long as the loader and take requests from a queue
    (the newest first). Starting a ``QThreadPool`` task per thumbnail cost
    the GUI thread about 0.5 ms a call (the new task took Python's lock at
    once, and the painting thread waited to get it back), so scrolling a
    page of new thumbnails stalled a frame; a request is now a dict update.

    A fast scroll asks for more thumbnails than the threads can load: only
    the newest ``backlog`` requests are kept (the rows scrolled past are
    forgotten, and asked again if they are painted again), and the same
    thumbnail asked twice is queued once. Finished thumbnails wait in a list
    that the GUI thread takes whole (:meth:`take_loaded`) when ``ready``
    fires, once per batch instead of a queued signal per thumbnail.
    The threads run at low priority (:func:`lower_thread_priority`).
    """

    ready = Signal()  # thumbnails are waiting in take_loaded()

    def __init__(
        self,
        library: Library,
        parent: QObject | None = None,
        threads: int = 2,
        *,
        backlog: int = DEFAULT_BACKLOG,
    ) -> None:
        super().__init__(parent)
        self._library = library
        self._threads_wanted = threads
        self._backlog = backlog
        self._threads: list[threading.Thread] = []
        self._queue: OrderedDict[tuple[int, int], int] = OrderedDict()  # (id, px) -> generation
        self._running: set[tuple[int, int]] = set()
        self._done: list[LoadedThumbnail] = []
        self._wake = threading.Condition()
        self._generation = 0
        self._closed = False

    @property
    def generation(self) -> int:
        """Bumped by :meth:`drop_pending`; results of older generations are stale."""
        return self._generation

    def request(self, photo_id: int, pixels: int) -> None:
        """Load the thumbnail of ``photo_id`` to fit ``pixels`` x ``pixels`` (device pixels).

        Asking again for a queued thumbnail moves it to the front; one already
        loading is not asked twice.
        """
        if self._closed:
            return
        key = (photo_id, pixels)
        with self._wake:
            if key in self._running:
                return
            self._queue[key] = self._generation
            self._queue.move_to_end(key)
            while len(self._queue) > self._backlog:
                self._queue.popitem(last=False)  # the oldest: scrolled past by now
            self._wake.notify()
        if len(self._threads) < self._threads_wanted:
            self._start_thread()

    def take_loaded(self) -> list[LoadedThumbnail]:
        """Every thumbnail finished since the last call (the GUI thread calls this on ``ready``)."""
        with self._wake:
            done, self._done = self._done, []
        return done

    def drop_pending(self) -> None:
        """Forget every queued request; running ones finish but are reported as stale."""
        with self._wake:
            self._generation += 1
            self._queue.clear()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no request is queued or running (tests); whether it got there."""
        deadline = time.monotonic() + timeout_s
        with self._wake:
            while self._queue or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.05))
        return True

    def shutdown(self) -> None:
        """Drop queued work and wait for the running requests."""
        with self._wake:
            self._closed = True
            self._queue.clear()
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(_SHUTDOWN_WAIT_MS / 1000)

    def _start_thread(self) -> None:
        thread = threading.Thread(target=self._serve, name="photoseek-thumbnails", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _serve(self) -> None:
        lower_thread_priority()
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                key, generation = self._queue.popitem(last=True)  # the newest first
                self._running.add(key)
            image = None
            try:
                image = self._load(generation, *key)
            except Exception:  # one bad thumbnail never ends the loader
                log.exception("loading the thumbnail of photo %d failed", key[0])
            finally:
                self._finish(key, LoadedThumbnail(generation, *key, image))

    def _load(self, generation: int, photo_id: int, pixels: int) -> QImage | None:
        if generation != self._generation or self._closed:
            return None
        path = self._library.thumbnail(photo_id, pixels)
        return load_thumbnail_file(path, pixels) if path is not None else None

    def _finish(self, key: tuple[int, int], result: LoadedThumbnail) -> None:
        """Hand ``result`` to the GUI thread (one ``ready`` per batch), unless it is stale."""
        with self._wake:
            self._running.discard(key)
            self._wake.notify_all()
            if result.generation != self._generation or self._closed:
                return
            first = not self._done
            self._done.append(result)
        if first:
            with contextlib.suppress(RuntimeError):  # the receiver was deleted while the app quit
                self.ready.emit()


def grid_thumbnail_threads() -> int:
    """Threads for the grid's thumbnails: one core stays the painting thread's.

    A second thread on a 2-core machine made scrolling stall more (p99 19-25 ms
    against 12-17 ms at 100,000 photos, tests/benchmarks/test_bench_app.py):
    both compete with the GUI thread for Python's lock, and a thumbnail from the
    cache takes milliseconds anyway.
    """
    return max(1, min(2, (os.cpu_count() or 2) - 1))


class ImageLoader(QObject):
    """Decodes photos through core at a wanted size, off the GUI thread."""

    loaded = Signal(object, object, str)  # key, QImage or None, error sentence ("" if fine)

    def __init__(self, parent: QObject | None = None, threads: int = 1) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._closed = False

    def request(self, key: Hashable, path: Path, max_side: int | None) -> None:
        """Decode ``path`` to at most ``max_side`` pixels (None: full size); emit ``loaded``."""
        if not self._closed:
            self._pool.start(FunctionTask(lambda: self._decode(key, path, max_side)))

    def clear(self) -> None:
        """Drop every queued request (the running one still reports)."""
        self._pool.clear()

    def _decode(self, key: Hashable, path: Path, max_side: int | None) -> None:
        if self._closed:
            return
        try:
            image, error = decode_photo(path, max_side), ""
        except PhotoseekError as exc:
            image, error = None, str(exc)
        except Exception as exc:  # whatever a decoder raises, the app keeps running
            log.exception("decoding %r failed", path)
            image, error = None, f"cannot show this photo: {exc}"
        if not self._closed:
            with contextlib.suppress(RuntimeError):  # the loader was deleted while the app quit
                self.loaded.emit(key, image, error)

    def shutdown(self) -> None:
        """Drop queued work and wait for the running decode."""
        self._closed = True
        self._pool.clear()
        self._pool.waitForDone(_SHUTDOWN_WAIT_MS)
