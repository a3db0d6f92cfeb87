"""Photo actions on a multi-selection: copy, export, trash, drag, open, reveal, shortcuts."""

from __future__ import annotations

import os
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QObject, Qt, QUrl, Slot
from PySide6.QtDBus import QDBusConnection
from PySide6.QtGui import QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu

from photoseek.gui.actions import export_files
from photoseek.gui.desktop import Desktop, file_url, move_to_home_trash, path_text
from photoseek.gui.views.searchpane import SearchPane
from tests.conftest import make_photo


def select_rows(pane: SearchPane, rows: list[int]) -> list[Path]:
    pane.grid.setCurrentIndex(pane.results.index(rows[0]))  # a click: only this one
    selection = pane.grid.selectionModel()
    for row in rows[1:]:  # Ctrl+clicks
        selection.select(pane.results.index(row), QItemSelectionModel.SelectionFlag.Select)
    return [pane.results.row_at(r).record.path for r in sorted(rows)]


def uri_paths(data: bytes) -> list[bytes]:
    return [urllib.parse.unquote_to_bytes(u.removeprefix(b"file://")) for u in data.split()]


def test_copy_paths_puts_one_per_line(qtbot, pane: SearchPane) -> None:
    paths = select_rows(pane, [1, 3, 4])
    pane.grid.setFocus()
    qtbot.keyClick(
        pane.grid,
        Qt.Key.Key_C,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.text() == "\n".join(str(p) for p in paths)
    assert uri_paths(bytes(mime.data("text/uri-list").data())) == [os.fsencode(p) for p in paths]


def test_copy_image_decodes_the_photo(qtbot, pane: SearchPane) -> None:
    select_rows(pane, [2])
    QGuiApplication.clipboard().clear()
    pane.grid.setFocus()
    qtbot.keyClick(pane.grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not QGuiApplication.clipboard().image().isNull(), timeout=60000)
    image = QGuiApplication.clipboard().image()
    assert (image.width(), image.height()) == (160, 120)


def test_export_numbers_name_clashes_and_never_overwrites(
    qtbot, pane: SearchPane, answers, tmp_path: Path
) -> None:
    paths = select_rows(pane, [0, 1])
    target = tmp_path / "export"
    target.mkdir()
    clash = target / paths[0].name
    clash.write_bytes(b"the user's own file")
    answers.folder = target
    messages: list[str] = []
    pane.status_message.connect(messages.append)
    pane.photo_actions().export.trigger()
    qtbot.waitUntil(lambda: any(m.startswith("Exported") for m in messages), timeout=60000)
    assert clash.read_bytes() == b"the user's own file"
    renamed = target / f"{paths[0].stem} (2){paths[0].suffix}"
    assert renamed.read_bytes() == paths[0].read_bytes()
    assert (target / paths[1].name).read_bytes() == paths[1].read_bytes()
    assert messages[-1] == f"Exported 2 photos to {target}."


def test_export_reports_what_it_could_not_copy(tmp_path: Path) -> None:
    source = make_photo(tmp_path / "a.jpg", seed=1)
    report = export_files([source, tmp_path / "gone.jpg"], tmp_path / "out")
    assert report.copied == [] and len(report.failed) == 2  # no such folder: nothing written
    (tmp_path / "out").mkdir()
    report = export_files([source, tmp_path / "gone.jpg"], tmp_path / "out")
    assert report.copied == [tmp_path / "out" / "a.jpg"]
    assert [p for p, _ in report.failed] == [tmp_path / "gone.jpg"]


def test_trash_asks_first_and_uses_the_trash(
    qtbot, pane: SearchPane, answers, fake_desktop
) -> None:
    paths = select_rows(pane, [4, 6])
    answers.confirm_answer = False
    pane.grid.setFocus()
    qtbot.keyClick(pane.grid, Qt.Key.Key_Delete)
    assert answers.questions == [
        "Move 2 photos to the trash?\nYou can restore the files from the trash."
    ]
    assert fake_desktop.trashed == [] and all(p.exists() for p in paths)

    answers.confirm_answer = True
    qtbot.keyClick(pane.grid, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: pane.results.rowCount() == 22, timeout=60000)
    assert fake_desktop.trashed == paths
    assert all((fake_desktop.trash_dir / p.name).exists() and not p.exists() for p in paths)


def test_a_file_that_cannot_be_trashed_stays(
    qtbot, pane: SearchPane, answers, fake_desktop
) -> None:
    paths = select_rows(pane, [0, 1])
    fake_desktop.refuse = {paths[0]}
    messages: list[str] = []
    pane.status_message.connect(messages.append)
    pane.photo_actions().trash.trigger()
    qtbot.waitUntil(lambda: any("trash" in m for m in messages), timeout=60000)
    assert "Moved 1 photo to the trash. 1 stayed" in messages[-1]
    assert pane.results.rowCount() == 23 and paths[0].exists()


def test_the_drag_carries_the_selected_files(pane: SearchPane) -> None:
    paths = select_rows(pane, [0, 2, 5])
    indexes = pane.grid.selectionModel().selectedIndexes()
    mime = pane.results.mimeData(indexes)
    assert uri_paths(bytes(mime.data("text/uri-list").data())) == [os.fsencode(p) for p in paths]
    assert pane.grid.dragEnabled()
    assert pane.results.supportedDragActions() == Qt.DropAction.CopyAction


def test_open_and_reveal_go_through_the_desktop(qtbot, pane: SearchPane, fake_desktop) -> None:
    paths = select_rows(pane, [3, 7])
    pane.grid.setFocus()
    qtbot.keyClick(pane.grid, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert fake_desktop.opened == paths
    pane.photo_actions().reveal.trigger()
    assert fake_desktop.revealed == [paths]


def test_offline_photos_are_not_opened(pane: SearchPane, fake_desktop) -> None:
    row = pane.results.row_at(0)
    pane.results.update_records([replace(row.record, folder_available=False)])
    select_rows(pane, [0])
    messages: list[str] = []
    pane.status_message.connect(messages.append)
    pane.photo_actions().open_external.trigger()
    assert fake_desktop.opened == []
    assert messages == ["The disk of the selected photos is not connected."]


def test_every_action_has_a_shortcut_and_a_place_in_the_menu(pane: SearchPane) -> None:
    actions = pane.photo_actions()
    for action in [*actions.actions(), *actions.view_actions()]:
        assert action.shortcuts() or action is actions.view, action.text()
    std = QKeySequence.StandardKey
    assert actions.copy_image.shortcuts() == QKeySequence.keyBindings(std.Copy)
    assert actions.open_external.shortcuts() == QKeySequence.keyBindings(std.Open)
    assert actions.find.shortcuts() == QKeySequence.keyBindings(std.Find)
    menu = QMenu()
    actions.populate_menu(menu)
    assert set(actions.photo_actions()) <= set(menu.actions())
    select_rows(pane, [0])
    assert all(a.isEnabled() for a in actions.photo_actions())
    pane.grid.selectionModel().clearSelection()
    assert not any(a.isEnabled() for a in actions.photo_actions())


def test_names_that_are_not_text_still_name_the_file(tmp_path: Path) -> None:
    odd = make_photo(tmp_path / os.fsdecode(b"caf\xe9.jpg"), seed=3)
    assert path_text(odd) == f"$'{tmp_path}/caf\\xe9.jpg'"  # pasted into a shell: the file
    trash = tmp_path / "Trash"
    moved = move_to_home_trash(odd, trash)
    assert not odd.exists() and moved == trash / "files" / odd.name
    info = (trash / "info" / f"{odd.name}.trashinfo").read_bytes()
    assert b"Path=" + urllib.parse.quote_from_bytes(os.fsencode(odd)).encode() in info
    again = make_photo(tmp_path / os.fsdecode(b"caf\xe9.jpg"), seed=4)
    assert move_to_home_trash(again, trash).name == os.fsdecode(b"caf\xe9.2.jpg")


class UrlCatcher(QObject):
    """Takes the place of the desktop's handler of file:// URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[bytes] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(bytes(url.toEncoded().data()))


@pytest.fixture
def url_catcher(qapp) -> Iterator[UrlCatcher]:  # type: ignore[no-untyped-def]
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    yield catcher
    QDesktopServices.unsetUrlHandler("file")


def test_the_desktop_opens_files_by_their_exact_url(tmp_path: Path, url_catcher) -> None:
    odd = make_photo(tmp_path / os.fsdecode(b"caf\xe9 1.jpg"), seed=5)
    assert Desktop().open_file(odd)
    assert url_catcher.urls == [b"file://" + urllib.parse.quote(os.fsencode(odd)).encode()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the freedesktop fallback")
def test_reveal_without_a_file_manager_opens_the_folder(tmp_path: Path, url_catcher) -> None:
    if QDBusConnection.sessionBus().isConnected():
        pytest.skip("a session bus is running: a real file manager would answer")
    photo = make_photo(tmp_path / "shown.jpg", seed=6)
    Desktop().reveal([photo])
    assert url_catcher.urls == [bytes(file_url(tmp_path).toEncoded().data())]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the freedesktop trash")
def test_the_desktop_trash_keeps_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    plain = make_photo(tmp_path / "plain.jpg", seed=7)
    odd = make_photo(tmp_path / os.fsdecode(b"caf\xe9.jpg"), seed=8)
    desktop = Desktop()
    desktop.move_to_trash(plain)  # Qt's own trash
    desktop.move_to_trash(odd)  # a name Qt cannot carry: by its bytes
    files = tmp_path / "xdg" / "Trash" / "files"
    assert not plain.exists() and (files / "plain.jpg").exists()
    assert not odd.exists() and (files / odd.name).exists()
    with pytest.raises(OSError):
        desktop.move_to_trash(tmp_path / "gone.jpg")


def test_the_context_menu_offers_every_action(qtbot, pane: SearchPane) -> None:
    rect = pane.grid.visualRect(pane.results.index(2))
    pane.grid.customContextMenuRequested.emit(rect.center())  # a right click on a photo
    menu = pane.context_menu
    qtbot.waitUntil(menu.isVisible, timeout=60000)
    assert pane.grid.currentIndex().row() == 2 and pane.grid.selected_rows() == [2]
    entries = [a for a in menu.actions() if not a.isSeparator()]
    assert entries == pane.photo_actions().photo_actions()
    assert all(a.isEnabled() for a in menu.actions())
    menu.hide()
