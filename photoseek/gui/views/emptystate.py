"""What the window shows when there is nothing to show yet: what to do, and a button for it.

An empty library says how to start (add a folder, or drop one on the
window). The same view, with other words, tells why the library could not
be opened at all, so even that case gets a window, not a dialog.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from photoseek.gui.theme import app_icon

EMPTY_TITLE = "Add a folder to start"
EMPTY_TEXT = (
    "photoseek finds photos on your disk by what is in them. Add a folder of photos, or drop "
    "one on this window: photoseek indexes it in the background, and you can search as soon "
    "as the first photos are in. Your photos never leave this computer."
)
ADD_FOLDER = "Add a Folder…"
TEXT_WIDTH = 460


class EmptyState(QWidget):
    """A big icon, a title, a sentence or two, and one button."""

    button_clicked = Signal()

    def __init__(
        self,
        title: str = EMPTY_TITLE,
        text: str = EMPTY_TEXT,
        button: str = ADD_FOLDER,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName(title)
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.setSpacing(14)
        icon = QLabel(self)
        icon.setPixmap(app_icon().pixmap(96, 96))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(title, self)
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = QLabel(text, self)
        self.text.setWordWrap(True)
        # A word-wrapped label asks for little width: without a minimum the centred layout
        # squeezes the sentence into a narrow column of short lines.
        self.text.setMinimumWidth(TEXT_WIDTH - 60)
        self.text.setMaximumWidth(TEXT_WIDTH)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton(button, self)
        self.button.setAccessibleName(button)
        self.button.setDefault(True)
        self.button.clicked.connect(self.button_clicked.emit)
        for widget in (icon, self.title, self.text):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
