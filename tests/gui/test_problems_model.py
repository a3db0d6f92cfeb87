"""Skipped files with their reasons."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from photoseek.core.records import Problem
from photoseek.gui.models.problems import PATH_ROLE, ProblemsModel
from tests.conftest import make_photos, run_index, tiny_library


def test_rows_show_the_file_and_its_reason(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = ProblemsModel()
    qtmodeltester.check(model)
    model.set_problems(
        [Problem(Path("/p/broken.jpg"), "truncated JPEG"), Problem(Path("/p/caf\udce9.png"), "x")]
    )
    qtmodeltester.check(model)
    assert (model.rowCount(), model.columnCount()) == (2, 2)
    assert model.index(0, 0).data() == "broken.jpg"
    assert model.index(0, 1).data() == "truncated JPEG"
    assert model.index(1, 0).data() == "$'caf\\xe9.png'"  # one line, names the very file
    assert model.index(0, 0).data(PATH_ROLE) == Path("/p/broken.jpg")
    assert "/p/broken.jpg" in model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Reason"


def test_filled_from_a_real_library(qtmodeltester, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "photos"
    make_photos(folder, 2)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with tiny_library(tmp_path / "data") as library:
        library.add_folder(folder)
        run_index(library)
        model = ProblemsModel()
        model.set_problems(library.problems())
        qtmodeltester.check(model)
    assert model.rowCount() == 1
    assert model.index(0, 0).data() == "broken.jpg" and model.index(0, 1).data()
