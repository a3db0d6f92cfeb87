"""Fixtures for the app's tests: offscreen Qt, a tiny indexed library, an AppContext.

Every test runs offscreen (no display needed) with the tiny random-weight
model, and keeps its settings under its own data dir (never the user's).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from photoseek.core.library import Library  # noqa: E402
from photoseek.gui.context import AppContext, LibraryEvents, ModelState  # noqa: E402
from photoseek.gui.settings import AppSettings  # noqa: E402
from photoseek.paths import resolve_paths  # noqa: E402
from tests.conftest import make_photos, run_index, tiny_library  # noqa: E402


@pytest.fixture
def photos_dir(tmp_path: Path) -> Path:
    """A folder of 24 distinct little photos."""
    make_photos(tmp_path / "photos", 24)
    return tmp_path / "photos"


@pytest.fixture
def indexed_library(tmp_path: Path, photos_dir: Path) -> Iterator[Library]:
    """A writable library on the tiny model with ``photos_dir`` indexed."""
    library = tiny_library(tmp_path / "data")
    library.add_folder(photos_dir)
    run_index(library)
    yield library
    library.close()


@pytest.fixture
def context(qapp, indexed_library: Library) -> AppContext:  # type: ignore[no-untyped-def]
    """An AppContext over the indexed library (settings under its data dir)."""
    paths = resolve_paths(indexed_library.paths.data_dir)
    model = ModelState()
    indexed_library.load_model()
    model.ready.emit()
    return AppContext(paths, indexed_library, AppSettings(paths), model, LibraryEvents())
