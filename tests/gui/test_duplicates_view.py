"""The duplicate review: groups found in a worker, side by side, keep one (trash), undo.

HOME is a temporary folder and XDG_DATA_HOME unset, so the system trash the
real :class:`~photoseek.gui.desktop.Desktop` uses (Qt's ``moveToTrash``) is
``<tmp>/home/.local/share/Trash``: the tests look into it.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtWidgets import QMenu

from photoseek.core.library import Library
from photoseek.core.records import ChangeSet
from photoseek.gui.context import AppContext, LibraryEvents, ModelState
from photoseek.gui.mainwindow import MainWindow
from photoseek.gui.settings import AppSettings
from photoseek.gui.views.duplicates import DuplicatesDialog
from photoseek.paths import resolve_paths
from tests.conftest import make_photos, run_index, tiny_library
from tests.gui.mainwindow_fakes import AnsweringPrompts, StubPane, fake_tray_factory

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the freedesktop trash under a temporary HOME"
)

WAIT = 120_000
OFF = 1.01  # the embedding test off: with random weights only the pHash and copies count


@pytest.fixture
def trash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system trash of a temporary home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    return home / ".local" / "share" / "Trash"


@pytest.fixture
def pics(tmp_path: Path) -> Path:
    """Two groups: photo 0 and its byte copy; photo 3, a smaller JPEG of it and a PNG of it."""
    folder = tmp_path / "pics"
    make_photos(folder, 5)
    shutil.copy(folder / "photo_00000.jpg", folder / "copy 0.jpg")
    made = (folder / "photo_00000.jpg").stat().st_mtime_ns
    os.utime(folder / "copy 0.jpg", ns=(made + 10**10, made + 10**10))  # the copy came later
    with Image.open(folder / "photo_00003.jpg") as photo:
        photo.resize((80, 60)).save(folder / "small 3.jpg", quality=60)
        photo.save(folder / "photo_00003.png")
    return folder


@pytest.fixture
def dup_context(qapp, tmp_path: Path, pics: Path, trash: Path) -> Iterator[AppContext]:  # type: ignore[no-untyped-def]
    library = tiny_library(tmp_path / "data")
    library.add_folder(pics)
    run_index(library)
    paths = resolve_paths(library.paths.data_dir)
    model = ModelState()
    yield AppContext(paths, library, AppSettings(paths), model, LibraryEvents())
    library.close()


@pytest.fixture
def dialog(qtbot, dup_context: AppContext) -> Iterator[DuplicatesDialog]:  # type: ignore[no-untyped-def]
    view = DuplicatesDialog(dup_context, threshold=OFF)
    qtbot.addWidget(view)
    view.show()
    with qtbot.waitSignal(view.search.finished, timeout=WAIT):
        view.find_groups()
    yield view
    view.shutdown()


def _names(view: DuplicatesDialog) -> list[str]:
    return [card.photo.path.name for card in view.strip.cards]


def test_groups_are_found_off_the_gui_thread_and_shown_side_by_side(
    qtbot, dup_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    threads: list[threading.Thread] = []
    real = Library.duplicates

    def recording(self: Library, *args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread())
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Library, "duplicates", recording)
    view = DuplicatesDialog(dup_context, threshold=OFF)
    qtbot.addWidget(view)
    view.show()
    with qtbot.waitSignal(view.search.finished, timeout=WAIT):
        view.find_groups()
    try:
        assert threads and threads[0] is not threading.main_thread()
        assert view.list.count() == 2 and view.list.currentRow() == 0
        assert view.summary.text().startswith("2 groups of near-duplicates among 8 photos")
        assert _names(view) == ["photo_00003.jpg", "photo_00003.png", "small 3.jpg"]
        first = view.strip.cards[0]
        assert first.photo.keep and first.badge.text().startswith("Suggested")
        assert first.keep_button.isDefault()  # Enter keeps the suggestion
        assert not view.strip.cards[1].badge.text()
        assert "pHash 0/64" in view.strip.cards[1].why.text()
        qtbot.waitUntil(
            lambda: all(card.image.source() is not None for card in view.strip.cards),
            timeout=WAIT,
        )
        view.list.setCurrentRow(1)
        assert _names(view) == ["photo_00000.jpg", "copy 0.jpg"]  # the same size: the older
        assert view.strip.cards[1].why.text() == "same content as photo_00000.jpg"
    finally:
        view.shutdown()


def test_keep_this_one_trashes_the_others_and_undo_puts_them_back(
    qtbot, dialog: DuplicatesDialog, pics: Path, trash: Path
) -> None:  # type: ignore[no-untyped-def]
    suggested, *others = dialog.strip.cards
    other_ids = [card.photo.id for card in others]
    with qtbot.waitSignal(dialog.trashed, timeout=WAIT) as trashed:
        suggested.keep_button.click()
    changes = trashed.args[0]
    assert isinstance(changes, ChangeSet) and sorted(changes.removed) == sorted(other_ids)
    assert (pics / "photo_00003.jpg").exists()
    for name in ("photo_00003.png", "small 3.jpg"):
        assert not (pics / name).exists()
        assert (trash / "files" / name).exists()  # in the trash, not deleted
        assert (trash / "info" / f"{name}.trashinfo").exists()
    assert dialog.list.count() == 1 and "Moved 2 photos to the trash." in dialog.message.text()
    assert dialog.undo_button.isEnabled()
    with qtbot.waitSignal(dialog.restored, timeout=WAIT) as restored:
        dialog.undo_button.click()
    assert sorted(restored.args[0]) == sorted(other_ids)
    for name in ("photo_00003.png", "small 3.jpg"):
        assert (pics / name).exists()
        assert not (trash / "files" / name).exists()
        assert not (trash / "info" / f"{name}.trashinfo").exists()
    assert dialog.list.count() == 2 and dialog.list.currentRow() == 0
    assert _names(dialog) == ["photo_00003.jpg", "photo_00003.png", "small 3.jpg"]
    assert not dialog.undo_button.isEnabled()


def test_keeping_another_photo_trashes_the_suggestion(
    qtbot, dialog: DuplicatesDialog, pics: Path, trash: Path
) -> None:  # type: ignore[no-untyped-def]
    small = next(card for card in dialog.strip.cards if card.photo.path.name == "small 3.jpg")
    with qtbot.waitSignal(dialog.trashed, timeout=WAIT):
        small.keep_button.click()
    assert (pics / "small 3.jpg").exists()
    assert (trash / "files" / "photo_00003.jpg").exists()
    assert not (pics / "photo_00003.jpg").exists()


def test_undo_never_overwrites_a_file_that_came_back(
    qtbot, dialog: DuplicatesDialog, pics: Path, trash: Path
) -> None:  # type: ignore[no-untyped-def]
    names = {card.photo.id: card.photo.path.name for card in dialog.strip.cards}
    with qtbot.waitSignal(dialog.trashed, timeout=WAIT):
        dialog.strip.cards[0].keep_button.click()
    (pics / "small 3.jpg").write_bytes(b"a new file of that name")
    with qtbot.waitSignal(dialog.restored, timeout=WAIT) as restored:
        dialog.undo()
    assert [names[i] for i in restored.args[0]] == ["photo_00003.png"]
    assert (pics / "small 3.jpg").read_bytes() == b"a new file of that name"
    assert (trash / "files" / "small 3.jpg").exists()  # still in the trash, untouched
    assert "stayed in the trash" in dialog.message.text()
    assert dialog.undo_button.isEnabled()  # what stayed can be tried again


def test_the_desktop_trash_says_where_the_file_went(trash: Path, pics: Path) -> None:
    from photoseek.gui.desktop import Desktop

    where = Desktop().move_to_trash(pics / "photo_00001.jpg")
    assert where == trash / "files" / "photo_00001.jpg" and where.is_file()
    shutil.copy(where, pics / "photo_00001.jpg")
    second = Desktop().move_to_trash(pics / "photo_00001.jpg")  # the name is taken there now
    assert second.parent == trash / "files" and second != where and second.is_file()


def test_the_library_menu_opens_the_review_and_trashing_updates_the_pane(
    qtbot, dup_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(DuplicatesDialog, "find_groups", lambda self: None)  # not needed here
    window = MainWindow(
        dup_context,
        None,
        pane_factory=StubPane,
        tray_factory=fake_tray_factory([]),
        prompts=AnsweringPrompts(),
    )
    qtbot.addWidget(window)
    try:
        library_menu = next(
            a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Library"
        )
        assert isinstance(library_menu, QMenu)
        assert window.duplicates_action in library_menu.actions()
        window.duplicates_action.trigger()
        view = window.open_duplicates()
        assert view.isVisible() and window.open_duplicates() is view  # one review window
        view.trashed.emit(ChangeSet(7, removed=[1, 2]))
        assert window.pane.changes[-1].removed == [1, 2]
        view.restored.emit([1, 2])
        assert window.pane.refreshed == 1
    finally:
        window.shutdown()
