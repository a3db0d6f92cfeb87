"""The search box: search as you type, history, the query syntax hint, image chips, errors.

* Typing searches after a pause of :data:`DEBOUNCE_MS` (one ``QTimer``,
  restarted by every keystroke): ``query_changed``. Enter searches at once:
  ``query_submitted``.
* History: a query joins ``settings.history`` when the user presses Enter,
  or pauses :data:`HISTORY_PAUSE_MS` on a query that is not in error; never
  on every keystroke. Up/Down in the field walk through it (Down past the
  newest gives back what was being typed); the ▾ button and typing show
  matching past queries in a dropdown (a ``QCompleter``).
* Esc clears the field; Esc in an empty field leaves it (``escaped``).
  Backspace in an empty field removes the newest image chip.
* Paste (Ctrl+V) of an image from the clipboard: ``image_pasted``; of
  copied image files: ``files_pasted``. Text pastes as text.
* The state line under the box shows a malformed query's one-sentence error
  (red), or "Loading the model…"; never a dialog.
"""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStyle,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from photoseek.gui.desktop import query_media
from photoseek.gui.settings import AppSettings
from photoseek.gui.views.chips import ChipBar

__all__ = ["DEBOUNCE_MS", "HISTORY_PAUSE_MS", "SYNTAX_HELP", "SearchBar", "SearchField"]

DEBOUNCE_MS = 250
HISTORY_PAUSE_MS = 2000

PLACEHOLDER = 'Search photos: kids on a beach · "beach" + 0.5*@kite.jpg - people'
SYNTAX_HELP = (
    "<b>Search by what is in the photos</b><br>"
    "<code>kids on a beach</code> plain words<br>"
    '<code>"beach" + 0.5*@kite.jpg - people</code> text, plus half a photo, minus people<br>'
    '<code>@IMG_0042.jpg - 0.3*"blurry photo"</code> a photo minus a weighted text<br>'
    "Join terms with <code> + </code> or <code> - </code> (spaces around the sign); "
    "<code>2*</code> weighs a term; <code>@path</code> is an example photo.<br>"
    "Drop or paste an image to search by it. File and folder names match too."
)


class SearchField(QLineEdit):
    """The query line: history keys, Esc, Backspace on empty, image paste."""

    escaped = Signal()  # Esc in an empty field
    backspace_on_empty = Signal()
    image_pasted = Signal(QImage)
    files_pasted = Signal(list)  # list[Path]

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._history_at = -1  # -1: the draft being typed
        self._draft = ""
        self.setAccessibleName("Search")
        self.setPlaceholderText(PLACEHOLDER)
        self.setClearButtonEnabled(True)
        self.textEdited.connect(self._edited)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Paste) and self._paste_media():
            return
        key, bare = event.key(), event.modifiers() == Qt.KeyboardModifier.NoModifier
        if key == Qt.Key.Key_Up and bare:
            self._walk_history(+1)
        elif key == Qt.Key.Key_Down and bare:
            self._walk_history(-1)
        elif key == Qt.Key.Key_Escape:
            if self.text():
                self.clear()
            else:
                self.escaped.emit()
        elif key == Qt.Key.Key_Backspace and not self.text():
            self.backspace_on_empty.emit()
        else:
            super().keyPressEvent(event)

    def _paste_media(self) -> bool:
        """Paste an image or image files as a query; False to paste text as usual."""
        files, image = query_media(QGuiApplication.clipboard().mimeData())
        if files:
            self.files_pasted.emit(files)
        elif image is not None:
            self.image_pasted.emit(image)
        return bool(files) or image is not None

    def _walk_history(self, step: int) -> None:
        history = self._settings.history
        target = self._history_at + step
        if target < -1 or target >= len(history):
            return
        if self._history_at == -1:
            self._draft = self.text()
        self._history_at = target
        self.setText(self._draft if target == -1 else history[target])

    def _edited(self, _text: str) -> None:
        self._history_at = -1


