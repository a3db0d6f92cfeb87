"""The library's vector index, kept in step with the catalog, and the library's lifecycle.

The vector index of the chosen model is opened (or rebuilt) on first use, then
kept in step with the catalog's change log; it is saved when the writer role
ends and when the library closes. Every part of the
:class:`~photoseek.core.library.Library` facade derives from :class:`LibraryBase`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Self

from photoseek.core.errors import Cancelled, LibraryError
from photoseek.core.indexkeeper import IndexKeeper
from photoseek.core.library.modelchoice import read_choice
from photoseek.core.library.models import ModelOps
from photoseek.core.progress import Phase, Progress, ProgressCallback
from photoseek.core.records import ModelIdentity
from photoseek.core.vectors.index import VectorIndex
from photoseek.core.writerlock import LibraryLockedError

log = logging.getLogger("photoseek.core.library")

LAST_MODEL_KEY = "last_model_id"


class LibraryBase(ModelOps):
    """The vector index, following other processes, saving, closing."""

    def __enter__(self) -> Self:
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
            if self._owns_lock:
                self.writer_lock.release()

    def flush(self) -> None:
        """Do a put-off index save now (the watch service calls this when it stops)."""
        self._save_index(force=True)

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

    @property
    def index_path(self) -> Path:
        """The vector index file of the loaded model."""
        return self._index_file(self._loaded_identity() or self._own(self.embedder.identity))

    def _index_file(self, identity: ModelIdentity) -> Path:
        return self.paths.index_dir / f"{identity.slug}.hnsw"

    def preload_index(self) -> bool:
        """Open the chosen model's vector index before the model has loaded, if possible.

        Possible when the catalog already knows the model of these settings
        by its weights file's digest (read without loading the model) and
        its index file exists (a missing one is rebuilt at first use, with
        progress, not here). The
        app calls this beside the model load, so that the first search does
        not wait for the index after the model (0.9 s at 100,000 photos).
        Should the model load as another identity after all (its file was
        replaced meanwhile), the index is opened again for it. Returns
        whether the index is open.
        """
        if self._keeper is not None:
            return True
        known = self._known_identity()
        if known is None or not self._index_file(known[1]).is_file():
            return False
        self._index_keeper(known=known)
        return True

    def _index_keeper(
        self,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        *,
        known: tuple[int, ModelIdentity] | None = None,
    ) -> IndexKeeper:
        while True:  # again if the model was switched while its identity was worked out
            generation = self._generation
            if self._keeper is None and known is None:
                known = self._known_identity()
            if self._keeper is None and known is None:
                identity = self._loaded_identity() or self._own(self.embedder.identity)
                known = (self.model_id, identity)  # the model loads outside _lock: seconds
            with self._lock:
                if self._keeper is not None:
                    return self._keeper
                if known is not None and generation == self._generation:
                    return self._open_keeper(known, on_progress, cancel)
            known = None

    def _open_keeper(
        self,
        known: tuple[int, ModelIdentity],
        on_progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> IndexKeeper:
        """The keeper, opened for ``known`` (the caller holds _lock and found none)."""
        if self._keeper is None:
            model_id, identity = known

            def rebuilding(done: int, total: int) -> None:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("the search index rebuild was cancelled")
                if on_progress is not None:
                    on_progress(Progress(Phase.BUILDING_INDEX, done, total, unit="vectors"))

            self._keeper = IndexKeeper(
                self.catalog,
                self._index_file(identity),
                identity,
                model_id,
                on_progress=rebuilding,
            )
            self._model_id = model_id
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
        if version == self._seen_version:
            return False
        if self.follows_choice:
            self._follow_choice()
        if self._keeper is None:
            self._seen_version = version
            return False
        self._seen_version = version
        self._keeper.sync()
        return True

    def _follow_choice(self) -> None:
        """Answer with the library's chosen model if another process switched it."""
        chosen = read_choice(self.catalog)
        settings = self.settings
        if chosen is not None and (chosen.arch, chosen.pretrained) != (
            settings.arch,
            settings.pretrained,
        ):
            log.info("another process switched the library to %s: answering with it", chosen)
            self.switch_to(replace(settings, arch=chosen.arch, pretrained=chosen.pretrained))

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
