"""The status bar: what indexing does, the model's first load, messages, the result count.

Left to right: the activity (phase, done/total, rate, ETA; or what a watch
service does while the app only reads), a progress bar when the total is
known, the current file (elided in the middle), the Pause/Resume button,
then a passing message; on the right, permanently, the model's download and
load (hidden once it is ready) and the search pane's result count.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

from photoseek.core.library import ServiceStatus
from photoseek.core.progress import Phase, Progress
from photoseek.gui.views.progresstext import progress_text, service_text, state_text
from photoseek.pathtext import display_path

MESSAGE_MS = 10_000
_ACTIVE_STATES = ("indexing", "scanning", "loading model", "switching model")
_WORKING = (
    Phase.INDEXING,
    Phase.SWITCHING_MODEL,
    Phase.SCANNING,
    Phase.BUILDING_INDEX,
    Phase.THUMBNAILS,
)


class ElidedLabel(QLabel):
    """A one-line label that elides its text to fit (the whole text is its tooltip)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self.setMinimumWidth(40)

    def set_full_text(self, text: str) -> None:
        """Show ``text``, elided to the label's width."""
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        """The text before eliding."""
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Elide again for the new width."""
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self._full, self._mode, max(self.width(), 40)))


class StatusBar(QStatusBar):
    """Indexing progress and state, the model's load, messages and the result count."""

    def __init__(self, pause_action: QAction | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Status")
        self.setSizeGripEnabled(True)
        self._progress: Progress | None = None
        self._state = "stopped"
        self._service: ServiceStatus | None = None
        self.activity = ElidedLabel(self)
        self.activity.setAccessibleName("Indexing")
        self.bar = QProgressBar(self)
        self.bar.setAccessibleName("Indexing progress")
        self.bar.setMaximumWidth(160)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.bar.hide()
        self.current = ElidedLabel(self, Qt.TextElideMode.ElideMiddle)
        self.current.setAccessibleName("Current file")
        self.pause = QToolButton(self)
        self.pause.setAccessibleName("Pause or resume indexing")
        self.pause.setAutoRaise(True)  # a flat button with its icon: it reads as a control
        self.pause.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        if pause_action is not None:
            self.pause.setDefaultAction(pause_action)
        self.message = ElidedLabel(self)
        self.message.setAccessibleName("Message")
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(lambda: self.message.set_full_text(""))
        self.model = QLabel(self)
        self.model.setAccessibleName("Model")
        self.model_bar = QProgressBar(self)
        self.model_bar.setAccessibleName("Model download")
        self.model_bar.setMaximumWidth(120)
        self.model_bar.setMaximumHeight(14)
        self.model_bar.setTextVisible(False)
        self.model_bar.hide()
        self.count = QLabel(self)
        self.count.setAccessibleName("Result count")
        self.addWidget(self.activity, 2)
        self.addWidget(self.bar)
        self.addWidget(self.current, 2)
        self.addWidget(self.pause)
        self.addWidget(self.message, 3)
        self.addPermanentWidget(self.model)
        self.addPermanentWidget(self.model_bar)
        self.addPermanentWidget(self.count)

    # -- indexing -----------------------------------------------------------------------

    def show_progress(self, progress: Progress) -> None:
        """A progress snapshot of the app's own background worker."""
        if progress.phase in (Phase.DOWNLOADING_MODEL, Phase.LOADING_MODEL):
            self.show_model_progress(progress)
            return
        self._progress = progress
        self._render()

    def show_state(self, state: str) -> None:
        """The background worker's state (``indexing``, ``watching``, ``paused``, ``reader``)."""
        self._state = state
        if state != "reader":
            self._service = None
        self._render()

    def show_service(self, status: ServiceStatus) -> None:
        """What the process that writes the library does (the app reads meanwhile)."""
        self._service = status
        self._render()

    def activity_text(self) -> str:
        """The activity line as shown (before eliding)."""
        return self.activity.full_text()

    def _render(self) -> None:
        text, fraction, current = self._describe()
        self.activity.set_full_text(text)
        self.current.set_full_text(current)
        if fraction is None:
            self.bar.hide()
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(fraction * 1000))
            self.bar.show()

    def _describe(self) -> tuple[str, float | None, str]:
        """(activity text, fraction done or None, current file)."""
        if self._state == "reader":
            return self._describe_writer()
        progress = self._progress
        if self._state in _ACTIVE_STATES and progress is not None and progress.phase in _WORKING:
            return progress_text(progress), _fraction(progress), _current(progress)
        text = state_text(self._state)
        if self._state.startswith(("paused", "yielding")) and _unfinished(progress):
            assert progress is not None
            fraction = _fraction(progress)
            return f"{text} at {progress.done:,} / {progress.total or 0:,}", fraction, ""
        return text, None, ""

    def _describe_writer(self) -> tuple[str, float | None, str]:
        status = self._service
        if status is None:
            return state_text("reader"), None, ""
        text = service_text(status)
        detail = status.detail
        done, total = detail.get("done"), detail.get("total")
        indexing = status.state == "indexing" and isinstance(total, int) and total > 0
        fraction = min(1.0, int(done or 0) / total) if indexing and isinstance(total, int) else None
        current = str(detail.get("current") or "") if indexing else ""
        return text, fraction, current

    # -- the model ----------------------------------------------------------------------

    def show_model_progress(self, progress: Progress) -> None:
        """The model's download (bytes) and load."""
        self.model.setText(progress_text(progress))
        self.model.show()
        if progress.phase == Phase.DOWNLOADING_MODEL and progress.total:
            self.model_bar.setRange(0, 1000)
            self.model_bar.setValue(round(1000 * progress.done / progress.total))
            self.model_bar.show()
        else:
            self.model_bar.setRange(0, 0)  # busy: loading has no useful fraction
            self.model_bar.show()

    def model_ready(self) -> None:
        """The model is loaded: its part of the bar goes away."""
        self.model.clear()
        self.model.hide()
        self.model_bar.hide()

    def model_failed(self, message: str) -> None:
        """The model could not be loaded (the notice bar says why and what to do)."""
        self.model.setText("model not loaded")
        self.model.setToolTip(message)
        self.model.show()
        self.model_bar.hide()

    # -- messages and the count ---------------------------------------------------------

    def show_message(self, text: str, timeout_ms: int = MESSAGE_MS) -> None:
        """A passing one-sentence message."""
        self.message.set_full_text(text)
        self._message_timer.start(timeout_ms)

    def set_count(self, text: str) -> None:
        """The search pane's result count (``1,204 photos``)."""
        self.count.setText(text)


def _unfinished(progress: Progress | None) -> bool:
    """Whether ``progress`` is an indexing run with photos still to go."""
    return (
        progress is not None
        and progress.phase.embeds
        and bool(progress.total)
        and progress.done < (progress.total or 0)
    )


def _fraction(progress: Progress) -> float | None:
    if not progress.total:
        return None
    return min(1.0, progress.done / progress.total)


def _current(progress: Progress) -> str:
    return display_path(progress.current) if progress.current else ""
