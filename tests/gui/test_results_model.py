"""The grid's item model: Qt's model contract, roles, paging, edits without a reset, drags."""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt

from photoseek.core.search.searcher import SearchOptions
from photoseek.gui.context import AppContext
from photoseek.gui.models.results import ResultRow, ResultsModel, format_size, photo_date
from photoseek.pathtext import display_path


def browse_rows(context: AppContext) -> list[ResultRow]:
    return [ResultRow(p) for p in context.library.browse(limit=500).photos]


def search_rows(context: AppContext, query: str = "red kite") -> list[ResultRow]:
    pages = context.library.search_pages(query, SearchOptions(limit=24), page_size=100)
    return [ResultRow(hit.photo, hit.score) for page in pages for hit in page.hits]


class Signals:
    """Counts a model's structural signals."""

    def __init__(self, model: ResultsModel) -> None:
        self.resets = self.inserted = self.removed = self.changed = 0
        model.modelReset.connect(lambda: self._bump("resets"))
        model.rowsInserted.connect(lambda *_: self._bump("inserted"))
        model.rowsRemoved.connect(lambda *_: self._bump("removed"))
        model.dataChanged.connect(lambda *_: self._bump("changed"))

    def _bump(self, name: str) -> None:
        setattr(self, name, getattr(self, name) + 1)


def test_browse_contents_pass_the_model_tester(qtmodeltester, context: AppContext) -> None:
    model = ResultsModel()
    model.reset_rows(browse_rows(context), more=False)
    qtmodeltester.check(model)
    assert model.rowCount() == 24
    first = model.index(0)
    record = first.data(ResultsModel.RecordRole)
    assert first.data(Qt.ItemDataRole.DisplayRole) == record.path.name
    assert first.data(ResultsModel.ScoreRole) is None
    assert first.data(ResultsModel.PhotoIdRole) == record.id
    assert first.data(ResultsModel.OfflineRole) is False
    assert "Score" not in first.data(Qt.ItemDataRole.ToolTipRole)


def test_search_contents_pass_the_model_tester(qtmodeltester, context: AppContext) -> None:
    rows = search_rows(context)
    model = ResultsModel()
    model.reset_rows(rows, more=True)
    qtmodeltester.check(model)
    scores = [model.index(i).data(ResultsModel.ScoreRole) for i in range(model.rowCount())]
    assert scores == [row.score for row in rows]
    assert scores == sorted(scores, reverse=True)
    tooltip = model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert f"Score {rows[0].score:.3f}" in tooltip
    assert "Modified" in tooltip  # no EXIF date in the test photos: the file's date


def test_offline_photos_say_so(context: AppContext) -> None:
    row = browse_rows(context)[0]
    offline = ResultRow(replace(row.record, folder_available=False))
    model = ResultsModel()
    model.reset_rows([offline], more=False)
    assert model.index(0).data(ResultsModel.OfflineRole) is True
    assert "Offline" in model.index(0).data(Qt.ItemDataRole.ToolTipRole)


def test_fetch_more_asks_once_until_the_page_arrives(qtbot, context: AppContext) -> None:
    rows = browse_rows(context)
    model = ResultsModel()
    model.reset_rows(rows[:10], more=True)
    assert model.canFetchMore(QModelIndex())
    with qtbot.waitSignal(model.fetch_requested, timeout=60000):
        model.fetchMore(QModelIndex())
    assert not model.canFetchMore(QModelIndex())  # one page on its way at a time
    with qtbot.assertNotEmitted(model.fetch_requested):
        model.fetchMore(QModelIndex())
    assert model.append_rows(rows[5:20], more=True) == 10  # rows shown already are skipped
    assert model.canFetchMore(QModelIndex())
    model.append_rows(rows[20:], more=False)
    assert not model.canFetchMore(QModelIndex())
    assert [r.record.id for r in model.rows()] == [r.record.id for r in rows]


def test_library_edits_change_rows_without_a_reset(qtmodeltester, context: AppContext) -> None:
    rows = browse_rows(context)  # newest first
    model = ResultsModel()
    model.reset_rows(rows[2:10], more=True)
    qtmodeltester.check(model)
    signals = Signals(model)

    assert model.insert_sorted([rows[0], rows[1]], bound=rows[10].date_key) == 2
    assert [r.record.id for r in model.rows()[:3]] == [r.record.id for r in rows[:3]]
    assert model.insert_sorted([rows[12]], bound=rows[10].date_key) == 0  # the next page has it
    assert model.insert_sorted([rows[12]], bound=None) == 1  # every page is loaded: it goes in
    assert model.row_of(rows[12].record.id) == model.rowCount() - 1

    assert model.remove_ids([rows[3].record.id, rows[4].record.id, rows[7].record.id]) == 3
    assert model.row_of(rows[4].record.id) is None
    moved = replace(rows[5].record, path=rows[5].record.path.with_name("renamed.jpg"))
    assert model.update_records([moved]) == 1
    assert model.index(model.row_of(moved.id)).data() == "renamed.jpg"

    assert signals.resets == 0
    assert (signals.inserted, signals.removed, signals.changed) == (3, 2, 1)  # 3, 4 in one run


def test_drag_carries_the_files_exactly(tmp_path: Path, context: AppContext) -> None:
    row = browse_rows(context)[0]
    odd = tmp_path / os.fsdecode(b"caf\xe9 1.jpg")
    model = ResultsModel()
    model.reset_rows([row, ResultRow(replace(row.record, id=999, path=odd))], more=False)
    assert model.supportedDragActions() == Qt.DropAction.CopyAction
    assert model.flags(model.index(0)) & Qt.ItemFlag.ItemIsDragEnabled
    mime = model.mimeData([model.index(0), model.index(1)])
    uris = bytes(mime.data("text/uri-list").data()).split()
    paths = [urllib.parse.unquote_to_bytes(u.removeprefix(b"file://")) for u in uris]
    assert paths == [os.fsencode(row.record.path), os.fsencode(odd)]
    assert mime.text().splitlines() == [str(row.record.path), display_path(odd)]


def test_people_read_dates_and_sizes(context: AppContext) -> None:
    record = browse_rows(context)[0].record
    assert photo_date(replace(record, taken_at="2019-07-01T14:03:09")) == (
        "Taken",
        "2019-07-01 14:03",
    )
    assert photo_date(record)[0] == "Modified"
    assert format_size(512) == "512 bytes"
    assert format_size(2_500_000) == "2.4 MB"


def test_pages_skip_shown_photos_and_keep_the_row_map_right(context: AppContext) -> None:
    rows = browse_rows(context)[:6]
    model = ResultsModel()
    model.reset_rows(rows[:3], more=True)
    assert model.row_of(rows[2].record.id) == 2  # the id -> row map is built now
    assert model.append_rows([rows[1], rows[3], rows[3], rows[4]], more=True) == 2
    assert [model.row_of(r.record.id) for r in rows[:5]] == [0, 1, 2, 3, 4]
    model.remove_ids([rows[1].record.id])
    assert model.append_rows([rows[1], rows[5], rows[0]], more=False) == 2  # removed: shown again
    assert [model.row_at(i).record.id for i in range(model.rowCount())] == [
        r.record.id for r in (rows[0], rows[2], rows[3], rows[4], rows[1], rows[5])
    ]
    assert model.row_of(rows[5].record.id) == 5 and model.row_of(rows[1].record.id) == 4
