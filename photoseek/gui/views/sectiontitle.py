"""Sidebar sections: the bold title above one ("Library", "Tags", "Albums"), and a titled list."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

__all__ = ["ListSection", "section_title"]


def section_title(text: str, parent: QWidget) -> QLabel:
    """A label in the bold variant of the parent's font."""
    title = QLabel(text, parent)
    font = QFont(title.font())
    font.setBold(True)
    title.setFont(font)
    return title


class ListSection(QWidget):
    """A titled sidebar list of bounded height, hidden until it has items (tags, albums);
    a click or Enter on an item calls :meth:`item_chosen`."""

    def __init__(self, title: str, height: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(section_title(title, self))
        self.list = QListWidget(self)
        self.list.setAccessibleName(title)
        self.list.setMaximumHeight(height)  # the folders keep the sidebar's spare room
        self.list.itemClicked.connect(self.item_chosen)
        self.list.itemActivated.connect(self.item_chosen)
        layout.addWidget(self.list)
        self.setVisible(False)

    def item_chosen(self, item: QListWidgetItem) -> None:
        """The user chose ``item``."""
        raise NotImplementedError
