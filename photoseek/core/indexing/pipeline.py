"""The indexing pipeline: fingerprint -> decode (worker pool) -> embed -> commit.

Decoding runs in a bounded thread pool ahead of the model (Pillow releases
the GIL while decoding), so the model does not wait. Each batch is committed
in one transaction and then added to the vector index: a killed process loses
at most the batch in flight. Progress is yielded, throttled; a cancel event
is honoured between batches. A bad file is recorded with its reason and
never stops the run.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from photoseek.core.catalog import batchwrites
from photoseek.core.catalog.store import Catalog
from photoseek.core.errors import ImageError
from photoseek.core.imaging.decode import decode_image
from photoseek.core.imaging.thumbnails import ThumbnailCache
from photoseek.core.indexing.fingerprint import fingerprint
from photoseek.core.model.embedder import Embedder
from photoseek.core.records import PhotoMeta, WorkItem
from photoseek.core.vectors import codec as vectorcodec
from photoseek.core.vectors.index import VectorIndex

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 32
PROGRESS_INTERVAL_S = 0.25


@dataclass(frozen=True)
class Progress:
    """A snapshot of an indexing run, for whoever draws it."""

    phase: str  # "scanning", "indexing", "done" or "cancelled"
    done: int = 0
    total: int = 0
    rate: float = 0.0  # photos per second
    eta_s: float | None = None
    current: str | None = None
    problems: int = 0
    embedded: int = 0
    reused: int = 0


@dataclass(frozen=True)
class _Decoded:
    item: WorkItem
    fingerprint: str
    meta: PhotoMeta
    tensor: torch.Tensor


@dataclass(frozen=True)
class _Reused:
    item: WorkItem
    fingerprint: str
    moved_from: int | None = None  # a catalogued photo whose file went away: this is it, moved


@dataclass(frozen=True)
class _Failed:
    item: WorkItem
    fingerprint: str | None
    reason: str


_Outcome = _Decoded | _Reused | _Failed


@dataclass
class IndexerOptions:
    """Tuning knobs; the defaults suit a desktop."""

    batch_size: int = DEFAULT_BATCH_SIZE
    workers: int = field(default_factory=lambda: min(4, max(2, (os.cpu_count() or 2) // 2)))
    draft: bool = True  # JPEG draft decoding to just above the model's input size


class Indexer:
    """Runs the pipeline for one library and one model."""

    def __init__(
        self,
        catalog: Catalog,
        embedder: Embedder,
        model_id: int,
        index: VectorIndex,
        thumbnails: ThumbnailCache,
        save_index: Callable[[bool], None],  # called after each batch, then with True at the end
        options: IndexerOptions | None = None,
    ) -> None:
        self.catalog = catalog
        self.embedder = embedder
        self.model_id = model_id
        self.index = index
        self.thumbnails = thumbnails
        self.save_index = save_index
        self.options = options or IndexerOptions()

    def run(
        self, work: list[WorkItem], cancel: threading.Event | None = None
    ) -> Iterator[Progress]:
        """Process ``work``; yield progress; the last item has phase done/cancelled."""
        cancel = cancel or threading.Event()
        tracker = _Tracker(total=len(work))
        yield tracker.snapshot("indexing")
        for batch in self._batches(work, cancel):
            self._commit(batch, tracker)
            self.save_index(False)  # the library decides how often a save is worth it
            if tracker.due():
                yield tracker.snapshot("indexing")
        self.save_index(True)
        yield tracker.snapshot("cancelled" if cancel.is_set() else "done")

    def _batches(self, work: list[WorkItem], cancel: threading.Event) -> Iterator[list[_Outcome]]:
        size = self.options.batch_size
        prefetch = size * 2
        items = iter(work)
        with ThreadPoolExecutor(self.options.workers, thread_name_prefix="decode") as pool:
            pending: deque[Future[_Outcome]] = deque()

            def fill() -> None:
                while len(pending) < prefetch and (item := next(items, None)) is not None:
                    pending.append(pool.submit(self._prepare, item))

            fill()
            batch: list[_Outcome] = []
            decoded = 0
            while pending and not cancel.is_set():
                outcome = pending.popleft().result()
                fill()
                batch.append(outcome)
                decoded += isinstance(outcome, _Decoded)
                if decoded >= size or len(batch) >= size * 4:
                    yield batch
                    batch, decoded = [], 0
            for future in pending:
                future.cancel()
            if batch:
                yield batch

    def _prepare(self, item: WorkItem) -> _Outcome:
        """Worker thread: fingerprint, then decode unless the content is known."""
        try:
            fp = fingerprint(item.path)
        except OSError as exc:
            return _Failed(item, None, _os_reason(exc))
        if self.thumbnails.exists(fp) and self.catalog.can_reuse(self.model_id, fp):
            return _Reused(item, fp, self.catalog.moved_photo(fp, exclude=item.id))
        min_side = self.embedder.image_size if self.options.draft else None
        try:
            image = decode_image(item.path, min_side=min_side)
            tensor = self.embedder.preprocess(image.image)
        except ImageError as exc:
            return _Failed(item, fp, exc.reason)
        try:
            self.thumbnails.save(fp, image.image)
        except OSError as exc:  # a missing thumbnail is redrawn later; not a photo problem
            log.warning("thumbnail for %s not saved: %s", item.path, exc)
        taken = image.taken_at.isoformat(timespec="seconds") if image.taken_at else None
        meta = PhotoMeta(image.format, image.width, image.height, taken)
        return _Decoded(item, fp, meta, tensor)

    def _commit(self, batch: list[_Outcome], tracker: _Tracker) -> None:
        decoded = [o for o in batch if isinstance(o, _Decoded)]
        vectors = self._embed(decoded)
        live: list[int] = []
        with self.catalog.transaction() as tx:
            for outcome in batch:
                if isinstance(outcome, _Failed):
                    batchwrites.mark_error(tx, outcome.item.id, outcome.reason, outcome.fingerprint)
                    continue
                if isinstance(outcome, _Decoded):
                    batchwrites.store_embedding(
                        tx, self.model_id, outcome.fingerprint, vectors[outcome.fingerprint]
                    )
                    meta: PhotoMeta | None = outcome.meta
                elif outcome.moved_from is not None and batchwrites.still_gone(
                    tx, outcome.moved_from
                ):  # re-checked here: two copies of one moved photo may both have claimed it
                    batchwrites.move_into(tx, outcome.moved_from, outcome.item.id)
                    live.append(outcome.moved_from)
                    continue
                else:
                    meta = None
                live.append(
                    batchwrites.mark_indexed(tx, outcome.item.id, outcome.fingerprint, meta)
                )
        if live:
            dim = self.embedder.identity.dim
            self.index.add(live, self.catalog.vectors(self.model_id, live, dim))
        tracker.record(batch)

    def _embed(self, decoded: list[_Decoded]) -> dict[str, vectorcodec.FloatArray]:
        if not decoded:
            return {}
        vectors = vectorcodec.quantize(self.embedder.encode_images([d.tensor for d in decoded]))
        return {d.fingerprint: vectors[i] for i, d in enumerate(decoded)}


class _Tracker:
    """Counts, rate and throttling of progress reports."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = self.problems = self.embedded = self.reused = 0
        self.current: str | None = None
        self.started = time.monotonic()
        self._last_report = 0.0

    def record(self, batch: list[_Outcome]) -> None:
        self.done += len(batch)
        self.problems += sum(isinstance(o, _Failed) for o in batch)
        self.embedded += sum(isinstance(o, _Decoded) for o in batch)
        self.reused += sum(isinstance(o, _Reused) for o in batch)
        self.current = str(batch[-1].item.path)

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_INTERVAL_S:
            self._last_report = now
            return True
        return False

    def snapshot(self, phase: str) -> Progress:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else None
        return Progress(
            phase,
            self.done,
            self.total,
            rate,
            eta,
            self.current,
            self.problems,
            self.embedded,
            self.reused,
        )


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file vanished before it could be read"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot read file: {exc.strerror or exc}"
