"""Command line: ``photoseek [options] COMMAND``.

Exit codes: 0 success, 1 a user error (one line on stderr), 2 bad usage,
130 interrupted. Global options may also come from the environment:
PHOTOSEEK_DATA_DIR, PHOTOSEEK_MODEL, PHOTOSEEK_PRETRAINED, PHOTOSEEK_DEVICE.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from types import FrameType

from photoseek import __version__
from photoseek.cli_output import (
    hits_as_json,
    print_doctor,
    print_folders,
    print_hits,
    print_problems,
    print_service,
    print_status,
    progress_printer,
    service_report,
    status_as_json,
)
from photoseek.core.errors import PhotoseekError
from photoseek.core.indexing.pipeline import DEFAULT_BATCH_SIZE, IndexerOptions
from photoseek.core.library import Library
from photoseek.core.model.embedder import DEFAULT_ARCH, DEFAULT_PRETRAINED, DEVICES, ModelSettings
from photoseek.core.search.searcher import SORTS, SearchFilters, SearchOptions, SearchResults
from photoseek.daemon import read_state
from photoseek.logsetup import configure_logging
from photoseek.paths import DATA_DIR_ENV, resolve_paths

log = logging.getLogger("photoseek.cli")

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to render the README's command list)."""
    parser = argparse.ArgumentParser(
        prog="photoseek",
        description="Find photos on your own disk by what is in them.",
        epilog="Query syntax: 'beach + 0.5*@kite.jpg - people' (see README).",
    )
    parser.add_argument("--version", action="version", version=f"photoseek {__version__}")
    parser.add_argument(
        "--data-dir", default=os.environ.get(DATA_DIR_ENV), help=f"library folder (${DATA_DIR_ENV})"
    )
    parser.add_argument(
        "--model",
        default=os.environ.get("PHOTOSEEK_MODEL", DEFAULT_ARCH),
        help="open_clip architecture, or a model config .json ($PHOTOSEEK_MODEL; "
        f"default {DEFAULT_ARCH})",
    )
    parser.add_argument(
        "--pretrained",
        default=os.environ.get("PHOTOSEEK_PRETRAINED", DEFAULT_PRETRAINED),
        help="pretrained tag, a local checkpoint file or folder, or 'none' for random "
        f"weights ($PHOTOSEEK_PRETRAINED; default {DEFAULT_PRETRAINED})",
    )
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default=os.environ.get("PHOTOSEEK_DEVICE", "auto"),
        help="where the model runs ($PHOTOSEEK_DEVICE; default auto: CUDA, MPS, CPU)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more output (-vv)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_folder_commands(commands)
    _add_index_commands(commands)
    _add_search_commands(commands)
    return parser


def _add_folder_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add = commands.add_parser("add", help="add folders to the library")
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    add.set_defaults(handler=cmd_add)
    remove = commands.add_parser("remove", help="forget folders (photos on disk are untouched)")
    remove.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    remove.set_defaults(handler=cmd_remove)
    folders = commands.add_parser("folders", help="list the library's folders")
    folders.set_defaults(handler=cmd_folders)


def _add_index_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    index = commands.add_parser("index", help="scan folders and index new or changed photos")
    index.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        help=f"photos per model batch and per commit (default {DEFAULT_BATCH_SIZE})",
    )
    index.add_argument("--workers", type=_positive_int, help="decoding threads")
    index.add_argument("--no-draft", action="store_true", help="decode JPEGs at full size")
    index.set_defaults(handler=cmd_index)
    status = commands.add_parser("status", help="folders, counts and pending work")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=cmd_status)
    problems = commands.add_parser("problems", help="files that were skipped, and why")
    problems.add_argument("--json", action="store_true", help="machine-readable output")
    problems.set_defaults(handler=cmd_problems)
    doctor = commands.add_parser("doctor", help="check versions, device, model, paths, index")
    doctor.set_defaults(handler=cmd_doctor)
    watch = commands.add_parser(
        "watch", help="keep the library current: index, then watch folders until stopped"
    )
    watch.add_argument("--once", action="store_true", help="catch up and exit (for cron)")
    watch.add_argument(
        "--batch-size",
        type=_positive_int,
        default=8,
        help="photos per batch (default 8: a stop request is honoured within a batch)",
    )
    watch.set_defaults(handler=cmd_watch)
    service = commands.add_parser("service", help="start the watcher at login (autostart)")
    service.add_argument("action", choices=("install", "uninstall", "status"))
    service.set_defaults(handler=cmd_service)


