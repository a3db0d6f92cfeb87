"""Non-modal messages: one sentence, maybe a button, a close box; never twice."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from photoseek.gui.views.notices import WARNING, NoticeBar


def _shown_bar(qtbot) -> NoticeBar:  # type: ignore[no-untyped-def]
    window = QWidget()
    qtbot.addWidget(window)
    bar = NoticeBar(window)
    QVBoxLayout(window).addWidget(bar)
    window.show()
    bar.window_keeper = window  # type: ignore[attr-defined]  # qtbot holds widgets weakly
    return bar


def test_notices_stack_replace_by_key_and_dismiss(qtbot) -> None:  # type: ignore[no-untyped-def]
    bar = _shown_bar(qtbot)
    assert not bar.isVisible()
    bar.show_notice("the disk is full")
    bar.show_notice("the disk is full")  # the same sentence: shown once
    bar.show_notice("“Pictures” is unavailable", key="missing", level=WARNING)
    assert bar.texts() == ["the disk is full", "“Pictures” is unavailable"] and bar.isVisible()
    bar.show_notice("“Pictures” is unavailable (unplugged)", key="missing")
    assert bar.texts() == ["the disk is full", "“Pictures” is unavailable (unplugged)"]
    bar.dismiss("missing")
    bar.dismiss("nothing there")
    assert bar.texts() == ["the disk is full"]


def test_the_button_and_the_close_box(qtbot) -> None:  # type: ignore[no-untyped-def]
    bar = _shown_bar(qtbot)
    clicked: list[bool] = []
    notice = bar.show_notice(
        "no weights", key="model", action=("Use a File…", lambda: clicked.append(True))
    )
    assert notice.button is not None and notice.button.accessibleName() == "Use a File…"
    qtbot.mouseClick(notice.button, Qt.MouseButton.LeftButton)
    assert clicked == [True]
    close = [
        b for b in notice.findChildren(type(notice.button).__mro__[1]) if b is not notice.button
    ]
    assert close and close[0].accessibleName() == "Dismiss this message"
    qtbot.mouseClick(close[0], Qt.MouseButton.LeftButton)
    assert bar.texts() == [] and not bar.isVisible()


def test_a_notice_retints_when_the_app_palette_changes(qtbot, qapp) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QColor, QPalette

    from photoseek.gui.views.notices import Notice

    before = QPalette(qapp.palette())
    notice = Notice("a message", level="warning")
    qtbot.addWidget(notice)
    tinted = notice.palette().color(QPalette.ColorRole.Window)
    dark = QPalette(before)
    dark.setColor(QPalette.ColorRole.Window, QColor(20, 20, 20))
    try:
        qapp.setPalette(dark)
        qtbot.waitUntil(lambda: notice.palette().color(QPalette.ColorRole.Window) != tinted)
        assert notice.palette().color(QPalette.ColorRole.Window).red() < tinted.red()
    finally:
        qapp.setPalette(before)
