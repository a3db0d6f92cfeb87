"""The sidebar's tags: each zero-shot tag with its photo count; a click filters the grid.

Hidden while the library has no tags (``photoseek tag`` makes them). The list
only paints what :meth:`TagsPanel.set_tags` hands it; the counts are read off
the GUI thread by the library panel.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidgetItem, QWidget

from photoseek.gui.views.sectiontitle import ListSection

__all__ = ["TagsPanel"]

_ANY = "All tags"
_LIST_HEIGHT = 220


class TagsPanel(ListSection):
    """Tags with counts; choosing one shows only its photos (``All tags``: every photo)."""

    tag_selected = Signal(object)  # str, or None for every photo

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Tags", _LIST_HEIGHT, parent)
        self._counts: list[tuple[str, int]] = []

    def set_tags(self, counts: list[tuple[str, int]]) -> None:
        """Show these tags (most photos first); the current one stays chosen."""
        if counts == self._counts:
            return
        chosen = self.current_tag()
        self._counts = list(counts)
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItem(QListWidgetItem(_ANY))
        for name, count in counts:
            item = QListWidgetItem(f"{name}  ({count:,})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(f"{count:,} photos tagged “{name}”")
            self.list.addItem(item)
        self.select(chosen)
        self.list.blockSignals(False)
        self.setVisible(bool(counts))

    def current_tag(self) -> str | None:
        """The chosen tag (None: all)."""
        item = self.list.currentItem()
        data = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return str(data) if data else None

    def select(self, name: str | None) -> None:
        """Mark ``name`` chosen without emitting (the filter bar changed it)."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                blocked = self.list.blockSignals(True)
                self.list.setCurrentRow(row)
                self.list.blockSignals(blocked)
                return

    def item_chosen(self, item: QListWidgetItem) -> None:
        data = item.data(Qt.ItemDataRole.UserRole)
        self.tag_selected.emit(str(data) if data else None)
