"""The library panel's problems section: skipped files with their reasons, and "Try Again"."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photoseek.core.records import Problem
from photoseek.gui.models.problems import ProblemsModel


class ProblemsPanel(QWidget):
    """A "Problems (N)" toggle over a table of skipped files; hidden when there are none."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ProblemsModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        self.toggle = QToolButton(self)
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setAccessibleName("Show problems")
        self.toggle.toggled.connect(self._show_table)
        self.retry = QPushButton("Try Again", self)
        self.retry.setAccessibleName("Try the problem files again")
        self.retry.setToolTip("Index the skipped files again (after you fixed or replaced them)")
        self.retry.clicked.connect(self.retry_requested.emit)
        header.addWidget(self.toggle, 1)
        header.addWidget(self.retry)
        layout.addLayout(header)
        self.table = QTableView(self)
        self.table.setAccessibleName("Problems")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(False)
        self.table.hide()
        layout.addWidget(self.table)
        self.set_problems([])

    def set_problems(self, problems: list[Problem]) -> None:
        """Show these problems (the section hides when there are none)."""
        self.model.set_problems(problems)
        self.toggle.setText(f"Problems ({len(problems):,})")
        self.setVisible(bool(problems))

    def _show_table(self, shown: bool) -> None:
        self.table.setVisible(shown)
        self.toggle.setAccessibleName("Hide problems" if shown else "Show problems")
