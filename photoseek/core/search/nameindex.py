"""The visible paths of the library's photos, in memory, for matching names as you type.

A name match must hold every word anywhere in the visible path, which no
SQL index serves: scanning the catalog with ``instr(lower(path))`` cost 320 ms
per query at 100,000 photos and held the catalog's connection meanwhile (the
search as you type waited behind it). This index keeps one lower-cased
string per indexed photo (the top folder's name and the path below it, as a
user sees it; Python's ``lower`` knows every script, SQLite's only ASCII),
joined newest first into one text that ``str.find`` searches for the longest
word (a few milliseconds at 100,000 photos); the other words and the folder
are checked on those candidates only, and the search stops at the limit.
It follows the catalog through its change log: the first query loads every
row once, later ones re-read only the photos that changed. A trimmed change log reloads in full.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from photoseek.core.catalog.store import Catalog

#: id -> (visible path lower-cased, full path, (sort date, id))
_Row = tuple[str, str, tuple[str, int]]

#: The snapshot is rebuilt when more photos than this share (or OVERLAY_MIN) changed.
OVERLAY_SHARE = 0.02
OVERLAY_MIN = 500


class NameIndex:
    """Visible paths of indexed photos by id, kept current from the change log.

    The joined text is a snapshot; photos that changed since (added, moved,
    removed) sit in a small overlay that every query also scans, and the
    snapshot is rebuilt (about 0.2 s at 100,000 photos) only when the overlay
    outgrows :data:`OVERLAY_SHARE` of the library, so a library being indexed
    does not pay for a rebuild at every batch. Thread-safe: queries from
    several threads serialise on one lock.
    """

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._lock = threading.Lock()
        self._rows: dict[int, _Row] = {}  # the truth: every indexed photo now
        self._version: int | None = None
        self._text = ""  # the snapshot: visible paths newest first, each + "\n"
        self._starts: list[int] = []  # where each snapshot row begins in _text
        self._ids: list[int] = []  # the snapshot's ids, in that order
        self._overlay: set[int] = set()  # ids changed since the snapshot
        self._stale = True

    def load(self) -> None:
        """Catch up with the catalog now (a front end warms the index before the first query)."""
        with self._lock:
            self._catch_up()
            if self._stale:
                self._rebuild_text()

    def matching(self, words: list[str], folder: Path | None, limit: int) -> list[int]:
        """Ids whose visible path holds every word (lower-case, no newline), newest first."""
        if not words:
            return []
        prefix = None if folder is None else str(folder)
        found: list[int] = []
        with self._lock:
            self._catch_up()
            for photo_id in self._candidates(max(words, key=len)):
                visible, full, _ = self._rows[photo_id]
                if all(word in visible for word in words) and (
                    prefix is None or _inside(full, prefix)
                ):
                    found.append(photo_id)
                    if len(found) >= limit:
                        break
        return found

    def _candidates(self, word: str) -> Iterator[int]:
        """Ids whose visible path holds ``word``, newest first."""
        if self._stale or len(self._overlay) > max(OVERLAY_MIN, len(self._rows) * OVERLAY_SHARE):
            self._rebuild_text()
        rows, overlay = self._rows, self._overlay
        changed = sorted(
            (rows[i][2] for i in overlay if i in rows and word in rows[i][0]), reverse=True
        )
        snapshot = (rows[i][2] for i in self._snapshot_hits(word) if i not in overlay)
        for _, photo_id in heapq.merge(snapshot, changed, reverse=True):
            yield photo_id

    def _snapshot_hits(self, word: str) -> Iterator[int]:
        text, starts, ids = self._text, self._starts, self._ids
        at = text.find(word)
        while at != -1:
            row = bisect.bisect_right(starts, at) - 1
            yield ids[row]
            at = text.find(word, starts[row + 1]) if row + 1 < len(starts) else -1

    def _rebuild_text(self) -> None:
        """The snapshot, newest first: a query stops at its limit, never sorts."""
        rows = self._rows
        self._ids = sorted(rows, key=lambda i: rows[i][2], reverse=True)
        visible = [rows[i][0] for i in self._ids]
        self._text = "".join(f"{v}\n" for v in visible)
        self._starts = [0, *itertools.accumulate(len(v) + 1 for v in visible)][:-1]
        self._overlay = set()
        self._stale = False

    def _catch_up(self) -> None:
        if self._version is None:
            self._reload()
            return
        changes = self._catalog.changes_after(self._version)
        if changes is None:  # the log was trimmed past our version
            self._reload()
            return
        newest, touched = changes
        if touched:
            for photo_id in touched:
                self._rows.pop(photo_id, None)
            self._rows.update(_rows(self._catalog.name_rows(sorted(touched))))
            self._overlay.update(touched)
        self._version = newest

    def _reload(self) -> None:
        version = self._catalog.change_seq()  # before reading: later changes get re-read
        self._rows = dict(_rows(self._catalog.name_rows(None)))
        self._version = version
        self._stale = True


def _rows(raw: Iterable[tuple[int, bytes, str, bytes]]) -> Iterable[tuple[int, _Row]]:
    """Rows of the index from the catalog's (id, path, sort date, top folder) bytes."""
    for photo_id, path_bytes, sort_date, top_bytes in raw:
        path, top = os.fsdecode(path_bytes), os.fsdecode(top_bytes).rstrip(os.sep)
        # strings, not Path objects: 100,000 of those cost seconds at the first query
        below = path[len(top) :] if path.startswith(top) else os.sep + path.rpartition(os.sep)[2]
        visible = (top.rpartition(os.sep)[2] + below).lower().replace("\n", " ")
        yield photo_id, (visible, path, (sort_date, photo_id))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
