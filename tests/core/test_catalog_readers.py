"""Reads run on each thread's own connection: beside each other and beside the writer."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from photoseek.core.catalog.store import Catalog
from photoseek.core.errors import LibraryError

GUARD_S = 60.0  # only against a hang: a correct catalog answers in milliseconds


@pytest.fixture
def catalog(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Catalog(tmp_path / "catalog.sqlite3")
    yield store
    store.close()


def _add_folder(tx, path: str) -> None:  # type: ignore[no-untyped-def]
    tx.execute("INSERT INTO folders (path, added_at) VALUES (?, 0)", (path,))


def test_a_read_does_not_wait_for_another_threads_transaction(catalog: Catalog) -> None:
    inside, release = threading.Event(), threading.Event()

    def write() -> None:
        with catalog.transaction() as tx:
            _add_folder(tx, "/a")
            inside.set()
            release.wait(GUARD_S)

    writer = threading.Thread(target=write)
    writer.start()
    assert inside.wait(GUARD_S)
    answer: list[dict[str, int]] = []
    reader = threading.Thread(target=lambda: answer.append(catalog.status_counts()))
    reader.start()
    reader.join(GUARD_S)
    finished_while_writing = not reader.is_alive() and not release.is_set()
    release.set()
    writer.join(GUARD_S)
    assert finished_while_writing and answer == [{}]
    assert len(catalog.folders()) == 1  # committed, and seen by the next read


def test_reads_inside_a_transaction_see_its_own_rows(catalog: Catalog) -> None:
    with catalog.transaction() as tx:
        _add_folder(tx, "/inside")
        assert [str(f.path) for f in catalog.folders()] == ["/inside"]


def test_reads_at_once_get_connections_of_their_own_then_reuse_them(catalog: Catalog) -> None:
    with catalog._reader() as first, catalog._reader() as second:
        assert first is not second and catalog._conn not in (first, second)
    with catalog._reader() as again:
        assert again in (first, second)  # returned to the pool, not opened anew
    assert len(catalog._free_readers) == 2


def test_no_read_after_close(catalog: Catalog) -> None:
    catalog.close()
    with pytest.raises(LibraryError, match="closed"):
        catalog.status_counts()
