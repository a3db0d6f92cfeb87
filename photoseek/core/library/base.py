"""The state every part of the :class:`~photoseek.core.library.Library` facade shares.

The catalog, the writer lock, and the model and vector index, which load
lazily: opening a library costs one SQLite connection, the model loads on
first use, and the vector index is opened (or rebuilt) then kept in step
with the catalog's change log.
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

from photoseek.core.catalog.store import Catalog
from photoseek.core.errors import Cancelled, LibraryError, ModelUnavailableError
from photoseek.core.imaging.thumbnails import ThumbnailCache
from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.indexkeeper import IndexKeeper
from photoseek.core.library.modelchoice import read_choice
from photoseek.core.memory import give_back_freed_memory
from photoseek.core.model import imagepath, textpath
from photoseek.core.model.embedder import Embedder, ModelSettings, load_embedder
from photoseek.core.model.imagepath import (
    FP32,
    ImageEncoder,
    LightImageEncoder,
    MixedQueries,
    precision_identity,
)
from photoseek.core.model.naming import ExpectedModel, expected_model
from photoseek.core.model.textpath import LightText, QueryEncoder, TextFirst
from photoseek.core.progress import Phase, Progress, ProgressCallback
from photoseek.core.records import ModelIdentity
from photoseek.core.search.nameindex import NameIndex
from photoseek.core.vectors.index import VectorIndex
from photoseek.core.writerlock import LibraryLockedError, WriterLock
from photoseek.core.zeroshot.service import ZeroShot
from photoseek.paths import AppPaths

log = logging.getLogger("photoseek.core.library")

LAST_MODEL_KEY = "last_model_id"


class LibraryBase:
    """Construction, the writer role, and the lazily loaded model and index."""

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

    def load_model(
        self, on_progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> Embedder:
        """The CLIP model, loaded (and downloaded) on first use; thread-safe.

        Loading holds only the model's own lock (seconds): the index may load
        meanwhile (:meth:`preload_index`), and searches may begin.
        """
        if self._embedder is not None:
            return self._embedder
        with self._model_lock:
            if self._embedder is None:
                embedder = load_embedder(
                    self.settings, self.paths.models_dir, on_progress=on_progress, cancel=cancel
                )
                self._adopt(embedder)
                if not self.read_only:  # once per weights file
                    textpath.remember(embedder, self.paths.models_dir)
                    imagepath.remember(embedder, self.paths.models_dir)
            assert self._embedder is not None
            return self._embedder

    def _adopt(self, embedder: Embedder) -> None:
        """Make ``embedder`` the model; drop an index preloaded for another identity."""
        with self._lock:
            keeper = self._keeper
            if keeper is not None and keeper.identity != self._own(embedder.identity):
                log.warning(
                    "the model loaded as %s, not %s as the catalog expected: "
                    "its vector index is opened again",
                    self._own(embedder.identity).key,
                    keeper.identity.key,
                )
                self._keeper, self._model_id = None, None
                self._generation += 1
            self._embedder = embedder
            self._text_encoder = None  # the full model encodes texts from now on

    def query_encoder(self) -> QueryEncoder:
        """What turns a query into a vector: the model, or its text tower alone until it loads.

        Before the full model is loaded (and while it loads in another
        thread), texts are encoded by the light text path when it is exact
        for these weights (:mod:`~photoseek.core.model.textpath`): a cold
        search then costs torch's import and the text tower, not open_clip's
        import and the whole model. Image queries load the full model.
        """
        if self.settings.precision != FP32:
            return MixedQueries(self._text_queries(), self.image_encoder, self._precision_tag())
        return self._text_queries()

    def _text_queries(self) -> QueryEncoder:
        """The model, or the light text tower (images then load the model)."""
        if self._embedder is not None:
            return self._embedder
        text = self._light_text_encoder()
        if text is None:
            return self.embedder
        return TextFirst(text, self.load_model)

    def load_text_encoder(self) -> bool:
        """Load the light text encoder now, if there is an exact one; True when loaded.

        The app calls this first in its model loader, so that the first query
        is answered before the full model is (the full model loads after it).
        """
        return self._light_text_encoder() is not None

    def _light_text_encoder(self) -> LightText | None:
        with self._text_lock:
            if self._embedder is None and self._text_encoder is None and not self._text_tried:
                self._text_tried = True
                self._text_encoder = textpath.load_text_encoder(
                    self.settings, self.paths.models_dir
                )
            return self._text_encoder

    def image_encoder(
        self, on_progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> ImageEncoder:
        """What embeds photos: the image tower alone where it is exact, else the full model.

        The light image path (:mod:`~photoseek.core.model.imagepath`) indexes
        without torch or open_clip; it is used unless the full model is
        loaded already (the app, after an image query), which then embeds.
        """
        fp32 = self.settings.precision == FP32
        if self._embedder is not None and fp32:
            return self._embedder
        light = self._light_image_encoder()
        if light is not None:
            if on_progress is not None:  # the tower loads beside the first decodes
                on_progress(Progress(Phase.LOADING_MODEL, done=1, total=1, unit="steps"))
            return light
        embedder = self.load_model(on_progress, cancel)  # records the light path, if exact
        if fp32:
            return embedder
        light = self._light_image_encoder()
        if light is None:
            raise ModelUnavailableError(
                f"the {self.settings.precision} mode needs a plain ViT model from a safetensors "
                "weights file, and onnxruntime; index at fp32 instead"
            )
        return light

    def _light_image_encoder(self) -> LightImageEncoder | None:
        with self._model_lock:
            if self._image_encoder is None:
                self._image_encoder = imagepath.load_image_encoder(
                    self.settings, self.paths.models_dir, self.settings.precision
                )
            return self._image_encoder

    def release_image_model(self) -> bool:
        """Drop the light image tower, and the full model where the light paths stand in
        for it (an idle service gives back their memory).

        Text queries then go to the light text path; the next embedding or
        image query loads what it needs again (a second on the light path).
        Without a light path (random weights, other towers) the full model
        stays. True if anything was dropped.
        """
        light = imagepath.has_light_path(self.settings, self.paths.models_dir)
        with self._model_lock:
            dropped = self._image_encoder is not None or (light and self._embedder is not None)
            self._image_encoder = None
            if light:
                self._embedder = None
        if light:
            with self._text_lock:
                self._text_tried = False
        if dropped:
            give_back_freed_memory()
        return dropped

    def _loaded_identity(self) -> ModelIdentity | None:
        """The library's identity, from whatever model part is loaded (None: none yet)."""
        light = self._image_encoder
        if light is not None:
            return light.identity
        return self._own(self._embedder.identity) if self._embedder is not None else None

    def _own(self, identity: ModelIdentity) -> ModelIdentity:
        """The identity of this library's vectors for the model's ``identity`` (its precision)."""
        return precision_identity(identity, self._precision_tag())

    def _precision_tag(self) -> str:
        """What names this library's vectors: fp32, or the int8 graph the record allows."""
        return imagepath.precision_tag(self.settings, self.paths.models_dir)

    def _expected(self) -> ExpectedModel:
        """The catalog name of the chosen model at the chosen precision, as far as known."""
        settings = self.settings
        expected = expected_model(settings.arch, settings.pretrained, self.paths.models_dir)
        tag = self._precision_tag()
        if tag == FP32:
            return expected
        return ExpectedModel(f"{expected.arch}+{tag}", expected.pretrained, expected.digest)

    @property
    def embedder(self) -> Embedder:
        """The CLIP model, loaded on first use."""
        return self.load_model()

    @property
    def model_id(self) -> int:
        """The catalog id of the chosen model's identity (known without loading it, or loaded)."""
        if self._model_id is None and self._loaded_identity() is None:
            known = self._known_identity()
            if known is not None:
                with self._lock:
                    if self._model_id is None:
                        self._model_id = known[0]
                return self._model_id
        if self._model_id is None:
            # loaded outside _lock: it takes seconds
            identity = self._loaded_identity() or self._own(self.embedder.identity)
            with self._lock:
                if self._model_id is None:
                    model_id = self.catalog.model_id(identity, create=not self.read_only)
                    if model_id is None:
                        raise LibraryError("this library has no vectors for the chosen model yet")
                    self._model_id = model_id
        return self._model_id

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

    def _known_identity(self) -> tuple[int, ModelIdentity] | None:
        """The catalog id and identity of the chosen model, when known without loading it."""
        loaded = self._loaded_identity()
        if loaded is not None:
            return self.model_id, loaded
        expected = self._expected()
        if expected.digest is None:  # random weights, or a download not made yet
            return None
        model_id = self.catalog.find_model(expected.arch, expected.pretrained, expected.digest)
        identity = self.catalog.model_identity(model_id) if model_id is not None else None
        return (model_id, identity) if model_id is not None and identity is not None else None

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
    def name_index(self) -> NameIndex:
        """The visible paths of the library's photos, for name matches (made on first use)."""
        with self._names_lock:
            if self._names is None:
                self._names = NameIndex(self.catalog)
            return self._names

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

    def known_model_id(self) -> int | None:
        """The catalog id of the chosen model, found without loading it (None: never used)."""
        if self._model_id is not None:
            return self._model_id
        expected = self._expected()
        return self.catalog.find_model(expected.arch, expected.pretrained, expected.digest)

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
