"""Schema v2: lossless paths, the change log, decoder tags, clear errors, read-only checks."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PureWindowsPath

import numpy as np
import pytest

from photoseek.core.catalog import batchwrites, pathcodec
from photoseek.core.catalog.dberrors import (
    CatalogDamagedError,
    CatalogLockedError,
    CatalogReadOnlyError,
    DiskFullError,
)
from photoseek.core.catalog.reads import BrowseCursor
from photoseek.core.catalog.store import Catalog
from photoseek.core.errors import LibraryError, SchemaTooNewError, SchemaTooOldError
from photoseek.core.imaging.decoders import decoder_tag
from photoseek.core.records import ModelIdentity, PhotoMeta, WorkItem

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IDENTITY = ModelIdentity("arch", "tag", "sha256:1", 4)
LATIN1 = os.fsdecode(b"caf\xe9")  # a name that is not valid UTF-8 (lone surrogate in Python)


def _vector(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(4).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _index_one(catalog: Catalog, model: int, item: WorkItem, fp: str, taken: str | None = None):
    with catalog.transaction() as tx:
        batchwrites.store_embedding(tx, model, fp, _vector(item.id), decoder_tag("jpeg"))
        return batchwrites.mark_indexed(tx, item, fp, PhotoMeta("jpeg", 4, 3, taken))


def _items(catalog: Catalog, folder_id: int) -> dict[Path, WorkItem]:
    return {
        path: WorkItem(s.id, path, s.size, s.mtime_ns)
        for path, s in catalog.photo_states(folder_id).items()
    }


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    cat = Catalog(tmp_path / "c.sqlite3")
    yield cat
    cat.close()


def test_version_1_catalog_migrates_losslessly(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    shutil.copy(FIXTURES / "catalog-v1.sqlite3", path)
    catalog = Catalog(path)
    assert (tmp_path / "catalog.sqlite3.bak-v1").is_file()
    assert catalog.integrity_check() == "ok"
    assert catalog._query("PRAGMA foreign_key_check") == []
    (folder,) = catalog.folders()
    assert folder.path.name == "Fotos – été" and folder.photo_count == 4
    states = catalog.photo_states(folder.id)
    assert {p.name for p in states} == {
        "DSC_0001.NEF",
        "note.txt",
        "photo_00000.jpg",
        "photo_00001.jpg",
        "photo_00002.jpg",
    }
    model = catalog.find_model("tiny-clip@71ada4ac9972", "none")
    assert model is not None and len(catalog.live_ids(model)) == 4
    # the RAW file's TIFF-preview vector and the v1 problem are redone by the next index
    work = {item.path.name for item in catalog.pending_work(model)}
    assert work == {"DSC_0001.NEF", "note.txt"}
    jpeg = catalog.photo_at(folder.path / "photo_00001.jpg")
    assert jpeg is not None and jpeg.sort_date  # the stored sort date was filled in
    catalog.close()


def test_undecodable_names_round_trip(catalog: Catalog, tmp_path: Path) -> None:
    root = tmp_path / LATIN1
    folder = catalog.add_folder(root, None).folder
    assert folder.path == root and os.fsencode(folder.path).endswith(b"caf\xe9")
    photo = root / f"{LATIN1}\nphoto.jpg"
    catalog.record_scan(folder.id, [(photo, 10, 1, 0)], [], [], [(root / "x", f"bad {LATIN1}")])
    assert set(catalog.photo_states(folder.id)) == {photo, root / "x"}
    model = catalog.model_id(IDENTITY)
    assert model is not None
    _index_one(catalog, model, _items(catalog, folder.id)[photo], "fp1")
    record = catalog.photo_at(photo)
    assert record is not None and record.path == photo
    problem = catalog.problems()[0]
    assert problem.path == root / "x" and problem.reason == "bad caf\\udce9"


def test_prefix_ranges_follow_the_platform_separator() -> None:
    low, high = pathcodec.prefix_range(PureWindowsPath("C:\\Photos\\2024"), sep="\\")
    assert (low, high) == (b"C:\\Photos\\2024\\", b"C:\\Photos\\2024]")
    inside, sibling = b"C:\\Photos\\2024\\a.jpg", b"C:\\Photos\\2024-old\\a.jpg"
    assert low <= inside < high and not low <= sibling < high
    assert pathcodec.prefix_range(PureWindowsPath("C:\\"), sep="\\")[0] == b"C:\\"
    assert pathcodec.prefix_range(Path("/"), sep="/") == (b"/", b"0")
    assert pathcodec.is_below(PureWindowsPath("C:\\A\\b.jpg"), PureWindowsPath("c:\\a"))
    assert not pathcodec.is_below(PureWindowsPath("C:\\Ab\\b.jpg"), PureWindowsPath("C:\\A"))


def test_directory_states_do_not_leak_into_sibling_folders(
    catalog: Catalog, tmp_path: Path
) -> None:
    folder = catalog.add_folder(tmp_path, None).folder
    files = [tmp_path / "a" / "1.jpg", tmp_path / "a" / "b" / "2.jpg", tmp_path / "a-b" / "3.jpg"]
    catalog.record_scan(folder.id, [(f, 1, 1, 0) for f in files], [], [], [])
    assert set(catalog.photo_states_under(folder.id, tmp_path / "a", recursive=True)) == set(
        files[:2]
    )
    assert set(catalog.photo_states_under(folder.id, tmp_path / "a", recursive=False)) == {files[0]}


def test_change_log_names_what_changed(catalog: Catalog, tmp_path: Path) -> None:
    folder = catalog.add_folder(tmp_path, None).folder
    model = catalog.model_id(IDENTITY)
    assert model is not None
    start = catalog.change_seq()
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    catalog.record_scan(folder.id, [(a, 1, 1, 0), (b, 2, 2, 0)], [], [], [])
    items = _items(catalog, folder.id)
    _index_one(catalog, model, items[a], "fa")
    _index_one(catalog, model, items[b], "fb")
    first = catalog.library_changes(start)
    assert sorted(first.new) == sorted(i.id for i in items.values()) and first.complete
    found = catalog.changes_after(start)
    assert found is not None
    newest, touched = found
    assert newest == catalog.change_seq() and {"added", "content", "state"} <= touched[items[a].id]
    assert catalog.live_among(model, list(touched)) == {items[a].id, items[b].id}

    catalog.record_scan(folder.id, [], [], [items[b].id], [])  # b deleted
    with catalog.transaction() as tx:  # a renamed (a tombstone adopted elsewhere, say)
        tx.execute(
            "UPDATE photos SET path = ? WHERE id = ?",
            (pathcodec.to_db(tmp_path / "c.jpg"), items[a].id),
        )
    later = catalog.library_changes(newest)
    assert later.removed == [items[b].id] and later.moved == [items[a].id]
    assert later.changed == [items[a].id] and later.new == []
    assert catalog.library_changes(later.version) == type(later)(version=later.version)


def test_trimmed_change_log_asks_followers_to_reload(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from photoseek.core.catalog import scans

    monkeypatch.setattr(scans, "CHANGE_LOG_KEEP", 3)
    folder = catalog.add_folder(tmp_path, None).folder
    catalog.record_scan(
        folder.id, [(tmp_path / f"{i}.jpg", i, i, 0) for i in range(10)], [], [], []
    )
    catalog.purge_tombstones()
    assert catalog.changes_after(0) is None
    assert not catalog.library_changes(0).complete
    recent = catalog.change_seq() - 2
    assert catalog.changes_after(recent) is not None


def test_writes_skip_rows_that_changed_since_they_were_queued(
    catalog: Catalog, tmp_path: Path
) -> None:
    folder = catalog.add_folder(tmp_path, None).folder
    model = catalog.model_id(IDENTITY)
    assert model is not None
    photo = tmp_path / "a.jpg"
    catalog.record_scan(folder.id, [(photo, 10, 1, 0)], [], [], [])
    queued = _items(catalog, folder.id)[photo]
    catalog.record_scan(folder.id, [], [(queued.id, 20, 2)], [], [])  # it changed meanwhile
    assert _index_one(catalog, model, queued, "stale") is None
    with catalog.transaction() as tx:
        assert not batchwrites.mark_error(tx, queued, "stale", None)
    assert catalog.live_ids(model) == set() and catalog.problems() == []
    catalog.remove_folder(tmp_path)  # another process removed the folder: nothing to write
    assert _index_one(catalog, model, queued, "gone") is None


def test_changed_content_keeps_its_fingerprint_for_reuse(catalog: Catalog, tmp_path: Path) -> None:
    folder = catalog.add_folder(tmp_path, None).folder
    model = catalog.model_id(IDENTITY)
    assert model is not None
    photo = tmp_path / "a.jpg"
    catalog.record_scan(folder.id, [(photo, 10, 1, 0)], [], [], [])
    item = _items(catalog, folder.id)[photo]
    _index_one(catalog, model, item, "fp")
    catalog.record_scan(folder.id, [], [(item.id, 10, 5)], [], [])  # touched: mtime only
    (work,) = catalog.pending_work(model)
    assert work.fingerprint == "fp" and work.mtime_ns == 5
    assert catalog.reusable_decoder(model, "fp") == decoder_tag("jpeg")
    with catalog.transaction() as tx:
        assert batchwrites.mark_indexed(tx, work, "fp", None) == item.id  # same id, no decode


def test_outdated_vectors_and_problems_are_work(catalog: Catalog, tmp_path: Path) -> None:
    folder = catalog.add_folder(tmp_path, None).folder
    model = catalog.model_id(IDENTITY)
    assert model is not None
    good, old, raw, bad = (tmp_path / n for n in ("g.jpg", "o.jpg", "r.nef", "b.txt"))
    catalog.record_scan(
        folder.id, [(p, i, i, 0) for i, p in enumerate((good, old, raw, bad))], [], [], []
    )
    items = _items(catalog, folder.id)
    _index_one(catalog, model, items[good], "g")
    _index_one(catalog, model, items[old], "o")
    with catalog.transaction() as tx:
        tx.execute("UPDATE embeddings SET decoder = 'jpeg/0;prep/1' WHERE fingerprint = 'o'")
        batchwrites.mark_error(tx, items[raw], "camera RAW", "r", decoder_tag("raw"))
        batchwrites.mark_error(tx, items[bad], "not an image", "b", None)
    outdated = catalog.outdated(model)
    assert outdated.vectors == ("jpeg/0;prep/1",) and outdated.problems == ("",)
    assert {i.path for i in catalog.pending_work(model)} == {old, bad}
    assert catalog.pending_count(model, outdated) == 2
    page = catalog.pending_page(model, outdated, limit=1, skip={items[old].id})
    assert [i.path for i in page] == [bad]


def test_browse_pages_newest_first(catalog: Catalog, tmp_path: Path) -> None:
    folder = catalog.add_folder(tmp_path, None).folder
    model = catalog.model_id(IDENTITY)
    assert model is not None
    paths = [tmp_path / ("sub" if i % 2 else "") / f"{i}.jpg" for i in range(7)]
    catalog.record_scan(folder.id, [(p, i + 1, i, 0) for i, p in enumerate(paths)], [], [], [])
    items = _items(catalog, folder.id)
    for i, path in enumerate(paths):
        _index_one(catalog, model, items[path], f"f{i}", taken=f"2020-01-0{7 - i}T00:00:00")
    seen, cursor = [], None
    while page := catalog.browse(limit=3, after=cursor):
        seen += page
        cursor = BrowseCursor(page[-1].sort_date, page[-1].id)
    assert [p.path for p in seen] == paths  # taken-at falls with the index
    under = catalog.browse(folder_id=folder.id, under=tmp_path / "sub")
    assert [p.path for p in under] == [p for p in paths if p.parent.name == "sub"]
    plan = " ".join(
        str(r[3])
        for r in catalog._query(
            "EXPLAIN QUERY PLAN SELECT id FROM photos p WHERE p.status = 'indexed' "
            "AND (p.sort_date, p.id) < ('x', 1) ORDER BY p.sort_date DESC, p.id DESC LIMIT 5"
        )
    )
    assert "photos_by_date" in plan and "TEMP B-TREE" not in plan


def test_read_only_open_refuses_newer_and_older_schemas(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    Catalog(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNewError, match="newer photoseek"):
        Catalog(path, read_only=True)
    older = tmp_path / "old.sqlite3"
    shutil.copy(FIXTURES / "catalog-v1.sqlite3", older)
    with pytest.raises(SchemaTooOldError, match="photoseek index"):
        Catalog(older, read_only=True)
    assert sqlite3.connect(older).execute("PRAGMA user_version").fetchone()[0] == 1


def test_damaged_catalog_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    for read_only in (False, True):
        with pytest.raises(CatalogDamagedError, match="damaged"):
            Catalog(path, read_only=read_only)


def test_locked_catalog_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from photoseek.core.catalog import store

    path = tmp_path / "c.sqlite3"
    Catalog(path).close()
    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.05)
    catalog = Catalog(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(CatalogLockedError, match="locked by another program"):
            catalog.set_meta("k", "v")
    finally:
        other.execute("ROLLBACK")
        other.close()
    catalog.set_meta("k", "v")  # usable again once the other program let go
    catalog.close()


@pytest.fixture
def small_mount(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (skipped where mounting is not allowed)."""
    point = tmp_path / "mnt"
    point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(point)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_full_disk_is_one_clear_error(small_mount: Path) -> None:
    catalog = Catalog(small_mount / "c.sqlite3")
    folder = catalog.add_folder(small_mount, None).folder
    with pytest.raises(DiskFullError, match="is full"):
        for batch in range(1000):
            names = [(small_mount / f"{batch}-{i}-{'x' * 200}.jpg", i, i, 0) for i in range(200)]
            catalog.record_scan(folder.id, names, [], [], [])
    assert catalog.folders()  # still readable after the failed write
    catalog.close()


