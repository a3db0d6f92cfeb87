"""The bold title above a sidebar section ("Library", "Tags", "Albums")."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QWidget

__all__ = ["section_title"]


def section_title(text: str, parent: QWidget) -> QLabel:
    """A label in the bold variant of the parent's font."""
    title = QLabel(text, parent)
    font = QFont(title.font())
    font.setBold(True)
    title.setFont(font)
    return title
