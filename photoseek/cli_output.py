"""How the command line shows things: tables for people, JSON for programs.

Paths are shown with :func:`photoseek.pathtext.display_path` (one line each,
``$'...'``-quoted when they hold control characters or bytes that are not
UTF-8) and serialised with :func:`photoseek.pathtext.path_to_json` (``path``,
plus ``path_bytes`` in base64 when ``path`` cannot be exact).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TextIO

from photoseek.core.imaging.pairs import raw_originals
from photoseek.core.library import LibraryStatus, ServiceStatus
from photoseek.core.progress import ClusterLoad, Phase, Progress
from photoseek.core.records import Folder, Problem
from photoseek.core.search.searcher import SearchHit
from photoseek.pathtext import display_path, escape_undecodable, path_to_json

_PLAIN_INTERVAL_S = 5.0


def plural(count: int, noun: str) -> str:
    """``"1 photo"``, ``"3 photos"``, ``"1,204 problems"``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def hits_as_json(hits: list[SearchHit]) -> list[dict[str, Any]]:
    """Search hits as JSON-ready dicts (``path`` and ``score`` always present).

    ``original`` is the camera RAW beside a JPEG or HEIF hit (same folder and
    stem), else null; like ``path`` it comes with ``original_bytes`` when it
    is not valid Unicode. Each result folder is listed once to find them.
    """
    originals = raw_originals(hit.photo.path for hit in hits if hit.photo.folder_available)
    return [
        {
            **path_to_json(hit.photo.path),
            "score": round(hit.score, 6),
            "id": hit.photo.id,
            "taken_at": hit.photo.taken_at,
            "width": hit.photo.width,
            "height": hit.photo.height,
            "format": hit.photo.format,
            "available": hit.photo.folder_available,
            **_original_json(originals.get(hit.photo.path)),
        }
        for hit in hits
    ]


def _original_json(original: Path | None) -> dict[str, Any]:
    """``{"original": ...}`` (and ``original_bytes`` when needed) for a RAW original."""
    if original is None:
        return {"original": None}
    return {f"original{key[4:]}": value for key, value in path_to_json(original).items()}


def raw_pairs_line(mode: str) -> str:
    """How RAW+JPEG pairs are indexed, in one line (``status``, ``raw-pairs``)."""
    if mode == "both":
        return "raw+jpeg: both files of a RAW+JPEG (or HEIF) pair are indexed"
    return (
        "raw+jpeg: a RAW+JPEG (or HEIF) pair is indexed once, as the JPEG "
        "(`photoseek raw-pairs both` indexes the RAW too)"
    )


def print_hits(hits: list[SearchHit], out: TextIO | None = None) -> None:
    """One line per hit: score and path (to stdout, or to ``out``)."""
    stream = out or sys.stdout
    if not hits:
        print("no matching photos", file=stream)
    for hit in hits:
        offline = "" if hit.photo.folder_available else "  (offline)"
        print(f"{hit.score:6.3f}  {display_path(hit.photo.path)}{offline}", file=stream)


def folders_as_json(folders: list[Folder]) -> list[dict[str, Any]]:
    """Folders as JSON-ready dicts."""
    return [
        {
            **path_to_json(f.path),
            "photos": f.photo_count,
            "status": f.status,
            "reason": f.status_reason,
        }
        for f in folders
    ]


def print_folders(folders: list[Folder]) -> None:
    """The folders with counts and state, one line each."""
    if not folders:
        print("no folders yet: `photoseek add PATH`")
    for folder in folders:
        state = "" if folder.status == "ok" else f"  [unavailable: {folder.status_reason}]"
        print(f"{folder.photo_count:8d}  {display_path(folder.path)}{state}")


def status_as_json(status: LibraryStatus) -> dict[str, Any]:
    """The status as a JSON-ready dict."""
    return {
        **{"data_dir": path_to_json(status.data_dir)["path"]},
        "model": status.model,
        "model_used": status.model_used,
        "last_model": status.last_model,
        "photos": status.counts,
        "pending": status.pending,
        "hidden": status.hidden,
        "raw_pairs": status.raw_pairs,
        "folders": folders_as_json(status.folders),
    }


def print_status(status: LibraryStatus) -> None:
    """A short human summary."""
    counts = status.counts
    print(f"library:  {display_path(status.data_dir)}")
    model = status.model
    if not status.model_used:
        model += "  (no photos embedded with it yet)"
    print(f"model:    {model}")
    if status.last_model:
        print(f"          last index run used {status.last_model}")
    print(
        f"photos:   {counts.get('indexed', 0):,} indexed, {counts.get('pending', 0):,} pending, "
        f"{plural(counts.get('error', 0), 'problem')}"
    )
    print(f"to embed: {status.pending:,} with this model")
    if status.hidden:
        print(f"hidden:   {status.hidden:,} by the content filter (`photoseek filter list`)")
    print(raw_pairs_line(status.raw_pairs))
    print_folders(status.folders)


def service_as_json(service: ServiceStatus) -> dict[str, Any]:
    """The watch service's status as a JSON-ready dict."""
    report: dict[str, Any] = {"running": service.running}
    if service.writer:
        report["writer"] = service.writer  # e.g. an `index` run in another terminal
    if service.running:
        report.update(pid=service.pid, state=service.state, updated_at=service.updated_at)
        report.update({k: service.detail.get(k) for k in ("done", "total", "current")})
        report.update(
            waiting_files=service.detail.get("waiting_files"),
            folders=service.detail.get("folders"),
            last_error=service.detail.get("last_error"),
        )
    return report


