"""The settings window stores each choice at once, under the data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from photoseek.autostart import AutostartError, ServiceSpec
from photoseek.core.library.modelchoice import ModelName
from photoseek.core.model.embedder import DEFAULT_ARCH, DEFAULT_PRETRAINED
from photoseek.gui.context import AppContext
from photoseek.gui.settings import AppSettings
from photoseek.gui.views.settingsdialog import MODEL_CHOICES, SettingsDialog, model_options
from photoseek.gui.workers.appworkers import service_options_for
from photoseek.gui.workers.offthread import OffThread
from photoseek.paths import resolve_paths
from tests.conftest import TINY_MODEL

WAIT = 60000


class FakeAutostart:
    name = "fake"

    def __init__(self, status: str = "not installed", fail: str | None = None) -> None:
        self._status = status
        self.fail = fail
        self.installed: list[ServiceSpec] = []
        self.uninstalled = 0

    def status(self) -> str:
        return self._status

    def install(self, spec: ServiceSpec) -> list[str]:
        if self.fail:
            raise AutostartError(self.fail)
        self.installed.append(spec)
        self._status = "installed, running"
        return ["wrote the entry", "started the watch service"]

    def uninstall(self) -> list[str]:
        self.uninstalled += 1
        self._status = "not installed"
        return ["removed the entry"]

    def files(self, spec: ServiceSpec) -> dict[Path, str]:
        return {}


@pytest.fixture
def calls() -> Iterator[OffThread]:
    pool = OffThread()
    yield pool
    pool.shutdown()


def _dialog(
    qtbot, context: AppContext, calls: OffThread, autostart: FakeAutostart
) -> SettingsDialog:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(context, calls, tray_available=True, autostart=lambda: autostart)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.autostart_box.isEnabled, timeout=WAIT)
    return dialog


def _reread(context: AppContext) -> AppSettings:
    return AppSettings(resolve_paths(context.paths.data_dir))


def test_choices_are_stored_under_the_data_dir(
    qtbot, context: AppContext, calls: OffThread
) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot, context, calls, FakeAutostart())
    assert not dialog.isModal()
    changed: list[str] = []
    dialog.changed.connect(changed.append)
    dialog.device_box.setCurrentIndex(dialog.device_box.findData("auto"))  # tests run "cpu"
    dialog.thumbnail_box.setCurrentIndex(dialog.thumbnail_box.findData(256))
    dialog.tray_box.setChecked(False)
    dialog.battery_box.setChecked(False)
    assert changed == ["device", "thumbnail_size", "close_to_tray", "pause_on_battery"]
    assert (context.paths.data_dir / "settings.ini").is_file()
    stored = _reread(context)
    assert stored.model("a", "b", "c") == ("a", "b", "auto")  # the library keeps its model
    assert stored.thumbnail_size == 256
    assert not stored.close_to_tray and not stored.pause_on_battery
    assert "next time photoseek starts" in dialog.model_note.text()


def test_choosing_a_model_switches_the_library_in_the_background(
    qtbot, context: AppContext, calls: OffThread
) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot, context, calls, FakeAutostart())
    library, panel = context.library, dialog.switch_panel
    qtbot.waitUntil(lambda: "Searches use tiny-clip.json" in panel.text.text(), timeout=WAIT)
    assert not panel.pause_button.isVisible()
    dialog.model_box.setCurrentIndex(dialog.model_index("ViT-L-14", "datacomp_xl_s13b_b90k"))
    target = ModelName("ViT-L-14", "datacomp_xl_s13b_b90k")
    qtbot.waitUntil(lambda: panel.record is not None, timeout=WAIT)
    record = library.model_switch()
    assert record is not None and record.target == target and record.state == "running"
    assert "Switching to ViT-L-14 / datacomp_xl_s13b_b90k" in panel.text.text()
    assert "tiny-clip.json / none answers searches until then" in panel.text.text()
    assert library.chosen_model().arch == str(TINY_MODEL)  # the old model answers meanwhile
    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.pause_button.text() == "Resume", timeout=WAIT)
    assert "is paused" in panel.text.text() and library.model_switch().state == "paused"  # type: ignore[union-attr]
    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.pause_button.text() == "Pause", timeout=WAIT)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.record is None, timeout=WAIT)
    assert library.model_switch() is None
    assert dialog.model_box.currentIndex() == 0  # back on the model that answers
    dialog.model_box.setCurrentIndex(dialog.model_index("ViT-B-32", "datacomp_xl_s13b_b90k"))
    qtbot.waitUntil(lambda: panel.record is not None, timeout=WAIT)
    dialog.model_box.setCurrentIndex(0)  # choosing the running model again cancels the switch
    qtbot.waitUntil(lambda: panel.record is None, timeout=WAIT)
    assert library.model_switch() is None


def test_the_model_list_offers_the_published_choices(
    qtbot, context: AppContext, calls: OffThread
) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot, context, calls, FakeAutostart())
    labels = [dialog.model_box.itemText(i) for i in range(dialog.model_box.count())]
    assert labels[0].endswith("(custom)")  # the tests' tiny model is running
    assert {(c.arch, c.pretrained, c.accuracy) for c in MODEL_CHOICES} >= {
        (DEFAULT_ARCH, DEFAULT_PRETRAINED, 72.8),
        ("ViT-B-32", "datacomp_xl_s13b_b90k", 69.2),
        ("ViT-B-16", "datacomp_xl_s13b_b90k", 73.5),
        ("ViT-L-14", "datacomp_xl_s13b_b90k", 79.2),
    }
    # speed relative to the default from the image towers' GFLOPs: 162.03 / 11.5
    assert any("79.2 %" in label and "14.1x slower: for a GPU" in label for label in labels)


def test_start_at_login_installs_and_removes_the_watch_service(
    qtbot, context: AppContext, calls: OffThread
) -> None:  # type: ignore[no-untyped-def]
    autostart = FakeAutostart()
    dialog = _dialog(qtbot, context, calls, autostart)
    assert not dialog.autostart_box.isChecked() and "not installed" in dialog.autostart_note.text()
    dialog.autostart_box.setChecked(True)
    qtbot.waitUntil(lambda: len(autostart.installed) == 1, timeout=WAIT)
    qtbot.waitUntil(
        lambda: dialog.autostart_note.text() == "started the watch service", timeout=WAIT
    )
    command = autostart.installed[0].command
    assert command[-1] == "watch"
    assert command[command.index("--data-dir") + 1] == str(context.paths.data_dir.absolute())
    assert command[command.index("--model") + 1] == str(TINY_MODEL)
    dialog.autostart_box.setChecked(False)
    qtbot.waitUntil(lambda: autostart.uninstalled == 1, timeout=WAIT)


def test_an_autostart_failure_is_one_sentence(qtbot, context: AppContext, calls: OffThread) -> None:  # type: ignore[no-untyped-def]
    autostart = FakeAutostart(fail="systemctl is not available: start `photoseek watch` yourself")
    dialog = _dialog(qtbot, context, calls, autostart)
    dialog.autostart_box.setChecked(True)
    qtbot.waitUntil(lambda: "systemctl" in dialog.autostart_note.text(), timeout=WAIT)
    assert not dialog.autostart_box.isChecked() and dialog.autostart_box.isEnabled()


def test_an_installed_entry_is_shown_checked(qtbot, context: AppContext, calls: OffThread) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot, context, calls, FakeAutostart("installed, running"))
    assert dialog.autostart_box.isChecked()


def test_model_options_name_only_what_differs_from_the_defaults(tmp_path: Path) -> None:
    from photoseek.core.model.embedder import ModelSettings

    assert model_options(ModelSettings()) == []
    checkpoint = tmp_path / "w.safetensors"
    checkpoint.write_bytes(b"")
    assert model_options(ModelSettings("ViT-B-16", str(checkpoint), "cuda")) == [
        "--model",
        "ViT-B-16",
        "--pretrained",
        str(checkpoint.resolve()),
        "--device",
        "cuda",
    ]


def test_the_window_opens_it_and_applies_what_applies_now(qtbot, context: AppContext) -> None:  # type: ignore[no-untyped-def]
    from photoseek.gui.mainwindow import MainWindow
    from tests.gui.mainwindow_fakes import StubPane, no_tray

    window = MainWindow(context, None, pane_factory=StubPane, tray_factory=no_tray)
    qtbot.addWidget(window)
    window.show()
    try:
        dialog = window.open_settings()
        assert dialog is window.open_settings()  # one window, raised again
        assert not dialog.tray_box.isEnabled()  # no tray on this desktop
        dialog.thumbnail_box.setCurrentIndex(dialog.thumbnail_box.findData(96))
        assert window.pane.thumbnail_sizes[-1] == 96
        assert window.size_actions[96].isChecked()
    finally:
        window.shutdown()


def test_the_switch_in_words() -> None:
    from photoseek.core.library.modelchoice import SwitchRecord
    from photoseek.gui.views.switchpanel import switch_text

    old, new = ModelName("ViT-B-32-256", "datacomp_s34b_b86k"), ModelName("ViT-L-14", "x")
    assert switch_text(None, old) == "Searches use ViT-B-32-256 / datacomp_s34b_b86k."
    running = SwitchRecord(new, old, "running", done=500, total=2000, rate=5.0)
    assert switch_text(running, old) == (
        "Switching to ViT-L-14 / x: 500 of 2,000 photos, about 5 min left. "
        "ViT-B-32-256 / datacomp_s34b_b86k answers searches until then."
    )
    paused = SwitchRecord(new, old, "paused", done=500, total=2000)
    assert switch_text(paused, old) == "Switching to ViT-L-14 / x is paused at 500 of 2,000 photos."


def test_a_cluster_address_is_stored_and_the_next_start_indexes_there(
    qtbot, context: AppContext, calls: OffThread
) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot, context, calls, FakeAutostart())
    changed: list[str] = []
    dialog.changed.connect(changed.append)
    assert dialog.cluster_row.edit.text() == ""  # this computer by default
    assert service_options_for(context.settings.cluster_address).cluster is None
    dialog.cluster_row.edit.setText("  ray://gpu-box:10001 ")
    dialog.cluster_row.edit.editingFinished.emit()
    dialog.cluster_row.edit.editingFinished.emit()  # unchanged: said once
    assert changed == ["cluster_address"]
    stored = _reread(context).cluster_address
    assert stored == "ray://gpu-box:10001"
    options = service_options_for(stored)
    assert options.cluster is not None and options.cluster.address == "ray://gpu-box:10001"
    assert "photoseek[cluster]" in dialog.cluster_row.note.text()
