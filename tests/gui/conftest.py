"""Fixtures for the app's tests: offscreen Qt, a tiny indexed library, an AppContext.

Every test runs offscreen (no display needed) with the tiny random-weight
model, and keeps its settings under its own data dir (never the user's).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from photoseek.core.library import Library
from photoseek.gui.context import AppContext, LibraryEvents, ModelState
from photoseek.gui.settings import AppSettings
from photoseek.paths import resolve_paths
from tests.conftest import make_photos, run_index, tiny_library
from tests.gui.x11 import xvfb


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


# -- a real X display (Xvfb) for the app in a process of its own ---------------------


@pytest.fixture
def x11_display() -> Iterator[str]:
    """A private Xvfb server's display (":N"); the test is skipped where Xvfb is missing."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed")
    with xvfb() as display:
        if display is None:
            pytest.skip("Xvfb did not start")
        yield display


# -- the search pane (search, grid, preview, viewer, actions) ---------------------------


class FakeDesktop:
    """The platform seam of ``photoseek.gui.desktop``: records instead of opening or trashing.

    Trashing moves the file into ``trash_dir`` (so the test can check it went
    and was not deleted); ``refuse`` names paths whose trashing fails.
    """

    def __init__(self, trash_dir: Path) -> None:
        self.trash_dir = trash_dir
        self.opened: list[Path] = []
        self.revealed: list[list[Path]] = []
        self.trashed: list[Path] = []
        self.refuse: set[Path] = set()

    def open_file(self, path: Path) -> bool:
        self.opened.append(path)
        return True

    def reveal(self, paths: list[Path]) -> None:
        self.revealed.append(list(paths))

    def move_to_trash(self, path: Path) -> None:
        if path in self.refuse:
            raise OSError(f"cannot move {path.name} to the trash")
        self.trash_dir.mkdir(parents=True, exist_ok=True)
        path.rename(self.trash_dir / path.name)
        self.trashed.append(path)


class Answers:
    """The pane's questions (trash confirmation, export folder), answered by the test."""

    def __init__(self) -> None:
        self.confirm_answer = True
        self.questions: list[str] = []
        self.folder: Path | None = None

    def confirm(self, parent: object, title: str, text: str) -> bool:
        self.questions.append(text)
        return self.confirm_answer

    def choose_folder(self, parent: object) -> Path | None:
        return self.folder


@pytest.fixture
def fake_desktop(tmp_path: Path) -> FakeDesktop:
    """A desktop seam whose trash is a folder under the test's tmp dir."""
    return FakeDesktop(tmp_path / "trash")


@pytest.fixture
def answers() -> Answers:
    """Answers for the trash confirmation and the export folder."""
    return Answers()


@pytest.fixture
def make_pane(qtbot, fake_desktop: FakeDesktop, answers: Answers):  # type: ignore[no-untyped-def]
    """Build a shown SearchPane (with its own Find/preview/zoom shortcuts) over a context.

    The pane waits until its first page (the library, newest first) is shown
    and is shut down at the end of the test.
    """
    from photoseek.gui.views.searchpane import SearchPane

    panes: list[SearchPane] = []

    def make(context: AppContext, *, wait: bool = True) -> SearchPane:
        pane = SearchPane(
            context,
            desktop=fake_desktop,  # type: ignore[arg-type]
            confirm=answers.confirm,
            choose_folder=answers.choose_folder,
            view_shortcuts=True,
        )
        qtbot.addWidget(pane)
        panes.append(pane)
        pane.resize(1000, 700)
        pane.show()
        qtbot.waitExposed(pane)
        pane.activateWindow()
        if wait:
            qtbot.waitUntil(lambda: not pane.session.busy, timeout=60000)
        return pane

    yield make
    for pane in panes:
        pane.shutdown()


@pytest.fixture
def pane(context: AppContext, make_pane):  # type: ignore[no-untyped-def]
    """A shown SearchPane over the indexed library, its first page loaded."""
    return make_pane(context)


@pytest.fixture
def exact_scores():  # type: ignore[no-untyped-def]
    """``scores(context, text)``: every indexed photo's score for a text query, computed
    from the vectors stored in the catalog (independently of the searcher)."""
    import numpy as np

    from photoseek.core.vectors import codec as vectorcodec

    def scores(context: AppContext, text: str) -> dict[int, float]:
        library = context.library
        ids = [p.id for p in library.browse(limit=100_000).photos]
        dim = library.embedder.identity.dim
        found, matrix = library.catalog.live_vectors(library.model_id, ids, dim)
        query = vectorcodec.normalize(library.embedder.encode_text(text).vector[None, :])[0]
        return dict(zip(found, (matrix @ query.astype(np.float32)).tolist(), strict=True))

    return scores
