"""What the catalog's query mixins need from :class:`~photoseek.core.catalog.store.Catalog`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

_CHUNK = 500  # SQLite host parameters per IN (...) list


def chunks(items: Sequence[int], size: int = _CHUNK) -> Iterator[Sequence[int]]:
    """``items`` in slices small enough for one ``IN (...)`` list."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marks(count: int) -> str:
    """``?, ?, ...`` for ``count`` parameters."""
    return ",".join("?" * count)


class CatalogBase:
    """The locked connection (``_query``) and write transactions of a catalog."""

    path: Path
    read_only: bool

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction (see ``Catalog.transaction``)."""
        raise NotImplementedError
