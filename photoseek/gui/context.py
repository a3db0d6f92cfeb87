"""What every part of the app shares: the library, the settings, and two signal hubs.

:class:`AppContext` is made once by ``app.py`` and handed to each part (the
main window, the search pane, the library panel, the workers). Parts talk to
the core only through ``context.library`` (the :class:`Library` facade) and
to each other through the hubs' signals, never by reaching into each other:

* :class:`ModelState`: the CLIP model loads in a worker while the user types
  (``loading`` with download/load progress, then ``ready`` or ``failed``
  with one sentence). ``is_ready`` says where it stands; a search submitted
  earlier simply waits in its worker, and the search pane shows "loading the
  model" meanwhile.
* :class:`LibraryEvents`: ``changed`` carries a
  :class:`~photoseek.core.records.ChangeSet` whenever the library changed
  (this process's indexing, or a watch service's commits that the app
  follows); ``folders_changed`` when folders were added, removed, relocated
  or changed state; ``progress`` and ``state`` relay what the background
  worker is doing; ``message`` is a one-sentence notice for the status bar
  (errors included: the app never stops on them).

All signals are emitted on, or queued to, the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from photoseek.core.library import Library
from photoseek.gui.settings import AppSettings
from photoseek.paths import AppPaths


class ModelState(QObject):
    """Where the CLIP model stands: loading, ready or failed."""

    loading = Signal(object)  # photoseek.core.progress.Progress
    ready = Signal()
    failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.is_ready = False
        self.error: str | None = None
        self.ready.connect(self._on_ready)
        self.failed.connect(self._on_failed)

    def _on_ready(self) -> None:
        self.is_ready, self.error = True, None

    def _on_failed(self, message: str) -> None:
        self.is_ready, self.error = False, message


class LibraryEvents(QObject):
    """What happened to the library, for every view that shows it."""

    changed = Signal(object)  # photoseek.core.records.ChangeSet
    folders_changed = Signal()
    progress = Signal(object)  # photoseek.core.progress.Progress of the background worker
    state = Signal(str)  # the worker's state: "indexing", "watching", "paused", "reader" ...
    message = Signal(str)  # one sentence for the status bar (errors too)


@dataclass
class AppContext:
    """The library and everything the app's parts share."""

    paths: AppPaths
    library: Library
    settings: AppSettings
    model: ModelState
    events: LibraryEvents
