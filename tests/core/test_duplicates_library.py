"""Duplicates through the library: schema v5, the indexer's pHash, later hashes, offline folders."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from PIL import Image

from photoseek.core.catalog.migrations import latest_version
from photoseek.core.catalog.store import Catalog
from photoseek.core.duplicates.phash import hamming, phash_image
from photoseek.core.errors import Cancelled
from photoseek.core.imaging.decode import decode_image
from photoseek.core.library import Library
from photoseek.core.progress import Phase, Progress
from photoseek.core.writerlock import WriterLock
from photoseek.paths import resolve_paths
from tests.conftest import make_photos, run_index, tiny_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NO_EMBEDDING = 1.01  # above any cosine: the pHash and same-content tests alone


def test_a_v4_catalog_gains_the_phash_table_and_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    shutil.copy(FIXTURES / "catalog-v4.sqlite3", path)
    catalog = Catalog(path)
    try:
        assert catalog.integrity_check() == "ok"
        assert catalog.embedding_count(1) == 3
        space = catalog.tag_space(1)
        assert space is not None and space.labels == ("dog", "cat")
        assert [album.name for album in catalog.albums()] == ["dogs"]
        rows = catalog.duplicate_rows(1)
        assert len(rows) == 3 and all(row.phash is None for row in rows)  # none before v5
        catalog.store_phashes([(rows[0].fingerprint, 2**64 - 2)])
        assert catalog.phash_of(rows[0].fingerprint) == 2**64 - 2
    finally:
        catalog.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version() == 5
    assert (tmp_path / "catalog.sqlite3.bak-v4").exists()
    backup = sqlite3.connect(tmp_path / "catalog.sqlite3.bak-v4")
    assert backup.execute("PRAGMA user_version").fetchone()[0] == 4


@pytest.fixture
def indexed(library: Library, tmp_path: Path) -> Library:
    pics = tmp_path / "pics"
    make_photos(pics, 6, start=0)
    shutil.copy(pics / "photo_00000.jpg", pics / "copy of 0.jpg")
    with Image.open(pics / "photo_00001.jpg") as one:
        one.resize((80, 60)).save(pics / "photo 1 small.jpg", quality=70)
    library.add_folder(pics)
    run_index(library)
    return library


def _ids(library: Library, limits: float = NO_EMBEDDING) -> list[list[str]]:
    report = library.duplicates(limits)
    return [sorted(photo.path.name for photo in group.photos) for group in report.groups]


def test_the_indexer_stores_the_hash_of_what_it_decoded(indexed: Library) -> None:
    rows = indexed.catalog.duplicate_rows(indexed.model_id)
    assert len(rows) == 8 and all(row.phash is not None for row in rows)
    for row in rows:
        direct = phash_image(decode_image(Path(row.path.decode())).image)
        assert row.phash is not None and int(hamming(row.phash, direct)) <= 2
    assert _ids(indexed) == [
        ["copy of 0.jpg", "photo_00000.jpg"],
        ["photo 1 small.jpg", "photo_00001.jpg"],
    ]


def test_a_library_indexed_before_hashes_gets_them_once(indexed: Library) -> None:
    with indexed.catalog.transaction() as tx:
        tx.execute("DELETE FROM phashes")
    thumbnail = indexed.thumbnails.path_for(indexed.catalog.duplicate_rows(1)[0].fingerprint)
    thumbnail.unlink()  # this one is hashed from its file, the others from their thumbnails
    seen: list[Progress] = []
    report = indexed.duplicates(NO_EMBEDDING, on_progress=seen.append)
    assert report.hashed == 7 and report.stored  # two files of one content: one hash
    assert [p.done for p in seen if p.phase == Phase.HASHING][-1] == 7
    assert [p.phase for p in seen][-1] == Phase.DUPLICATES
    assert len(report.groups) == 2
    rows = indexed.catalog.duplicate_rows(indexed.model_id)
    assert all(row.phash is not None for row in rows)
    assert indexed.duplicates(NO_EMBEDDING).hashed == 0


def test_beside_another_writer_the_hashes_are_kept_for_the_session(
    indexed: Library, data_dir: Path
) -> None:
    with indexed.catalog.transaction() as tx:
        tx.execute("DELETE FROM phashes")
    other = WriterLock(resolve_paths(data_dir).lock_file)
    other.acquire("a watch service")  # as if another process
    try:
        report = indexed.duplicates(NO_EMBEDDING)
        assert report.hashed == 7 and not report.stored
        assert len(report.groups) == 2
        again = indexed.duplicates(NO_EMBEDDING)
        assert again.hashed == 0 and len(again.groups) == 2  # from memory
    finally:
        other.release()
    assert all(r.phash is None for r in indexed.catalog.duplicate_rows(indexed.model_id))


def test_a_read_only_library_finds_duplicates_without_writing(indexed: Library) -> None:
    with indexed.catalog.transaction() as tx:
        tx.execute("DELETE FROM phashes")
    indexed.close()
    reader = Library(indexed.paths, tiny_settings(), read_only=True)
    try:
        report = reader.duplicates(NO_EMBEDDING)
        assert report.hashed == 7 and not report.stored and len(report.groups) == 2
    finally:
        reader.close()


def test_photos_of_an_unavailable_folder_are_left_out(indexed: Library, tmp_path: Path) -> None:
    elsewhere = tmp_path / "usb"
    elsewhere.mkdir()
    shutil.copy(tmp_path / "pics" / "photo_00002.jpg", elsewhere / "2.jpg")
    indexed.add_folder(elsewhere)
    run_index(indexed)
    assert len(_ids(indexed)) == 3
    (folder,) = [f for f in indexed.folders() if f.path == elsewhere.resolve()]
    indexed.catalog.set_folder_state(folder.id, "unavailable", "unplugged")
    report = indexed.duplicates(NO_EMBEDDING)
    assert report.offline == 1 and report.photos == 8 and len(report.groups) == 2


def test_the_threshold_is_the_models_unless_given(indexed: Library) -> None:
    default = indexed.duplicate_thresholds()
    assert indexed.duplicates().thresholds == default
    assert indexed.duplicates(0.5, phash_distance=0).thresholds.phash_distance == 0
    (everything,) = indexed.duplicates(-1.0).groups  # every neighbour joins: one group
    assert len(everything.photos) == 8


def test_a_cancelled_search_raises(indexed: Library) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        indexed.duplicates(cancel=cancel)
