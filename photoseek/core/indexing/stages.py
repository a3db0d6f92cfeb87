"""Where an indexing run's time goes, stage by stage, so the next bottleneck is visible.

Every stage a photo passes through is timed where it runs: reading and
fingerprinting the file, decoding it, preparing the model's input, making
its thumbnail and its perceptual hash in the decode workers; the model, the catalog's
transaction and the vector index's update in the committing thread. Each
stage sums two figures over all its threads: *busy* seconds (wall time
inside the stage) and *CPU* seconds (the thread's own CPU time inside it;
for the model, the CPU time of the threads that ran it where the encoder
counts it, as the ONNX image tower does, else the calling thread's share
only, and the busy time is then the figure to read). ``model load`` is the
light image tower's start (mapping its weights, planning its session), which
runs in a thread of its own while the first photos decode; a full model
loads before the indexing phase and is not in the table. ``wait``
is the committing thread's time blocked on decoding: when it is large,
decoding is the bottleneck; when it is near zero, the model is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

STAGES = (
    "read",
    "fingerprint",
    "decode",
    "preprocess",
    "thumbnail",
    "phash",
    "wait",
    "model load",
    "model",
    "database",
    "index",
)


@dataclass(frozen=True)
class StageTime:
    """One stage's totals over a run."""

    name: str
    busy_s: float
    cpu_s: float
    count: int


class StageClock:
    """Thread-safe totals of busy and CPU seconds per stage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy = dict.fromkeys(STAGES, 0.0)
        self._cpu = dict.fromkeys(STAGES, 0.0)
        self._count = dict.fromkeys(STAGES, 0)

    @contextmanager
    def stage(self, name: str, cpu_clock: Callable[[], float] | None = None) -> Iterator[None]:
        """Time the block as stage ``name`` (one of :data:`STAGES`); ``cpu_clock`` counts its
        CPU seconds where other threads do the work (default: this thread's)."""
        clock = cpu_clock or time.thread_time
        wall, cpu = time.perf_counter(), clock()
        try:
            yield
        finally:
            busy, used = time.perf_counter() - wall, clock() - cpu
            with self._lock:
                self._busy[name] += busy
                self._cpu[name] += used
                self._count[name] += 1

    def add(self, name: str, busy_s: float, cpu_s: float) -> None:
        """Count one pass of stage ``name`` timed elsewhere (the image tower's load, which
        runs in a thread of its own beside the first decodes)."""
        with self._lock:
            self._busy[name] += busy_s
            self._cpu[name] += cpu_s
            self._count[name] += 1

    def totals(self) -> tuple[StageTime, ...]:
        """Each stage's totals so far, in pipeline order."""
        with self._lock:
            return tuple(
                StageTime(name, self._busy[name], self._cpu[name], self._count[name])
                for name in STAGES
            )


class NoClock(StageClock):
    """A clock that times nothing (the default where nobody asked)."""

    @contextmanager
    def stage(self, name: str, cpu_clock: Callable[[], float] | None = None) -> Iterator[None]:
        """Run the block untimed."""
        yield
