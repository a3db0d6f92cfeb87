"""The Qt binding itself: the defects of a PySide6 release that would crash the app.

PySide6 6.12.0 drops a reference to ``None`` each time ``QModelIndex.data``
returns an empty value to Python. ``None``'s count falls by one per call
(the app's delegates and views make thousands a minute) until Python frees
``None`` and aborts ("none_dealloc: deallocating None"), or a segfault comes
first. ``pyproject.toml`` excludes that release; this test keeps whatever
release pip picks honest (Python 3.12 and later make ``None`` immortal, which
hides the defect there).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

CALLS = 200


class _Model(QAbstractListModel):
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 1

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        return "photo" if role == Qt.ItemDataRole.DisplayRole else None


def _none_references_lost(read) -> int:
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        read()
    return before - sys.getrefcount(None)


def test_an_empty_value_from_a_python_model_keeps_none_alive(qapp) -> None:
    model = _Model()
    index = model.index(0)
    persistent = QPersistentModelIndex(index)
    assert index.data() == "photo"
    assert index.data(Qt.ItemDataRole.DecorationRole) is None
    assert _none_references_lost(lambda: index.data(Qt.ItemDataRole.DecorationRole)) < CALLS / 2
    assert _none_references_lost(lambda: persistent.data(Qt.ItemDataRole.ToolTipRole)) < CALLS / 2


def test_an_empty_value_from_a_qt_model_keeps_none_alive(qapp) -> None:
    model = QStandardItemModel()
    model.appendRow(QStandardItem("photo"))
    index = model.index(0, 0)
    assert _none_references_lost(lambda: index.data(Qt.ItemDataRole.DecorationRole)) < CALLS / 2
