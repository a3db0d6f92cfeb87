"""Counts, rate, ETA and throttling of an indexing job's progress reports.

The clock runs only while the work runs: it starts with :meth:`Tracker.start`,
not when the job was created (a model load or a scan before it is no part of
the rate), and a watch service that resumes after an idle hour does not count
the hour. The rate is measured over the last :data:`RATE_WINDOW_S` seconds of
work.
"""

from __future__ import annotations

import time
from collections import deque

from photoseek.core.progress import Phase, Progress

PROGRESS_INTERVAL_S = 0.25
RATE_WINDOW_S = 30.0


class Tracker:
    """What an indexing job has done, as :class:`Progress` snapshots."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = self.problems = self.embedded = self.reused = 0
        self.current: str | None = None
        self._samples: deque[tuple[float, int]] = deque()  # (seconds of work, photos done)
        self._worked = 0.0  # seconds of work before the current run
        self._resumed: float | None = None
        self._last_report = 0.0

    def start(self) -> None:
        """The work (re)starts now: time since the last batch was idle, not work."""
        now = time.monotonic()
        if self._resumed is not None and self._samples:
            self._worked = self._samples[-1][0]  # the run before ended with its last batch
        self._resumed = now
        self._samples.append((self._worked, self.done))

    def record(
        self, done: int, *, problems: int = 0, embedded: int = 0, reused: int = 0, current: str
    ) -> None:
        """Count one committed batch."""
        self.done += done
        self.problems += problems
        self.embedded += embedded
        self.reused += reused
        self.current = current
        if self._resumed is None:
            self.start()
        assert self._resumed is not None
        worked = self._worked + time.monotonic() - self._resumed
        self._samples.append((worked, self.done))
        while len(self._samples) > 2 and worked - self._samples[1][0] > RATE_WINDOW_S:
            self._samples.popleft()

    def grow(self, total: int) -> None:
        """More work arrived (a watched folder changed): the total is now ``total``."""
        self.total = max(total, self.done)

    def due(self) -> bool:
        """Whether a progress report is due (throttled)."""
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_INTERVAL_S:
            self._last_report = now
            return True
        return False

    def rate(self) -> float:
        """Photos per second over the recent window."""
        if len(self._samples) < 2:
            return 0.0
        (start, first), (end, last) = self._samples[0], self._samples[-1]
        return (last - first) / (end - start) if end > start else 0.0

    def snapshot(self, phase: Phase) -> Progress:
        """The progress now, in ``phase``."""
        rate = self.rate()
        left = max(self.total - self.done, 0)
        eta = left / rate if rate > 0 else None
        return Progress(
            phase,
            done=self.done,
            total=self.total,
            unit="photos",
            rate=rate,
            eta_s=eta,
            current=self.current,
            problems=self.problems,
            embedded=self.embedded,
            reused=self.reused,
        )
