"""The files photoseek skipped, with their reasons (from :meth:`Library.problems`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from photoseek.core.records import Problem
from photoseek.pathtext import display_path

FILE_COLUMN, REASON_COLUMN = 0, 1
HEADERS = ("File", "Reason")
PATH_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex


class ProblemsModel(QAbstractTableModel):
    """One row per skipped file: its name (the full path as a tooltip) and why."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._problems: list[Problem] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Problems under the root (a flat table)."""
        return 0 if parent.isValid() else len(self._problems)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """File and reason."""
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """What one cell shows for ``role``."""
        if not index.isValid() or not 0 <= index.row() < len(self._problems):
            return None
        problem = self._problems[index.row()]
        if role == PATH_ROLE:
            return problem.path
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{display_path(problem.path)}\n{problem.reason}"
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if index.column() == FILE_COLUMN:
                return display_path(Path(problem.path.name))
            return problem.reason
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None

    def set_problems(self, problems: list[Problem]) -> None:
        """Show these problems (a reset: the list is re-read as a whole)."""
        self.beginResetModel()
        self._problems = list(problems)
        self.endResetModel()

    def problem_at(self, row: int) -> Problem:
        """The problem on ``row``."""
        return self._problems[row]
