"""The photos of one duplicate group side by side: a card per photo, each with "Keep This One".

:class:`GroupStrip` shows a :class:`~photoseek.core.duplicates.records.DuplicateGroup`
as a horizontal row of :class:`PhotoCard` widgets in keep-rule order. The
suggested card (the keep rule's first) is marked and its button is the
default one, so Enter keeps it. The strip only paints: a click says which
photo to keep (``keep_requested``), thumbnails arrive from whoever loads
them (:meth:`GroupStrip.set_thumbnail`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from photoseek.core.duplicates.records import DuplicateGroup, DuplicatePhoto, link_text
from photoseek.gui.models.results import format_size
from photoseek.gui.views.preview import ElidedLabel, PhotoImage
from photoseek.pathtext import display_path

__all__ = ["CARD_WIDTH", "GroupStrip", "PhotoCard", "facts_text"]

CARD_WIDTH = 240
"""Logical pixels per card; its thumbnail is as wide."""

SUGGESTED = "Suggested: largest, original format, oldest"


def facts_text(photo: DuplicatePhoto) -> str:
    """``4032 × 3024 · JPEG · 2.4 MB · 2021-06-01 10:02`` for a card."""
    size = f"{photo.width} × {photo.height}" if photo.width and photo.height else "size unknown"
    parts = [size, (photo.format or "?").upper(), format_size(photo.size)]
    if photo.date:
        parts.append(photo.date[:16].replace("T", " "))
    return " · ".join(parts)


class PhotoCard(QFrame):
    """One photo of a group: thumbnail, name, facts, why it is here, "Keep This One"."""

    keep_clicked = Signal(int)  # the photo's id

    def __init__(self, photo: DuplicatePhoto, why: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.photo = photo
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(CARD_WIDTH)
        self.setAccessibleName(f"Photo {photo.path.name}")
        self.image = PhotoImage(self)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.image.setFixedHeight(CARD_WIDTH * 3 // 4)
        self.image.set_source(None, "Loading…")
        self.name = ElidedLabel(self)
        self.name.set_full_text(display_path(photo.path.name))
        name_font = QFont(self.name.font())
        name_font.setBold(True)
        self.name.setFont(name_font)
        self.folder = ElidedLabel(self)
        self.folder.set_full_text(display_path(photo.path.parent))
        self.facts = QLabel(facts_text(photo), self)
        self.facts.setWordWrap(True)
        self.why = QLabel(why, self)
        self.why.setWordWrap(True)
        self.badge = QLabel(SUGGESTED if photo.keep else "", self)
        self.badge.setWordWrap(True)
        bold = QFont(self.badge.font())
        bold.setBold(True)
        self.badge.setFont(bold)
        self.keep_button = QPushButton("Keep This One", self)
        self.keep_button.setToolTip("Keep this photo; move the others of the group to the trash")
        self.keep_button.clicked.connect(lambda: self.keep_clicked.emit(self.photo.id))
        column = QVBoxLayout(self)
        for widget in (self.image, self.name, self.folder, self.facts, self.why, self.badge):
            column.addWidget(widget)
        column.addStretch(1)
        column.addWidget(self.keep_button)

    def set_thumbnail(self, image: QImage | None) -> None:
        """Show the thumbnail (None: the photo has none, e.g. it cannot be read)."""
        if image is None or image.isNull():
            self.image.set_source(None, "No thumbnail")
        else:
            self.image.set_source(QPixmap.fromImage(image))


class GroupStrip(QScrollArea):
    """The cards of one group in a row that scrolls sideways."""

    keep_requested = Signal(int)  # the id of the photo to keep

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setAccessibleName("Photos of the group")
        self.cards: list[PhotoCard] = []
        self.group: DuplicateGroup | None = None
        self.show_group(None)

    def show_group(self, group: DuplicateGroup | None, message: str = "") -> None:
        """Show ``group``'s photos (None: ``message`` instead)."""
        self.group = group
        self.cards = []
        holder = QWidget(self)
        row = QHBoxLayout(holder)
        if group is None:
            note = QLabel(message, holder)
            note.setAlignment(Qt.AlignmentFlag.AlignCenter)
            note.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            row.addWidget(note)
        else:
            names = {photo.id: photo.path.name for photo in group.photos}
            for photo in group.photos:
                target = display_path(names.get(photo.link.to, f"photo {photo.link.to}"))
                why = "" if photo is group.kept else link_text(photo.link, target)
                card = PhotoCard(photo, why, holder)
                card.keep_clicked.connect(self.keep_requested)
                row.addWidget(card)
                self.cards.append(card)
            row.addStretch(1)
        old = self.takeWidget()
        self.setWidget(holder)
        if old is not None:
            old.deleteLater()
        if self.cards:
            self.cards[0].keep_button.setDefault(True)
            self.cards[0].keep_button.setFocus()

    def card(self, photo_id: int) -> PhotoCard | None:
        """The card of a photo shown, if any."""
        return next((card for card in self.cards if card.photo.id == photo_id), None)

    def set_thumbnail(self, photo_id: int, image: QImage | None) -> None:
        """Give a card its thumbnail (ignored when the photo is not shown any more)."""
        card = self.card(photo_id)
        if card is not None:
            card.set_thumbnail(image)
