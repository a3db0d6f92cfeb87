"""The sidebar's smart albums: saved searches; a click shows an album's photos now.

Hidden while there are none ("Save Search as Album…" in the File menu makes
one, as does ``photoseek album add``). The library panel reads the albums off
the GUI thread; this list only paints them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidgetItem, QWidget

from photoseek.core.library import Album
from photoseek.gui.views.sectiontitle import ListSection

__all__ = ["AlbumsPanel"]

_LIST_HEIGHT = 140


class AlbumsPanel(ListSection):
    """Albums by name; choosing one runs its saved search in the grid."""

    album_selected = Signal(object)  # Album

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Albums", _LIST_HEIGHT, parent)
        self._albums: list[Album] = []

    def set_albums(self, albums: list[Album]) -> None:
        """Show these albums."""
        if albums == self._albums:
            return
        self._albums = list(albums)
        self.list.clear()
        for number, album in enumerate(albums):
            item = QListWidgetItem(album.name)
            cut = "best matches" if album.min_score is None else f"score ≥ {album.min_score:g}"
            item.setToolTip(f"{album.query}\n{cut}")
            item.setData(Qt.ItemDataRole.UserRole, number)
            self.list.addItem(item)
        self.setVisible(bool(albums))

    def albums(self) -> list[Album]:
        """The albums shown."""
        return list(self._albums)

    def item_chosen(self, item: QListWidgetItem) -> None:
        self.album_selected.emit(self._albums[int(item.data(Qt.ItemDataRole.UserRole))])
