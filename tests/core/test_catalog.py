import sqlite3
from pathlib import Path

import numpy as np
import pytest

from photoseek.core.catalog import batchwrites, migrations
from photoseek.core.catalog.store import Catalog
from photoseek.core.errors import LibraryError, SchemaTooNewError
from photoseek.core.indexing.fingerprint import FULL_HASH_LIMIT, fingerprint
from photoseek.core.records import ModelIdentity, PhotoMeta

IDENTITY = ModelIdentity("arch", "tag", "sha256:1", 4)


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

    def to_v2(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE photos ADD COLUMN rating INTEGER")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, to_v2])
    catalog = Catalog(path)
    assert catalog.get_meta("hello") == "world"
    backup = path.with_name("c.sqlite3.bak-v1")
    assert backup.is_file()
    assert sqlite3.connect(backup).execute("PRAGMA user_version").fetchone()[0] == 1
    catalog.close()


def test_failed_migration_rolls_back(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "c.sqlite3"
    Catalog(path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE photos ADD COLUMN rating INTEGER")
        conn.execute("THIS IS NOT SQL")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, broken])
    with pytest.raises(LibraryError, match="migration to v2 failed"):
        Catalog(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    columns = [r[1] for r in conn.execute("PRAGMA table_info(photos)")]
    assert "rating" not in columns


def test_nested_folders(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    inner = catalog.add_folder(tmp_path / "a" / "b", None)
    catalog.record_scan(inner.id, [(tmp_path / "a" / "b" / "x.jpg", 1, 1, 0)], [], [], [])
    with pytest.raises(LibraryError, match="already in the library"):
        catalog.add_folder(tmp_path / "a" / "b" / "c", None)
    outer = catalog.add_folder(tmp_path / "a", None)
    assert [f.path for f in catalog.folders()] == [tmp_path / "a"]
    assert catalog.folders()[0].photo_count == 1
    assert outer.photo_count == 1


def test_moved_photo_adopts_its_tombstone(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    folder = catalog.add_folder(tmp_path, None)
    model = catalog.model_id(IDENTITY)
    assert model is not None
    old_path, new_path = tmp_path / "old.jpg", tmp_path / "new.jpg"
    catalog.record_scan(folder.id, [(old_path, 10, 1, 0)], [], [], [])
    old_id = catalog.photo_states(folder.id)[str(old_path)].id
    with catalog.transaction() as tx:
        batchwrites.store_embedding(tx, model, "fp", np.ones(4, dtype=np.float32) / 2)
        batchwrites.mark_indexed(tx, old_id, "fp", PhotoMeta("jpeg", 4, 3, None))
    catalog.record_scan(folder.id, [(new_path, 10, 2, 0)], [], [old_id], [])
    new_id = catalog.photo_states(folder.id)[str(new_path)].id
    assert new_id != old_id
    with catalog.transaction() as tx:
        kept = batchwrites.mark_indexed(tx, new_id, "fp", None)
    assert kept == old_id
    record = catalog.photos([old_id])[old_id]
    assert record.path == new_path and record.width == 4
    assert catalog.live_ids(model) == {old_id}
    assert catalog.photos([new_id]) == {}


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
