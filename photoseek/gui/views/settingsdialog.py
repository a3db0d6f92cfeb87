"""The settings window: model, device, thumbnails, closing, battery, start at login.

A plain, non-modal window opened from the File menu. Each change is stored
at once (``AppSettings``) and announced as :attr:`SettingsDialog.changed`
with the setting's name, so the window can apply what applies now
(thumbnail size, tray, battery). A model or device choice takes effect at
the next start, and the window says so. "Start at login" installs or
removes the watch service's autostart entry (:mod:`photoseek.autostart`),
off the GUI thread; a failure is shown as its one sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from photoseek.autostart import Autostart, ServiceSpec, for_platform, service_command
from photoseek.core.library.modelchoice import ModelName, SwitchRecord, stored_choice
from photoseek.core.model.catalogue import offered_models
from photoseek.core.model.embedder import DEFAULT_ARCH, DEFAULT_PRETRAINED, DEVICES, ModelSettings
from photoseek.gui.context import AppContext
from photoseek.gui.settings import THUMBNAIL_SIZES
from photoseek.gui.views.clusterrow import ClusterRow
from photoseek.gui.views.switchpanel import SwitchPanel
from photoseek.gui.workers.offthread import OffThread

log = logging.getLogger(__name__)

NEXT_START = "Takes effect the next time photoseek starts."
DEVICE_LABELS = {
    "auto": "Automatic (CUDA, then Apple MPS, then the CPU)",
    "cpu": "CPU",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (MPS)",
}


@dataclass(frozen=True)
class ModelChoice:
    """A model worth offering, from the model catalogue (:mod:`photoseek.core.model.catalogue`).

    ``accuracy`` is the published zero-shot ImageNet-1k top-1 and ``gflops``
    the image tower's cost per photo (both cited in the catalogue; None where
    not published); indexing time scales with ``gflops``, so the label states
    speed relative to the default from it.
    """

    arch: str
    pretrained: str
    accuracy: float | None  # % top-1, zero-shot ImageNet-1k
    gflops: float | None  # per image, the image tower as open_clip counts it
    download: str
    note: str = ""  # what else the choice needs (an optional extra)

    @property
    def label(self) -> str:
        """How the choice reads in the list."""
        default = MODEL_CHOICES[0].gflops
        if self is MODEL_CHOICES[0]:
            speed = "the default"
        elif self.gflops is None or default is None:
            speed = "speed not published"
        elif self.gflops < default:
            speed = f"{default / self.gflops:.1f}x faster"
        else:
            relative = self.gflops / default
            speed = f"{relative:.1f}x slower" + (": for a GPU" if relative > 5 else "")
        accuracy = "not published" if self.accuracy is None else f"{self.accuracy:.1f} %"
        cost = "" if self.gflops is None else f"{self.gflops:g} GFLOPs "
        return (
            f"{self.arch} / {self.pretrained}: {accuracy} ImageNet zero-shot, "
            f"{cost}({speed}), {self.download}" + (f"; {self.note}" if self.note else "")
        )


MODEL_CHOICES: tuple[ModelChoice, ...] = tuple(
    ModelChoice(
        model.arch,
        model.pretrained,
        model.imagenet_top1,
        model.image_gflops,
        model.download_label,
        "needs photoseek[multilingual]" if model.needs_multilingual else "",
    )
    for model in offered_models()
)

AutostartFactory = Callable[[], Autostart]


class SettingsDialog(QDialog):
    """photoseek's settings, stored as they change."""

    changed = Signal(str)  # the setting's name: "model", "thumbnail_size", "close_to_tray" ...

    def __init__(
        self,
        context: AppContext,
        calls: OffThread,
        *,
        tray_available: bool,
        autostart: AutostartFactory = for_platform,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("photoseek Settings")
        self.setModal(False)
        self.context = context
        self.settings = context.settings
        self.running = context.library.settings
        self.calls = calls
        self._autostart_factory = autostart
        self._stored = self.settings.model(
            self.running.arch, self.running.pretrained, self.running.device
        )
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)
        self._build_model(form)
        self._build_view(form, tray_available)
        self._build_autostart(form)
        self.switch_panel.refresh()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self._show_model_note()

    # -- the model ----------------------------------------------------------------------

    def _build_model(self, form: QFormLayout) -> None:
        self.model_box = QComboBox(self)
        self.model_box.setAccessibleName("Model")
        arch, pretrained = self.running.arch, self.running.pretrained  # or the switch's target
        device = self._stored[2]
        choices = [(c.arch, c.pretrained, c.label) for c in MODEL_CHOICES]
        if (arch, pretrained) not in [(a, p) for a, p, _ in choices]:
            choices.insert(0, (arch, pretrained, f"{_short(arch)} / {_short(pretrained)} (custom)"))
        self._models = [
            (choice_arch, choice_pretrained) for choice_arch, choice_pretrained, _ in choices
        ]
        for _arch, _pretrained, label in choices:
            self.model_box.addItem(label)
        self.model_box.setCurrentIndex(self._models.index((arch, pretrained)))
        self.model_box.currentIndexChanged.connect(self._model_chosen)
        form.addRow("Model:", self.model_box)
        self.switch_panel = SwitchPanel(self.context.library, self.calls, self)
        self.switch_panel.shown.connect(self._switch_shown)
        form.addRow("", self.switch_panel)
        self.device_box = QComboBox(self)
        self.device_box.setAccessibleName("Device")
        for name in DEVICES:
            self.device_box.addItem(DEVICE_LABELS.get(name, name), name)
        self.device_box.setCurrentIndex(max(0, self.device_box.findData(device)))
        self.device_box.currentIndexChanged.connect(self._device_chosen)
        form.addRow("Run the model on:", self.device_box)
        self.model_note = QLabel(self)
        self.model_note.setWordWrap(True)
        self.model_note.setAccessibleName("About the model choice")
        form.addRow("", self.model_note)

    def model_index(self, arch: str, pretrained: str) -> int:
        """The model list's row for this model (-1 if it is not offered)."""
        try:
            return self._models.index((arch, pretrained))
        except ValueError:
            return -1

    def _model_chosen(self) -> None:
        """Switch the library to the chosen model: re-embedded in the background."""
        arch, pretrained = self._models[self.model_box.currentIndex()]
        self.switch_panel.start(ModelName(arch, pretrained))
        self.changed.emit("model")

    def _switch_shown(self, record: SwitchRecord | None, chosen: ModelName) -> None:
        """Keep the list on the model being switched to (or the one that answers)."""
        wanted = record.target if record is not None else chosen
        row = self.model_index(wanted.arch, wanted.pretrained)
        if row >= 0 and row != self.model_box.currentIndex():
            self.model_box.blockSignals(True)
            self.model_box.setCurrentIndex(row)
            self.model_box.blockSignals(False)

    def _device_chosen(self) -> None:
        self.settings.set_device(str(self.device_box.currentData()))
        self.settings.sync()
        self._show_model_note()
        if self.autostart_box.isChecked() and self.autostart_box.isEnabled():
            self._autostart_chosen(True)  # the login entry runs on the chosen device too
        self.changed.emit("device")

    def chosen_model(self) -> ModelSettings:
        """The model and device chosen in the window."""
        arch, pretrained = self._models[self.model_box.currentIndex()]
        return ModelSettings(arch, pretrained, str(self.device_box.currentData()))

    def _show_model_note(self) -> None:
        device = str(self.device_box.currentData())
        switching = (
            "Choosing another model re-embeds every photo in the background; the current model "
            "keeps answering until it is done."
        )
        if device == self.running.device:
            self.model_note.setText(switching)
        else:
            self.model_note.setText(
                f"{switching} The model runs on {self.running.device} until photoseek starts "
                f"again. {NEXT_START}"
            )

    # -- the view and closing -----------------------------------------------------------

    def _build_view(self, form: QFormLayout, tray_available: bool) -> None:
        self.thumbnail_box = QComboBox(self)
        self.thumbnail_box.setAccessibleName("Thumbnail size")
        for size in THUMBNAIL_SIZES:
            self.thumbnail_box.addItem(f"{size} px", size)
        self.thumbnail_box.setCurrentIndex(
            self.thumbnail_box.findData(self.settings.thumbnail_size)
        )
        self.thumbnail_box.currentIndexChanged.connect(self._thumbnail_chosen)
        form.addRow("Thumbnail size:", self.thumbnail_box)
        self.tray_box = QCheckBox("Keep indexing in the system tray when the window closes", self)
        self.tray_box.setAccessibleName("Keep indexing in the tray on close")
        self.tray_box.setChecked(self.settings.close_to_tray)
        if not tray_available:
            self.tray_box.setEnabled(False)
            self.tray_box.setToolTip("This desktop has no system tray: closing the window quits")
        self.tray_box.toggled.connect(self._tray_chosen)
        form.addRow("", self.tray_box)
        self.battery_box = QCheckBox("Pause indexing while on battery", self)
        self.battery_box.setAccessibleName("Pause indexing on battery")
        self.battery_box.setChecked(self.settings.pause_on_battery)
        self.battery_box.toggled.connect(self._battery_chosen)
        form.addRow("", self.battery_box)
        self.prompts_box = QCheckBox("Search one or two words as a label (prompt templates)", self)
        self.prompts_box.setAccessibleName("Short searches through prompt templates")
        self.prompts_box.setToolTip(
            "“dog” is searched as “itap of a dog.”, “a bad photo of the dog.” … averaged: "
            "7 text encodes per new search. Off by default; measure with photoseek eval."
        )
        self.prompts_box.setChecked(self.settings.short_query_prompts)
        self.prompts_box.toggled.connect(self._prompts_chosen)
        form.addRow("", self.prompts_box)
        self.cluster_row = ClusterRow(self.settings, self)
        self.cluster_row.changed.connect(self.changed)
        form.addRow("Index on a cluster:", self.cluster_row)

    def _prompts_chosen(self, checked: bool) -> None:
        self.settings.short_query_prompts = checked
        self.settings.sync()
        self.changed.emit("short_query_prompts")

    def _thumbnail_chosen(self) -> None:
        self.settings.thumbnail_size = int(self.thumbnail_box.currentData())
        self.settings.sync()
        self.changed.emit("thumbnail_size")

    def _tray_chosen(self, checked: bool) -> None:
        self.settings.close_to_tray = checked
        self.settings.sync()
        self.changed.emit("close_to_tray")

    def _battery_chosen(self, checked: bool) -> None:
        self.settings.pause_on_battery = checked
        self.settings.sync()
        self.changed.emit("pause_on_battery")

    # -- start at login -----------------------------------------------------------------

    def _build_autostart(self, form: QFormLayout) -> None:
        self.autostart_box = QCheckBox(
            "Start the watch service at login (keeps the library current without the window)",
            self,
        )
        self.autostart_box.setAccessibleName("Start the watch service at login")
        self.autostart_box.setEnabled(False)
        self.autostart_box.toggled.connect(self._autostart_chosen)
        form.addRow("", self.autostart_box)
        self.autostart_note = QLabel("Checking whether it is installed…", self)
        self.autostart_note.setWordWrap(True)
        self.autostart_note.setAccessibleName("Start at login status")
        form.addRow("", self.autostart_note)
        self.calls.call(
            lambda: self._autostart_factory().status(),
            self._autostart_status,
            self._autostart_failed,
            key="autostart",
        )

    def _autostart_status(self, status: str) -> None:
        self._set_autostart_checked(status.startswith("installed"))
        self.autostart_box.setEnabled(True)
        self.autostart_note.setText(f"The watch service is {status}.")

    def _autostart_chosen(self, install: bool) -> None:
        self.autostart_box.setEnabled(False)
        self.autostart_note.setText("Installing…" if install else "Removing…")
        device = str(self.device_box.currentData())

        def work() -> list[str]:
            autostart = self._autostart_factory()
            if not install:
                return autostart.uninstall()
            return autostart.install(self._service_spec(device))

        self.calls.call(work, self._autostart_done, self._autostart_failed, key="autostart")

    def _autostart_done(self, lines: list[str]) -> None:
        self.autostart_box.setEnabled(True)
        self.autostart_note.setText(lines[-1] if lines else "Done.")
        self.changed.emit("autostart")

    def _autostart_failed(self, exc: BaseException) -> None:
        log.info("autostart: %s", exc)
        self.autostart_box.setEnabled(True)
        self._set_autostart_checked(False)
        self.autostart_note.setText(str(exc))

    def _set_autostart_checked(self, checked: bool) -> None:
        self.autostart_box.blockSignals(True)
        self.autostart_box.setChecked(checked)
        self.autostart_box.blockSignals(False)

    def _service_spec(self, device: str) -> ServiceSpec:
        """What the login entry runs: ``photoseek watch`` on this library (a worker thread).

        The service runs the library's own model (it follows a switch); only
        a model this app was told to run some other way (its command line, an
        older version's setting) is named on its command line.
        """
        paths = self.context.paths
        data_dir = paths.data_dir if paths.origin else None
        running = self.running
        own = stored_choice(paths.catalog) or ModelName(DEFAULT_ARCH, DEFAULT_PRETRAINED)
        if (running.arch, running.pretrained) == (own.arch, own.pretrained):
            running = replace(running, arch=DEFAULT_ARCH, pretrained=DEFAULT_PRETRAINED)
        settings = replace(running, device=device)
        command = service_command(data_dir, model_options(settings))
        return ServiceSpec(command=command, environment={}, log_dir=paths.log_dir)


def model_options(settings: ModelSettings) -> list[str]:
    """The global options that choose this model, when it is not the default."""
    options: list[str] = []
    if settings.arch != DEFAULT_ARCH:
        arch = Path(settings.arch).expanduser()
        options += [
            "--model",
            str(arch.resolve()) if settings.arch.endswith(".json") else settings.arch,
        ]
    if settings.pretrained != DEFAULT_PRETRAINED:
        pretrained = Path(settings.pretrained).expanduser()
        options += [
            "--pretrained",
            str(pretrained.resolve()) if pretrained.exists() else settings.pretrained,
        ]
    if settings.device != "auto":
        options += ["--device", settings.device]
    return options


def _short(text: str) -> str:
    """A model or checkpoint named by a path shows its file name."""
    return Path(text).name if ("/" in text or "\\" in text) else text
