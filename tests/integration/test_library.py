"""The Library facade end to end with the tiny random-weight model."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoseek.core.errors import LibraryError, QueryError
from photoseek.core.library import Library
from photoseek.core.search.searcher import SearchFilters, SearchOptions
from photoseek.paths import resolve_paths
from tests.conftest import make_photo, make_photos, run_index, tiny_library, tiny_settings


def _reopen(library: Library) -> Library:
    library.close()
    return Library(library.paths, tiny_settings())


def test_index_then_similar_finds_the_photo_first(library: Library, tmp_path: Path) -> None:
    photos = make_photos(tmp_path / "pics", 30)
    library.add_folder(tmp_path / "pics")
    last = run_index(library)
    assert (last.phase, last.done, last.embedded, last.problems) == ("done", 30, 30, 0)
    for path in photos[:5]:
        hits = library.similar(path, SearchOptions(limit=3)).hits
        assert hits[0].photo.path == path
        assert hits[0].score == pytest.approx(1.0, abs=1e-3)
    assert library.thumbnail(hits[0].photo.id) is not None


def test_second_index_does_nothing(library: Library, tmp_path: Path) -> None:
    make_photos(tmp_path / "pics", 10)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    last = run_index(library)
    assert (last.total, last.embedded) == (0, 0)


def test_changed_file_is_reembedded_and_deleted_file_leaves(
    library: Library, tmp_path: Path
) -> None:
    photos = make_photos(tmp_path / "pics", 6)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    make_photo(photos[0], 999, size=(200, 150))
    photos[1].unlink()
    last = run_index(library)
    assert (last.total, last.embedded) == (1, 1)
    assert library.similar(photos[0]).hits[0].photo.width == 200
    found = {h.photo.path for h in library.search("anything", SearchOptions(limit=50)).hits}
    assert photos[1] not in found and len(found) == 5


def test_moved_folder_and_copies_reuse_embeddings(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_photos(root / "trip", 12)
    library.add_folder(root)
    run_index(library)
    ids_before = {h.photo.id for h in library.search("x", SearchOptions(limit=50)).hits}
    shutil.move(root / "trip", root / "renamed trip")
    shutil.copytree(root / "renamed trip", root / "copy")
    last = run_index(library)
    assert last.embedded == 0  # nothing is embedded again
    assert last.reused == 12  # the copies reuse vectors; the moved files were paired at scan
    hits = library.search("x", SearchOptions(limit=50)).hits
    assert len(hits) == 24
    moved_ids = {h.photo.id for h in hits if "renamed trip" in str(h.photo.path)}
    assert moved_ids == ids_before  # the moved photos kept their ids


def test_unavailable_folder_keeps_its_photos(library: Library, tmp_path: Path) -> None:
    make_photos(tmp_path / "disk" / "pics", 5)
    library.add_folder(tmp_path / "disk" / "pics")
    run_index(library)
    shutil.move(tmp_path / "disk", tmp_path / "unplugged")
    run_index(library)
    (folder,) = library.folders()
    assert folder.status == "unavailable" and folder.photo_count == 5
    hits = library.search("x").hits
    assert len(hits) == 5 and not hits[0].photo.folder_available
    shutil.move(tmp_path / "unplugged", tmp_path / "disk")
    last = run_index(library)
    assert last.embedded == 0 and library.folders()[0].status == "ok"


def test_filters_and_sorting(library: Library, tmp_path: Path) -> None:
    old = make_photo(tmp_path / "pics" / "a" / "old.jpg", 1)
    new = make_photo(tmp_path / "pics" / "b" / "new.jpg", 2)
    png = tmp_path / "pics" / "b" / "pic.png"
    Image.open(new).save(png)
    _set_taken_at(old, "2001:02:03 04:05:06")
    _set_taken_at(new, "2020:01:01 00:00:00")
    library.add_folder(tmp_path / "pics")
    run_index(library)

    def paths(**filters) -> set[Path]:
        options = SearchOptions(limit=10, filters=SearchFilters(**filters))
        return {h.photo.path for h in library.search("a photo", options).hits}

    assert paths(folder=tmp_path / "pics" / "a") == {old}
    assert paths(date_from=date(2001, 2, 3), date_to=date(2001, 2, 3)) == {old}
    assert paths(date_from=date(2010, 1, 1)) >= {new}
    assert paths(formats=frozenset({"png"})) == {png}
    by_date = library.search("a photo", SearchOptions(limit=10, sort="date")).hits
    dates = [h.photo.taken_at or "9999" for h in by_date]
    assert by_date[-1].photo.path == old and dates[-1] == "2001-02-03T04:05:06"
    cut = library.search("a photo", SearchOptions(limit=10, min_score=1.01)).hits
    assert cut == []


def _set_taken_at(path: Path, stamp: str) -> None:
    image = Image.open(path)
    exif = image.getexif()
    exif.get_ifd(0x8769)[0x9003] = stamp
    image.save(path, exif=exif, quality=90)


def test_weighted_and_negative_queries(library: Library, tmp_path: Path) -> None:
    photos = make_photos(tmp_path / "pics", 20)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    searcher = library._searcher()
    text = library.embedder.encode_text("beach").vector
    image = searcher.image_vector(photos[3])
    expected = text + 0.5 * image - library.embedder.encode_text("people").vector
    expected /= np.linalg.norm(expected)
    hits = library.search(f'"beach" + 0.5*@{photos[3]} - "people"', SearchOptions(limit=20)).hits
    vectors = library.catalog.vectors(library.model_id, [h.photo.id for h in hits], 32)
    # the index scores the stored vectors normalised (cosine); their float16 copies in the
    # catalog have norms within 1e-4 of 1 (measured 1.00001-1.00003)
    assert np.allclose(vectors @ expected, [h.score for h in hits], atol=1e-4)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    with pytest.raises(QueryError, match="not found"):
        library.search("@/nonexistent.jpg")


def test_search_equals_exact_search(library: Library, tmp_path: Path) -> None:
    make_photos(tmp_path / "pics", 150)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    ids = sorted(library.catalog.live_ids(library.model_id))
    matrix = library.catalog.vectors(library.model_id, ids, 32)
    for query in ("red", "a dog", "blue sky", "kite", "beach at sunset"):
        vector = library.embedder.encode_text(query).vector
        exact = [ids[i] for i in np.argsort(-(matrix @ vector))[:10]]
        got = [h.photo.id for h in library.search(query, SearchOptions(limit=10)).hits]
        assert got == exact


def test_an_id_the_index_holds_but_the_catalog_no_longer_searches_is_dropped(
    library: Library, tmp_path: Path
) -> None:
    """A commit between the index's catch-up and the search (here: the index not told)."""
    make_photos(tmp_path / "pics", 30)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    searcher = library._searcher()
    vector = library.embedder.encode_text("red").vector
    before = searcher.rank(vector, SearchOptions(limit=5), []).hits
    gone = [before[0].photo.id, before[2].photo.id]
    with library.catalog.transaction() as tx:
        tx.executemany("UPDATE photos SET status = 'pending' WHERE id = ?", [(i,) for i in gone])
    assert all(i in searcher.index for i in gone)
    after = searcher.rank(vector, SearchOptions(limit=5), []).hits
    assert len(after) == 5 and not {h.photo.id for h in after} & set(gone)
    kept = [h.photo.id for h in before if h.photo.id not in gone]
    assert [h.photo.id for h in after][:3] == kept


