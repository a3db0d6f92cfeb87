import sqlite3
from pathlib import Path

import numpy as np
import pytest

from photoseek.core.catalog import batchwrites, migrations
from photoseek.core.catalog.store import Catalog
from photoseek.core.errors import LibraryError, SchemaTooNewError
from photoseek.core.imaging.decoders import decoder_tag
from photoseek.core.indexing.fingerprint import FULL_HASH_LIMIT, fingerprint
from photoseek.core.records import ModelIdentity, PhotoMeta, WorkItem

IDENTITY = ModelIdentity("arch", "tag", "sha256:1", 4)
TAG = decoder_tag("jpeg")


def test_new_catalog_uses_wal_and_big_pages(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    catalog.close()
    conn = sqlite3.connect(tmp_path / "c.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA page_size").fetchone()[0] == migrations.PAGE_SIZE
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.latest_version()


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    Catalog(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNewError, match="newer photoseek"):
        Catalog(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 99


def test_migration_backs_up_first_and_keeps_data(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "c.sqlite3"
    catalog = Catalog(path)
    catalog.set_meta("hello", "world")
    catalog.close()
    current = migrations.latest_version()

    def to_next(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE photos ADD COLUMN rating INTEGER")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, to_next])
    catalog = Catalog(path)
    assert catalog.get_meta("hello") == "world"
    backup = path.with_name(f"c.sqlite3.bak-v{current}")
    assert backup.is_file()
    assert sqlite3.connect(backup).execute("PRAGMA user_version").fetchone()[0] == current
    catalog.close()


def test_failed_migration_rolls_back(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "c.sqlite3"
    Catalog(path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE photos ADD COLUMN rating INTEGER")
        conn.execute("THIS IS NOT SQL")

    current = migrations.latest_version()
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, broken])
    with pytest.raises(LibraryError, match=f"migration to v{current + 1} failed"):
        Catalog(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == current
    columns = [r[1] for r in conn.execute("PRAGMA table_info(photos)")]
    assert "rating" not in columns


def test_nested_folders(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    inner = catalog.add_folder(tmp_path / "a" / "b", None).folder
    catalog.record_scan(inner.id, [(tmp_path / "a" / "b" / "x.jpg", 1, 1, 0)], [], [], [])
    with pytest.raises(LibraryError, match="already in the library"):
        catalog.add_folder(tmp_path / "a" / "b" / "c", None)
    outer = catalog.add_folder(tmp_path / "a", None)
    assert outer.created and outer.absorbed == [tmp_path / "a" / "b"]
    assert [f.path for f in catalog.folders()] == [tmp_path / "a"]
    assert catalog.folders()[0].photo_count == 1
    assert outer.folder.photo_count == 1
    again = catalog.add_folder(tmp_path / "a", None)
    assert not again.created and again.folder.id == outer.folder.id


def _item(catalog: Catalog, folder_id: int, path: Path) -> WorkItem:
    state = catalog.photo_states(folder_id)[path]
    return WorkItem(state.id, path, state.size, state.mtime_ns)


def test_moved_photo_adopts_its_tombstone(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    folder = catalog.add_folder(tmp_path, None).folder
    model = catalog.model_id(IDENTITY)
    assert model is not None
    old_path, new_path = tmp_path / "old.jpg", tmp_path / "new.jpg"
    catalog.record_scan(folder.id, [(old_path, 10, 1, 0)], [], [], [])
    old = _item(catalog, folder.id, old_path)
    with catalog.transaction() as tx:
        batchwrites.store_embedding(tx, model, "fp", np.ones(4, dtype=np.float32) / 2, TAG)
        batchwrites.mark_indexed(tx, old, "fp", PhotoMeta("jpeg", 4, 3, None))
    catalog.record_scan(folder.id, [(new_path, 10, 2, 0)], [], [old.id], [])
    new = _item(catalog, folder.id, new_path)
    assert new.id != old.id
    with catalog.transaction() as tx:
        kept = batchwrites.mark_indexed(tx, new, "fp", None)
    assert kept == old.id
    record = catalog.photos([old.id])[old.id]
    assert record.path == new_path and record.width == 4
    assert catalog.live_ids(model) == {old.id}
    assert catalog.photos([new.id]) == {}


def test_fingerprint_is_content_identity(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    a.write_bytes(b"x" * 1000)
    b.write_bytes(b"x" * 1000)
    c.write_bytes(b"x" * 999 + b"y")
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)


def test_fingerprint_of_large_file_samples_the_middle(tmp_path: Path) -> None:
    size = FULL_HASH_LIMIT + 10 * 1024 * 1024
    one, two = tmp_path / "one", tmp_path / "two"
    with one.open("wb") as handle:
        handle.truncate(size)
    with two.open("wb") as handle:
        handle.truncate(size)
    with two.open("r+b") as handle:  # change 5 MB in the middle only
        handle.seek(size // 2)
        handle.write(b"\1" * 5 * 1024 * 1024)
    assert fingerprint(one) != fingerprint(two)
    assert fingerprint(one).startswith(f"{size:x}-")