def _add_search_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = commands.add_parser("search", help="find photos by a text (and photo) query")
    search.add_argument("query", metavar="QUERY")
    search.set_defaults(handler=cmd_search)
    similar = commands.add_parser("similar", help="find photos that look like IMAGE")
    similar.add_argument("image", type=Path, metavar="IMAGE")
    similar.set_defaults(handler=cmd_similar)
    for sub in (search, similar):
        sub.add_argument("--limit", type=_positive_int, default=20, help="results (default 20)")
        sub.add_argument("--json", action="store_true", help="print a JSON list")
        sub.add_argument("--folder", type=Path, help="only photos under this folder")
        sub.add_argument("--after", type=_iso_date, help="taken on or after YYYY-MM-DD")
        sub.add_argument("--before", type=_iso_date, help="taken on or before YYYY-MM-DD")
        sub.add_argument(
            "--type",
            action="append",
            dest="types",
            metavar="FORMAT",
            help="only this format (jpeg, png, heif, ...); repeatable",
        )
        sub.add_argument("--min-score", type=float, help="relevance cut-off (cosine, e.g. 0.2)")
        sub.add_argument("--sort", choices=SORTS, default="relevance", help="result order")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from exc


def open_library(args: argparse.Namespace, *, reading: bool = False) -> Library:
    """The library the global options name; ``reading`` opens it read-only when it exists.

    Read-only readers never block, and are never blocked by, the writer (the
    watch service or an ``index`` run); they follow its commits.
    """
    settings = ModelSettings(args.model, args.pretrained, args.device)
    paths = resolve_paths(args.data_dir)
    if reading and paths.catalog.exists():
        return Library(paths, settings, read_only=True)
    options = IndexerOptions()
    if getattr(args, "batch_size", None):
        options.batch_size = args.batch_size
    if getattr(args, "workers", None):
        options.workers = args.workers
    if getattr(args, "no_draft", False):
        options.draft = False
    return Library(paths, settings, indexer_options=options)


def cmd_add(args: argparse.Namespace) -> int:
    """``add PATH...``."""
    with open_library(args) as library:
        for path in args.paths:
            folder = library.add_folder(path)
            print(f"added {folder.path}")
    print("run `photoseek index` to index them")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    """``remove PATH...``."""
    with open_library(args) as library:
        for path in args.paths:
            dropped = library.remove_folder(path)
            print(f"removed {path} ({dropped} photos forgotten)")
    return EXIT_OK


def cmd_folders(args: argparse.Namespace) -> int:
    """``folders``."""
    with open_library(args, reading=True) as library:
        print_folders(library.folders())
    return EXIT_OK


def cmd_index(args: argparse.Namespace) -> int:
    """``index``: Ctrl-C stops after the current batch; a second Ctrl-C aborts."""
    cancel = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        cancel.set()
        signal.signal(signal.SIGINT, previous)
        print("\nstopping after the current batch (Ctrl-C again to abort)", file=sys.stderr)

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        with open_library(args) as library, progress_printer(sys.stderr) as show:
            last = None
            for progress in library.index(cancel):
                show(progress)
                last = progress
    finally:
        signal.signal(signal.SIGINT, previous)
    if last is not None:
        print(
            f"{last.phase}: {last.done} of {last.total} processed, {last.embedded} embedded, "
            f"{last.reused} reused, {last.problems} problems"
        )
    return EXIT_INTERRUPTED if cancel.is_set() else EXIT_OK


