"""Make the README's tags screenshot: ``python -m tests.gui.tags_screenshot OUT.png``.

A library of 40 photos from ``../shared/photos/coco`` on the tiny random-weight
model, tagged with the built-in label set at the margin that gives about three
tags a photo, one smart album, the window offscreen at 1280 x 800 with a photo
selected. The tags are noise (random weights); the screenshot shows the app.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from photoseek.core.zeroshot.labels import builtin_label_set
from photoseek.core.zeroshot.tagging import margins
from photoseek.core.zeroshot.templates import template_set
from photoseek.gui.context import AppContext, LibraryEvents, ModelState
from photoseek.gui.mainwindow import MainWindow, search_pane
from photoseek.gui.settings import AppSettings
from photoseek.paths import resolve_paths
from tests.conftest import SHARED_PHOTOS, run_index, tiny_library


def _settle(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def main(out: Path) -> None:
    """Write the screenshot to ``out``."""
    app = QApplication([])
    root = Path(tempfile.mkdtemp())
    pictures = root / "Pictures"
    pictures.mkdir()
    for photo in sorted((SHARED_PHOTOS / "coco" / "images").glob("*.jpg"))[:40]:
        shutil.copy(photo, pictures / photo.name)
    library = tiny_library(root / "data")
    library.add_folder(pictures)
    run_index(library)
    library.tag(builtin_label_set(), template_set("photo"))
    space = library.catalog.tag_space(library.model_id)
    _, vectors = library.catalog.stored_vectors(library.model_id, space.vectors.shape[1])
    library.set_tag_threshold(float(np.quantile(margins(space.vectors, vectors), 1 - 3 / 62)))
    library.save_album("Kitchen scenes", "a kitchen", min_score=0.0)
    library.load_model()
    paths = resolve_paths(root / "data")
    context = AppContext(paths, library, AppSettings(paths), ModelState(), LibraryEvents())
    context.model.ready.emit()
    window = MainWindow(context, None, pane_factory=search_pane)
    window.resize(1280, 800)
    window.show()
    _settle(6)
    window.pane.grid.setCurrentIndex(window.pane.results.index(2))
    _settle(3)
    window.grab().save(str(out))
    window.shutdown()
    library.close()
    app.quit()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