def test_read_only_disk_is_one_clear_error(small_mount: Path) -> None:
    Catalog(small_mount / "c.sqlite3").close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    with pytest.raises(CatalogReadOnlyError, match="cannot be written"):
        Catalog(small_mount / "c.sqlite3")
    reader = Catalog(small_mount / "c.sqlite3", read_only=True)
    assert reader.folders() == []
    with pytest.raises(LibraryError, match="read-only"):
        reader.set_meta("k", "v")
    reader.close()


def test_new_catalog_is_private(tmp_path: Path) -> None:
    Catalog(tmp_path / "c.sqlite3").close()
    if os.name == "posix":
        assert (tmp_path / "c.sqlite3").stat().st_mode & 0o077 == 0


def test_version_2_catalog_migrates_to_3(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    shutil.copy(FIXTURES / "catalog-v2.sqlite3", path)
    seq = sqlite3.connect(path).execute("SELECT MAX(seq) FROM changes").fetchone()[0]
    catalog = Catalog(path)
    assert (tmp_path / "catalog.sqlite3.bak-v2").is_file()
    assert catalog.integrity_check() == "ok"
    (folder,) = catalog.folders()
    assert folder.excludes == () and os.fsencode(folder.path).endswith(b"caf\xe9")
    assert folder.photo_count == 3 and len(catalog.problems()) == 1
    assert catalog.change_seq() == seq  # the change log came through
    catalog.set_excludes(folder.id, ["*.txt"])
    assert catalog.folders()[0].excludes == ("*.txt",)
    catalog.close()


def _plans(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, read: Callable[[], object]
) -> list[str]:
    """The first step of SQLite's plan for each statement ``read`` runs."""
    statements: list[tuple[str, tuple[object, ...]]] = []
    query = catalog._query

    def recording(sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        statements.append((sql, tuple(params)))
        return query(sql, params)

    monkeypatch.setattr(catalog, "_query", recording)
    read()
    monkeypatch.undo()
    return [str(query(f"EXPLAIN QUERY PLAN {sql}", params)[0][3]) for sql, params in statements]


def test_vectors_of_many_ids_are_looked_up_by_id_first(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the vectors of a chunk of ids starts from those ids, not from every vector.

    Without statistics SQLite planned a long ``IN`` list by scanning every
    embedding of the model for each chunk: 17.7 s per chunk of 500 at 100,000
    photos, so the app's first search on a large library took an hour.
    """
    folder = catalog.add_folder(tmp_path, None).folder
    files = [tmp_path / f"{n}.jpg" for n in range(500)]
    catalog.record_scan(folder.id, [(f, 1, n, 0) for n, f in enumerate(files)], [], [], [])
    model = catalog.model_id(IDENTITY)
    assert model is not None
    items = _items(catalog, folder.id)
    with catalog.transaction() as tx:
        for n, item in enumerate(items.values()):
            batchwrites.store_embedding(tx, model, f"fp{n}", _vector(n), decoder_tag("jpeg"))
            batchwrites.mark_indexed(tx, item, f"fp{n}", PhotoMeta("jpeg", 4, 3, None))
    ids = sorted(item.id for item in items.values())
    plans = _plans(catalog, monkeypatch, lambda: catalog.vectors(model, ids, 4))
    plans += _plans(catalog, monkeypatch, lambda: catalog.live_vectors(model, ids, 4))
    plans += _plans(catalog, monkeypatch, lambda: catalog.live_among(model, ids))
    assert plans and all(plan.startswith("SEARCH p USING") for plan in plans), plans
    assert all("rowid=?" in plan for plan in plans), plans
