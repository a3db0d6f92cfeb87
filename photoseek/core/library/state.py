"""The state every part of the :class:`~photoseek.core.library.Library` facade shares.

The catalog, the thumbnails, the writer lock, and the slots of the model and the
vector index, which load lazily (:mod:`.models`, :mod:`.base`): opening a library
costs one SQLite connection. Also the model switch's reset of those slots, the
name index, and the count of searches running.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from photoseek.core.catalog.store import Catalog
from photoseek.core.errors import LibraryError
from photoseek.core.imaging.thumbnails import ThumbnailCache
from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.indexkeeper import IndexKeeper
from photoseek.core.memory import give_back_freed_memory
from photoseek.core.model.embedder import Embedder, ModelSettings
from photoseek.core.model.imagepath import LightImageEncoder
from photoseek.core.model.textpath import LightText
from photoseek.core.search.nameindex import NameIndex
from photoseek.core.writerlock import WriterLock
from photoseek.core.zeroshot.service import ZeroShot
from photoseek.paths import AppPaths


class LibraryState:
    """Construction, the writer role's start, and what the lazily loaded parts keep."""

    def __init__(
        self,
        paths: AppPaths,
        settings: ModelSettings | None = None,
        *,
        read_only: bool = False,
        indexer_options: IndexerOptions | None = None,
        writer_lock: WriterLock | None = None,
    ) -> None:
        self.paths = paths if read_only else paths.ensure()
        self.settings = settings or ModelSettings()
        self.read_only = read_only
        self.catalog = Catalog(paths.catalog, read_only=read_only)
        self.thumbnails = ThumbnailCache(paths.thumbnails_dir)
        self.indexer_options = indexer_options or IndexerOptions()
        # a library opened for another model of the same files (a model switch) shares the
        # writer role of the library that opened it, and never releases it
        self._owns_lock = writer_lock is None
        self.writer_lock = writer_lock or WriterLock(paths.lock_file)
        self._embedder: Embedder | None = None
        self._model_id: int | None = None
        self._keeper: IndexKeeper | None = None
        self._names: NameIndex | None = None
        self._names_lock = threading.Lock()  # not _lock: that one is held while the index loads
        self._lock = threading.RLock()
        self._model_lock = threading.Lock()  # held while the model loads (seconds)
        self._text_encoder: LightText | None = None
        self._text_lock = threading.Lock()
        self._text_tried = False
        self._image_encoder: LightImageEncoder | None = None  # the light image path
        self._seen_version = -1
        self._model_recorded = False
        self._searches = 0
        self._searches_lock = threading.Lock()  # not _lock: held while the index opens
        self._zeroshot: ZeroShot | None = None  # label vectors with the model (TagOps)
        self._generation = 0  # counts model switches (switch_to) of this object
        # whether this object answers with the library's chosen model (no model named on the
        # command line): it then follows a switch another process completes (follow())
        self.follows_choice = False

    def acquire_writer(self, purpose: str, *, wait: threading.Event | None = None) -> None:
        """Become the library's one writer until :meth:`release_writer`.

        Raises :class:`LibraryLockedError` if another process is, unless
        ``wait`` is given: then it waits until the writer is gone or ``wait``
        is set (and then raises :class:`Cancelled`).
        """
        if self.read_only:
            raise LibraryError("the library is open read-only; another process is writing it")
        self.writer_lock.acquire(purpose, wait=wait)

    def switch_to(self, settings: ModelSettings) -> None:
        """Answer with another model from now on (a model switch just completed).

        Drops the model, its light towers and its vector index; the next
        search or job loads those of ``settings`` (their index file exists:
        the switch built it). A search running meanwhile finishes with the
        model it began with.
        """
        with self._model_lock, self._text_lock, self._lock:
            self._generation += 1
            self.settings = settings
            self._embedder = None
            self._image_encoder = None
            self._text_encoder = None
            self._text_tried = False
            self._keeper = None
            self._model_id = None
            self._zeroshot = None
            self._model_recorded = False
        give_back_freed_memory()

    @property
    def name_index(self) -> NameIndex:
        """The visible paths of the library's photos, for name matches (made on first use)."""
        with self._names_lock:
            if self._names is None:
                self._names = NameIndex(self.catalog)
            return self._names

    @contextmanager
    def searching(self) -> Iterator[None]:
        """Mark a search in progress: the watch loop starts no new embedding meanwhile."""
        with self._searches_lock:
            self._searches += 1
        try:
            yield
        finally:
            with self._searches_lock:
                self._searches -= 1

    @property
    def search_active(self) -> bool:
        """Whether a search runs in this process right now (the indexer yields to it)."""
        return self._searches > 0
