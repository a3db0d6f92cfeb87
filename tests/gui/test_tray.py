"""Closing: to the tray (indexing goes on, said once) or, without a tray, quitting."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QSystemTrayIcon

from photoseek.core.watch.service import ServiceOptions
from photoseek.gui.context import AppContext
from photoseek.gui.mainwindow import TRAY_TITLE, MainWindow
from photoseek.gui.tray import SystemTray, system_tray
from photoseek.gui.workers.appworkers import AppWorkers
from tests.gui.mainwindow_fakes import FakeTray, StubPane, fake_tray_factory, no_tray

WAIT = 120000
FAST = ServiceOptions(stable_s=0.5, folder_check_s=0.5, tick_s=0.1, reconcile_interval_s=3600)


@pytest.fixture
def workers(context: AppContext) -> Iterator[AppWorkers]:
    running = AppWorkers(context, service_options=FAST, follow_interval_s=0.3)
    yield running
    assert running.shutdown(timeout_s=60)


def _window(qtbot, context: AppContext, workers: AppWorkers, tray_factory) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(context, workers, pane_factory=StubPane, tray_factory=tray_factory)
    qtbot.addWidget(window)
    window.show()
    workers.start(load_model=False)
    qtbot.waitUntil(lambda: workers.background.state == "watching", timeout=WAIT)
    return window


def test_closing_hides_to_the_tray_keeps_indexing_and_says_so_once(
    qtbot, context: AppContext, workers: AppWorkers
) -> None:  # type: ignore[no-untyped-def]
    trays: list[FakeTray] = []
    window = _window(qtbot, context, workers, fake_tray_factory(trays))
    tray = trays[0]
    assert tray.visible and tray.pause_action is window.pause_action
    quits: list[bool] = []
    window.quit_requested.connect(lambda: quits.append(True))
    assert context.settings.close_to_tray and not context.settings.close_explained
    window.close()
    assert not window.isVisible() and quits == []
    assert workers.background.running and workers.background.role == "writer"
    assert [title for title, _text in tray.notifications] == [TRAY_TITLE]
    assert "tray" in tray.notifications[0][1]
    assert context.settings.close_explained
    tray.show_requested.emit()
    assert window.isVisible()
    window.close()
    assert len(tray.notifications) == 1  # explained once
    tray.quit_requested.emit()
    assert quits == [True]


def test_without_a_tray_closing_quits(qtbot, context: AppContext, workers: AppWorkers) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, context, workers, no_tray)
    assert window.tray is None
    with qtbot.waitSignal(window.quit_requested, timeout=WAIT):
        window.close()
    assert not window.isVisible()


def test_the_setting_off_closing_quits_and_the_icon_goes(
    qtbot, context: AppContext, workers: AppWorkers
) -> None:  # type: ignore[no-untyped-def]
    context.settings.close_to_tray = False
    trays: list[FakeTray] = []
    window = _window(qtbot, context, workers, fake_tray_factory(trays))
    assert not trays[0].visible
    with qtbot.waitSignal(window.quit_requested, timeout=WAIT):
        window.close()
    assert trays[0].notifications == []


def test_the_tray_tooltip_says_what_indexing_does(
    qtbot, context: AppContext, workers: AppWorkers
) -> None:  # type: ignore[no-untyped-def]
    trays: list[FakeTray] = []
    _window(qtbot, context, workers, fake_tray_factory(trays))
    qtbot.waitUntil(lambda: trays[0].tooltip == "photoseek: up to date", timeout=WAIT)


def test_offscreen_has_no_system_tray_and_the_real_one_has_its_menu(qapp) -> None:  # type: ignore[no-untyped-def]
    pause = QAction("Pause Indexing")
    assert QSystemTrayIcon.isSystemTrayAvailable() is False
    assert system_tray(QIcon(), pause, qapp) is None
    tray = SystemTray(QIcon(), pause)
    texts = [a.text() for a in tray.menu.actions() if not a.isSeparator()]
    assert texts == ["Show photoseek", "Pause Indexing", "Quit photoseek"]
    shown: list[bool] = []
    tray.show_requested.connect(lambda: shown.append(True))
    tray._activated(QSystemTrayIcon.ActivationReason.Trigger)
    tray._activated(QSystemTrayIcon.ActivationReason.Context)
    assert shown == [True]
    tray.set_tooltip("photoseek: indexing")
    assert tray.icon.toolTip() == "photoseek: indexing"
