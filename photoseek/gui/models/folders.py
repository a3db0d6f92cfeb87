"""The library panel's list: "All photos", then each top folder with its counts and state.

:class:`FoldersModel` is filled from :meth:`Library.folder_stats` (the caller
fetches them off the GUI thread and passes them to :meth:`FoldersModel.set_stats`).
Updates are applied row by row (removed, inserted, changed), so a selection
survives a refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from photoseek.core.library import FolderStats
from photoseek.pathtext import display_path

ALL_PHOTOS = "All photos"

PATH_ROLE = Qt.ItemDataRole.UserRole + 1  # Path, or None for "All photos"
STATE_ROLE = Qt.ItemDataRole.UserRole + 2  # "all", "ok", "unavailable"
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 3  # the second line: counts, or why unavailable
INDEXED_ROLE = Qt.ItemDataRole.UserRole + 4
PENDING_ROLE = Qt.ItemDataRole.UserRole + 5
PROBLEMS_ROLE = Qt.ItemDataRole.UserRole + 6
EXCLUDES_ROLE = Qt.ItemDataRole.UserRole + 7  # tuple of patterns
REASON_ROLE = Qt.ItemDataRole.UserRole + 8  # why a folder is unavailable (None otherwise)

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class FolderRow:
    """One row of the panel."""

    path: Path | None
    state: str
    indexed: int = 0
    pending: int = 0
    problems: int = 0
    reason: str | None = None
    excludes: tuple[str, ...] = ()
    hidden: int = 0  # indexed, but hidden by the content filter (not in ``indexed``)

    @property
    def name(self) -> str:
        """What the row is called: the folder's name (the whole path for a root)."""
        return ALL_PHOTOS if self.path is None else folder_label(self.path)

    @property
    def detail(self) -> str:
        """Its second line: how many photos, what is left to do, or why it is unavailable."""
        if self.state == "unavailable":
            return f"unavailable: {self.reason}" if self.reason else "unavailable"
        parts = [count_text(self.indexed, "photo")]
        if self.pending:
            parts.append(f"{self.pending:,} to index")
        if self.problems:
            parts.append(count_text(self.problems, "problem"))
        if self.hidden:
            parts.append(f"{self.hidden:,} hidden")
        return " · ".join(parts)

    @property
    def tooltip(self) -> str:
        """The full path and the detail line."""
        where = "Every photo in the library" if self.path is None else display_path(self.path)
        return f"{where}\n{self.detail}"


def folder_label(path: Path) -> str:
    """A folder's name for people (the whole path for a root such as ``/`` or ``D:\\``)."""
    return display_path(path.name) if path.name else display_path(path)


def count_text(count: int, noun: str) -> str:
    """``1 photo``, ``1,204 photos``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def rows_from_stats(stats: list[FolderStats]) -> list[FolderRow]:
    """ "All photos" (the sums) followed by one row per folder, in the library's order."""
    folders = [
        FolderRow(
            path=s.folder.path,
            state="unavailable" if s.folder.status == "unavailable" else "ok",
            indexed=s.indexed,
            pending=s.pending,
            problems=s.problems,
            reason=s.folder.status_reason,
            excludes=tuple(s.folder.excludes),
            hidden=s.hidden,
        )
        for s in stats
    ]
    total = FolderRow(
        path=None,
        state="all",
        indexed=sum(r.indexed for r in folders),
        pending=sum(r.pending for r in folders),
        problems=sum(r.problems for r in folders),
        hidden=sum(r.hidden for r in folders),
    )
    return [total, *folders]


class FoldersModel(QAbstractListModel):
    """ "All photos" and the library's folders."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[FolderRow] = [FolderRow(path=None, state="all")]

    # -- reading ----------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Rows under the root (a flat list)."""
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """What one row shows for ``role``."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        return {
            Qt.ItemDataRole.DisplayRole: row.name,
            Qt.ItemDataRole.ToolTipRole: row.tooltip,
            Qt.ItemDataRole.AccessibleTextRole: f"{row.name}, {row.detail}",
            PATH_ROLE: row.path,
            STATE_ROLE: row.state,
            DETAIL_ROLE: row.detail,
            INDEXED_ROLE: row.indexed,
            PENDING_ROLE: row.pending,
            PROBLEMS_ROLE: row.problems,
            EXCLUDES_ROLE: row.excludes,
            REASON_ROLE: row.reason,
        }.get(role)

    def row_at(self, row: int) -> FolderRow:
        """The row's record."""
        return self._rows[row]

    def folder_paths(self) -> list[Path]:
        """The folders' paths (without "All photos")."""
        return [r.path for r in self._rows if r.path is not None]

    def row_of(self, path: Path | None) -> int:
        """The row showing ``path`` (None: "All photos"), or -1."""
        for number, row in enumerate(self._rows):
            if row.path == path:
                return number
        return -1

    # -- updating ---------------------------------------------------------------------

    def set_stats(self, stats: list[FolderStats]) -> None:
        """Show these folder stats (from :meth:`Library.folder_stats`)."""
        self.set_rows(rows_from_stats(stats))

    def set_rows(self, rows: list[FolderRow]) -> None:
        """Replace the rows, removing, inserting and changing only what differs."""
        wanted = {row.path for row in rows}
        for number in range(len(self._rows) - 1, -1, -1):
            if self._rows[number].path not in wanted:
                self.beginRemoveRows(QModelIndex(), number, number)
                del self._rows[number]
                self.endRemoveRows()
        for number, row in enumerate(rows):
            if number < len(self._rows) and self._rows[number].path == row.path:
                if self._rows[number] != row:
                    self._rows[number] = row
                    index = self.index(number)
                    self.dataChanged.emit(index, index)
                continue
            existing = self.row_of(row.path)
            if existing > number:  # in another place: move it here
                self.beginMoveRows(QModelIndex(), existing, existing, QModelIndex(), number)
                self._rows.insert(number, self._rows.pop(existing))
                self.endMoveRows()
                self._rows[number] = row
                self.dataChanged.emit(self.index(number), self.index(number))
            else:
                self.beginInsertRows(QModelIndex(), number, number)
                self._rows.insert(number, row)
                self.endInsertRows()
