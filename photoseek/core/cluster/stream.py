"""One streaming pipeline for a whole cluster run: decode tasks feed long-lived model actors.

The driver reads and fingerprints photos locally as it always does; each batch
whose photos need a vector becomes one Ray task that decodes them on any CPU
of the cluster, whose result goes straight (worker to actor, not through the
driver) to one of the run's model actors. The actors start once per run and
get the weights once (:mod:`.weights`); a bounded number of batches is in
flight, so the driver's memory and the object store hold a few batches, never
the library. Results come back in the order the batches were sent, and the
job commits each as one transaction.

Why Ray Core rather than a Ray Data dataset: a dataset's source is planned up
front (``from_items`` takes a finished list), while this run's source is the
driver's own scan-and-fingerprint loop, which streams; a dataset per window
of photos restarted its actors, and so loaded the model, for every window.
The pieces are the same (CPU tasks that decode, an actor pool on GPUs where
the cluster has them, ``num_gpus`` per actor), with Ray's fault tolerance:
a decode task whose worker dies is re-run (``max_retries``), a model actor
that dies is restarted and its calls re-run (``max_restarts``,
``max_task_retries``).

Failures that are one photo's are that photo's problem: a batch whose task
fails after Ray's retries (a worker killed by a hostile file, say) is split and
its photos are sent one by one; a photo that fails alone is recorded with the
reason. A model actor that stays dead after its restarts stops the run with
:class:`ClusterError` (what was committed stays committed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from photoseek.core.cluster.options import ClusterOptions
from photoseek.core.errors import LibraryError
from photoseek.core.progress import ClusterLoad, NodeLoad

log = logging.getLogger(__name__)

ACTOR_RESTARTS = 3
"""How often Ray restarts a model actor that died (its calls are re-run on the new one)."""
TASK_RETRIES = 3
"""How often Ray re-runs a decode task whose worker died."""
_WAIT_S = 0.25  # how often a wait for results looks at the cancel flag


class ClusterError(LibraryError):
    """The cluster cannot go on (its model actors died for good, or it went away)."""


@dataclass
class Sent:
    """One batch on its way: the rows sent, what the job will commit them as, the result."""

    rows: list[dict[str, Any]]
    keys: list[Any]
    result: Any  # the ObjectRef of the model actor's answer
    actor: int  # which of the run's actors answers it


class NodeMeter:
    """Photos embedded per node, and the rate since each node's first answer."""

    def __init__(self) -> None:
        self._photos: dict[str, int] = {}
        self._first: dict[str, float] = {}
        self._devices: dict[str, set[str]] = {}
        self._actors: dict[str, set[int]] = {}

    def record(self, node: str, device: str, actor: int, photos: int) -> None:
        """An answer of ``photos`` from ``actor`` on ``node``."""
        now = time.monotonic()
        self._first.setdefault(node, now)
        self._photos[node] = self._photos.get(node, 0) + photos
        self._devices.setdefault(node, set()).add(device.split(":")[0])
        self._actors.setdefault(node, set()).add(actor)

    def nodes(self) -> tuple[NodeLoad, ...]:
        """Each node's load, the busiest first."""
        now = time.monotonic()
        loads = [
            NodeLoad(
                node,
                photos,
                photos / max(now - self._first[node], 1e-3),
                ",".join(sorted(self._devices[node])),
                len(self._actors[node]),
            )
            for node, photos in self._photos.items()
        ]
        return tuple(sorted(loads, key=lambda n: -n.photos))