class SearchBar(QWidget):
    """The search field with its image chips, history dropdown, syntax help and state line."""

    query_changed = Signal(str)  # debounced while typing
    query_submitted = Signal(str)  # Enter
    image_pasted = Signal(QImage)
    files_pasted = Signal(list)
    escaped = Signal()

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._in_error = False
        self.field = SearchField(settings, self)
        self.chips = ChipBar(self)
        self.completer = self._make_completer()
        self.help_button = self._make_help_button()
        self.state_label = QLabel(self)
        self.state_label.setAccessibleName("Search state")
        self.state_label.setWordWrap(True)
        self.state_label.setVisible(False)
        self._debounce = _single_shot(self, DEBOUNCE_MS, self._debounced)
        self._history_pause = _single_shot(self, HISTORY_PAUSE_MS, self._paused)
        self._layout()
        self.field.textChanged.connect(self._text_changed)
        self.field.returnPressed.connect(self._submitted)
        self.field.escaped.connect(self.escaped)
        self.field.backspace_on_empty.connect(self.chips.remove_last)
        self.field.image_pasted.connect(self.image_pasted)
        self.field.files_pasted.connect(self.files_pasted)

    def _layout(self) -> None:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.field, 1)
        row.addWidget(self.chips)
        row.addWidget(self.help_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(row)
        column.addWidget(self.state_label)

    def _make_completer(self) -> QCompleter:
        completer = QCompleter(QStringListModel(self._settings.history, self), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setMaxVisibleItems(12)
        self.field.setCompleter(completer)
        dropdown = self.field.addAction(
            self.style().standardIcon(QStyle.StandardPixmap.SP_ArrowDown),
            QLineEdit.ActionPosition.TrailingPosition,
        )
        dropdown.setToolTip("Recent searches")
        dropdown.setText("Recent searches")
        dropdown.triggered.connect(self.show_history)
        return completer

    def _make_help_button(self) -> QToolButton:
        button = QToolButton(self)
        button.setText("?")
        button.setAccessibleName("Query syntax help")
        button.setToolTip(SYNTAX_HELP)
        button.clicked.connect(
            lambda: QToolTip.showText(
                button.mapToGlobal(button.rect().bottomLeft()), SYNTAX_HELP, button
            )
        )
        return button

    # -- public -----------------------------------------------------------------------

    def text(self) -> str:
        """The query text."""
        return self.field.text()

    def set_text(self, text: str) -> None:
        """Replace the query text (searches after the usual pause)."""
        self.field.setText(text)

    def focus(self) -> None:
        """Put the cursor in the field with its text selected."""
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()

    def show_state(self, state: str, text: str) -> None:
        """Show the session's state: an error in red, loading in grey, nothing when idle."""
        self._in_error = state == "error"
        self.state_label.setStyleSheet("color: #c0392b;" if self._in_error else "color: gray;")
        self.state_label.setText(text)
        self.state_label.setVisible(bool(text))

    def show_history(self) -> None:
        """Open the dropdown of every past query."""
        self.completer.setCompletionPrefix("")
        self.completer.complete()

    def remember(self, text: str) -> None:
        """Add ``text`` to the history (and the dropdown)."""
        if not text.strip():
            return
        self._settings.add_history(text)
        model = self.completer.model()
        if isinstance(model, QStringListModel):
            model.setStringList(self._settings.history)

    def pending(self) -> bool:
        """Whether a typed query waits for its pause."""
        return self._debounce.isActive()

    # -- internals --------------------------------------------------------------------

    def _text_changed(self, _text: str) -> None:
        self._debounce.start()
        self._history_pause.start()

    def _debounced(self) -> None:
        self.query_changed.emit(self.field.text())

    def _submitted(self) -> None:
        self._debounce.stop()
        self._history_pause.stop()
        text = self.field.text()
        self.query_submitted.emit(text)  # runs it: a malformed query is in error now
        if not self._in_error:
            self.remember(text)

    def _paused(self) -> None:
        if not self._in_error:
            self.remember(self.field.text())


def _single_shot(parent: QWidget, interval_ms: int, slot: object) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(interval_ms)
    timer.timeout.connect(slot)
    return timer
