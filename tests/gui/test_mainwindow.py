"""The main window: parts, menus and shortcuts, drops, notices, the model's first load."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from photoseek.core.library import Library
from photoseek.core.model.embedder import ModelSettings
from photoseek.core.records import ChangeSet
from photoseek.core.watch.service import ServiceOptions
from photoseek.gui.context import AppContext, LibraryEvents, ModelState
from photoseek.gui.mainwindow import MainWindow
from photoseek.gui.settings import AppSettings
from photoseek.gui.workers.appworkers import AppWorkers
from photoseek.gui.workers.background import READER, WRITER
from photoseek.paths import resolve_paths
from tests.conftest import TINY_MODEL, make_photos, tiny_library
from tests.gui.mainwindow_fakes import AnsweringPrompts, FakeTray, StubPane, fake_tray_factory

WAIT = 120000
FAST = ServiceOptions(stable_s=0.5, folder_check_s=0.5, tick_s=0.1, reconcile_interval_s=3600)

MakeWindow = Callable[..., MainWindow]


@pytest.fixture
def trays() -> list[FakeTray]:
    return []


@pytest.fixture
def prompts() -> AnsweringPrompts:
    return AnsweringPrompts()


@pytest.fixture
def make_window(
    qtbot, context: AppContext, trays: list[FakeTray], prompts: AnsweringPrompts
) -> Iterator[MakeWindow]:  # type: ignore[no-untyped-def]
    """Windows made by a test; shut down before ``context``'s library closes."""
    made: list[tuple[MainWindow, AppWorkers | None]] = []

    def make(
        context: AppContext, workers: AppWorkers | None = None, **options: object
    ) -> MainWindow:
        options.setdefault("pane_factory", StubPane)
        options.setdefault("tray_factory", fake_tray_factory(trays))
        window = MainWindow(context, workers, prompts=prompts, **options)  # type: ignore[arg-type]
        qtbot.addWidget(window)
        window.show()
        made.append((window, workers))
        return window

    yield make
    for window, workers in made:
        window.shutdown()
        if workers is not None:
            assert workers.shutdown(timeout_s=60)


def _workers(context: AppContext) -> AppWorkers:
    return AppWorkers(context, service_options=FAST, follow_interval_s=0.3)


def _menu(window: MainWindow, title: str) -> QMenu:
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == title:
            menu = action.menu()
            assert isinstance(menu, QMenu)
            return menu
    raise AssertionError(f"no {title} menu")


def _texts(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def _loaded(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.panel.folders_loaded, timeout=WAIT):
        window.panel.refresh()


def test_menus_hold_the_actions_with_the_platform_shortcuts(
    make_window: MakeWindow, context: AppContext
) -> None:
    window = make_window(context)
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Edit", "Photo", "View", "Library", "Help"]
    assert _texts(_menu(window, "File")) == [
        "Add Folder…",
        "Save Search as Album…",
        "Settings…",
        "Close Window",
        "Quit photoseek",
    ]
    quit_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) or [QKeySequence("Ctrl+Q")]
    assert window.quit_action.shortcuts() == quit_keys
    assert window.quit_action.menuRole() == window.quit_action.MenuRole.QuitRole
    assert _texts(_menu(window, "Edit")) == ["Copy Image", "Find…"]  # the pane's copy goes here
    assert _texts(_menu(window, "Photo")) == ["Show in Folder"]
    assert "Show Preview" in _texts(_menu(window, "View"))
    assert _texts(_menu(window, "Library"))[:4] == [
        "Pause Indexing",
        "Rescan Folders",
        "Try Problem Files Again",
        "Go to Folders",
    ]
    assert window.folders_action.shortcut() == QKeySequence("Ctrl+L")
    find_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Find)
    assert window.find_action.shortcuts() == find_keys