def print_service(service: ServiceStatus) -> None:
    """One or two lines about the watch service."""
    if not service.running:
        writer = service.writer
        busy = f" ({writer.get('purpose')} by pid {writer.get('pid')})" if writer else ""
        print(f"service:  not running{busy}")
        return
    line = f"service:  running (pid {service.pid}), {service.state}"
    if service.state == "indexing":
        line += f" {service.detail.get('done')}/{service.detail.get('total')}"
    if service.detail.get("waiting_files"):
        line += f", {service.detail['waiting_files']} files settling"
    if service.state == "error" and service.detail.get("last_error"):
        line += f": {escape_undecodable(str(service.detail['last_error']))}"
    print(line)
    for folder, mode in (service.detail.get("folders") or {}).items():
        print(f"          {display_path(folder)}: {mode}")


def problems_as_json(problems: list[Problem]) -> list[dict[str, Any]]:
    """Problems as JSON-ready dicts."""
    return [{**path_to_json(p.path), "reason": escape_undecodable(p.reason)} for p in problems]


def print_problems(problems: list[Problem]) -> None:
    """Each skipped file and its reason."""
    if not problems:
        print("no problems")
    for problem in problems:
        print(f"{display_path(problem.path)}: {escape_undecodable(problem.reason)}")


def print_check(check: Any) -> None:
    """One line of ``doctor``."""
    print(f"[{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}", flush=True)


@contextmanager
def progress_printer(stream: IO[str]) -> Iterator[Callable[[Progress], None]]:
    """A progress bar per phase on a terminal; otherwise a plain line every few seconds.

    The final DONE/CANCELLED report is left to the command's summary line.
    """
    if stream.isatty():
        bars = _Bars(stream)
        try:
            yield bars.show
        finally:
            bars.close()
        return
    yield _PlainLines(stream).show


class _Bars:
    """One tqdm bar per phase: each phase's clock (and so its rate) starts with it."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.phase: Phase | None = None
        self.bar: Any = None
        self.status: Any = None  # the cluster's line, on a cluster run

    def show(self, progress: Progress) -> None:
        if progress.phase.final:
            return
        if progress.phase != self.phase:
            self._open(progress)
        bar = self.bar
        if progress.total is not None and bar.total != progress.total:
            bar.total = progress.total
        bar.n = progress.done
        if progress.phase.embeds:
            bar.set_postfix(problems=progress.problems, refresh=False)
        bar.refresh()
        if progress.cluster is not None:
            self._show_cluster(progress.cluster)

    def _show_cluster(self, cluster: ClusterLoad) -> None:
        """A status line under the bar: the cluster's actors, GPUs and each node's rate."""
        from tqdm import tqdm

        if self.status is None:
            size = shutil.get_terminal_size()
            self.status = tqdm(
                total=0, position=1, bar_format="{desc}", file=self.stream, ncols=size.columns
            )
        self.status.set_description_str(f"cluster: {cluster.summary()}")

    def _open(self, progress: Progress) -> None:
        from tqdm import tqdm

        self.close()
        self.phase = progress.phase
        # shutil falls back to 80x24 where a pty reports 0x0 (tqdm would then draw nothing)
        size = shutil.get_terminal_size()
        self.bar = tqdm(
            total=progress.total,
            desc=progress.phase.value,
            unit=_unit(progress.unit),
            unit_scale=progress.unit == "bytes",
            file=self.stream,
            ncols=size.columns,
            nrows=size.lines,
            bar_format=None if progress.total is not None else "{desc}: {n_fmt} {unit}",
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.status is not None:
            self.status.close()
            self.status = None


def _unit(unit: str) -> str:
    return {"bytes": "B", "photos": " photos", "files": "files"}.get(unit, f" {unit}")


class _PlainLines:
    """For logs and pipes: a phase's first and last report, and one every few seconds between."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.phase: Phase | None = None
        self.held: Progress | None = None  # the latest report not printed yet
        self.last = 0.0

    def show(self, progress: Progress) -> None:
        if progress.phase != self.phase and self.held is not None:
            self._print(self.held)  # how the previous phase ended
        self.held = None
        if progress.phase.final:
            self.phase = progress.phase
            return
        now = time.monotonic()
        if progress.phase == self.phase and now - self.last < _PLAIN_INTERVAL_S:
            self.held = progress
            return
        self.phase, self.last = progress.phase, now
        self._print(progress)

    def _print(self, progress: Progress) -> None:
        print(_plain_line(progress), file=self.stream, flush=True)


def _plain_line(progress: Progress) -> str:
    if progress.unit == "steps":
        return (
            f"{progress.phase.value}..."
            if progress.done < (progress.total or 1)
            else (f"{progress.phase.value}: done")
        )
    if progress.total is None:
        return f"{progress.phase.value}: {progress.done:,} {progress.unit}"
    line = f"{progress.phase.value}: {progress.done:,}/{progress.total:,} {progress.unit}"
    if progress.phase.embeds:
        eta = f", ETA {progress.eta_s:.0f}s" if progress.eta_s is not None else ""
        line += f" ({progress.rate:.1f}/s{eta}), {plural(progress.problems, 'problem')}"
        if progress.cluster is not None:
            line += f"; cluster: {progress.cluster.summary()}"
    return line