def test_corrupt_or_truncated_index_is_rebuilt(library: Library, tmp_path: Path) -> None:
    photos = make_photos(tmp_path / "pics", 20)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    index_file = library.index_path
    data = index_file.read_bytes()
    for damaged in (data[: len(data) // 2], data[:100] + b"\xff" * 64 + data[164:]):
        index_file.write_bytes(damaged)
        library = _reopen(library)
        assert library.similar(photos[4]).hits[0].photo.path == photos[4]
        assert "rebuilt" in library.index_health()
    index_file.unlink()
    library = _reopen(library)
    assert len(library.vector_index) == 20
    library.close()


def test_missing_folder_and_read_only_errors(tmp_path: Path) -> None:
    with (
        Library(resolve_paths(tmp_path / "data"), tiny_settings()) as library,
        pytest.raises(LibraryError, match="not a folder"),
    ):
        library.add_folder(tmp_path / "nope")
    with (
        Library(resolve_paths(tmp_path / "data"), tiny_settings(), read_only=True) as reader,
        pytest.raises(LibraryError, match="read-only"),
    ):
        next(iter(reader.index()))


def test_move_reported_before_departure_keeps_id_even_with_a_copy(
    library: Library, tmp_path: Path
) -> None:
    """A watcher may report arrivals (here a move and a copy) before the departure."""
    from photoseek.core.records import Changes

    root = tmp_path / "root"
    (original,) = make_photos(root / "a", 1)
    library.add_folder(root)
    run_index(library)
    (old_id,) = library.catalog.live_ids(library.model_id)
    (root / "b").mkdir()
    (root / "c").mkdir()
    moved = Path(shutil.move(original, root / "b" / original.name))
    copied = Path(shutil.copy(moved, root / "c" / original.name))
    for _ in library.apply_changes(Changes(trees={root / "b", root / "c"})):
        pass
    records = {
        r.path: r.id
        for r in library.catalog.photos(sorted(library.catalog.live_ids(library.model_id))).values()
    }
    assert set(records) == {moved, copied}  # neither arrival was lost
    assert old_id in records.values()  # one of them kept the photo's id


def test_an_index_run_that_changes_nothing_does_not_rewrite_the_index(
    library: Library, tmp_path: Path
) -> None:
    make_photos(tmp_path / "pics", 5)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    saved_at = library.index_path.stat().st_mtime_ns
    run_index(library)
    assert library.index_path.stat().st_mtime_ns == saved_at
    make_photo(tmp_path / "pics" / "new.jpg", 77)
    run_index(library)
    assert library.index_path.stat().st_mtime_ns != saved_at


def test_the_work_is_read_from_the_catalog_a_batch_at_a_time(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each read of pending work runs on the indexing thread while the model waits for its
    next batch; reading it once per photo taken cost 2-7 ms a photo at every batch's start."""
    from photoseek.core.catalog.store import Catalog

    reads: list[int] = []
    original = Catalog.pending_page

    def counted(self: Catalog, *args: object, **kwargs: object) -> object:
        reads.append(1)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Catalog, "pending_page", counted)
    make_photos(tmp_path / "pics", 48)
    library = tiny_library(data_dir, batch_size=4)
    try:
        library.add_folder(tmp_path / "pics")
        last = run_index(library)
    finally:
        library.close()
    assert (last.phase, last.done, last.embedded) == ("done", 48, 48)
    assert len(reads) <= 48 // 4 + 3  # a page per batch, and the reads that find none