def test_ctrl_f_focuses_the_search_and_ctrl_l_the_folders(
    qtbot, make_window: MakeWindow, context: AppContext
) -> None:  # type: ignore[no-untyped-def]
    window = make_window(context)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.pane.focused == 1
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.panel.view.hasFocus, timeout=WAIT)


def test_selecting_a_folder_shows_it_in_the_pane(
    qtbot, make_window: MakeWindow, context: AppContext, photos_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    window = make_window(context)
    _loaded(qtbot, window)
    assert window.content.currentWidget() is window.pane
    window.panel.select_folder(photos_dir.resolve())
    window.panel.select_folder(None)
    assert window.pane.folders[-2:] == [photos_dir.resolve(), None]


def test_the_pane_and_the_library_events_reach_each_other(
    make_window: MakeWindow, context: AppContext
) -> None:
    window = make_window(context)
    changes = ChangeSet(version=7, new=[1])
    context.events.changed.emit(changes)
    assert window.pane.changes == [changes]
    window.pane.count_changed.emit("24 photos")
    assert window.status.count.text() == "24 photos"
    window.pane.status_message.emit("copied 2 paths")
    assert window.status.message.full_text() == "copied 2 paths"
    context.events.message.emit("added “x”")
    assert window.status.message.full_text() == "added “x”"


def test_an_empty_library_says_what_to_do_and_a_folder_makes_it_a_library(
    qtbot, make_window: MakeWindow, tmp_path: Path, prompts: AnsweringPrompts
) -> None:  # type: ignore[no-untyped-def]
    library = tiny_library(tmp_path / "empty-data")
    paths = resolve_paths(tmp_path / "empty-data")
    context = AppContext(paths, library, AppSettings(paths), ModelState(), LibraryEvents())
    try:
        window = make_window(context)
        _loaded(qtbot, window)
        assert window.content.currentWidget() is window.empty
        assert window.empty.button.text() == "Add a Folder…"
        make_photos(tmp_path / "new", 2)
        prompts.folder = tmp_path / "new"
        qtbot.mouseClick(window.empty.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.content.currentWidget() is window.pane, timeout=WAIT)
    finally:
        window.shutdown()
        library.close()


def test_dropping_a_folder_adds_it_and_an_image_searches_by_it(
    qtbot, make_window: MakeWindow, context: AppContext, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    window = make_window(context)
    make_photos(tmp_path / "dropped", 1)
    image = make_photos(tmp_path / "elsewhere", 1)[0]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "dropped"))])
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(drop)
    qtbot.waitUntil(
        lambda: (tmp_path / "dropped").resolve() in [f.path for f in context.library.folders()],
        timeout=WAIT,
    )
    window.drop_paths([image])
    assert window.pane.images == [image]


def test_a_vanished_folder_gets_a_notice_that_offers_to_relocate(
    qtbot,
    make_window: MakeWindow,
    context: AppContext,
    photos_dir: Path,
    tmp_path: Path,
    prompts: AnsweringPrompts,
) -> None:  # type: ignore[no-untyped-def]
    window = make_window(context)
    moved = tmp_path / "elsewhere" / "photos"
    moved.parent.mkdir()
    shutil.move(photos_dir, moved)
    context.library.scan()
    _loaded(qtbot, window)
    key = f"missing:{photos_dir.resolve()}"
    notice = window.notices.notice(key)
    assert notice is not None and "unavailable" in notice.text and notice.button is not None
    prompts.new_location = moved
    notice.button.click()
    qtbot.waitUntil(lambda: window.notices.notice(key) is None, timeout=WAIT)
    assert [f.path for f in context.library.folders()] == [moved.resolve()]


def test_a_worker_error_is_a_notice_and_the_app_keeps_running(
    make_window: MakeWindow, context: AppContext
) -> None:
    workers = _workers(context)
    window = make_window(context, workers)
    workers.background.error.emit("cannot write the catalog: the disk is full")
    assert window.notices.texts() == ["cannot write the catalog: the disk is full"]
    assert window.isVisible()


