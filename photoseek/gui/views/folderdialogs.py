"""The questions the library panel asks: which folder, remove it?, exclude what, moved where.

Each is something the user asked for (a click on Add, Remove ...), so a
dialog is fine here. They sit behind :class:`FolderPrompts` so tests answer
them without a dialog; :class:`DialogPrompts` asks with real ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from photoseek.gui.models.folders import count_text, folder_label
from photoseek.pathtext import display_path

EXCLUDES_HELP = (
    "One pattern per line. A name without a slash leaves out matching files and folders "
    "anywhere in the folder (<code>*.tmp</code>, <code>Screenshots</code>); a pattern with a "
    "slash names a path inside it (<code>2019/private</code>, <code>*/drafts/*</code>). "
    "Case does not matter. The next scan applies them: photos they leave out leave the library, "
    "the files stay on disk."
)


class FolderPrompts(Protocol):
    """What the library panel asks the user."""

    def choose_folder(self, parent: QWidget) -> Path | None:
        """A folder to add, or None."""
        ...

    def confirm_remove(self, parent: QWidget, folder: Path, photos: int) -> bool:
        """Whether to remove ``folder`` (holding ``photos``) from the library."""
        ...

    def edit_excludes(self, parent: QWidget, folder: Path, patterns: list[str]) -> list[str] | None:
        """The new exclude patterns of ``folder``, or None to keep them."""
        ...

    def choose_new_location(self, parent: QWidget, folder: Path) -> Path | None:
        """Where ``folder`` is now, or None."""
        ...


def remove_question(folder: Path, photos: int) -> tuple[str, str]:
    """(question, what it means) for removing a folder."""
    question = f"Remove “{folder_label(folder)}” from the library?"
    meaning = (
        f"Its {count_text(photos, 'photo')} leave the library: they are no longer shown or "
        f"found. The files stay on disk, untouched, in {display_path(folder)}. You can add the "
        "folder again at any time."
    )
    return question, meaning


class ExcludesDialog(QDialog):
    """A small editor for a folder's exclude patterns."""

    def __init__(self, folder: Path, patterns: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Exclude from “{folder_label(folder)}”")
        layout = QVBoxLayout(self)
        help_text = QLabel(EXCLUDES_HELP, self)
        help_text.setWordWrap(True)
        layout.addWidget(help_text)
        self.editor = QPlainTextEdit("\n".join(patterns), self)
        self.editor.setAccessibleName("Exclude patterns, one per line")
        self.editor.setPlaceholderText("*.tmp\nScreenshots\n2019/private")
        layout.addWidget(self.editor)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(460, 320)

    def patterns(self) -> list[str]:
        """The lines typed, blank ones left out."""
        return [line.strip() for line in self.editor.toPlainText().splitlines() if line.strip()]


class DialogPrompts:
    """:class:`FolderPrompts` with real dialogs."""

    def choose_folder(self, parent: QWidget) -> Path | None:
        """A native folder chooser."""
        chosen = QFileDialog.getExistingDirectory(parent, "Add a Folder to the Library")
        return Path(chosen) if chosen else None

    def confirm_remove(self, parent: QWidget, folder: Path, photos: int) -> bool:
        """A question that says what removing means."""
        question, meaning = remove_question(folder, photos)
        box = QMessageBox(QMessageBox.Icon.Question, "Remove Folder", question, parent=parent)
        box.setInformativeText(meaning)
        remove = box.addButton("Remove from Library", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is remove

    def edit_excludes(self, parent: QWidget, folder: Path, patterns: list[str]) -> list[str] | None:
        """The patterns editor."""
        dialog = ExcludesDialog(folder, patterns, parent)
        return dialog.patterns() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def choose_new_location(self, parent: QWidget, folder: Path) -> Path | None:
        """A folder chooser that starts near where the folder was."""
        start = next((p for p in folder.parents if p.is_dir()), Path.home())
        chosen = QFileDialog.getExistingDirectory(
            parent, f"Where Is “{folder_label(folder)}” Now?", str(start)
        )
        return Path(chosen) if chosen else None
