"""The library panel's model: "All photos" then the folders, counts and states."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from photoseek.core.library import FolderStats, Library
from photoseek.core.records import Folder
from photoseek.gui.models.folders import (
    ALL_PHOTOS,
    DETAIL_ROLE,
    PATH_ROLE,
    STATE_ROLE,
    FolderRow,
    FoldersModel,
    rows_from_stats,
)


def _stats(
    path: str, indexed: int = 0, pending: int = 0, problems: int = 0, **folder
) -> FolderStats:  # type: ignore[no-untyped-def]
    record = Folder(
        id=hash(path) % 1000,
        path=Path(path),
        device=1,
        status=folder.get("status", "ok"),
        status_reason=folder.get("reason"),
        photo_count=indexed + pending,
        excludes=tuple(folder.get("excludes", ())),
    )
    return FolderStats(record, indexed, pending, problems)


def test_all_photos_comes_first_with_the_sums(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = FoldersModel()
    model.set_stats([_stats("/a/Pictures", 1204, 30), _stats("/b/Phone", 1, 0, 3)])
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    first = model.index(0)
    assert first.data() == ALL_PHOTOS and first.data(PATH_ROLE) is None
    assert first.data(STATE_ROLE) == "all"
    assert first.data(DETAIL_ROLE) == "1,205 photos · 30 to index · 3 problems"
    assert model.index(1).data() == "Pictures"
    assert model.index(1).data(DETAIL_ROLE) == "1,204 photos · 30 to index"
    assert model.index(2).data(DETAIL_ROLE) == "1 photo · 3 problems"
    assert "/a/Pictures" in model.index(1).data(Qt.ItemDataRole.ToolTipRole)


def test_an_unavailable_folder_says_why(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = FoldersModel()
    model.set_stats([_stats("/mnt/nas", 50, status="unavailable", reason="disk not connected")])
    qtmodeltester.check(model)
    row = model.index(1)
    assert row.data(STATE_ROLE) == "unavailable"
    assert row.data(DETAIL_ROLE) == "unavailable: disk not connected"
    assert FolderRow(Path("/x"), "unavailable").detail == "unavailable"


def test_a_root_folder_is_named_by_its_path() -> None:
    assert FolderRow(Path("/"), "ok").name == "/"


def test_updates_keep_rows_and_apply_inserts_removals_and_moves(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = FoldersModel()
    qtmodeltester.check(model)
    model.set_stats([_stats("/a"), _stats("/c")])
    inserted: list[tuple[int, int]] = []
    removed: list[tuple[int, int]] = []
    changed: list[int] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    model.rowsRemoved.connect(lambda _p, first, last: removed.append((first, last)))
    model.dataChanged.connect(lambda top, _bottom: changed.append(top.row()))
    model.set_stats([_stats("/a", 5), _stats("/b"), _stats("/c")])
    assert inserted == [(2, 2)] and removed == [] and 1 in changed and 0 in changed
    model.set_stats([_stats("/b"), _stats("/c")])
    assert removed == [(1, 1)]
    assert model.folder_paths() == [Path("/b"), Path("/c")]
    model.set_rows([rows_from_stats([])[0], *rows_from_stats([_stats("/c"), _stats("/b")])[1:]])
    assert model.folder_paths() == [Path("/c"), Path("/b")]
    qtmodeltester.check(model)
    assert (
        model.row_of(Path("/b")) == 2 and model.row_of(None) == 0 and model.row_of(Path("/z")) == -1
    )


def test_filled_from_a_real_library(
    qtmodeltester, indexed_library: Library, photos_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    model = FoldersModel()
    model.set_stats(indexed_library.folder_stats())
    qtmodeltester.check(model)
    assert model.folder_paths() == [photos_dir.resolve()]
    assert model.index(1).data(DETAIL_ROLE) == "24 photos"
    assert model.index(0).data(DETAIL_ROLE) == "24 photos"
