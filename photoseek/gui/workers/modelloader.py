"""Load the CLIP model in a thread while the user types; report through :class:`ModelState`.

:meth:`Library.load_model` downloads the weights on first use (byte
progress), then imports torch and open_clip and loads them (load steps).
Each report reaches ``ModelState.loading`` on the GUI thread; the end is
``ready``, or ``failed`` with the core's one-sentence message (no weights
and no network, an unusable checkpoint, a device that is not there).

First, where the model's text tower alone is exact for these weights (the
light text path, :meth:`Library.load_text_encoder`), it loads that: the
first query is answered from it, seconds before the full model would be
ready, and the two loads do not compete for the two cores. Beside the
loads, a second thread opens the vector index when the catalog
knows the model already (:meth:`Library.preload_index`): at 100,000 photos
that is 0.9 s the first search no longer waits for after the model. The
loader's thread waits for it after reporting, so nothing it started is still
running when the thread has ended.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QObject, Signal, Slot

from photoseek.core.errors import Cancelled, PhotoseekError
from photoseek.core.library import Library
from photoseek.core.progress import Progress
from photoseek.gui.context import ModelState

log = logging.getLogger(__name__)


class ModelLoader(QObject):
    """Loads the library's model once, off the GUI thread."""

    _post = Signal(str, object)

    def __init__(self, library: Library, state: ModelState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.state = state
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._loading = False  # until the thread has said how it ended
        self._post.connect(self._deliver)

    @property
    def running(self) -> bool:
        """Whether the load is in progress."""
        return self._loading

    def start(self) -> None:
        """Start loading (a no-op while a load runs)."""
        if self.running:
            return
        self._cancel = threading.Event()
        self._loading = True
        self._thread = threading.Thread(
            target=self._load, args=(self._cancel,), name="photoseek-model", daemon=True
        )
        self._thread.start()

    def cancel(self, timeout_s: float = 2.0) -> bool:
        """Ask the load to stop (a download stops at once); True if it ended in time."""
        self._cancel.set()
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _load(self, cancel: threading.Event) -> None:
        preload = threading.Thread(target=self._preload, name="photoseek-index", daemon=True)
        preload.start()
        try:
            kind, payload = self._try_load(cancel, preload)
            self._loading = False  # a start() after the result may begin a new load at once
            if kind:
                self._post.emit(kind, payload)
        finally:
            preload.join()

    def _try_load(self, cancel: threading.Event, preload: threading.Thread) -> tuple[str, object]:
        """("ready", None), ("failed", sentence), or ("", None) when cancelled.

        With the light text path, the full model waits for the vector index:
        the first query needs the text tower and the index, and importing
        torch beside the index load slowed that load from about 0.5 s to 2 s
        (measured, 100,000 photos, first result 4.1 s). Image queries and
        indexing wait for the full model either way.
        """
        started = time.monotonic()
        try:
            if self.library.load_text_encoder():
                log.info("text queries ready after %.1f s", time.monotonic() - started)
                while preload.is_alive() and not cancel.is_set():
                    preload.join(0.1)
            self.library.load_model(lambda item: self._post.emit("loading", item), cancel)
        except Cancelled:
            log.info("model load cancelled")
            return "", None
        except PhotoseekError as exc:
            log.warning("model not loaded: %s", exc)
            return "failed", str(exc)
        except Exception as exc:  # a broken install must not kill the app silently
            log.exception("model load failed")
            return "failed", f"the model could not be loaded: {exc}"
        log.info("model ready after %.1f s", time.monotonic() - started)
        return "ready", None

    def _preload(self) -> None:
        try:
            self.library.preload_index()
        except Exception:  # the first search opens (or rebuilds) it and reports a failure
            log.warning("the vector index was not opened ahead of the model", exc_info=True)

    @Slot(str, object)
    def _deliver(self, kind: str, payload: object) -> None:
        if self._cancel.is_set():
            return
        if kind == "loading" and isinstance(payload, Progress):
            self.state.loading.emit(payload)
        elif kind == "ready":
            self.state.ready.emit()
        elif kind == "failed":
            self.state.failed.emit(str(payload))
