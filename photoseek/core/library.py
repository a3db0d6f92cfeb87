"""``Library``: the one facade the CLI, the GUI and the service call.

It owns the catalog, and loads the model and the vector index lazily: status,
folders and problems never import torch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from photoseek.core.catalog.store import Catalog
from photoseek.core.errors import LibraryError
from photoseek.core.imaging.thumbnails import ThumbnailCache
from photoseek.core.indexing.pipeline import Indexer, IndexerOptions, Progress
from photoseek.core.model.embedder import Embedder, ModelSettings, load_embedder
from photoseek.core.records import Changes, Folder, PhotoRecord, Problem
from photoseek.core.search.query import QueryTerm
from photoseek.core.search.searcher import Searcher, SearchOptions, SearchResults
from photoseek.core.vectors import index as vectorindex
from photoseek.core.vectors.index import VectorIndex
from photoseek.core.watch.reconcile import ScanSummary, reconcile_all, reconcile_changes
from photoseek.core.watch.scanner import device_of
from photoseek.core.writerlock import LibraryLockedError, WriterLock
from photoseek.paths import AppPaths

log = logging.getLogger(__name__)

LAST_MODEL_KEY = "last_model_id"
INDEX_SAVE_INTERVAL_S = 120.0


@dataclass(frozen=True)
class LibraryStatus:
    """Counts and places, cheap to compute (no model load)."""

    data_dir: Path
    folders: list[Folder]
    counts: dict[str, int]
    pending: int | None  # photos waiting for the last-used model; None if never indexed
    model: str | None
    writer: dict[str, Any] | None = None  # who holds the writer lock (pid, purpose, since)


class Library:
    """A photo library stored under one :class:`AppPaths`."""

    def __init__(
        self,
        paths: AppPaths,
        settings: ModelSettings | None = None,
        *,
        read_only: bool = False,
        indexer_options: IndexerOptions | None = None,
    ) -> None:
        self.paths = paths if read_only else paths.ensure()
        self.settings = settings or ModelSettings()
        self.read_only = read_only
        self.catalog = Catalog(paths.catalog, read_only=read_only)
        self.thumbnails = ThumbnailCache(paths.thumbnails_dir)
        self.indexer_options = indexer_options
        self._embedder: Embedder | None = None
        self._model_id: int | None = None
        self._index: VectorIndex | None = None
        self._index_note = ""
        self._lock = threading.RLock()
        self.writer_lock = WriterLock(paths.lock_file)
        self._seen_version = -1
        self._last_save = 0.0
        self._dirty = False  # the in-memory index differs from the saved file
        self._model_recorded = False

    def __enter__(self) -> Library:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Save the index if a save was put off, then release the catalog and the lock."""
        self.flush()
        self.catalog.close()
        self.writer_lock.release()

    def flush(self) -> None:
        """Do a put-off index save now (the watch service calls this when it stops)."""
        self._save_index(force=True)

    def acquire_writer(self, purpose: str) -> None:
        """Become the library's one writer (raises LibraryLockedError if another is)."""
        if self.read_only:
            raise LibraryError("the library is open read-only; another process is writing it")
        self.writer_lock.acquire(purpose)

    def follow(self) -> bool:
        """Catch the in-memory index up with rows another process committed.

        Cheap when nothing changed (one PRAGMA); otherwise only the new or
        removed vectors are applied, never a full reload. Returns whether
        anything was checked.
        """
        version = self.catalog.data_version()
        if version == self._seen_version or self._index is None:
            self._seen_version = version
            return False
        self._seen_version = version
        self._sync_index(self._index)
        return True

    # -- folders ----------------------------------------------------------------

    def add_folder(self, path: Path) -> Folder:
        """Add a top folder to watch and index (``index`` scans it)."""
        resolved = path.expanduser().resolve()
        if not resolved.is_dir():
            raise LibraryError(f"not a folder: {path}")
        return self.catalog.add_folder(resolved, device_of(resolved))

    def remove_folder(self, path: Path) -> int:
        """Forget a top folder and its photos; return how many photos were dropped."""
        dropped = self.catalog.remove_folder(path.expanduser().resolve())
        if self._index is not None:
            self._sync_index(self._index)
            self._save_index()
        return dropped

    def folders(self) -> list[Folder]:
        """The top folders with their photo counts and availability."""
        return self.catalog.folders()

    # -- model and index --------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The CLIP model, loaded on first use."""
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings, self.paths.models_dir)
            return self._embedder

    @property
    def model_id(self) -> int:
        """The catalog id of the loaded model's identity."""
        with self._lock:
            if self._model_id is None:
                model_id = self.catalog.model_id(self.embedder.identity, create=not self.read_only)
                if model_id is None:
                    raise LibraryError("this library has no vectors for the chosen model yet")
                self._model_id = model_id
            return self._model_id

    @property
    def index_path(self) -> Path:
        """The vector index file of the loaded model."""
        return self.paths.index_dir / f"{self.embedder.identity.slug}.hnsw"

    @property
    def vector_index(self) -> VectorIndex:
        """The model's vector index: loaded, caught up, or rebuilt from the catalog."""
        with self._lock:
            if self._index is None:
                identity = self.embedder.identity
                self._index, self._index_note = vectorindex.open_or_rebuild(
                    self.index_path,
                    dim=identity.dim,
                    model_key=identity.key,
                    live_labels=self.catalog.live_ids(self.model_id),
                    fetch_vectors=self._fetch_vectors,
                )
                log.info("vector index: %s", self._index_note)
                if self._index_note != "loaded":
                    self._dirty = True
                    self._save_index()  # so the next start does not redo the work
            return self._index

    def _fetch_vectors(self, ids: list[int]) -> vectorindex.FloatMatrix:
        return self.catalog.vectors(self.model_id, ids, self.embedder.identity.dim)

    def _sync_index(self, index: VectorIndex) -> None:
        added, removed = index.catch_up(self.catalog.live_ids(self.model_id), self._fetch_vectors)
        if added or removed:
            self._dirty = True
            log.info("vector index caught up: +%d -%d", added, removed)

    def _save_index(self, *, force: bool = True) -> None:
        """Save the index if this process is, or can briefly become, the writer.

        Nothing is written when the index did not change. Unforced saves
        happen at most every ``INDEX_SAVE_INTERVAL_S``; one put off is done by
        :meth:`flush` or :meth:`close`. A lost save costs nothing but a
        catch-up from the catalog at the next start.
        """
        if self._index is None or self.read_only or not self._dirty:
            return
        if not force and time.monotonic() - self._last_save < INDEX_SAVE_INTERVAL_S:
            return
        borrowed = not self.writer_lock.held
        if borrowed:
            try:
                self.writer_lock.acquire("saving the search index")
            except LibraryLockedError:
                return  # the writer saves its own, newer index
        try:
            self._index.save(self.index_path)
            self._last_save, self._dirty = time.monotonic(), False
        finally:
            if borrowed:
                self.writer_lock.release()

    # -- indexing ---------------------------------------------------------------

    def scan(self) -> ScanSummary:
        """Reconcile the catalog with the disk without embedding anything."""
        summary = reconcile_all(self.catalog)
        self.catalog.purge_tombstones()
        return summary

    def index(self, cancel: threading.Event | None = None) -> Iterator[Progress]:
        """Scan every folder, then decode, embed and index what is new or changed."""
        self.acquire_writer("indexing")
        index = self.vector_index  # loads the model first: a missing model fails before scanning
        yield Progress("scanning")
        self.scan()
        self._sync_index(index)
        yield from self._index_pending(index, cancel, save_at_end=True)

    def apply_changes(
        self, changes: Changes, cancel: threading.Event | None = None
    ) -> Iterator[Progress]:
        """Reconcile what a watcher reported, then index what became pending."""
        self.acquire_writer("watching")
        index = self.vector_index
        yield Progress("scanning")
        summary = reconcile_changes(self.catalog, changes)
        if summary.vanished or summary.changed or summary.moved:  # new files: the indexer adds them
            self._sync_index(index)
        yield from self._index_pending(index, cancel, save_at_end=False)

    def _index_pending(
        self, index: VectorIndex, cancel: threading.Event | None, *, save_at_end: bool
    ) -> Iterator[Progress]:
        if not self._model_recorded:
            self.catalog.set_meta(LAST_MODEL_KEY, str(self.model_id))
            self._model_recorded = True
        work = self.catalog.pending_work(self.model_id)
        indexer = Indexer(
            self.catalog,
            self.embedder,
            self.model_id,
            index,
            self.thumbnails,
            lambda final: self._after_batch(final, save_at_end),
            self.indexer_options,
        )
        yield from indexer.run(work, cancel)

    def _after_batch(self, final: bool, save_at_end: bool) -> None:
        """The indexer's save hook: after each batch (the index changed) and at the end."""
        if not final:
            self._dirty = True
        self._save_index(force=final and save_at_end)

    # -- search -----------------------------------------------------------------

    def _searcher(self) -> Searcher:
        self.follow()
        return Searcher(self.catalog, self.vector_index, self.embedder, self.model_id)

    def search(self, query: str, options: SearchOptions | None = None) -> SearchResults:
        """Answer a query (see :mod:`photoseek.core.search.query` for the syntax)."""
        return self._searcher().search(query, options or SearchOptions())

    def similar(self, image: Path, options: SearchOptions | None = None) -> SearchResults:
        """Photos that look like ``image`` (an indexed photo or any image file)."""
        searcher = self._searcher()
        return searcher.search_terms([QueryTerm(1.0, image=image)], options or SearchOptions())

    def thumbnail(self, photo: PhotoRecord) -> Path | None:
        """The cached thumbnail of a photo, if there is one."""
        if photo.fingerprint and self.thumbnails.exists(photo.fingerprint):
            return self.thumbnails.path_for(photo.fingerprint)
        return None

    # -- reports ----------------------------------------------------------------

    def status(self) -> LibraryStatus:
        """Folders, counts and pending work, without loading the model."""
        last = self.catalog.get_meta(LAST_MODEL_KEY)
        pending = len(self.catalog.pending_work(int(last))) if last else None
        return LibraryStatus(
            data_dir=self.paths.data_dir,
            folders=self.catalog.folders(),
            counts=self.catalog.status_counts(),
            pending=pending,
            model=f"{self.settings.arch} / {self.settings.pretrained}",
            writer=self.writer_lock.holder(),
        )

    def problems(self) -> list[Problem]:
        """Every file that was skipped, with its reason."""
        return self.catalog.problems()

    def index_health(self) -> str:
        """How the vector index was opened and whether it matches the catalog."""
        index = self.vector_index
        live = self.catalog.live_ids(self.model_id)
        state = "in sync" if index.labels() == live else "OUT OF SYNC"
        return f"{len(index)} vectors, {len(live)} in catalog, {state} ({self._index_note})"