def test_view_menu_thumbnail_size_preview_and_full_screen(
    make_window: MakeWindow, context: AppContext
) -> None:
    window = make_window(context)
    window.size_actions[256].trigger()
    assert window.pane.thumbnail_sizes[-1] == 256 and context.settings.thumbnail_size == 256
    window.larger_action.trigger()
    assert window.pane.thumbnail_sizes[-1] == 320
    window.larger_action.trigger()
    assert window.pane.thumbnail_sizes[-1] == 320  # the largest stays
    window.preview_action.trigger()
    assert window.pane.previews == [False] and not context.settings.preview_visible
    window.full_screen_action.trigger()
    assert window.isFullScreen()
    window.full_screen_action.trigger()
    assert not window.isFullScreen()


def test_window_geometry_and_splitter_are_restored(
    qtbot, make_window: MakeWindow, context: AppContext
) -> None:  # type: ignore[no-untyped-def]
    window = make_window(context)
    window.resize(700, 500)  # the offscreen screen is 800 x 600
    window.splitter.setSizes([260, 440])
    panel_width = window.splitter.sizes()[0]
    window.save_state()
    again = make_window(context)
    assert again.splitter.sizes()[0] == panel_width  # the panel keeps its width
    assert (again.width(), again.height()) == (700, 500)


def test_pause_from_the_library_menu_pauses_the_worker(
    qtbot, make_window: MakeWindow, context: AppContext
) -> None:  # type: ignore[no-untyped-def]
    workers = _workers(context)
    window = make_window(context, workers)
    workers.start(load_model=False)
    qtbot.waitUntil(lambda: workers.background.state == "watching", timeout=WAIT)
    window.pause_action.trigger()
    assert workers.background.paused and window.pause_action.text() == "Resume Indexing"
    qtbot.waitUntil(lambda: window.status.activity_text() == "indexing paused", timeout=WAIT)
    window.pause_action.trigger()
    assert not workers.background.paused


def _checkpoint(tmp_path: Path) -> Path:
    import torch

    from photoseek.core.model.embedder import load_embedder
    from tests.conftest import tiny_settings

    model = load_embedder(tiny_settings(), tmp_path / "m")._model
    checkpoint = tmp_path / "weights.pt"
    torch.save(model.state_dict(), checkpoint)
    return checkpoint


