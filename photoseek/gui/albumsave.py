"""Saving the pane's current search as a smart album (File > Save Search as Album…).

The album keeps the search's text and image chips (as ``@"path"`` terms),
its filters and its cut-off (for the library's model); the library saves it
off the GUI thread, and the sidebar's album list shows it after its next
refresh. The name is asked in a small dialog the user opened themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QInputDialog, QWidget

from photoseek.core.errors import PhotoseekError
from photoseek.core.library import Album, Library
from photoseek.gui.workers.offthread import OffThread
from photoseek.gui.workers.sources import SearchRequest

__all__ = ["AlbumSaver", "ask_album_name"]

NamePrompt = Callable[[QWidget, str], str | None]


def ask_album_name(parent: QWidget, query: str) -> str | None:
    """The album's name, from a dialog (None: cancelled)."""
    name, ok = QInputDialog.getText(parent, "Save Search as Album", f"Album name for “{query}”:")
    return name.strip() if ok and name.strip() else None


class AlbumSaver:
    """Turns a search request into a saved album."""

    def __init__(
        self,
        parent: QWidget,
        library: Library,
        calls: OffThread,
        say: Callable[[str], None],
        saved: Callable[[Album], None],
        prompt: NamePrompt = ask_album_name,
    ) -> None:
        self._parent = parent
        self._library = library
        self._calls = calls
        self._say = say
        self._saved = saved
        self.prompt = prompt

    def save(self, request: SearchRequest) -> None:
        """Ask for a name and save ``request`` as an album."""
        query = request.query_text()
        if not query:
            self._say("Type a search first: an album is a saved search that stays up to date.")
            return
        name = self.prompt(self._parent, query)
        if name is None:
            return
        filters, cutoff = request.filters, request.min_score
        self._calls.call(
            lambda: self._library.save_album(name, query, filters, cutoff),
            self._done,
            self._failed,
            key="save-album",
        )

    def _done(self, album: Album) -> None:
        cut = "its best matches" if album.min_score is None else f"score ≥ {album.min_score:g}"
        self._say(f"Album “{album.name}” saved: {cut}, and photos that arrive later join it.")
        self._saved(album)

    def _failed(self, exc: BaseException) -> None:
        reason = str(exc) if isinstance(exc, PhotoseekError) else f"{type(exc).__name__}: {exc}"
        self._say(f"The album was not saved: {reason}")
