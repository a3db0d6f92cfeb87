"""``Library``: the one facade the CLI, the GUI and the service call.

It owns the catalog, and loads the model and the vector index lazily:
folders, browsing, status and problems never import torch, and ``index``
loads the model only when there is something to embed.

Threads
-------
One *job* at a time writes: :meth:`Library.index`, :meth:`Library.scan`,
:meth:`Library.apply_changes`, or an :class:`IndexJob` from
:meth:`Library.index_job` (the watch loop). Reads may run in other threads
at the same time as that job, and with each other: :meth:`search`,
:meth:`search_pages`, :meth:`similar`, :meth:`similar_to`, :meth:`browse`,
:meth:`photo`, :meth:`photos`, :meth:`thumbnail`, :meth:`changes_since`,
:meth:`status`, :meth:`folders`, :meth:`problems`. The catalog serialises its
statements, the vector index its native calls, and the model lets a text
query run while an image batch is being embedded. :meth:`add_folder` and
:meth:`remove_folder` are single small transactions, safe beside a running
job (in this process or another): a batch that finds its rows gone skips
them. :meth:`close` must not race anything.

Writing
-------
Reconciling the disk and indexing hold the writer lock (one process per
library) only for as long as the job runs; a GUI that indexed once does not
block the service afterwards. Folder edits do not need the lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType

from photoseek.core.catalog.folders import FolderAdded
from photoseek.core.catalog.pathcodec import is_below
from photoseek.core.catalog.reads import BrowseCursor
from photoseek.core.catalog.store import Catalog
from photoseek.core.errors import Cancelled, LibraryError, QueryError
from photoseek.core.imaging.thumbnails import DEFAULT_SIZE, ThumbnailCache
from photoseek.core.indexing.pipeline import IndexerOptions, IndexJob
from photoseek.core.indexing.thumbnailing import rebuild_missing_thumbnails
from photoseek.core.indexkeeper import IndexKeeper
from photoseek.core.model.embedder import Embedder, ModelSettings, load_embedder
from photoseek.core.model.naming import expected_model
from photoseek.core.progress import Phase, Progress, ProgressCallback, run_reporting
from photoseek.core.records import Changes, ChangeSet, Folder, PhotoRecord, Problem
from photoseek.core.reports import LibraryStatus, ServiceStatus, library_status, service_status
from photoseek.core.search.names import name_matches
from photoseek.core.search.query import QueryTerm, parse_query, validate_terms
from photoseek.core.search.searcher import Searcher, SearchOptions, SearchResults
from photoseek.core.vectors.index import VectorIndex
from photoseek.core.watch.excludes import check_patterns
from photoseek.core.watch.reconcile import (
    ScanContext,
    ScanSummary,
    reconcile_all,
    reconcile_changes,
)
from photoseek.core.watch.scanner import device_of, exclusion_keys
from photoseek.core.writerlock import LibraryLockedError, WriterLock
from photoseek.paths import AppPaths

__all__ = ["BrowsePage", "FolderStats", "Library", "LibraryStatus", "ServiceStatus"]

log = logging.getLogger(__name__)

LAST_MODEL_KEY = "last_model_id"


@dataclass(frozen=True)
class FolderStats:
    """A top folder and how many of its photos are indexed, pending, or problems."""

    folder: Folder
    indexed: int
    pending: int
    problems: int


@dataclass(frozen=True)
class BrowsePage:
    """One page of photos newest first; pass ``cursor`` back for the next (None: the end)."""

    photos: list[PhotoRecord]
    cursor: BrowseCursor | None


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
        self.indexer_options = indexer_options or IndexerOptions()
        self.writer_lock = WriterLock(paths.lock_file)
        self._embedder: Embedder | None = None
        self._model_id: int | None = None
        self._keeper: IndexKeeper | None = None
        self._lock = threading.RLock()
        self._seen_version = -1
        self._model_recorded = False
        self._searches = 0

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
        """Save the index if a save was put off, then release the catalog and the lock.

        Never raises for a failed save (a full disk): the index is only a
        cache, caught up from the catalog at the next start.
        """
        try:
            self.flush()
        except LibraryError as exc:
            log.warning("search index not saved on close: %s", exc)
        finally:
            self.catalog.close()
            self.writer_lock.release()

    def flush(self) -> None:
        """Do a put-off index save now (the watch service calls this when it stops)."""
        self._save_index(force=True)

    # -- the writer ----------------------------------------------------------------

    def acquire_writer(self, purpose: str, *, wait: threading.Event | None = None) -> None:
        """Become the library's one writer until :meth:`release_writer`.

        Raises :class:`LibraryLockedError` if another process is, unless
        ``wait`` is given: then it waits until the writer is gone or ``wait``
        is set (and then raises :class:`Cancelled`).
        """
        if self.read_only:
            raise LibraryError("the library is open read-only; another process is writing it")
        self.writer_lock.acquire(purpose, wait=wait)

    def release_writer(self) -> None:
        """Stop being the writer (the index is saved first, if it changed)."""
        if self.writer_lock.held:
            try:
                self._save_index(force=True)
            finally:
                self.writer_lock.release()

    @contextmanager
    def writing(self, purpose: str) -> Iterator[None]:
        """Hold the writer lock for one job (kept if this process held it already)."""
        held_before = self.writer_lock.held
        self.acquire_writer(purpose)
        try:
            yield
        finally:
            if not held_before:
                self.release_writer()

    # -- folders ----------------------------------------------------------------

    def add_folder(self, path: Path) -> FolderAdded:
        """Add a top folder to watch and index (``index`` scans it).

        Refuses folders that are not there, photoseek's own folders and folders
        inside them; says which folders already in the library it absorbs.
        """
        resolved = path.expanduser().resolve()
        if not resolved.is_dir():
            raise LibraryError(f"not a folder: {path}")
        for own in self.paths.own_dirs():
            own = own.resolve()
            if resolved == own or own in resolved.parents:
                raise LibraryError(f"{path} is photoseek's own data folder ({own})")
        return self.catalog.add_folder(resolved, device_of(resolved))

    def remove_folder(self, path: Path) -> int:
        """Forget a top folder and its photos; return how many photos were dropped."""
        dropped = self.catalog.remove_folder(path.expanduser().resolve())
        self._sync_index()
        return dropped

    def folders(self) -> list[Folder]:
        """The top folders with their photo counts and availability."""
        return self.catalog.folders()

    def folder_stats(self) -> list[FolderStats]:
        """Each top folder with its indexed, pending and problem counts (for a library panel)."""
        counts = self.catalog.folder_counts()
        return [
            FolderStats(
                folder,
                indexed=counts.get(folder.id, {}).get("indexed", 0),
                pending=counts.get(folder.id, {}).get("pending", 0),
                problems=counts.get(folder.id, {}).get("error", 0),
            )
            for folder in self.catalog.folders()
        ]

    def set_excludes(self, path: Path, patterns: list[str]) -> Folder:
        """Set the exclude patterns of a top folder (the next scan applies them)."""
        folder = self._folder(path)
        self.catalog.set_excludes(folder.id, check_patterns(patterns))
        return self._folder(path)

    def relocate_folder(self, old: Path, new: Path) -> Folder:
        """A folder moved (another disk, another drive letter): follow it, keeping everything.

        Photos keep their ids, fingerprints and vectors, and nothing is read
        again when the files at ``new`` have the sizes and mtimes known.
        """
        folder = self._folder(old)
        target = new.expanduser().resolve()
        if not target.is_dir():
            raise LibraryError(f"not a folder: {new}")
        for other in self.catalog.folders():
            if other.id != folder.id and (
                is_below(target, other.path) or is_below(other.path, target)
            ):
                raise LibraryError(f"{new} overlaps {other.path}, already in the library")
        self.catalog.relocate_folder(folder, target, device_of(target))
        self._sync_index()
        return self._folder(target)

    def retry_problems(self) -> int:
        """Make every problem file pending again (``index`` or the watcher retries them)."""
        return self.catalog.retry_problems()

    def _folder(self, path: Path) -> Folder:
        resolved = path.expanduser().resolve()
        folder = self.catalog.folder_by_path(resolved) or self.catalog.folder_by_path(path)
        if folder is None:
            raise LibraryError(f"{path} is not a folder of this library")
        return folder

    # -- model and index --------------------------------------------------------

    def load_model(
        self, on_progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> Embedder:
        """The CLIP model, loaded (and downloaded) on first use; thread-safe."""
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(
                    self.settings, self.paths.models_dir, on_progress=on_progress, cancel=cancel
                )
            return self._embedder

    @property
    def embedder(self) -> Embedder:
        """The CLIP model, loaded on first use."""
        return self.load_model()

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

    def _index_keeper(
        self, on_progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> IndexKeeper:
        with self._lock:
            if self._keeper is None:

                def rebuilding(done: int, total: int) -> None:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled("the search index rebuild was cancelled")
                    if on_progress is not None:
                        on_progress(Progress(Phase.BUILDING_INDEX, done, total, unit="vectors"))

                self._keeper = IndexKeeper(
                    self.catalog,
                    self.index_path,
                    self.embedder.identity,
                    self.model_id,
                    on_progress=rebuilding,
                )
                self._seen_version = self.catalog.data_version()
                self._save_index(force=True)  # so the next start does not redo the work
            return self._keeper

    @property
    def vector_index(self) -> VectorIndex:
        """The model's vector index: loaded, caught up, or rebuilt from the catalog."""
        return self._index_keeper().index

    def _sync_index(self) -> None:
        if self._keeper is not None:
            self._keeper.sync()

    def follow(self) -> bool:
        """Catch the in-memory index up with rows another process committed.

        Cheap when nothing changed (one PRAGMA); otherwise only what changed
        is applied (the change log), never a full reload. Returns whether
        anything was checked.
        """
        version = self.catalog.data_version()
        if version == self._seen_version or self._keeper is None:
            self._seen_version = version
            return False
        self._seen_version = version
        self._keeper.sync()
        return True

    def _save_index(self, *, force: bool) -> None:
        """Save the index if it changed and this process is, or can briefly become, the writer.

        Unforced saves happen at most every few minutes; one put off is done
        by :meth:`flush` or :meth:`close`. A save that fails (a full disk) is
        logged, never raised: it costs nothing but a catch-up from the catalog
        at the next start.
        """
        keeper = self._keeper
        if keeper is None or self.read_only or not keeper.save_due(force=force):
            return
        borrowed = not self.writer_lock.held
        if borrowed:
            try:
                self.writer_lock.acquire("saving the search index")
            except LibraryLockedError:
                return  # the writer saves its own, newer index
        try:
            keeper.save()
        except LibraryError as exc:  # a full disk: the next start catches up from the catalog
            log.warning("%s; the search index is caught up from the catalog next time", exc)
        finally:
            if borrowed:
                self.writer_lock.release()

    def index_health(self) -> str:
        """How the vector index was opened and whether it matches the catalog."""
        return self._index_keeper().health()

    # -- indexing ---------------------------------------------------------------

    def _scan_context(
        self, on_progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> ScanContext:
        def listed(count: int) -> None:
            if on_progress is not None:
                on_progress(Progress(Phase.SCANNING, count, None, unit="files"))

        return ScanContext(exclusion_keys(self.paths.own_dirs()), listed, cancel)

    def scan(
        self, on_progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> ScanSummary:
        """Reconcile the catalog with the disk without embedding anything."""
        with self.writing("scanning"):
            summary = reconcile_all(self.catalog, self._scan_context(on_progress, cancel))
            self.catalog.purge_tombstones()
            self._sync_index()
            return summary

    def reconcile(self, changes: Changes) -> ScanSummary:
        """Reconcile only what a watcher reported (no embedding); removals apply at once."""
        with self.writing("watching"):
            summary = reconcile_changes(self.catalog, changes, self._scan_context(None, None))
            self._sync_index()
            return summary

    def known_model_id(self) -> int | None:
        """The catalog id of the chosen model, found without loading it (None: never used)."""
        if self._model_id is not None:
            return self._model_id
        settings = self.settings
        expected = expected_model(settings.arch, settings.pretrained, self.paths.models_dir)
        return self.catalog.find_model(expected.arch, expected.pretrained, expected.digest)

    def work_count(self) -> int:
        """Photos waiting to be embedded with the chosen model (no model load)."""
        model_id = self.known_model_id()
        return self.catalog.pending_count(model_id, self.catalog.outdated(model_id))

    def index(self, cancel: threading.Event | None = None) -> Iterator[Progress]:
        """Scan every folder, then decode, embed and index what is new or changed.

        Yields SCANNING (files listed), then, only when there is something to
        embed, DOWNLOADING_MODEL/LOADING_MODEL, BUILDING_INDEX when the index
        must be rebuilt, INDEXING, THUMBNAILS when thumbnails were missing, and
        ends with DONE or CANCELLED. The counts of the last item include the
        problems the scan found.
        """
        cancel = cancel or threading.Event()
        with self.writing("indexing"):
            try:
                yield from self._index_run(cancel)
            except Cancelled:
                yield Progress(Phase.CANCELLED)

    def _index_run(self, cancel: threading.Event) -> Iterator[Progress]:
        yield Progress(Phase.SCANNING, 0, None, unit="files")
        summary: ScanSummary = yield from run_reporting(lambda report: self.scan(report, cancel))
        yield Progress(Phase.SCANNING, summary.listed, summary.listed, unit="files")
        final = Progress(Phase.DONE, problems=summary.problems)
        if not cancel.is_set() and self.work_count():
            final = yield from self._embed_all(cancel, summary.problems)
        if not cancel.is_set():
            yield from self.rebuild_thumbnails(cancel)
        yield replace(final, phase=Phase.CANCELLED) if cancel.is_set() else final

    def _embed_all(
        self, cancel: threading.Event, scan_problems: int
    ) -> Generator[Progress, None, Progress]:
        yield from run_reporting(lambda report: self._prepare_model(report, cancel))
        job = self.index_job()
        last = job.tracker.snapshot(Phase.INDEXING)
        try:
            for last in job.run(cancel):
                yield last
        finally:
            job.close()
            self._save_index(force=True)
        return replace(last, phase=Phase.DONE, problems=last.problems + scan_problems)

    def _prepare_model(self, report: ProgressCallback, cancel: threading.Event) -> None:
        self.load_model(report, cancel)
        self._index_keeper(report, cancel)

    def index_job(self) -> IndexJob:
        """A long-lived indexing job for the chosen model (the watch loop runs it in slices).

        Loads the model and the index. The caller holds the writer lock while
        it runs the job, and closes the job when done.
        """
        keeper = self._index_keeper()
        if not self._model_recorded:
            self.catalog.set_meta(LAST_MODEL_KEY, str(self.model_id))
            self._model_recorded = True
        return IndexJob(
            self.catalog,
            self.embedder,
            self.model_id,
            self.thumbnails,
            lambda: self._after_batch(keeper),
            self.indexer_options,
        )

    def _after_batch(self, keeper: IndexKeeper) -> None:
        keeper.sync()
        self._save_index(force=False)

    def rebuild_thumbnails(self, cancel: threading.Event | None = None) -> Iterator[Progress]:
        """Make the grid thumbnails that are missing (deleted cache); no model needed."""
        yield from rebuild_missing_thumbnails(
            self.catalog, self.thumbnails, self.indexer_options.workers, cancel
        )

    def apply_changes(
        self, changes: Changes, cancel: threading.Event | None = None
    ) -> Iterator[Progress]:
        """Reconcile what a watcher reported, then index what became pending."""
        cancel = cancel or threading.Event()
        with self.writing("watching"):
            self.reconcile(changes)
            yield Progress(Phase.SCANNING, unit="files")
            if self.work_count():
                final = yield from self._embed_all(cancel, 0)
                yield final
            else:
                yield Progress(Phase.DONE)

    # -- reads ------------------------------------------------------------------

    def _searcher(self) -> Searcher:
        self.follow()
        keeper = self._index_keeper()
        return Searcher(self.catalog, keeper.index, self.embedder, self.model_id, keeper.matrix)

    @contextmanager
    def searching(self) -> Iterator[None]:
        """Mark a search in progress: the watch loop starts no new embedding meanwhile."""
        with self._lock:
            self._searches += 1
        try:
            yield
        finally:
            with self._lock:
                self._searches -= 1

    @property
    def search_active(self) -> bool:
        """Whether a search runs in this process right now (the indexer yields to it)."""
        return self._searches > 0

    def search(self, query: str, options: SearchOptions | None = None) -> SearchResults:
        """Answer a query (see :mod:`photoseek.core.search.query` for the syntax).

        The query is checked before the model loads: a malformed query or a
        missing ``@photo`` fails at once.
        """
        return self.search_terms(parse_query(query), options)

    def search_terms(
        self, terms: list[QueryTerm], options: SearchOptions | None = None
    ) -> SearchResults:
        """Answer parsed query terms (a front end adds image terms as it likes: chips)."""
        terms = self._checked(terms)
        options = self._check_options(options or SearchOptions())
        with self.searching():
            return self._searcher().search_terms(terms, options)

    def search_pages(
        self,
        query: str | list[QueryTerm],
        options: SearchOptions | None = None,
        *,
        page_size: int = 100,
    ) -> Iterator[SearchResults]:
        """The results of a query (text, or parsed terms) page by page.

        A grid shows the first page at once. Each page holds the next
        ``page_size`` hits, best first; iteration ends after ``options.limit``
        hits or when no more photos match. With a relevance cut-off every
        photo at or above it is found (pass a large ``limit`` for no cap) and
        each page's ``total`` is their exact number.
        """
        options = self._check_options(options or SearchOptions())
        terms = self._checked(parse_query(query) if isinstance(query, str) else query)
        if options.sort == "date":  # dates order the whole result: rank it once, then page
            with self.searching():
                results = self._searcher().search_terms(terms, options)
            for start in range(0, max(len(results.hits), 1), page_size):
                yield replace(results, hits=results.hits[start : start + page_size])
            return
        with self.searching():
            searcher = self._searcher()
            vector, warnings = searcher.query_vector(terms)
        for offset in range(0, options.limit, page_size):
            wanted = min(page_size, options.limit - offset)
            with self.searching():
                page = searcher.rank(
                    vector, replace(options, limit=wanted, offset=offset), warnings
                )
            yield page
            if len(page.hits) < wanted:
                return

    def _checked(self, terms: list[QueryTerm]) -> list[QueryTerm]:
        return validate_terms(terms, lambda path: self.catalog.photo_at(path) is not None)

    def _check_options(self, options: SearchOptions) -> SearchOptions:
        """Refuse what no search can honour, before the model loads."""
        options.check()
        folder = options.filters.folder
        if folder is not None and self.catalog.folder_containing(folder) is None:
            known = ", ".join(str(f.path) for f in self.catalog.folders()) or "none yet"
            raise QueryError(f"{folder} is not in the library (its folders: {known})")
        return options

    def similar(self, image: Path, options: SearchOptions | None = None) -> SearchResults:
        """Photos that look like ``image`` (an indexed photo or any image file)."""
        terms = self._checked([QueryTerm(1.0, image=image)])
        options = self._check_options(options or SearchOptions())
        return self._searcher().search_terms(terms, options)

    def similar_to(self, photo_id: int, options: SearchOptions | None = None) -> SearchResults:
        """Photos that look like the indexed photo ``photo_id``, the photo itself left out."""
        options = self._check_options(options or SearchOptions())
        searcher = self._searcher()
        vector = searcher.photo_vector(photo_id)
        results = searcher.rank(vector, replace(options, limit=options.limit + 1), [])
        hits = [hit for hit in results.hits if hit.photo.id != photo_id][: options.limit]
        return replace(results, hits=hits)

    def name_matches(
        self, text: str, *, folder: Path | None = None, limit: int = 200
    ) -> list[PhotoRecord]:
        """Photos whose file or folder name holds every word of ``text`` (no model needed)."""
        return name_matches(self.catalog, text, folder=folder, limit=limit)

    def photo(self, photo_id: int) -> PhotoRecord | None:
        """The photo with this id, if it is in the library."""
        return self.catalog.photos([photo_id]).get(photo_id)

    def photos(self, ids: list[int]) -> dict[int, PhotoRecord]:
        """The photos with these ids that are in the library."""
        return self.catalog.photos(ids)

    def browse(
        self,
        folder: Path | None = None,
        *,
        limit: int = 200,
        cursor: BrowseCursor | None = None,
    ) -> BrowsePage:
        """Photos newest first (EXIF date, else mtime), a page at a time; no model needed.

        ``folder`` is a top folder or any folder inside one.
        """
        if limit < 1:
            raise QueryError("limit must be at least 1")
        folder_id, under = None, None
        if folder is not None:
            resolved = folder.expanduser().resolve()
            owner = self.catalog.folder_containing(resolved)
            if owner is None:
                raise QueryError(f"{folder} is not in the library")
            folder_id, under = owner.id, (None if owner.path == resolved else resolved)
        photos = self.catalog.browse(folder_id=folder_id, under=under, limit=limit, after=cursor)
        last = photos[-1] if len(photos) == limit else None
        return BrowsePage(photos, BrowseCursor(last.sort_date, last.id) if last else None)

    def thumbnail(self, photo_id: int, size: int | None = None) -> Path | None:
        """A JPEG thumbnail of the photo about ``size`` px on its long side.

        From the cache (keyed by content), or made now from the file; None
        when the photo is unknown or its file cannot be read (offline disk).
        Slow when made: call it from a worker thread.
        """
        photo = self.photo(photo_id)
        if photo is None or photo.fingerprint is None:
            return None
        wanted = self.thumbnails.nearest_size(size or DEFAULT_SIZE)
        try:
            return self.thumbnails.get_or_make(photo.fingerprint, photo.path, wanted)
        except Exception as exc:  # an unreadable file has no thumbnail; not the caller's error
            log.info("no thumbnail for %s: %s", photo.path, exc)
            return None

    def changes_since(self, version: int) -> ChangeSet:
        """What changed in the library after ``version`` (0: the start); see :class:`ChangeSet`."""
        return self.catalog.library_changes(version)

    @property
    def version(self) -> int:
        """The library's current version, for :meth:`changes_since`."""
        return self.catalog.change_seq()

    # -- reports ----------------------------------------------------------------

    def status(self) -> LibraryStatus:
        """Folders, counts and pending work for the chosen model, without loading it."""
        return library_status(self, self.known_model_id())

    def service_status(self) -> ServiceStatus:
        """Whether a watch service writes this library, and what it is doing."""
        return service_status(self.paths.data_dir, self.writer_lock.holder())

    def problems(self) -> list[Problem]:
        """Every file that was skipped, with its reason."""
        return self.catalog.problems()
