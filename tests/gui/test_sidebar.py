"""The library panel on a real library: browse, add, remove, exclude, relocate, problems."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from photoseek.gui.context import AppContext
from photoseek.gui.models.folders import DETAIL_ROLE, STATE_ROLE
from photoseek.gui.views.folderdialogs import remove_question
from photoseek.gui.views.sidebar import LibraryPanel
from photoseek.gui.workers.offthread import OffThread
from tests.conftest import make_photos
from tests.gui.mainwindow_fakes import AnsweringPrompts

WAIT = 60000


@pytest.fixture
def prompts() -> AnsweringPrompts:
    return AnsweringPrompts()


@pytest.fixture
def panel(qtbot, context: AppContext, prompts: AnsweringPrompts) -> Iterator[LibraryPanel]:  # type: ignore[no-untyped-def]
    calls = OffThread()
    widget = LibraryPanel(context, calls, prompts)
    qtbot.addWidget(widget)
    widget.show()
    with qtbot.waitSignal(widget.folders_loaded, timeout=WAIT):
        widget.refresh()
    yield widget
    calls.shutdown()


def _details(panel: LibraryPanel) -> list[str]:
    return [panel.model.index(r).data(DETAIL_ROLE) for r in range(panel.model.rowCount())]


def _refreshed(qtbot, panel: LibraryPanel) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(panel.folders_loaded, timeout=WAIT):
        panel.refresh()


def test_all_photos_and_the_folder_with_counts(panel: LibraryPanel, photos_dir: Path) -> None:
    assert panel.model.folder_paths() == [photos_dir.resolve()]
    assert _details(panel) == ["24 photos", "24 photos"]
    assert panel.view.accessibleName() == "Folders"
    assert panel.selected_folder() is None  # "All photos" is selected at first
    assert not panel.remove_action.isEnabled()


def test_selecting_a_row_names_its_folder(qtbot, panel: LibraryPanel, photos_dir: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(panel.folder_selected, timeout=WAIT) as selected:
        panel.view.setCurrentIndex(panel.model.index(1))
    assert selected.args == [photos_dir.resolve()]
    assert panel.remove_action.isEnabled() and panel.relocate_action.isEnabled()
    with qtbot.waitSignal(panel.folder_selected, timeout=WAIT) as everything:
        panel.select_folder(None)
    assert everything.args == [None]


def test_add_a_folder_through_the_prompt(
    qtbot, panel: LibraryPanel, prompts: AnsweringPrompts, tmp_path: Path, context: AppContext
) -> None:  # type: ignore[no-untyped-def]
    new = tmp_path / "holiday"
    make_photos(new, 3, start=500)
    prompts.folder = new
    messages: list[str] = []
    context.events.message.connect(messages.append)
    with qtbot.waitSignal(context.events.folders_changed, timeout=WAIT):
        panel.ask_add_folder()
    qtbot.waitUntil(lambda: new.resolve() in panel.model.folder_paths(), timeout=WAIT)
    assert messages and "holiday" in messages[-1]
    assert new.resolve() in [f.path for f in context.library.folders()]
    qtbot.waitUntil(lambda: panel.selected_folder() == new.resolve(), timeout=WAIT)


def test_adding_what_cannot_be_added_says_why(qtbot, panel: LibraryPanel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(panel.error, timeout=WAIT) as error:
        panel.add_folder(tmp_path / "not-there")
    assert "not a folder" in error.args[0] and "\n" not in error.args[0]


def test_remove_asks_first_and_keeps_the_files(
    qtbot, panel: LibraryPanel, prompts: AnsweringPrompts, photos_dir: Path, context: AppContext
) -> None:  # type: ignore[no-untyped-def]
    panel.select_folder(photos_dir.resolve())
    prompts.remove_answer = False
    panel.ask_remove_folder()
    assert prompts.removal_asked == [(photos_dir.resolve(), 24)]
    assert context.library.folders()  # not answered yes: nothing happens
    prompts.remove_answer = True
    with qtbot.waitSignal(context.events.folders_changed, timeout=WAIT):
        panel.ask_remove_folder()
    qtbot.waitUntil(lambda: panel.model.folder_paths() == [], timeout=WAIT)
    assert context.library.folders() == []
    assert len(list(photos_dir.glob("*.jpg"))) == 24  # the files stay on disk
    question, meaning = remove_question(photos_dir, 24)
    assert "photos" in question and "24 photos" in meaning and "stay on disk" in meaning


def test_exclude_patterns_are_stored_and_ask_for_a_scan(
    qtbot, panel: LibraryPanel, prompts: AnsweringPrompts, photos_dir: Path, context: AppContext
) -> None:  # type: ignore[no-untyped-def]
    panel.select_folder(photos_dir.resolve())
    prompts.excludes = ["photo_0000*", "  ", "drafts/"]
    with qtbot.waitSignal(panel.rescan_requested, timeout=WAIT):
        panel.ask_excludes()
    assert prompts.excludes_shown == [[]]
    assert context.library.folders()[0].excludes == ("photo_0000*", "drafts")
    _refreshed(qtbot, panel)
    panel.select_folder(photos_dir.resolve())
    prompts.excludes = None  # cancelled: nothing changes
    panel.ask_excludes()
    assert prompts.excludes_shown[-1] == ["photo_0000*", "drafts"]
    with qtbot.waitSignal(panel.error, timeout=WAIT) as error:
        panel.set_excludes(photos_dir.resolve(), ["*"])
    assert "everything" in error.args[0]


def test_a_vanished_folder_is_unavailable_with_its_reason_then_relocated(
    qtbot,
    panel: LibraryPanel,
    prompts: AnsweringPrompts,
    photos_dir: Path,
    context: AppContext,
    tmp_path: Path,
) -> None:  # type: ignore[no-untyped-def]
    library = context.library
    ids_before = {p.path.name: p.id for p in library.browse(limit=100).photos}
    moved = tmp_path / "moved" / "photos"
    moved.parent.mkdir()
    shutil.move(photos_dir, moved)
    library.scan()
    with qtbot.waitSignal(panel.folder_unavailable, timeout=WAIT) as missing:
        panel.refresh()
    assert missing.args[0] == photos_dir.resolve() and missing.args[1]
    row = panel.model.row_of(photos_dir.resolve())
    assert panel.model.index(row).data(STATE_ROLE) == "unavailable"
    assert panel.model.index(row).data(DETAIL_ROLE).startswith("unavailable: ")
    panel.select_folder(photos_dir.resolve())
    prompts.new_location = moved
    with qtbot.waitSignal(panel.folder_available, timeout=WAIT):
        panel.ask_relocate()
    assert [f.path for f in library.folders()] == [moved.resolve()]
    ids_after = {p.path.name: p.id for p in library.browse(limit=100).photos}
    assert ids_after == ids_before  # same photos, same ids: nothing re-read
    qtbot.waitUntil(lambda: panel.selected_folder() == moved.resolve(), timeout=WAIT)


def test_problems_are_listed_and_tried_again(
    qtbot, panel: LibraryPanel, photos_dir: Path, context: AppContext
) -> None:  # type: ignore[no-untyped-def]
    (photos_dir / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    for _ in context.library.index():
        pass
    _refreshed(qtbot, panel)
    qtbot.waitUntil(lambda: panel.problems.model.rowCount() == 1, timeout=WAIT)
    assert panel.problems.isVisible() and panel.problems.toggle.text() == "Problems (1)"
    assert _details(panel)[1] == "24 photos · 1 problem"
    qtbot.mouseClick(panel.problems.toggle, Qt.MouseButton.LeftButton)
    assert panel.problems.table.isVisible()
    with qtbot.waitSignal(panel.rescan_requested, timeout=WAIT):
        qtbot.mouseClick(panel.problems.retry, Qt.MouseButton.LeftButton)
    assert context.library.problems() == []
    assert context.library.status().pending == 1


def test_the_panel_refreshes_on_library_events(
    qtbot, panel: LibraryPanel, context: AppContext
) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(panel.folders_loaded, timeout=WAIT):
        context.events.folders_changed.emit()
    with qtbot.waitSignal(panel.folders_loaded, timeout=WAIT):
        context.events.state.emit("watching")  # coalesced into one refresh a second later
