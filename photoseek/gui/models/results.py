"""The grid's item model: photos (browsed or found) with their scores and thumbnails.

:class:`ResultsModel` is a flat ``QAbstractListModel`` of :class:`ResultRow`
(a :class:`~photoseek.core.records.PhotoRecord` and its score, ``None`` while
browsing). It knows no widget and no library call: pages arrive from
:class:`~photoseek.gui.workers.search.SearchSession` (``reset_rows`` for a new
query's first page, ``append_rows`` for the next ones, asked for through
``canFetchMore``/``fetchMore`` and the ``fetch_requested`` signal), and library
changes edit rows in place (``insert_sorted``, ``remove_ids``,
``update_records``) without a reset, so the selection and the scroll position
survive.

Thumbnails are loaded only for rows a view asks to paint: the first
``data(DecorationRole)`` for a row asks the
:class:`~photoseek.gui.workers.thumbnails.ThumbnailLoader` and returns
``None`` (the delegate paints a placeholder) until the image arrives; it then
becomes a ``QPixmap`` here, on the GUI thread, in an LRU cache of a few
thousand pixmaps (and at most :data:`PIXMAP_CACHE_BYTES`) keyed by content
(fingerprint) and device pixels, and the row is repainted. A reset drops
every queued request of the old rows.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QPixmap

from photoseek.core.records import PhotoRecord
from photoseek.gui.desktop import file_url, path_text
from photoseek.gui.workers.thumbnails import ThumbnailLoader
from photoseek.pathtext import display_path

log = logging.getLogger(__name__)

__all__ = ["ResultRow", "ResultsModel", "format_size", "photo_date"]

PIXMAP_CACHE_SIZE = 3000
PIXMAP_CACHE_BYTES = 384 * 1024 * 1024  # 3,000 thumbnails of 160 px on a 2x screen

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class ResultRow:
    """One photo in the grid and its relevance (None while browsing)."""

    record: PhotoRecord
    score: float | None = None

    @property
    def date_key(self) -> tuple[str, int]:
        """Where the row sorts newest first (the catalog's browse order)."""
        return (self.record.sort_date, self.record.id)


def photo_date(record: PhotoRecord) -> tuple[str, str]:
    """("Taken", "2019-07-01 14:03") from EXIF, else ("Modified", ...) from the file."""
    label, text = ("Taken", record.taken_at) if record.taken_at else ("Modified", record.sort_date)
    try:
        return label, f"{datetime.fromisoformat(text):%Y-%m-%d %H:%M}"
    except (TypeError, ValueError):
        return label, text or "unknown"


def format_size(size: int) -> str:
    """A file size for people: ``2.4 MB``."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


class _PixmapCache:
    """An LRU of pixmaps, bounded in count and in bytes (None: a photo without thumbnail)."""

    def __init__(self, capacity: int, budget: int = PIXMAP_CACHE_BYTES) -> None:
        self.capacity = capacity
        self.budget = budget
        self._bytes = 0
        self._items: OrderedDict[tuple[str, int], QPixmap | None] = OrderedDict()

    def __contains__(self, key: tuple[str, int]) -> bool:
        return key in self._items

    def get(self, key: tuple[str, int]) -> QPixmap | None:
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: tuple[str, int], pixmap: QPixmap | None) -> None:
        if key in self._items:
            self._bytes -= _cost(self._items.pop(key))
        self._items[key] = pixmap
        self._bytes += _cost(pixmap)
        while len(self._items) > 1 and (
            len(self._items) > self.capacity or self._bytes > self.budget
        ):
            _, dropped = self._items.popitem(last=False)
            self._bytes -= _cost(dropped)

    def __len__(self) -> int:
        return len(self._items)


class ResultsModel(QAbstractListModel):
    """Photos with scores, thumbnails on demand, paging through ``fetchMore``."""

    RecordRole = Qt.ItemDataRole.UserRole + 1
    ScoreRole = Qt.ItemDataRole.UserRole + 2
    OfflineRole = Qt.ItemDataRole.UserRole + 3
    PhotoIdRole = Qt.ItemDataRole.UserRole + 4
    CellRole = Qt.ItemDataRole.UserRole + 5  # (thumbnail or None, offline): one call per paint
    ThumbnailRole = Qt.ItemDataRole.DecorationRole

    fetch_requested = Signal()  # the view wants the next page

    def __init__(
        self,
        thumbnails: ThumbnailLoader | None = None,
        parent: QObject | None = None,
        *,
        cache_size: int = PIXMAP_CACHE_SIZE,
    ) -> None:
        super().__init__(parent)
        self._rows: list[ResultRow] = []
        self._ids: set[int] = set()  # the photo ids in _rows (a page append checks against it)
        self._row_of: dict[int, int] | None = {}
        self._more = False
        self._fetching = False
        self._loader = thumbnails
        self._cache = _PixmapCache(cache_size)
        self._pixels = 160
        self._ratio = 1.0
        if thumbnails is not None:
            thumbnails.ready.connect(self._thumbnails_ready)

    # -- Qt's model interface ----------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(row.record)
        if role == self.CellRole:
            return self._thumbnail(row.record), not row.record.folder_available
        return self._plain_data(row, role)

    def _plain_data(self, row: ResultRow, role: int) -> object:
        record = row.record
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return display_path(record.path.name)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        if role == self.RecordRole:
            return record
        if role == self.ScoreRole:
            return row.score
        if role == self.OfflineRole:
            return not record.folder_available
        if role == self.PhotoIdRole:
            return record.id
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names.update(
            {
                self.RecordRole: QByteArray(b"record"),
                self.ScoreRole: QByteArray(b"score"),
                self.OfflineRole: QByteArray(b"offline"),
                self.PhotoIdRole: QByteArray(b"photoId"),
                self.CellRole: QByteArray(b"cell"),
            }
        )
        return names

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and self._more and not self._fetching

    def fetchMore(self, parent: _Index) -> None:
        if self.canFetchMore(parent):
            self._fetching = True
            self.fetch_requested.emit()

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list", "text/plain"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        paths = [self._rows[r].record.path for r in rows if r < len(self._rows)]
        mime = QMimeData()
        mime.setUrls([file_url(p) for p in paths])
        mime.setText("\n".join(path_text(p) for p in paths))
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    # -- rows ---------------------------------------------------------------------------

    @property
    def more_available(self) -> bool:
        """Whether the source has more pages."""
        return self._more

    @property
    def fetching(self) -> bool:
        """Whether a page asked for has not arrived yet."""
        return self._fetching

    def rows(self) -> list[ResultRow]:
        """Every row, in order (a copy)."""
        return list(self._rows)

    def row_at(self, row: int) -> ResultRow:
        """The row at ``row``."""
        return self._rows[row]

    def row_of(self, photo_id: int) -> int | None:
        """The row showing ``photo_id``, if any."""
        if self._row_of is None:
            self._row_of = {r.record.id: i for i, r in enumerate(self._rows)}
        return self._row_of.get(photo_id)

    def reset_rows(self, rows: Iterable[ResultRow], more: bool) -> None:
        """Show a new list (a new query's first page); queued thumbnail work is dropped."""
        self.beginResetModel()
        self._ids = set()
        self._rows = _unique(rows, self._ids)
        self._row_of = None
        self._more, self._fetching = more, False
        self._drop_pending()
        self.endResetModel()

    def append_rows(self, rows: Iterable[ResultRow], more: bool) -> int:
        """Add the next page at the end (photos already shown are skipped); return how many.

        Its cost is the page's, not the grid's: at 100,000 rows, building the
        set of shown ids (and the id -> row map) anew for every page held the
        GUI thread for milliseconds per page, growing as the user scrolled.
        """
        fresh = _unique(rows, self._ids)
        self._more, self._fetching = more, False
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            if self._row_of is not None:
                self._row_of.update((r.record.id, first + i) for i, r in enumerate(fresh))
            self.endInsertRows()
        return len(fresh)

    def set_more(self, more: bool) -> None:
        """Say whether the source has more pages (and that no page is on its way)."""
        self._more, self._fetching = more, False

    def insert_sorted(self, rows: Iterable[ResultRow], bound: tuple[str, int] | None) -> int:
        """Insert new photos where they sort newest first; return how many went in.

        Rows are in browse order (newest first). A row older than ``bound``
        (where the source's next page starts) is left for that page; with no
        bound every row goes in.
        """
        present = self._ids
        inserted = 0
        for row in sorted(rows, key=lambda r: r.date_key, reverse=True):
            later = bound is not None and row.date_key <= bound
            if later or row.record.id in present:
                continue
            at = self._sorted_position(row.date_key)
            self.beginInsertRows(QModelIndex(), at, at)
            self._rows.insert(at, row)
            self._row_of = None
            self.endInsertRows()
            present.add(row.record.id)
            inserted += 1
        return inserted

    def _sorted_position(self, key: tuple[str, int]) -> int:
        low, high = 0, len(self._rows)
        while low < high:
            middle = (low + high) // 2
            if self._rows[middle].date_key > key:
                low = middle + 1
            else:
                high = middle
        return low

    def remove_ids(self, ids: Iterable[int]) -> int:
        """Remove the rows of these photos (contiguous runs at a time); return how many."""
        doomed = sorted({r for i in ids if (r := self.row_of(i)) is not None}, reverse=True)
        for first, last in _runs_descending(doomed):
            self.beginRemoveRows(QModelIndex(), first, last)
            self._ids.difference_update(r.record.id for r in self._rows[first : last + 1])
            del self._rows[first : last + 1]
            self._row_of = None
            self.endRemoveRows()
        return len(doomed)

    def update_records(self, records: Iterable[PhotoRecord]) -> int:
        """Replace the records of rows already shown (content, path or metadata changed)."""
        updated = 0
        for record in records:
            row = self.row_of(record.id)
            if row is None:
                continue
            self._rows[row] = replace(self._rows[row], record=record)
            index = self.index(row)
            self.dataChanged.emit(index, index, [])
            updated += 1
        return updated

    # -- thumbnails ---------------------------------------------------------------------

    def set_thumbnail_size(self, size: int, ratio: float = 1.0) -> None:
        """Thumbnails fit ``size`` logical pixels on a screen of this device pixel ratio."""
        pixels = max(1, round(size * ratio))
        if (pixels, ratio) == (self._pixels, self._ratio):
            return
        self._pixels, self._ratio = pixels, ratio
        self._drop_pending()
        if self._rows:
            roles = [Qt.ItemDataRole.DecorationRole]
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1), roles)

    @property
    def thumbnail_pixels(self) -> int:
        """The device pixels a thumbnail is loaded at."""
        return self._pixels

    def cached_pixmap(self, record: PhotoRecord) -> QPixmap | None:
        """The thumbnail already loaded for ``record``, if any (no request is made)."""
        key = self._key(record)
        return self._cache.get(key) if key in self._cache else None

    def _key(self, record: PhotoRecord) -> tuple[str, int]:
        return (record.fingerprint or f"#{record.id}", self._pixels)

    def _thumbnail(self, record: PhotoRecord) -> QPixmap | None:
        key = self._key(record)
        if key in self._cache:
            return self._cache.get(key)
        if self._loader is not None:  # the loader queues each thumbnail once
            self._loader.request(record.id, self._pixels)
        return None

    def _thumbnails_ready(self) -> None:
        """Take every finished thumbnail at once; repaint their rows.

        One ``dataChanged`` per run of adjacent rows, not one per thumbnail:
        each emission costs the view about 0.3 ms on the GUI thread (measured
        in the scroll benchmark), and a batch holds up to a screen of them.
        """
        if self._loader is None:
            return
        generation = self._loader.generation
        changed: list[int] = []
        for loaded in self._loader.take_loaded():
            row = self.row_of(loaded.photo_id)
            if loaded.generation != generation or row is None or loaded.pixels != self._pixels:
                continue  # a request of an older query or size
            pixmap = None
            if loaded.image is not None:
                pixmap = QPixmap.fromImage(loaded.image)
                pixmap.setDevicePixelRatio(self._ratio)
            self._cache.put(self._key(self._rows[row].record), pixmap)
            changed.append(row)
        for first, last in _runs(changed):
            self.dataChanged.emit(
                self.index(first), self.index(last), [Qt.ItemDataRole.DecorationRole]
            )

    def _drop_pending(self) -> None:
        if self._loader is not None:
            self._loader.drop_pending()

    def _tooltip(self, row: ResultRow) -> str:
        record = row.record
        label, when = photo_date(record)
        lines = [display_path(record.path.name)]
        if row.score is not None:
            lines.append(f"Score {row.score:.3f}")
        lines.append(f"{label} {when}")
        if not record.folder_available:
            lines.append("Offline: its disk is not connected")
        return "\n".join(lines)


def _cost(pixmap: QPixmap | None) -> int:
    """The memory a pixmap takes."""
    return 0 if pixmap is None else pixmap.width() * pixmap.height() * 4


def _unique(rows: Iterable[ResultRow], seen: set[int]) -> list[ResultRow]:
    """``rows`` without photos in ``seen`` or repeated."""
    fresh: list[ResultRow] = []
    for row in rows:
        if row.record.id not in seen:
            seen.add(row.record.id)
            fresh.append(row)
    return fresh


def _runs_descending(rows: list[int]) -> list[tuple[int, int]]:
    """(first, last) runs of consecutive numbers in a descending list, highest run first."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][0] - 1:
            runs[-1] = (row, runs[-1][1])
        else:
            runs.append((row, row))
    return runs


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """``rows`` as (first, last) runs of adjacent numbers, in order.

    [1, 2, 3, 7] -> [(1, 3), (7, 7)]
    """
    runs: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs
