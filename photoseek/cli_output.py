"""How the command line shows things: tables for people, JSON for programs."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from photoseek.core.indexing.pipeline import Progress
from photoseek.core.library import LibraryStatus
from photoseek.core.records import Folder, Problem
from photoseek.core.search.searcher import SearchHit
from photoseek.doctor import Check

_PLAIN_INTERVAL_S = 5.0


def hits_as_json(hits: list[SearchHit]) -> list[dict[str, Any]]:
    """Search hits as JSON-ready dicts (``path`` and ``score`` always present)."""
    return [
        {
            "path": str(hit.photo.path),
            "score": round(hit.score, 6),
            "id": hit.photo.id,
            "taken_at": hit.photo.taken_at,
            "width": hit.photo.width,
            "height": hit.photo.height,
            "format": hit.photo.format,
            "available": hit.photo.folder_available,
        }
        for hit in hits
    ]


def print_hits(hits: list[SearchHit]) -> None:
    """One line per hit: score and path."""
    if not hits:
        print("no matching photos")
    for hit in hits:
        offline = "" if hit.photo.folder_available else "  (offline)"
        print(f"{hit.score:6.3f}  {hit.photo.path}{offline}")


def print_folders(folders: list[Folder]) -> None:
    """The folders with counts and state."""
    if not folders:
        print("no folders yet: `photoseek add PATH`")
    for folder in folders:
        state = "" if folder.status == "ok" else f"  [unavailable: {folder.status_reason}]"
        print(f"{folder.photo_count:8d}  {folder.path}{state}")


def status_as_json(status: LibraryStatus) -> dict[str, Any]:
    """The status as a JSON-ready dict."""
    return {
        "data_dir": str(status.data_dir),
        "model": status.model,
        "photos": status.counts,
        "pending": status.pending,
        "folders": [
            {
                "path": str(f.path),
                "photos": f.photo_count,
                "status": f.status,
                "reason": f.status_reason,
            }
            for f in status.folders
        ],
    }


def print_status(status: LibraryStatus) -> None:
    """A short human summary."""
    counts = status.counts
    print(f"library:  {status.data_dir}")
    print(f"model:    {status.model}")
    print(
        f"photos:   {counts.get('indexed', 0)} indexed, {counts.get('pending', 0)} pending, "
        f"{counts.get('error', 0)} problems"
    )
    if status.pending is not None:
        print(f"to embed: {status.pending}")
    print_folders(status.folders)


def service_report(writer: dict[str, Any] | None, state: dict[str, Any] | None) -> dict[str, Any]:
    """Whether a watch service runs (it holds the writer lock) and what it is doing."""
    running = writer is not None and writer.get("purpose") == "watch service"
    report: dict[str, Any] = {"running": running}
    if writer and not running:
        report["writer"] = writer  # e.g. an `index` run in another terminal
    if running and state:
        report.update(
            pid=state.get("pid"),
            state=state.get("state"),
            done=state.get("done"),
            total=state.get("total"),
            current=state.get("current"),
            waiting_files=state.get("waiting_files"),
            folders=state.get("folders"),
            updated_at=state.get("updated_at"),
        )
    return report


def print_service(report: dict[str, Any]) -> None:
    """One or two lines about the watch service."""
    if not report["running"]:
        writer = report.get("writer")
        busy = f" ({writer.get('purpose')} by pid {writer.get('pid')})" if writer else ""
        print(f"service:  not running{busy}")
        return
    line = f"service:  running (pid {report.get('pid')}), {report.get('state')}"
    if report.get("state") == "indexing":
        line += f" {report.get('done')}/{report.get('total')}"
    if report.get("waiting_files"):
        line += f", {report['waiting_files']} files settling"
    print(line)
    for folder, mode in (report.get("folders") or {}).items():
        print(f"          {folder}: {mode}")


def print_problems(problems: list[Problem]) -> None:
    """Each skipped file and its reason."""
    if not problems:
        print("no problems")
    for problem in problems:
        print(f"{problem.path}: {problem.reason}")


def print_doctor(checks: list[Check]) -> None:
    """One line per check."""
    for check in checks:
        print(f"[{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")


@contextmanager
def progress_printer(stream: IO[str]) -> Iterator[Callable[[Progress], None]]:
    """A progress bar on a terminal; otherwise a plain line every few seconds."""
    if stream.isatty():
        from tqdm import tqdm

        # shutil falls back to 80x24 where a pty reports 0x0 (tqdm would then draw nothing)
        size = shutil.get_terminal_size()
        with tqdm(total=0, unit="photo", file=stream, ncols=size.columns, nrows=size.lines) as bar:
            yield lambda progress: _update_bar(bar, progress)
        return
    last = [0.0]

    def plain(progress: Progress) -> None:
        now = time.monotonic()
        if progress.phase in ("indexing",) and now - last[0] < _PLAIN_INTERVAL_S:
            return
        last[0] = now
        eta = f", ETA {progress.eta_s:.0f}s" if progress.eta_s else ""
        print(
            f"{progress.phase}: {progress.done}/{progress.total} ({progress.rate:.1f}/s{eta}), "
            f"{progress.problems} problems",
            file=stream,
            flush=True,
        )

    yield plain


def _update_bar(bar: Any, progress: Progress) -> None:
    bar.set_description(progress.phase)
    if bar.total != progress.total:
        bar.total = progress.total
    bar.n = progress.done
    bar.set_postfix(problems=progress.problems, refresh=False)
    bar.refresh()
