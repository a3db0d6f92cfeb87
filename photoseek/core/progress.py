"""Progress of every long step (scan, model download and load, index rebuild, indexing).

Core code never draws anything: long steps yield (or pass to a callback)
:class:`Progress` snapshots, and whoever listens (the CLI's progress bar, the
GUI's status bar, the service's state file) draws them. Cancellation is a
``threading.Event`` the caller sets; a step that honours it ends with phase
:attr:`Phase.CANCELLED` or raises :class:`~photoseek.core.errors.Cancelled`.
"""

from __future__ import annotations

import enum
import queue
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from photoseek.core.indexing.stages import StageTime

__all__ = ["ClusterLoad", "NodeLoad", "Phase", "Progress", "ProgressCallback", "run_reporting"]

T = TypeVar("T")


class Phase(enum.StrEnum):
    """What a long step is doing; the value is a short label for people."""

    SCANNING = "scanning"
    DOWNLOADING_MODEL = "downloading model"
    LOADING_MODEL = "loading model"
    BUILDING_INDEX = "building search index"
    INDEXING = "indexing"
    SWITCHING_MODEL = "re-embedding for the new model"  # a model switch (library.switch)
    THUMBNAILS = "thumbnails"
    HASHING = "hashing photos"  # perceptual hashes the duplicate finder lacks (duplicates)
    DUPLICATES = "finding duplicates"  # neighbours of every photo (duplicates)
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        """Whether this phase ends the step."""
        return self in (Phase.DONE, Phase.CANCELLED)

    @property
    def embeds(self) -> bool:
        """Whether this phase embeds photos (its reports have a rate, an ETA, problems)."""
        return self in (Phase.INDEXING, Phase.SWITCHING_MODEL)


@dataclass(frozen=True)
class NodeLoad:
    """One cluster node's share of an indexing run: ``photos`` embedded there, at ``rate``/s.

    ``devices`` names what its model actors run on (``cpu``, ``cuda``), ``actors``
    how many of the run's model actors answered from it.
    """

    node: str
    photos: int
    rate: float
    devices: str
    actors: int


@dataclass(frozen=True)
class ClusterLoad:
    """What a cluster run uses: its model actors, the GPUs they hold, the cluster's CPUs
    (which decode), and each node's throughput."""

    address: str
    actors: int
    gpus: float
    cpus: float
    nodes: tuple[NodeLoad, ...] = ()

    def summary(self) -> str:
        """One line, e.g. ``2 actors, 2 GPUs, 16 CPUs: gpu-box 41.0/s (cuda), nas 3.2/s (cpu)``."""
        gpus = f"{self.gpus:g} GPU{'s' if self.gpus != 1 else ''}" if self.gpus else "no GPU"
        head = f"{self.actors} actor{'s' if self.actors != 1 else ''}, {gpus}, {self.cpus:g} CPUs"
        nodes = ", ".join(f"{n.node} {n.rate:.1f}/s ({n.devices})" for n in self.nodes)
        return f"{head}: {nodes}" if nodes else head


@dataclass(frozen=True)
class Progress:
    """A snapshot of a long step, for whoever draws it.

    ``total`` is ``None`` while unknown (a scan counts files as it goes);
    ``unit`` says what ``done`` and ``total`` count (``photos``, ``files``,
    ``bytes``, ``vectors``). ``rate`` is units per second since the work
    itself began (a model load is not part of an indexing rate), ``eta_s``
    the seconds left at that rate. ``problems``, ``embedded`` and ``reused``
    count photos of this run. ``stages``, on an indexing run's last
    snapshot, says where its time went (:mod:`photoseek.core.indexing.stages`).
    ``cluster``, on a run that embeds on a Ray cluster, what the cluster does.
    """

    phase: Phase
    done: int = 0
    total: int | None = 0
    unit: str = "photos"
    rate: float = 0.0
    eta_s: float | None = None
    current: str | None = None
    problems: int = 0
    embedded: int = 0
    reused: int = 0
    stages: tuple[StageTime, ...] = ()
    cluster: ClusterLoad | None = None


ProgressCallback = Callable[[Progress], None]


def run_reporting(work: Callable[[ProgressCallback], T]) -> Generator[Progress, None, T]:
    """Run ``work(report)`` in a helper thread; yield what it reports; return its result.

    For long steps written with a progress *callback* (a scan, a download, an
    index rebuild) inside a *generator* that yields progress: ``result =
    yield from run_reporting(lambda report: scan(on_progress=report))``. The
    step's exception, if any, is raised in the caller's thread. Reports are
    passed on in order; the caller's thread waits, so the step runs as if
    called directly (it may use the caller's connections and locks); a
    generator closed early waits for the step to end (cancel it first).
    """
    reports: queue.Queue[Progress | _Finished[T]] = queue.Queue()

    def target() -> None:
        try:
            reports.put(_Finished(work(reports.put), None))
        except BaseException as exc:
            reports.put(_Finished(None, exc))

    thread = threading.Thread(target=target, name="progress-step", daemon=True)
    thread.start()
    try:
        while True:
            item = reports.get()
            if isinstance(item, _Finished):
                if item.error is not None:
                    raise item.error
                return item.value  # type: ignore[return-value]
            yield item
    finally:
        thread.join()  # closed early: the step still finishes before the caller goes on


@dataclass(frozen=True)
class _Finished(Generic[T]):
    value: T | None
    error: BaseException | None
