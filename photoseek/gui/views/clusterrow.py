"""The settings window's cluster line: where the app's indexing embeds (this computer, or Ray).

An address here sends the photos the app indexes to that Ray cluster from the
next start (``auto``, ``ray://HOST:PORT`` or ``local``, as ``--cluster`` on the
command line); empty keeps everything on this computer. The note says that
photos leave the computer then, and what to install.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from photoseek.gui.settings import AppSettings

NOTE = (
    "Empty: this computer. An address (auto, ray://host:10001, local) sends the photos to "
    "index to that Ray cluster for decoding and embedding, from the next start; it needs "
    "pip install 'photoseek[cluster]'."
)


class ClusterRow(QWidget):
    """A line edit for the cluster address, stored when editing finishes."""

    changed = Signal(str)  # the setting's name, as the settings window's other rows

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.edit = QLineEdit(settings.cluster_address, self)
        self.edit.setPlaceholderText("this computer")
        self.edit.setAccessibleName("Ray cluster address for indexing")
        self.edit.editingFinished.connect(self._stored)
        self.note = QLabel(NOTE, self)
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.note)

    def _stored(self) -> None:
        address = self.edit.text().strip()
        if address == self.settings.cluster_address:
            return
        self.settings.cluster_address = address
        self.settings.sync()
        self.changed.emit("cluster_address")
