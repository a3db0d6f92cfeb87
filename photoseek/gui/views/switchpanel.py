"""The settings window's model-switch line: how far a switch got, and Pause/Resume/Cancel.

Choosing another model in the settings records a switch in the library
(:mod:`photoseek.core.library.switch`); whichever process writes the library
(this app's background worker, or a watch service) re-embeds the photos in
the background while the current model keeps answering. This panel reads
the switch record off the GUI thread every two seconds while it is shown,
and pauses, resumes or cancels it; the status bar shows the photos going by.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from photoseek.core.library import Library
from photoseek.core.library.modelchoice import ModelName, SwitchRecord
from photoseek.gui.views.progresstext import duration_text
from photoseek.gui.workers.offthread import OffThread

REFRESH_MS = 2000


def switch_text(record: SwitchRecord | None, chosen: ModelName) -> str:
    """The switch in words (or the model that answers, when there is none)."""
    if record is None:
        return f"Searches use {_short(chosen)}."
    done = f"{record.done:,} of {record.total:,} photos" if record.total else "starting"
    if record.state == "paused":
        return f"Switching to {_short(record.target)} is paused at {done}."
    eta = record.eta_s
    left = f", about {duration_text(eta)} left" if eta is not None and record.total else ""
    return (
        f"Switching to {_short(record.target)}: {done}{left}. "
        f"{_short(record.source)} answers searches until then."
    )


def _short(name: ModelName) -> str:
    arch = name.arch.rsplit("/", 1)[-1]
    pretrained = name.pretrained.rsplit("/", 1)[-1]
    return f"{arch} / {pretrained}"


class SwitchPanel(QWidget):
    """A line of text and two buttons for the switch in progress."""

    changed = Signal()  # a switch was started, paused, resumed or cancelled from here
    shown = Signal(object, object)  # the record read (or None), the model that answers

    def __init__(self, library: Library, calls: OffThread, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.calls = calls
        self.record: SwitchRecord | None = None
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setAccessibleName("Model switch")
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.clicked.connect(self._pause_or_resume)
        self.cancel_button = QPushButton("Cancel Switch", self)
        self.cancel_button.setToolTip("Keep the current model (what was embedded stays)")
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.pause_button)
        layout.addWidget(self.cancel_button)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self._show(None)

    def showEvent(self, event: QShowEvent) -> None:
        """Refresh while shown."""
        self.refresh()
        self.timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        """No reads while hidden."""
        self.timer.stop()
        super().hideEvent(event)

    def refresh(self) -> None:
        """Read the switch record (off the GUI thread) and show it."""
        library = self.library
        self.calls.call(
            lambda: (library.model_switch(), library.chosen_model()),
            lambda result: self._show(*result),
            key="switch-record",
        )

    def start(self, target: ModelName) -> None:
        """Record a switch to ``target`` (choosing the model that answers cancels one)."""
        library = self.library

        def record() -> None:
            if target == library.chosen_model():
                if library.model_switch() is not None:
                    library.cancel_model_switch()
                return
            library.start_model_switch(target)

        self._act(record)

    def _pause_or_resume(self) -> None:
        library = self.library
        paused = self.record is not None and self.record.state == "paused"
        self._act(library.resume_model_switch if paused else library.pause_model_switch)

    def _cancel(self) -> None:
        self._act(self.library.cancel_model_switch)

    def _act(self, work: Callable[[], object]) -> None:
        def done(_result: object) -> None:
            self.changed.emit()
            self.refresh()

        self.calls.call(work, done, lambda exc: self.text.setText(str(exc)))

    def _show(self, record: SwitchRecord | None, chosen: ModelName | None = None) -> None:
        self.record = record
        chosen = chosen or self.library.chosen_model()
        self.text.setText(switch_text(record, chosen))
        self.pause_button.setVisible(record is not None)
        self.cancel_button.setVisible(record is not None)
        self.pause_button.setText("Resume" if record and record.state == "paused" else "Pause")
        self.shown.emit(record, chosen)