def test_no_weights_shows_the_message_and_a_local_checkpoint_loads_the_model(
    qtbot, make_window: MakeWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    paths = resolve_paths(tmp_path / "data")
    missing = tmp_path / "nowhere" / "weights.safetensors"
    library = Library(paths, ModelSettings(str(TINY_MODEL), str(missing), "cpu"))
    context = AppContext(paths, library, AppSettings(paths), ModelState(), LibraryEvents())
    workers = _workers(context)
    checkpoint = _checkpoint(tmp_path)
    window = make_window(context, workers, checkpoint_chooser=lambda parent: checkpoint)
    try:
        with qtbot.waitSignal(context.model.failed, timeout=WAIT) as failed:
            workers.model_loader.start()
        notice = window.notices.notice("model")
        assert notice is not None and notice.text == failed.args[0] and "\n" not in notice.text
        assert notice.button is not None and window.status.model.text() == "model not loaded"
        with qtbot.waitSignal(context.model.ready, timeout=WAIT):
            notice.button.click()
        assert window.notices.notice("model") is None and context.model.is_ready
        assert context.settings.model("a", "b", "c")[1] == str(checkpoint)  # from now on
    finally:
        window.shutdown()
        assert workers.shutdown(timeout_s=60)
        library.close()


def test_another_writer_is_announced_and_the_app_writes_when_it_ends(
    qtbot, make_window: MakeWindow, context: AppContext
) -> None:  # type: ignore[no-untyped-def]
    holder = (
        "import sys\n"
        "from pathlib import Path\n"
        "from photoseek.core.writerlock import WriterLock\n"
        "lock = WriterLock(Path(sys.argv[1]))\n"
        "lock.acquire('indexing')\n"
        "print('held', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", holder, str(context.library.paths.lock_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        workers = _workers(context)
        window = make_window(context, workers)
        workers.start(load_model=False)
        qtbot.waitUntil(lambda: workers.background.role == READER, timeout=WAIT)
        notice = window.notices.notice("writer")
        assert notice is not None and f"pid {other.pid}, indexing" in notice.text
        assert not window.pause_action.isEnabled() and not window.rescan_action.isEnabled()
        other.communicate("\n", timeout=60)
        qtbot.waitUntil(lambda: workers.background.role == WRITER, timeout=WAIT)
        assert window.notices.notice("writer") is None and window.pause_action.isEnabled()
    finally:
        if other.poll() is None:
            other.kill()


def _live_shortcuts(window: MainWindow) -> dict[str, set[str]]:
    """Every shortcut the window's widgets and menus listen to, with the actions' names."""
    found: dict[str, set[str]] = {}
    widgets = [window, *window.findChildren(QWidget)]
    actions = {id(a): a for w in widgets for a in w.actions() if not a.isSeparator()}
    for action in actions.values():
        for key in action.shortcuts():
            if not key.isEmpty():
                found.setdefault(key.toString(), set()).add(action.text())
    return found


def _no_ambiguous_shortcuts(window: MainWindow) -> None:
    clashes = {key: names for key, names in _live_shortcuts(window).items() if len(names) > 1}
    assert clashes == {}


def test_no_two_actions_share_a_shortcut(make_window: MakeWindow, context: AppContext) -> None:
    _no_ambiguous_shortcuts(make_window(context))


@pytest.mark.skipif(
    importlib.util.find_spec("photoseek.gui.views.searchpane") is None,
    reason="the search pane (photoseek/gui/views/searchpane.py) is not there yet",
)
def test_the_real_search_pane_in_the_window(
    qtbot, make_window: MakeWindow, context: AppContext, photos_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from photoseek.gui.mainwindow import search_pane

    window = make_window(context, pane_factory=search_pane)
    _loaded(qtbot, window)
    assert window.content.currentWidget() is window.pane
    _no_ambiguous_shortcuts(window)
    edit, photo = _texts(_menu(window, "Edit")), _texts(_menu(window, "Photo"))
    assert "Copy Image" in edit and "Select All" in edit and "Find…" in edit
    assert "Show in Folder" in photo and "Copy Image" not in photo
    window.panel.select_folder(photos_dir.resolve())
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT)
    window.find_action.trigger()
    qtbot.waitUntil(lambda: window.pane.isAncestorOf(QApplication.focusWidget()), timeout=WAIT)
    window.size_actions[128].trigger()
    assert context.settings.thumbnail_size == 128
    window.preview_action.setChecked(False)
    assert not context.settings.preview_visible


def test_a_library_it_can_only_read_is_shown_and_says_so(
    qtbot, make_window: MakeWindow, context: AppContext
) -> None:  # type: ignore[no-untyped-def]
    paths = context.paths
    reader = Library(paths, context.library.settings, read_only=True)
    read_only = AppContext(paths, reader, context.settings, ModelState(), LibraryEvents())
    workers = _workers(read_only)
    try:
        window = make_window(read_only, workers)
        workers.start(load_model=False)
        notice = window.notices.notice("read-only")
        assert notice is not None and "can only read" in notice.text
        assert not window.add_folder_action.isEnabled() and not window.retry_action.isEnabled()
        qtbot.waitUntil(lambda: workers.background.role == READER, timeout=WAIT)
        _loaded(qtbot, window)
        assert window.panel.model.rowCount() == 2  # its folders are there to browse
    finally:
        window.shutdown()
        assert workers.shutdown(timeout_s=60)
        reader.close()
