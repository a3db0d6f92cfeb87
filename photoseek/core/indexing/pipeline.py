"""The indexing pipeline: read once -> fingerprint -> decode (worker pool) -> embed -> commit.

Decoding runs in a bounded thread pool ahead of the model (Pillow releases
the GIL while decoding), so the model does not wait. Each batch is committed
in one transaction; the library then brings its vector index up to date
from the catalog's change log. A killed process loses at most the batch in
flight. Progress is yielded, throttled; a cancel event is honoured between
photos (the batch collected so far is committed). From the pixels it decoded
anyway, a worker also makes the photo's thumbnail and its perceptual hash
for the duplicate finder (:mod:`photoseek.core.duplicates.phash`: 0.5 ms
of CPU a photo, about 1 % of the photo's cost), stored with its vector.

A bad file never stops the run: *any* exception raised while handling one
file (reading, fingerprinting, decoding, preparing it for the model, making
its thumbnail) is recorded as that file's problem with its reason. When the
model fails on a batch, its photos are embedded one by one, so one photo the
model cannot take becomes one problem; only a model that fails on every
photo of a batch stops the run (that is the machine's problem, not the
photos').

An :class:`IndexJob` is long-lived: the watch service runs it in slices
(:meth:`IndexJob.run` with a deadline) between applying file-system changes,
so deletions and moves never wait behind a long burst of new photos.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

from PIL import Image

from photoseek.core.catalog import batchwrites
from photoseek.core.catalog.store import Catalog
from photoseek.core.duplicates.phash import phash_image
from photoseek.core.errors import ImageError, LibraryError, ModelUnavailableError
from photoseek.core.imaging.decode import DecodedImage, decode_image, decode_image_data
from photoseek.core.imaging.decoders import decoder_tag, is_current
from photoseek.core.imaging.pixels import fit_for_model
from photoseek.core.imaging.thumbnails import DEFAULT_SIZE, ThumbnailCache
from photoseek.core.indexing.options import DEFAULT_BATCH_SIZE, IndexerOptions
from photoseek.core.indexing.outcomes import Changed, Decoded, Failed, Outcome, Reused, Vanished
from photoseek.core.indexing.reading import FileChanged, FileRead, read_photo, unchanged_since
from photoseek.core.indexing.stages import StageClock
from photoseek.core.indexing.tracker import Tracker
from photoseek.core.indexing.worksource import WorkSource
from photoseek.core.model.imagepath import ImageEncoder, base_arch
from photoseek.core.progress import Phase, Progress
from photoseek.core.records import PhotoMeta, WorkItem
from photoseek.core.vectors import codec as vectorcodec
from photoseek.core.zeroshot.batchtags import BatchTags
from photoseek.core.zeroshot.tagging import default_threshold

__all__ = ["DEFAULT_BATCH_SIZE", "IndexJob", "IndexerOptions"]

log = logging.getLogger(__name__)

UNIDENTIFIED = decoder_tag("sniff")
"""The tag of a failure before any format was recognised (bump "sniff" to re-examine them)."""


class IndexJob:
    """The indexing work of one library and one model, run in one go or in slices."""

    def __init__(
        self,
        catalog: Catalog,
        embedder: ImageEncoder,
        model_id: int,
        thumbnails: ThumbnailCache,
        after_commit: Callable[[], None],
        options: IndexerOptions | None = None,
    ) -> None:
        self.catalog = catalog
        self.embedder = embedder
        self.model_id = model_id
        self.thumbnails = thumbnails
        self.after_commit = after_commit
        self.options = options or IndexerOptions()
        self.source = WorkSource(catalog, model_id)
        self.tracker = Tracker(total=self.source.count())
        self.stages = StageClock()  # where the time goes (the CLI's ``index --timings``)
        self._model_load_counted = False
        self._pool = ThreadPoolExecutor(_decode_workers(embedder, self.options), "decode")
        self._queue: deque[tuple[WorkItem, Future[Outcome]]] = deque()

    # -- running ----------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """Whether every known piece of work is done (until :meth:`refresh`)."""
        return self.source.exhausted and not self._queue

    def refresh(self) -> None:
        """New work may exist (a scan ran): look for it and grow the total."""
        self.source.refresh()
        self.tracker.grow(self.tracker.done + self._in_progress() + self.source.count())

    def _in_progress(self) -> int:
        """Photos taken from the work source and not committed yet."""
        return len(self._queue)

    def run(
        self,
        cancel: threading.Event | None = None,
        *,
        until: float | None = None,
        hold: Callable[[], bool] | None = None,
    ) -> Iterator[Progress]:
        """Commit batches until the work runs out, ``cancel`` is set or ``until`` passes.

        ``until`` is a ``time.monotonic()`` deadline and ``hold()`` a question
        (a search running, a pause asked for), both checked between batches.
        Yields INDEXING progress; the caller reports the final phase.
        """
        cancel = cancel or threading.Event()
        self.tracker.start()
        yield self._snapshot()
        while not cancel.is_set():
            batch = self._next_batch(cancel)
            if not batch:
                break
            self._commit(batch)
            if self.tracker.due():
                yield self._snapshot()
            if until is not None and time.monotonic() >= until:
                break
            if hold is not None and hold():
                break
        yield replace(self._snapshot(), stages=self.stages.totals())

    def _snapshot(self) -> Progress:
        """The run's progress now (a cluster job adds what the cluster does)."""
        return self.tracker.snapshot(Phase.INDEXING)

    def close(self) -> None:
        """Drop work not yet committed and stop the decode workers."""
        for _item, future in self._queue:
            future.cancel()
        self.source.release(item.id for item, _ in self._queue)
        self._queue.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- batches ----------------------------------------------------------------

    def _fill(self) -> None:
        """Keep the decoders one to two batches ahead of the model. The catalog is read when
        a batch's worth has gone, not for every photo taken: each read runs here, on the
        thread that hands the model its next batch, at 2-7 ms (measured, 363 photos)."""
        if len(self._queue) > self.options.batch_size:
            return
        want = self.options.batch_size * 2 - len(self._queue)
        for item in self.source.take(want):
            self._queue.append((item, self._pool.submit(self._prepare, item)))

    def _next_batch(self, cancel: threading.Event) -> list[Outcome]:
        size = self.options.batch_size
        batch: list[Outcome] = []
        decoded = 0
        self._fill()
        while self._queue and not cancel.is_set():
            _item, future = self._queue.popleft()
            with self.stages.stage("wait"):
                outcome = future.result()
            self._fill()
            batch.append(outcome)
            decoded += isinstance(outcome, Decoded)
            if decoded >= size or len(batch) >= size * 4:
                break
        return batch

    # -- one file (decode workers) -------------------------------------------------

    def _prepare(self, item: WorkItem) -> Outcome:
        """Worker thread: whatever one file raises becomes that file's problem."""
        try:
            return self._prepare_file(item)
        except MemoryError:
            return Failed(item, None, "out of memory while reading or decoding this file")
        except Exception as exc:
            log.warning("unexpected error while indexing %s", item.path, exc_info=True)
            return Failed(item, None, _short(f"unexpected error: {type(exc).__name__}: {exc}"))

    def _prepare_file(self, item: WorkItem) -> Outcome:
        try:
            read = read_photo(item, self.stages)
        except FileNotFoundError:
            return Vanished(item)
        except ImageError as exc:
            return Failed(item, None, exc.reason, exc.decoder or UNIDENTIFIED)
        except OSError as exc:
            return Failed(item, None, _os_reason(exc))
        if isinstance(read, FileChanged):
            return Changed(item, read.size, read.mtime_ns)
        tag = self.catalog.reusable_decoder(self.model_id, read.fingerprint)
        if tag is not None and is_current(tag):
            self._ensure_thumbnail(item, read)
            moved_from = self.catalog.moved_photo(read.fingerprint, exclude=item.id)
            return Reused(item, read.fingerprint, moved_from)
        return self._decode(item, read)

    def _decode(self, item: WorkItem, read: FileRead) -> Outcome:
        fp = read.fingerprint
        min_side = self.embedder.image_size if self.options.draft else None
        try:
            with self.stages.stage("decode"):
                image = _decode_read(item, read, min_side)
        except ImageError as exc:
            return Failed(item, fp, exc.reason, exc.decoder or UNIDENTIFIED)
        if read.data is None and not unchanged_since(item):
            return Changed(item, item.size, item.mtime_ns)
        try:
            with self.stages.stage("preprocess"):
                tensor = self.embedder.preprocess(fit_for_model(image.image))
        except Exception as exc:
            log.warning("cannot prepare %s for the model", item.path, exc_info=True)
            reason = _short(f"cannot prepare it for the model: {type(exc).__name__}: {exc}")
            return Failed(item, fp, reason, image.decoder)
        self._save_thumbnail(item, fp, image.image)
        taken = image.taken_at.isoformat(timespec="seconds") if image.taken_at else None
        meta = PhotoMeta(image.format, image.width, image.height, taken)
        return Decoded(item, fp, meta, tensor, image.decoder, self._phash(item, image.image))

    def _phash(self, item: WorkItem, image: Image.Image) -> int | None:
        """The perceptual hash for the duplicate finder, from the pixels decoded already."""
        try:
            with self.stages.stage("phash"):
                return phash_image(image)
        except Exception as exc:  # the duplicate finder makes it later; not a photo problem
            log.warning("perceptual hash of %s not made: %s", item.path, exc)
            return None

    def _save_thumbnail(self, item: WorkItem, fp: str, image: Image.Image) -> None:
        try:
            with self.stages.stage("thumbnail"):
                self.thumbnails.save(fp, image)
        except Exception as exc:  # a missing thumbnail is made again later; not a photo problem
            log.warning("thumbnail of %s not saved: %s", item.path, exc)

    def _ensure_thumbnail(self, item: WorkItem, read: FileRead) -> None:
        """A reused content whose thumbnail was deleted gets it back (no embedding)."""
        if self.thumbnails.exists(read.fingerprint):
            return
        try:
            image = _decode_read(item, read, DEFAULT_SIZE)
        except ImageError as exc:
            log.warning("thumbnail of %s not made: %s", item.path, exc.reason)
            return
        self._save_thumbnail(item, read.fingerprint, image.image)

    # -- commit ----------------------------------------------------------------------

    def _commit(self, batch: list[Outcome]) -> None:
        decoded = [o for o in batch if isinstance(o, Decoded)]
        with self.stages.stage("model", getattr(self.embedder, "cpu_seconds", None)):
            vectors, model_failures = self._embed(decoded)
        self._count_model_load()
        with self.stages.stage("database"):
            self._store(batch, vectors, model_failures)
        failed = sum(isinstance(o, Failed) for o in batch) + len(model_failures)
        self.tracker.record(
            len(batch),
            problems=failed,
            embedded=len(vectors),
            reused=sum(isinstance(o, Reused) for o in batch),
            current=str(batch[-1].item.path),
        )
        self.source.release(o.item.id for o in batch)
        with self.stages.stage("index"):
            self.after_commit()

    def _count_model_load(self) -> None:
        """Add the image tower's load to the stage table, once, when the encoder timed one."""
        if self._model_load_counted:
            return
        load_times = getattr(self.embedder, "load_times", None)
        timed = load_times() if load_times is not None else None
        if timed is not None:
            self.stages.add("model load", *timed)
            self._model_load_counted = True

    def _store(
        self,
        batch: list[Outcome],
        vectors: dict[str, vectorcodec.FloatArray],
        model_failures: dict[str, str],
    ) -> None:
        """The batch's one transaction: its photos, vectors, tags and problems."""
        scoring = self._tagging(vectors)
        with self.catalog.transaction() as tx:
            for outcome in batch:
                self._write(tx, outcome, vectors, model_failures)
                if isinstance(outcome, Decoded):
                    for tags in scoring:
                        tags.store(tx, outcome.fingerprint)

    def _write(
        self,
        tx: sqlite3.Connection,
        outcome: Outcome,
        vectors: dict[str, vectorcodec.FloatArray],
        model_failures: dict[str, str],
    ) -> None:
        item = outcome.item
        if isinstance(outcome, Failed):
            batchwrites.mark_error(tx, item, outcome.reason, outcome.fingerprint, outcome.decoder)
        elif isinstance(outcome, Changed):
            batchwrites.mark_changed(tx, item, outcome.size, outcome.mtime_ns)
        elif isinstance(outcome, Decoded):
            fp = outcome.fingerprint
            if fp in model_failures:
                batchwrites.mark_error(tx, item, model_failures[fp], fp, outcome.decoder)
                return
            batchwrites.store_embedding(tx, self.model_id, fp, vectors[fp], outcome.decoder)
            if outcome.phash is not None:
                batchwrites.store_phash(tx, fp, outcome.phash)
            batchwrites.mark_indexed(tx, item, fp, outcome.meta)
        elif isinstance(outcome, Reused):
            moved = outcome.moved_from
            if moved is not None and batchwrites.still_gone(tx, moved):
                # re-checked here: two copies of one moved photo may both have claimed it
                batchwrites.move_into(tx, moved, item.id)
            else:
                batchwrites.mark_indexed(tx, item, outcome.fingerprint, None)

    def _tagging(self, vectors: dict[str, vectorcodec.FloatArray]) -> list[BatchTags]:
        """The batch's tags and content-filter scores, when the model has those spaces:
        stored with its vectors, so no photo is ever searchable untagged or unfiltered."""
        if not vectors:
            return []
        default = default_threshold(base_arch(self.embedder.identity.arch))
        spaces = (self.catalog.tag_space(self.model_id, kind) for kind in ("tags", "hide"))
        return [BatchTags.of(space, vectors, default) for space in spaces if space is not None]

    def _embed(
        self, decoded: list[Decoded]
    ) -> tuple[dict[str, vectorcodec.FloatArray], dict[str, str]]:
        """Vectors by fingerprint, and the photos the model failed on (with why)."""
        if not decoded:
            return {}, {}
        try:
            matrix = vectorcodec.quantize(self.embedder.encode_images([d.tensor for d in decoded]))
            return {d.fingerprint: matrix[i] for i, d in enumerate(decoded)}, {}
        except ModelUnavailableError:
            raise  # the model itself cannot run: not these photos' problem
        except Exception as exc:
            log.warning("the model failed on a batch (%s); embedding its photos one by one", exc)
        vectors: dict[str, vectorcodec.FloatArray] = {}
        failures: dict[str, str] = {}
        for photo in decoded:
            try:
                one = vectorcodec.quantize(self.embedder.encode_images([photo.tensor]))
                vectors[photo.fingerprint] = one[0]
            except Exception as exc:
                failures[photo.fingerprint] = _short(
                    f"the model failed on this photo: {type(exc).__name__}: {exc}"
                )
        if not vectors and len(decoded) > 1:
            raise LibraryError(
                f"the model failed on every photo of a batch ({next(iter(failures.values()))}); "
                "indexing stopped"
            )
        return vectors, failures


def _decode_workers(embedder: ImageEncoder, options: IndexerOptions) -> int:
    """The decode threads: the options' on a CPU, where decoding shares the cores with the
    model; every core where the model runs on a GPU, so that decoding keeps it fed."""
    if getattr(embedder, "device", "cpu") in ("cuda", "mps"):
        return max(options.workers, os.cpu_count() or 1)
    return options.workers


def _decode_read(item: WorkItem, read: FileRead, min_side: int | None) -> DecodedImage:
    """Decode the bytes read (or, for a file above the full-hash limit, the file)."""
    if read.data is not None:
        return decode_image_data(read.data, name=item.path.name, min_side=min_side)
    return decode_image(item.path, min_side=min_side)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return _short(f"cannot read file: {exc.strerror or exc}")


def _short(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
