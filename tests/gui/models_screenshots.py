"""Make the README's duplicates and model-switch screenshots.

``python -m tests.gui.models_screenshots resources/screenshots``

A library of 12 photos from ``../shared/photos/coco`` plus made variants of
three of them (resized to half, re-encoded at JPEG quality 30, brightened),
indexed with the tiny random-weight model; the duplicates window after its
search (pHash only: the random weights' cosines mean nothing), then the
settings window during a real switch to the second tiny architecture, run
for one batch (no real weights here). Offscreen, no display needed.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image, ImageEnhance
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from photoseek.core.library.modelchoice import ModelName
from photoseek.gui.context import AppContext, LibraryEvents, ModelState
from photoseek.gui.settings import AppSettings
from photoseek.gui.views.duplicates import DuplicatesDialog
from photoseek.gui.views.settingsdialog import SettingsDialog
from photoseek.gui.workers.offthread import OffThread
from photoseek.paths import resolve_paths
from tests.conftest import REPO, SHARED_PHOTOS, run_index, tiny_library

TINY_B = REPO / "tests" / "fixtures" / "tiny-clip-b.json"


def _settle(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _photos(folder: Path) -> None:
    folder.mkdir()
    sources = sorted((SHARED_PHOTOS / "coco" / "images").glob("*.jpg"))[:12]
    for photo in sources:
        shutil.copy(photo, folder / photo.name)
    for photo in sources[:3]:
        with Image.open(photo) as image:
            image = image.convert("RGB")
            half = image.resize((image.width // 2, image.height // 2))
            half.save(folder / f"{photo.stem}-small.jpg", quality=90)
            image.save(folder / f"{photo.stem}-q30.jpg", quality=30)
            ImageEnhance.Brightness(image).enhance(1.2).save(folder / f"{photo.stem}-bright.jpg")


def main(out: Path) -> None:
    """Write duplicates.png and model-switch.png into ``out``."""
    app = QApplication([])
    root = Path(tempfile.mkdtemp())
    _photos(root / "Pictures")
    library = tiny_library(root / "data")
    library.add_folder(root / "Pictures")
    run_index(library)
    paths = resolve_paths(root / "data")
    context = AppContext(paths, library, AppSettings(paths), ModelState(), LibraryEvents())
    dialog = DuplicatesDialog(context, threshold=1.01)  # pHash only: random weights mean nothing
    dialog.show()
    dialog.find_groups()
    _settle(8)
    dialog.grab().save(str(out / "duplicates.png"))
    dialog.shutdown()
    dialog.close()
    library.start_model_switch(ModelName(str(TINY_B), "none"))
    switcher = library.model_switcher()
    for _ in switcher.run(hold=lambda: True):  # one batch, then stop: the switch stays recorded
        pass
    switcher.close()
    calls = OffThread()
    settings = SettingsDialog(context, calls, tray_available=True)
    settings.show()
    _settle(3)
    settings.grab().save(str(out / "model-switch.png"))
    settings.close()
    calls.shutdown()
    library.close()
    app.quit()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
