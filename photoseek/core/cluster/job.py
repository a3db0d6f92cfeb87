"""The indexing job whose decoding and embedding run on a Ray cluster.

It is an :class:`~photoseek.core.indexing.pipeline.IndexJob` in all but
two steps: where the local job decodes a photo, this one only notes what
to send (the bytes it read, or the worker's path under ``--path-map``); and
where the local job embeds a batch, the vectors have already come back from
the cluster. Reading, fingerprinting, reusing known vectors, the batch's one
transaction, tags, the vector index and progress are the local job's own
code. Thumbnails of cluster-embedded photos are made by the run's closing
thumbnail pass (:meth:`Jobs.rebuild_thumbnails`), from the local files.

The driver streams: it keeps reading and fingerprinting batches while up to
:attr:`ClusterStream.depth` batches are decoded and embedded on the cluster
(:mod:`.stream`, one pipeline and one set of model actors for the whole run),
and commits each batch as it comes back, one transaction per batch. Photos
that need nothing from the cluster (known vectors, files that vanished or
fail locally) are committed at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from photoseek.core.catalog.store import Catalog
from photoseek.core.cluster.availability import require_ray
from photoseek.core.cluster.options import ClusterOptions
from photoseek.core.cluster.stream import ClusterStream
from photoseek.core.cluster.tasks import EmbedActor, decode_batch
from photoseek.core.cluster.weights import driver_weights
from photoseek.core.imaging.thumbnails import ThumbnailCache
from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.indexing.outcomes import Decoded, Failed, Outcome
from photoseek.core.indexing.pipeline import IndexJob
from photoseek.core.indexing.reading import FileRead
from photoseek.core.model.embedder import ModelSettings
from photoseek.core.model.imagepath import ImageEncoder
from photoseek.core.progress import Progress
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
    """The model actor (Ray restarts one that dies and re-runs its calls)."""

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
        self.options = replace(
            self.options, batch_size=cluster.model_batch_size(self.options.batch_size)
        )
        self.cluster = cluster
        self.settings = settings
        self.models_dir = models_dir
        self._stream: ClusterStream | None = None

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

    # -- streaming --------------------------------------------------------------------

    def _next_batch(self, cancel: threading.Event) -> list[Outcome]:
        """The next batch to commit: photos that need no cluster, else the oldest sent batch."""
        stream = self._started_stream()
        while not stream.busy() and not cancel.is_set():
            batch = super()._next_batch(cancel)
            if not batch:
                break
            shipped = [o for o in batch if isinstance(o, Decoded) and _shipped(o)]
            if shipped:
                stream.send([_row(i, o) for i, o in enumerate(shipped)], shipped)
            local = [o for o in batch if not _shipped(o)]
            if local:
                return local
        if stream.idle():
            return []
        received = stream.receive(cancel)
        if received is None:
            return []
        sent, result = received
        return [_outcome(outcome, result, i) for i, outcome in enumerate(sent)]

    def _started_stream(self) -> ClusterStream:
        """The run's stream: model actors started, the weights sent once (first call only)."""
        if self._stream is None:
            ray = require_ray()
            weights, file = driver_weights(self.settings, Path(self.models_dir), self.cluster)
            data = ray.put(file.read_bytes()) if file is not None else None
            device = "auto" if self.cluster.gpus_per_actor > 0 else "cpu"
            actor_args = (
                replace(self.settings, device=device),
                weights,
                data,
                self.embedder.identity.key,
            )
            min_side = self.embedder.image_size if self.options.draft else None
            self._stream = ClusterStream(
                ray, self.cluster, self.actor_class, actor_args, decode_batch, min_side
            )
        return self._stream

    @property
    def finished(self) -> bool:
        """Whether every known piece of work is done, none of it still on the cluster."""
        return super().finished and (self._stream is None or self._stream.idle())

    def _in_progress(self) -> int:
        in_flight = self._stream.photos_in_flight() if self._stream is not None else 0
        return super()._in_progress() + in_flight

    def _snapshot(self) -> Progress:
        progress = super()._snapshot()
        if self._stream is None:
            return progress
        return replace(progress, cluster=self._stream.load())

    def close(self) -> None:
        """Drop what is in flight, stop the model actors, then the local job's own close."""
        if self._stream is not None:
            self._stream.close()
        super().close()


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
