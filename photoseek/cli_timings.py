"""``photoseek index --timings``: where an indexing run's time went.

Two tables on standard error after the run: each phase's wall time as the
command saw it (scanning, loading the model, indexing ...), then each stage
of the photos' pipeline (:mod:`photoseek.core.indexing.stages`) with its busy
and CPU seconds summed over its threads and per photo, how many times it ran, and the process's own
CPU time against the wall time and the cores.
"""

from __future__ import annotations

import os
import resource
import time
from typing import IO

from photoseek.core.progress import Phase, Progress


class PhaseClock:
    """Wall seconds per phase, from the progress reports as they arrive."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self._phase: Phase | None = None
        self._since = self.started
        self.seconds: dict[str, float] = {}

    def see(self, progress: Progress) -> None:
        """Note a report: a new phase closes the previous one's clock."""
        if progress.phase == self._phase:
            return
        now = time.perf_counter()
        if self._phase is not None:
            label = self._phase.value
            self.seconds[label] = self.seconds.get(label, 0.0) + now - self._since
        self._phase, self._since = progress.phase, now


def print_timings(clock: PhaseClock, last: Progress, stream: IO[str]) -> None:
    """The phase and stage tables of a finished run."""
    clock.see(Progress(Phase.DONE))
    wall = time.perf_counter() - clock.started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"\ntimings: {wall:.2f} s wall in the command, {cpu:.2f} CPU-s in the process "
        f"({cores} cores)",
        file=stream,
    )
    for label, seconds in clock.seconds.items():
        print(f"  {label:<22} {seconds:8.2f} s", file=stream)
    photos = max(last.embedded, 1)
    if not last.stages:
        return
    print(
        f"\n  {'stage':<12} {'busy s':>8} {'CPU s':>8} {'ms/photo':>9} {'times':>6}"
        "  (summed over threads; "
        f"{last.embedded} embedded)",
        file=stream,
    )
    for stage in last.stages:
        per_photo = 1000 * stage.busy_s / photos
        print(
            f"  {stage.name:<12} {stage.busy_s:8.2f} {stage.cpu_s:8.2f} {per_photo:9.1f}"
            f" {stage.count:6d}",
            file=stream,
        )
