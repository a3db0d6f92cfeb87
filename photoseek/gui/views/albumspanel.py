"""The sidebar's smart albums: saved searches; a click shows an album's photos now.

Hidden while there are none ("Save Search as Album…" in the File menu makes
one, as does ``photoseek album add``). The library panel reads the albums off
the GUI thread; this list only paints them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from photoseek.core.library import Album
from photoseek.gui.views.sectiontitle import section_title

__all__ = ["AlbumsPanel"]

_LIST_HEIGHT = 140


class AlbumsPanel(QWidget):
    """Albums by name; choosing one runs its saved search in the grid."""

    album_selected = Signal(object)  # Album

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(section_title("Albums", self))
        self.list = QListWidget(self)
        self.list.setAccessibleName("Albums")
        self.list.setMaximumHeight(_LIST_HEIGHT)  # the folders keep the sidebar's spare room
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        layout.addWidget(self.list)
        self._albums: list[Album] = []
        self.setVisible(False)

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

    def _clicked(self, item: QListWidgetItem) -> None:
        self.album_selected.emit(self._albums[int(item.data(Qt.ItemDataRole.UserRole))])