def _search_options(args: argparse.Namespace) -> SearchOptions:
    folder = args.folder.expanduser().resolve() if args.folder else None
    types = frozenset(t.lower() for t in args.types) if args.types else None
    filters = SearchFilters(folder, args.after, args.before, types)
    return SearchOptions(args.limit, filters, args.min_score, args.sort)


def _show_results(args: argparse.Namespace, results: SearchResults) -> int:
    for warning in results.warnings:
        print(f"photoseek: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(hits_as_json(results.hits), indent=2))
    else:
        print_hits(results.hits)
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    """``search QUERY``."""
    with open_library(args, reading=True) as library:
        return _show_results(args, library.search(args.query, _search_options(args)))


def cmd_similar(args: argparse.Namespace) -> int:
    """``similar IMAGE``."""
    with open_library(args, reading=True) as library:
        return _show_results(args, library.similar(args.image, _search_options(args)))


def cmd_status(args: argparse.Namespace) -> int:
    """``status``."""
    with open_library(args, reading=True) as library:
        status = library.status()
    service = service_report(status.writer, read_state(status.data_dir))
    if args.json:
        print(json.dumps({**status_as_json(status), "service": service}, indent=2))
    else:
        print_status(status)
        print_service(service)
    return EXIT_OK


def cmd_problems(args: argparse.Namespace) -> int:
    """``problems``."""
    with open_library(args, reading=True) as library:
        problems = library.problems()
    if args.json:
        print(json.dumps([{"path": str(p.path), "reason": p.reason} for p in problems], indent=2))
    else:
        print_problems(problems)
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """``doctor``: every check is printed; exit 1 if any failed."""
    from photoseek.doctor import run_checks

    with open_library(args) as library:
        checks = run_checks(library)
    print_doctor(checks)
    return EXIT_OK if all(c.ok for c in checks) else EXIT_USER_ERROR


def cmd_watch(args: argparse.Namespace) -> int:
    """``watch``: SIGTERM or Ctrl-C stops cleanly (batch committed, index saved)."""
    from photoseek.daemon import WatchService

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    handlers = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with open_library(args) as library, progress_printer(sys.stderr) as show:
            WatchService(library, on_progress=show).run(stop, once=args.once)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return EXIT_OK


def cmd_service(args: argparse.Namespace) -> int:
    """``service install|uninstall|status``: autostart of ``photoseek watch`` at login."""
    from photoseek.autostart import AutostartError, ServiceSpec, for_platform, service_command

    autostart = for_platform()
    try:
        if args.action == "status":
            print(f"{autostart.name}: {autostart.status()}")
            return EXIT_OK
        if args.action == "uninstall":
            lines = autostart.uninstall()
        else:
            paths = resolve_paths(args.data_dir)
            spec = ServiceSpec(
                command=service_command(paths.data_dir, _model_options(args)),
                environment={},
                log_dir=paths.log_dir,
            )
            lines = autostart.install(spec)
    except AutostartError as exc:
        print(f"photoseek: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    for line in lines:
        print(line)
    return EXIT_OK


def _model_options(args: argparse.Namespace) -> list[str]:
    """The model options to pass on to the service, when not the defaults."""
    options: list[str] = []
    if args.model != DEFAULT_ARCH:
        options += [
            "--model",
            str(Path(args.model).expanduser().resolve())
            if args.model.endswith(".json")
            else args.model,
        ]
    if args.pretrained != DEFAULT_PRETRAINED:
        pretrained = Path(args.pretrained).expanduser()
        options += [
            "--pretrained",
            str(pretrained.resolve()) if pretrained.exists() else args.pretrained,
        ]
    if args.device != "auto":
        options += ["--device", args.device]
    return options


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``photoseek`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(resolve_paths(args.data_dir).log_dir, args.verbose)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_OK
    try:
        return handler(args)
    except PhotoseekError as exc:
        log.debug("command failed", exc_info=True)
        print(f"photoseek: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("photoseek: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
