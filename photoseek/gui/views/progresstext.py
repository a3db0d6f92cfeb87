"""Words for what the library is doing: progress, the worker's state, another writer.

Pure functions (no widgets), so the status bar, the tray's tooltip and the
tests share one wording.
"""

from __future__ import annotations

import math
from typing import Any

from photoseek.core.library import ServiceStatus
from photoseek.core.progress import Phase, Progress

STATE_TEXTS = {
    "starting": "starting",
    "waiting": "starting",
    "scanning": "checking your folders",
    "loading model": "loading the model",
    "switching model": "re-embedding your photos for the new model",
    "watching": "up to date",
    "paused": "indexing paused",
    "paused: on battery": "indexing paused: on battery",
    "yielding to a search": "indexing waits while you search",
    "error": "indexing stopped by an error; it tries again in a minute",
    "stopped": "",
    "reader": "another process keeps this library current",
}


def duration_text(seconds: float) -> str:
    """``40 s``, ``5 min``, ``1 h 20 min``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def size_text(count: int) -> str:
    """Bytes for people: ``980 kB``, ``605 MB``, ``1.2 GB`` (SI units, as downloads show)."""
    if count < 1000:
        return f"{count} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if count < scale * 1000 or unit == "GB":
            value = count / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{count} B"  # pragma: no cover


def _counts(progress: Progress) -> str:
    if progress.total:
        return f"{progress.done:,} / {progress.total:,}"
    return f"{progress.done:,}"


def _pace(progress: Progress, *, as_bytes: bool = False) -> str:
    parts = []
    if progress.rate > 0:
        parts.append(f"{size_text(int(progress.rate))}/s" if as_bytes else f"{progress.rate:.1f}/s")
    if progress.eta_s is not None and progress.eta_s > 0 and not progress.phase.final:
        parts.append(f"ETA {duration_text(progress.eta_s)}")
    return "".join(f" · {part}" for part in parts)


def _on_cluster(progress: Progress) -> str:
    """`` · on the cluster: 2 actors, 1 GPU, 16 CPUs: gpu-box 41.0/s (cuda)``, or nothing."""
    return f" · on the cluster: {progress.cluster.summary()}" if progress.cluster else ""


def progress_text(progress: Progress) -> str:
    """One line for a progress snapshot, e.g. ``indexing 1,204 / 5,310 · 12.4/s · ETA 5 min``."""
    phase = progress.phase
    if phase == Phase.SCANNING:
        return f"checking your folders: {progress.done:,} files"
    if phase == Phase.DOWNLOADING_MODEL:
        done = size_text(progress.done)
        of = f" of {size_text(progress.total)}" if progress.total else ""
        return f"downloading the model: {done}{of}{_pace(progress, as_bytes=True)}"
    if phase == Phase.LOADING_MODEL:
        return "loading the model"
    if phase == Phase.BUILDING_INDEX:
        return f"building the search index: {_counts(progress)}"
    if phase == Phase.INDEXING:
        return f"indexing {_counts(progress)}{_pace(progress)}{_on_cluster(progress)}"
    if phase == Phase.SWITCHING_MODEL:
        return (
            f"re-embedding for the new model {_counts(progress)}{_pace(progress)}"
            f"{_on_cluster(progress)}"
        )
    if phase == Phase.THUMBNAILS:
        return f"making thumbnails {_counts(progress)}"
    if phase == Phase.CANCELLED:
        return "indexing stopped"
    problems = f" · {progress.problems:,} skipped" if progress.problems else ""
    return f"up to date{problems}"


def state_text(state: str) -> str:
    """What the background worker's state means, in words."""
    return STATE_TEXTS.get(state, state)


def service_text(status: ServiceStatus) -> str:
    """What the process that writes the library is doing (the app is then a reader)."""
    if not status.running:
        return writer_text(status.writer)
    detail: dict[str, Any] = status.detail
    state = status.state
    if state == "indexing":
        done, total = int(detail.get("done") or 0), int(detail.get("total") or 0)
        text = f"watch service: indexing {done:,}/{total:,}" if total else "watch service: indexing"
    elif state == "watching":
        text = "watch service: up to date"
    elif state == "error":
        text = f"watch service: {detail.get('last_error') or 'an error; it tries again soon'}"
    elif state:
        text = f"watch service: {state_text(state) or state}"
    else:
        text = "a watch service keeps this library current"
    if status.stale:
        text += " (not heard from for minutes)"
    return text


def writer_text(writer: dict[str, Any] | None) -> str:
    """Who holds the writer lock, for people."""
    if not writer:
        return "another photoseek process is writing this library"
    pid = writer.get("pid")
    purpose = writer.get("purpose") or "writing"
    who = f"pid {pid}, {purpose}" if pid else purpose
    return f"another photoseek process ({who}) is writing this library"
