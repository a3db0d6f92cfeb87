"""The indexing job whose decoding and embedding run on a Ray cluster.

It is an :class:`~photoseek.core.indexing.pipeline.IndexJob` in all but
two steps: where the local job decodes a photo, this one only notes what
to send (the bytes it read, or the worker's path under ``--path-map``); and
where the local job embeds a batch, the vectors have already come back from
the cluster. Reading, fingerprinting, reusing known vectors, the batch's one
transaction, tags, the vector index and progress are the local job's own
code. Thumbnails of cluster-embedded photos are made by the run's closing
thumbnail pass (:meth:`Jobs.rebuild_thumbnails`), from the local files.

The driver works in windows of ``ClusterOptions.window`` photos: it reads
and fingerprints a window locally, runs its pending photos through one Ray
Data pipeline (from_items -> read+decode tasks -> model actors) and commits
the results as they stream back, one transaction per batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from photoseek.core.catalog.store import Catalog
from photoseek.core.cluster.availability import require_ray
from photoseek.core.cluster.options import ClusterOptions
from photoseek.core.cluster.tasks import EmbedActor, decode_batch
from photoseek.core.imaging.thumbnails import ThumbnailCache
from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.indexing.outcomes import Decoded, Failed, Outcome
from photoseek.core.indexing.pipeline import IndexJob
from photoseek.core.indexing.reading import FileRead
from photoseek.core.model.embedder import ModelSettings
from photoseek.core.model.imagepath import ImageEncoder
from photoseek.core.records import PhotoMeta, WorkItem
from photoseek.core.vectors import codec as vectorcodec

log = logging.getLogger(__name__)

_UNSEEN = PhotoMeta("", 0, 0, None)  # replaced by what the worker learned


@dataclass(frozen=True)
class Shipment:
    """What a worker needs to decode one photo: its bytes, or its path on the worker."""

    data: bytes | None
    remote: str | None


class ClusterIndexJob(IndexJob):
    """An :class:`IndexJob` whose decode + embed steps run on Ray (already connected)."""

    actor_class: type[EmbedActor] = EmbedActor
    """The model actor (Ray restarts one that dies and re-runs its batches)."""

    def __init__(
        self,
        catalog: Catalog,
        embedder: ImageEncoder,
        model_id: int,
        thumbnails: ThumbnailCache,
        after_commit: Callable[[], None],
        options: IndexerOptions | None,
        *,
        cluster: ClusterOptions,
        settings: ModelSettings,
        models_dir: str,
    ) -> None:
        super().__init__(catalog, embedder, model_id, thumbnails, after_commit, options)
        self.cluster = cluster
        self.settings = settings
        self.models_dir = models_dir
        self._stream: Iterator[list[Outcome]] | None = None

    # -- the local job's two steps, replaced -----------------------------------------

    def _decode(self, item: WorkItem, read: FileRead) -> Outcome:
        """Note what to send instead of decoding here (the worker decodes)."""
        remote = self.cluster.remote_path(item.path)
        data = None if remote is not None else read.data
        if remote is None and data is None:  # above the full-hash limit: read it for sending
            data = item.path.read_bytes()
        return Decoded(item, read.fingerprint, _UNSEEN, Shipment(data, remote), "")

    def _embed(
        self, decoded: list[Decoded]
    ) -> tuple[dict[str, vectorcodec.FloatArray], dict[str, str]]:
        """The vectors came back from the cluster with the batch."""
        if not decoded:
            return {}, {}
        matrix = vectorcodec.quantize(np.stack([d.tensor for d in decoded]))
        return {d.fingerprint: matrix[i] for i, d in enumerate(decoded)}, {}

    def _next_batch(self, cancel: threading.Event) -> list[Outcome]:
        if self._stream is None:
            self._stream = self._batches(cancel)
        return next(self._stream, [])

    # -- windows ----------------------------------------------------------------------

    def _batches(self, cancel: threading.Event) -> Iterator[list[Outcome]]:
        size = self.options.batch_size
        while not cancel.is_set():
            window = self._read_window(cancel)
            if not window:
                return
            local = [o for o in window if not _shipped(o)]
            for start in range(0, len(local), size):
                yield local[start : start + size]
            shipped = [o for o in window if _shipped(o)]
            if shipped:
                yield from self._through_cluster(shipped, cancel)

    def _read_window(self, cancel: threading.Event) -> list[Outcome]:
        """Read and fingerprint up to a window of photos locally (the local job's code)."""
        window: list[Outcome] = []
        while len(window) < self.cluster.window and not cancel.is_set():
            batch = super()._next_batch(cancel)
            if not batch:
                break
            window += batch
        return window

    def _through_cluster(
        self, shipped: list[Outcome], cancel: threading.Event
    ) -> Iterator[list[Outcome]]:
        """Run one window's photos through the Ray Data pipeline; yield committed-size batches."""
        ray = require_ray()
        by_key = {i: o for i, o in enumerate(shipped) if isinstance(o, Decoded)}
        rows = [_row(key, outcome) for key, outcome in by_key.items()]
        min_side = self.embedder.image_size if self.options.draft else None
        model_batch = self.cluster.model_batch_size(self.options.batch_size)
        dataset = (
            ray.data.from_items(rows)
            .map_batches(partial(decode_batch, min_side=min_side), batch_format="numpy")
            .map_batches(
                self.actor_class,
                fn_constructor_args=(
                    self.settings,
                    self.models_dir,
                    self.embedder.identity.key,
                ),
                batch_size=model_batch,
                batch_format="numpy",
                concurrency=self.cluster.actors,
                num_gpus=self.cluster.gpus_per_actor or None,
            )
        )
        results = dataset.iter_batches(
            batch_size=self.options.batch_size, batch_format="numpy", prefetch_batches=1
        )
        for result in results:
            yield [_outcome(by_key[int(k)], result, i) for i, k in enumerate(result["key"])]
            if cancel.is_set():
                return


def _shipped(outcome: Outcome) -> bool:
    return isinstance(outcome, Decoded) and isinstance(outcome.tensor, Shipment)


def _row(key: int, outcome: Decoded) -> dict[str, Any]:
    shipment: Shipment = outcome.tensor
    return {
        "key": key,
        "name": outcome.item.path.name,
        "fingerprint": outcome.fingerprint,
        "data": shipment.data if shipment.data is not None else b"",
        "remote": shipment.remote or "",
    }


def _outcome(sent: Decoded, result: dict[str, Any], i: int) -> Outcome:
    """The committed form of one photo's result row."""
    decoder = str(result["decoder"][i])
    if not bool(result["ok"][i]):
        return Failed(sent.item, sent.fingerprint, str(result["reason"][i]), decoder or None)
    taken = str(result["taken"][i]) or None
    meta = PhotoMeta(
        str(result["format"][i]),
        int(result["width"][i]),
        int(result["height"][i]),
        taken,
    )
    phash = str(result["phash"][i])
    vector = np.asarray(result["vector"][i], dtype=np.float32)
    return Decoded(
        sent.item, sent.fingerprint, meta, vector, decoder, int(phash) if phash else None
    )
