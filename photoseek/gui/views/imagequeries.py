"""Photos as queries: dropped on the pane, pasted, or "Find Similar" (the pane's mixin).

Dropped or pasted files become image chips; a pasted or dropped image with
no file is saved first (``<cache>/queries``, named by its content) off the
GUI thread. The pane provides ``search_image``, ``session``, ``_context`` and
``status_message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage

from photoseek.core.records import PhotoRecord
from photoseek.gui.desktop import query_media
from photoseek.gui.imageio import save_query_image

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from photoseek.gui.context import AppContext
    from photoseek.gui.workers.search import SearchSession

__all__ = ["QUERIES_FOLDER", "ImageQueryInput"]

QUERIES_FOLDER = "queries"


class ImageQueryInput:
    """Drop, paste and "Find Similar" for a pane that searches by images."""

    _context: AppContext
    session: SearchSession
    status_message: SignalInstance

    def search_image(self, path: Path) -> None:
        raise NotImplementedError

    def _search_files(self, paths: list[Path]) -> None:
        for path in paths:
            self.search_image(path)

    def _paste_from_clipboard(self) -> None:
        files, image = query_media(QGuiApplication.clipboard().mimeData())
        if files:
            self._search_files(files)
        elif image is not None:
            self._paste_image(image)
        else:
            self.status_message.emit("The clipboard holds no image to search by.")

    def _paste_image(self, image: QImage) -> None:
        folder = self._context.library.paths.cache_dir / QUERIES_FOLDER
        copy = image.copy()
        self.session.read(
            lambda: save_query_image(copy, folder),
            self.search_image,
            lambda exc: self.status_message.emit(f"Cannot keep the pasted image: {exc}"),
        )

    def _find_similar(self, records: list[PhotoRecord]) -> None:
        for record in records:
            self.search_image(record.path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        files, image = query_media(event.mimeData())
        if files or image is not None:
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        files, image = query_media(event.mimeData())
        if files:
            self._search_files(files)
        elif image is not None:
            self._paste_image(image)
        else:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
