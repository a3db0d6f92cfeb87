"""Name matches, exclude patterns, relocating a folder, retrying problems, folder stats."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from photoseek.core.errors import LibraryError
from photoseek.core.library import Library
from photoseek.core.search import nameindex
from photoseek.core.search.names import name_words
from photoseek.core.watch.excludes import check_patterns, excluder
from tests.conftest import make_photo, make_photos, run_index


def test_name_words_ignore_the_query_syntax() -> None:
    assert name_words('0.5*"Kite" + @/x/a.jpg - beach 2019') == ["beach", "2019", "kite"]
    assert name_words("a b") == []


def test_names_match_the_visible_path_only(library: Library, tmp_path: Path) -> None:
    home = tmp_path / "home" / "alice"
    kite = make_photo(home / "Holidays" / "2019 Kite festival" / "IMG_1.jpg", 1)
    make_photo(home / "Holidays" / "2020" / "IMG_2.jpg", 2)
    eté = make_photo(home / "Holidays" / "Été" / "IMG_3.jpg", 3)
    library.add_folder(home / "Holidays")
    run_index(library)
    assert [r.path for r in library.name_matches("kite 2019")] == [kite]
    assert [r.path for r in library.name_matches("KITE festival")] == [kite]
    assert library.name_matches("alice") == []  # above the library folder: not what you see
    assert [r.path for r in library.name_matches("été")] == [eté]
    assert len(library.name_matches("holidays img")) == 3
    assert library.name_matches("holidays", folder=home / "Holidays" / "2020")[0].path.name == (
        "IMG_2.jpg"
    )


@pytest.mark.parametrize("overlay_min", [0, 500], ids=["rebuilt", "overlaid"])
def test_name_matches_follow_the_library(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overlay_min: int
) -> None:
    """Names are matched in memory (a catalog scan per keystroke cost 320 ms at 100,000
    photos); what the library gains, moves and loses shows at the next query, whether
    the changes are scanned beside the snapshot or the snapshot is rebuilt."""
    monkeypatch.setattr(nameindex, "OVERLAY_MIN", overlay_min)
    monkeypatch.setattr(nameindex, "OVERLAY_SHARE", 0.0)
    pics = tmp_path / "pics"
    make_photo(pics / "beach.jpg", 1)
    library.add_folder(pics)
    run_index(library)
    assert library.name_matches("kite") == []
    kite = make_photo(pics / "Kite day" / "one.jpg", 2)
    run_index(library)
    assert [r.path for r in library.name_matches("kite")] == [kite]
    kite.rename(pics / "Kite day" / "two.jpg")
    run_index(library)
    assert [r.path.name for r in library.name_matches("kite two")] == ["two.jpg"]
    assert library.name_matches("kite one") == []
    make_photo(pics / "Kite day" / "three.jpg", 3)
    run_index(library)
    assert len(library.name_matches("kite day")) == 2
    assert len(library.name_matches("kite day", limit=1)) == 1
    shutil.rmtree(pics / "Kite day")
    run_index(library)
    assert library.name_matches("kite") == []
    assert [r.path.name for r in library.name_matches("BEACH")] == ["beach.jpg"]


def test_names_match_case_insensitively_beyond_ascii(library: Library, tmp_path: Path) -> None:
    """Words SQLite cannot lower-case (non-ASCII) match in any case."""
    old = make_photo(tmp_path / "pics" / "Ärger" / "old.jpg", 1)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    assert [r.path for r in library.name_matches("ärger")] == [old]
    assert [r.path for r in library.name_matches("ÄRGER")] == [old]


def test_exclude_patterns(tmp_path: Path) -> None:
    root = tmp_path / "r"
    skip = excluder(root, check_patterns(["*.tmp.jpg", "Screenshots", "2019/private", " "]))
    assert skip is not None
    assert skip(root / "a" / "x.tmp.jpg")
    assert skip(root / "deep" / "screenshots" / "a.jpg")
    assert skip(root / "2019" / "private" / "b" / "c.jpg")
    assert not skip(root / "2020" / "private" / "c.jpg")
    assert not skip(root / "a.jpg")
    assert excluder(root, []) is None
    with pytest.raises(LibraryError, match="everything"):
        check_patterns(["*"])


def test_excluded_photos_leave_the_library_and_are_not_scanned(
    library: Library, tmp_path: Path
) -> None:
    make_photos(tmp_path / "pics", 3)
    make_photos(tmp_path / "pics" / "Screenshots", 2, start=10)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    assert library.folder_stats()[0].indexed == 5
    folder = library.set_excludes(tmp_path / "pics", ["screenshots"])
    assert folder.excludes == ("screenshots",)
    run_index(library)
    stats = library.folder_stats()[0]
    assert (stats.indexed, stats.pending, stats.problems) == (3, 0, 0)
    make_photo(tmp_path / "pics" / "Screenshots" / "new.jpg", 99)
    assert run_index(library).done == 0  # not even looked at


def test_a_relocated_folder_keeps_ids_and_reads_nothing_again(
    library: Library, tmp_path: Path
) -> None:
    make_photos(tmp_path / "disk1" / "photos", 6)
    library.add_folder(tmp_path / "disk1" / "photos")
    run_index(library)
    before = {r.path.name: r.id for r in library.browse().photos}
    shutil.copytree(tmp_path / "disk1", tmp_path / "disk2", copy_function=shutil.copy2)
    shutil.rmtree(tmp_path / "disk1")
    run_index(library)  # the old place is gone: unavailable, photos kept
    assert library.folders()[0].status == "unavailable"
    moved = library.relocate_folder(tmp_path / "disk1" / "photos", tmp_path / "disk2" / "photos")
    assert moved.path == tmp_path / "disk2" / "photos" and moved.status == "ok"
    last = run_index(library)
    assert last.done == 0  # same sizes and mtimes: nothing read again, nothing re-hashed
    after = {r.path.name: r.id for r in library.browse().photos}
    assert after == before
    assert all(r.path.parent == moved.path for r in library.browse().photos)
    with pytest.raises(LibraryError, match="not a folder"):
        library.relocate_folder(moved.path, tmp_path / "nowhere")


def test_retry_problems(library: Library, tmp_path: Path) -> None:
    make_photos(tmp_path / "pics", 2)
    (tmp_path / "pics" / "x.jpg").write_bytes(b"not yet")
    library.add_folder(tmp_path / "pics")
    run_index(library)
    assert len(library.problems()) == 1
    assert library.retry_problems() == 1
    assert library.problems() == [] and library.folder_stats()[0].pending == 1
    run_index(library)
    assert len(library.problems()) == 1
