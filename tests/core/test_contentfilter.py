"""The content filter hides matching photos from every read and count, reveals them on
request, scores new photos in the transaction that stores their vectors, and touches no file."""

from __future__ import annotations

from pathlib import Path

import pytest

from photoseek.core.errors import LibraryError
from photoseek.core.library import Library
from photoseek.core.search.searcher import SearchOptions
from photoseek.core.zeroshot.labels import Label, LabelSet
from photoseek.core.zeroshot.templates import template_set
from tests.conftest import make_photos, run_index

EVERYTHING, NOTHING = -2.0, 2.0  # margins lie in [-2, 2]


@pytest.fixture
def indexed(library: Library, tmp_path: Path) -> Library:
    make_photos(tmp_path / "pics", 10)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    library.tag(LabelSet("t", (Label("dog"), Label("cat"))), template_set("photo"))
    library.set_tag_threshold(EVERYTHING)
    return library


def _visible(library: Library, **show: bool) -> dict[str, int]:
    album = library.album_results("all", limit=100, **show).hits
    return {
        "search": len(library.search("a photo", SearchOptions(limit=100, **show)).hits),
        "browse": len(library.browse(limit=100, **show).photos),
        "names": len(library.name_matches("photo", **show)),
        "album": len(album),
        "tag dog": dict(library.tags(**show)).get("dog", 0),
    }


def test_the_filter_hides_everywhere_and_reveals_on_request(
    indexed: Library, tmp_path: Path
) -> None:
    indexed.save_album("all", "a photo", min_score=-1.0)
    everything = {"search": 10, "browse": 10, "names": 10, "album": 10, "tag dog": 10}
    assert _visible(indexed) == everything
    assert indexed.content_filter() == [] and indexed.hidden_count() == 0
    assert indexed.set_content_filter(["medical images", "screenshots of chats"]) >= 0
    assert indexed.content_filter() == ["medical images", "screenshots of chats"]
    assert indexed.set_content_filter_threshold(EVERYTHING) == 10
    nothing = {"search": 0, "browse": 0, "names": 0, "album": 0, "tag dog": 0}
    assert _visible(indexed) == nothing
    assert _visible(indexed, show_hidden=True) == everything
    assert indexed.status().hidden == 10
    (stats,) = indexed.folder_stats()
    assert (stats.indexed, stats.hidden) == (0, 10)  # hidden, not counted as shown
    assert indexed.export_album("all", tmp_path / "out").made == 0
    assert indexed.export_album("all", tmp_path / "out2", show_hidden=True).made == 10
    assert indexed.set_content_filter_threshold(NOTHING) == 0
    assert _visible(indexed) == everything
    assert all(p.exists() for p in (tmp_path / "pics").iterdir())  # nothing moved or deleted


def test_name_matches_leave_out_hidden_photos(indexed: Library) -> None:
    indexed.set_content_filter(["screenshots"])
    indexed.set_content_filter_threshold(EVERYTHING)
    assert indexed.name_matches("photo") == []


def test_a_new_photo_is_never_shown_unfiltered(indexed: Library, tmp_path: Path) -> None:
    indexed.set_content_filter(["photos of ID documents"])
    indexed.set_content_filter_threshold(EVERYTHING)
    make_photos(tmp_path / "pics", 3, start=100)
    run_index(indexed)
    assert indexed.hidden_count() == 13
    assert indexed.search("a photo", SearchOptions(limit=100)).hits == []
    assert len(indexed.search("a photo", SearchOptions(limit=100, show_hidden=True)).hits) == 13


def test_the_filter_is_off_by_default_and_can_be_turned_off(indexed: Library) -> None:
    with pytest.raises(LibraryError, match="off"):
        indexed.set_content_filter_threshold(0.0)
    indexed.set_content_filter(["x-rays"])
    indexed.set_content_filter_threshold(EVERYTHING)
    assert indexed.set_content_filter([]) == 0
    assert indexed.content_filter() == [] and indexed.hidden_count() == 0
    assert len(indexed.browse(limit=100).photos) == 10
    assert dict(indexed.tags())["dog"] == 10  # tags untouched by the filter's changes
