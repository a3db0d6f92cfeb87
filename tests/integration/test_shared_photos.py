"""End to end on the real photos in ../shared/photos (skipped when absent)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from photoseek.core.library import Library
from photoseek.core.search.searcher import SearchOptions
from tests.conftest import run_index


def test_every_format_indexes_and_the_text_file_is_a_problem(
    library: Library, shared_photos: Path
) -> None:
    formats = shared_photos / "formats"
    library.add_folder(formats)
    last = run_index(library)
    files = sorted(p for p in formats.iterdir() if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.name != "not-an-image.txt"]
    problems = {p.path: p.reason for p in library.problems()}
    assert set(problems) == {formats / "not-an-image.txt"}
    assert "not an image" in problems[formats / "not-an-image.txt"]
    assert last.done == len(files)
    for path in images:
        hits = library.similar(path, SearchOptions(limit=5)).hits
        assert path in {h.photo.path for h in hits if h.score > 0.999}, path.name


@pytest.mark.slow
def test_coco_similar_returns_the_query_photo_first(
    library: Library, shared_photos: Path, tmp_path: Path
) -> None:
    coco = shared_photos / "coco" / "images"
    library.add_folder(coco)
    last = run_index(library)
    photos = sorted(coco.glob("*.jpg"))
    assert last.phase == "done" and last.problems == 0 and last.embedded == len(photos)
    for path in photos[::25]:
        hits = library.similar(path, SearchOptions(limit=5)).hits
        assert hits[0].photo.path == path
        assert hits[0].score == pytest.approx(1.0, abs=1e-3)
    # an image file outside the library works as a query too
    outside = shutil.copy(photos[3], tmp_path / "query.jpg")
    assert library.similar(Path(outside)).hits[0].photo.path == photos[3]