class ClusterStream:
    """The run's model actors and decode tasks on Ray (connected already), batches in flight."""

    def __init__(
        self,
        ray: Any,
        cluster: ClusterOptions,
        actor_class: type,
        actor_args: tuple[Any, ...],
        decode: Callable[..., Any],
        min_side: int | None,
    ) -> None:
        self.ray = ray
        self.cluster = cluster
        self.min_side = min_side
        self.meter = NodeMeter()
        cpus = 0 if cluster.gpus_per_actor > 0 else 1  # a CPU actor takes a CPU from decoding
        remote_class = ray.remote(actor_class).options(
            num_cpus=cpus,
            num_gpus=cluster.gpus_per_actor or None,
            max_restarts=ACTOR_RESTARTS,
            max_task_retries=TASK_RETRIES,
        )
        self.actors = [remote_class.remote(*actor_args) for _ in range(cluster.actors)]
        self._decode = ray.remote(decode).options(num_cpus=1, max_retries=TASK_RETRIES)
        self._sent: deque[Sent] = deque()
        self._turn = 0

    @property
    def depth(self) -> int:
        """Batches kept in flight: two per actor, so none waits while its next batch decodes."""
        return 2 * len(self.actors)

    def busy(self) -> bool:
        """Whether as many batches as :attr:`depth` are in flight."""
        return len(self._sent) >= self.depth

    def idle(self) -> bool:
        """Whether no batch is in flight."""
        return not self._sent

    def photos_in_flight(self) -> int:
        """Photos sent and not received yet."""
        return sum(len(sent.keys) for sent in self._sent)

    def send(self, rows: list[dict[str, Any]], keys: list[Any]) -> None:
        """Send a batch: decoded by a task anywhere, embedded by the next actor in turn."""
        self._sent.append(self._submit(rows, keys))

    def _submit(self, rows: list[dict[str, Any]], keys: list[Any]) -> Sent:
        decoded = self._decode.remote(_columns(rows), self.min_side)
        actor = self._turn % len(self.actors)
        self._turn += 1
        return Sent(rows, keys, self.actors[actor].embed.remote(decoded), actor)

    def receive(self, cancel: threading.Event) -> tuple[list[Any], dict[str, Any]] | None:
        """The oldest batch's keys and result columns; None when cancelled first.

        A batch that failed after Ray's retries is split and sent again photo by
        photo; a single photo that fails comes back as a failed row.
        """
        while self._sent:
            sent = self._sent[0]
            if not self._wait(sent.result, cancel):
                return None
            self._sent.popleft()
            try:
                result: dict[str, Any] = self.ray.get(sent.result)
            except self.ray.exceptions.ActorDiedError as exc:
                raise ClusterError(f"the cluster's model actor died for good: {exc}") from exc
            except self.ray.exceptions.RayError as exc:
                if len(sent.rows) > 1:
                    log.warning(
                        "a batch failed on the cluster (%s); sending it photo by photo", exc
                    )
                    self._resend_one_by_one(sent)
                    continue
                return sent.keys, _failed_row(sent.rows[0], exc)
            self.meter.record(
                str(result["node"]), str(result["device"]), sent.actor, len(sent.keys)
            )
            return sent.keys, result
        return None

    def _resend_one_by_one(self, sent: Sent) -> None:
        singles = [
            self._submit([row], [key]) for row, key in zip(sent.rows, sent.keys, strict=True)
        ]
        self._sent.extendleft(reversed(singles))

    def _wait(self, ref: Any, cancel: threading.Event) -> bool:
        while not cancel.is_set():
            ready, _ = self.ray.wait([ref], timeout=_WAIT_S)
            if ready:
                return True
        return False

    def load(self) -> ClusterLoad:
        """What the run uses now, and each node's throughput."""
        resources = self.ray.cluster_resources()
        return ClusterLoad(
            self.cluster.address,
            len(self.actors),
            self.cluster.gpus_per_actor * len(self.actors),
            float(resources.get("CPU", 0.0)),
            self.meter.nodes(),
        )

    def close(self) -> None:
        """Cancel what is in flight and stop the actors: the cluster is left as it was found.

        Never raises: after a Ctrl-C the local Ray instance may be going down
        already (a terminal's Ctrl-C reaches its processes too).
        """
        try:
            for sent in self._sent:
                self.ray.cancel(sent.result, force=False)
            for actor in self.actors:
                self.ray.kill(actor, no_restart=True)
        except Exception as exc:
            log.warning("could not stop everything on the cluster: %s", exc)
        self._sent.clear()
        self.actors = []


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows as the columns :func:`~photoseek.core.cluster.tasks.decode_batch` takes."""
    return {name: [row[name] for row in rows] for name in rows[0]}


def _failed_row(row: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """The result of one photo whose task failed on the cluster after every retry."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return {
        "key": [row["key"]],
        "ok": [False],
        "reason": [f"the cluster failed on this photo: {reason[:200]}"],
        "decoder": [""],
    }
