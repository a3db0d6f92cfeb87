"""Progress of every long step (scan, model download and load, index rebuild, indexing).

Core code never draws anything: long steps yield (or pass to a callback)
:class:`Progress` snapshots, and whoever listens (the CLI's progress bar, the
GUI's status bar, the service's state file) draws them. Cancellation is a
``threading.Event`` the caller sets; a step that honours it ends with phase
:attr:`Phase.CANCELLED` or raises :class:`~photoseek.core.errors.Cancelled`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Phase", "Progress", "ProgressCallback"]


class Phase(enum.StrEnum):
    """What a long step is doing; the value is a short label for people."""

    SCANNING = "scanning"
    DOWNLOADING_MODEL = "downloading model"
    LOADING_MODEL = "loading model"
    BUILDING_INDEX = "building search index"
    INDEXING = "indexing"
    THUMBNAILS = "thumbnails"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        """Whether this phase ends the step."""
        return self in (Phase.DONE, Phase.CANCELLED)


@dataclass(frozen=True)
class Progress:
    """A snapshot of a long step, for whoever draws it.

    ``total`` is ``None`` while unknown (a scan counts files as it goes);
    ``unit`` says what ``done`` and ``total`` count (``photos``, ``files``,
    ``bytes``, ``vectors``). ``rate`` is units per second since the work
    itself began (a model load is not part of an indexing rate), ``eta_s``
    the seconds left at that rate. ``problems``, ``embedded`` and ``reused``
    count photos of this run.
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


ProgressCallback = Callable[[Progress], None]
