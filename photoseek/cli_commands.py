"""What each command of the command line does (the parser lives in :mod:`photoseek.cli`).

Readers (``search``, ``similar``, ``status``, ``folders``, ``problems``,
``doctor``) open the library read-only: they work beside a running watch
service, on a read-only data dir, and never create a library. Writers
(``add``, ``remove``, ``index``, ``watch``) open it for writing.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from photoseek.cli_output import (
    folders_as_json,
    hits_as_json,
    plural,
    print_folders,
    print_hits,
    print_problems,
    print_service,
    print_status,
    problems_as_json,
    progress_printer,
    raw_pairs_line,
    service_as_json,
    status_as_json,
)
from photoseek.cli_switchtext import switch_line, switch_summary
from photoseek.cli_timings import PhaseClock, print_timings
from photoseek.core.errors import LibraryError, SchemaTooOldError
from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.library import Library
from photoseek.core.model.embedder import ModelSettings
from photoseek.core.progress import Phase, Progress
from photoseek.core.search.searcher import SearchFilters, SearchOptions, SearchResults
from photoseek.core.zeroshot.templates import template_set
from photoseek.modelargs import command_settings, named_model
from photoseek.paths import AppPaths, resolve_paths
from photoseek.pathtext import display_path

if TYPE_CHECKING:
    from photoseek.core.cluster import ClusterOptions

EXIT_OK, EXIT_USER_ERROR, EXIT_INTERRUPTED = 0, 1, 130

Handler = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace) -> ModelSettings:
    return command_settings(args)


def open_writer(args: argparse.Namespace) -> Library:
    """The library the global options name, opened for writing (created if new)."""
    options = IndexerOptions()
    if getattr(args, "batch_size", None):
        options.batch_size = args.batch_size
    if getattr(args, "workers", None):
        options.workers = args.workers
    if getattr(args, "no_draft", False):
        options.draft = False
    library = Library(resolve_paths(args.data_dir), _settings(args), indexer_options=options)
    library.follows_choice = named_model(args) is None  # `watch` follows a switch made elsewhere
    return library


def reader_paths(args: argparse.Namespace) -> AppPaths:
    """The library's folders, checked for reading (a data dir that is a file is an error)."""
    return resolve_paths(args.data_dir).check_readable()


def open_reader(args: argparse.Namespace) -> Library:
    """The library opened read-only; an older catalog is upgraded first when possible.

    Raises LibraryError when there is no library yet.
    """
    paths = reader_paths(args)
    if not paths.catalog.exists():
        raise LibraryError(
            f"there is no library at {display_path(paths.data_dir)} yet; "
            "add a folder with `photoseek add PATH`"
        )
    try:
        return Library(paths, _settings(args), read_only=True)
    except SchemaTooOldError:
        Library(paths, _settings(args)).close()  # a writable open migrates (after a backup)
        return Library(paths, _settings(args), read_only=True)


def _no_library(paths: AppPaths) -> bool:
    return not paths.catalog.exists()


# -- folders ------------------------------------------------------------------------


def cmd_add(args: argparse.Namespace) -> int:
    """``add PATH...``: say what happened to each folder."""
    for path in args.paths:
        resolved = path.expanduser().resolve()
        if resolved == Path(resolved.anchor) and not args.force:
            raise LibraryError(
                f"refusing to add the whole file system ({display_path(resolved)}); add the "
                "folders that hold your photos, or use --force"
            )
    added_any = False
    with open_writer(args) as library:
        for path in args.paths:
            result = library.add_folder(path)
            shown = display_path(result.folder.path)
            if not result.created:
                print(f"already in the library: {shown}")
                continue
            added_any = True
            print(f"added {shown}")
            if result.absorbed:
                inner = ", ".join(display_path(p) for p in result.absorbed)
                print(f"  it includes {inner}, already in the library: now part of it")
    if added_any:
        print("run `photoseek index` to index them (or keep `photoseek watch` running)")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    """``remove PATH...``."""
    with open_writer(args) as library:
        for path in args.paths:
            dropped = library.remove_folder(path)
            print(f"removed {display_path(path)} ({plural(dropped, 'photo')} forgotten)")
    return EXIT_OK


def cmd_folders(args: argparse.Namespace) -> int:
    """``folders``."""
    paths = reader_paths(args)
    if _no_library(paths):
        print_folders([])
        return EXIT_OK
    with open_reader(args) as library:
        folders = library.folders()
    if getattr(args, "json", False):
        print(json.dumps(folders_as_json(folders), indent=2))
    else:
        print_folders(folders)
    return EXIT_OK


# -- indexing -------------------------------------------------------------------------


class _Interrupt:
    """Ctrl-C stops after the current batch; a second Ctrl-C aborts."""

    def __init__(self, message: str) -> None:
        self.cancel = threading.Event()
        self._message = message
        self._previous = signal.getsignal(signal.SIGINT)

    def __enter__(self) -> threading.Event:
        signal.signal(signal.SIGINT, self._on_interrupt)
        return self.cancel

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        self.cancel.set()
        signal.signal(signal.SIGINT, self._previous)
        print(f"\n{self._message} (Ctrl-C again to abort)", file=sys.stderr)


def cmd_index(args: argparse.Namespace) -> int:
    """``index``: scan, then embed what is new or changed (the model loads only for that)."""
    cluster = cluster_options(args)  # without Ray, says how to install it before anything slow
    with open_writer(args) as library:
        if not library.folders():
            print("the library has no folders yet: add one with `photoseek add PATH`")
            return EXIT_OK
        if cluster is not None:
            print(cluster.destination(), file=sys.stderr)
        clock = PhaseClock()
        with (
            _Interrupt("stopping after the current batch") as cancel,
            progress_printer(sys.stderr) as show,
        ):
            last = Progress(Phase.DONE)
            for last in library.index(cancel, cluster):
                clock.see(last)
                show(last)
        status = library.status()
    _print_index_summary(last, status.counts.get("error", 0))
    if last.cluster is not None:
        print(f"cluster: {last.cluster.summary()}", file=sys.stderr)
    if args.timings:
        print_timings(clock, last, sys.stderr)
    return EXIT_INTERRUPTED if last.phase == Phase.CANCELLED else EXIT_OK


def cluster_options(args: argparse.Namespace) -> ClusterOptions | None:
    """The ``--cluster`` run asked for (raises at once when Ray is not installed)."""
    if getattr(args, "cluster", None) is None:
        if getattr(args, "path_map", None):
            raise LibraryError("--path-map applies to --cluster runs only")
        return None
    from photoseek.core.cluster import ClusterOptions, require_ray

    require_ray()
    return ClusterOptions(
        args.cluster, tuple(args.path_map), args.cluster_actors, args.gpus_per_actor
    )


def _print_index_summary(last: Progress, problems_in_library: int) -> None:
    if last.phase == Phase.CANCELLED:
        head = "stopped"
    elif last.done == 0:
        head = "nothing to index: every photo is up to date"
    else:
        head = "done"
    parts = [head]
    if last.done:
        parts.append(
            f"{plural(last.done, 'photo')} processed: {last.embedded} embedded, "
            f"{last.reused} reused"
        )
    if last.problems:
        parts.append(f"{plural(last.problems, 'new problem')}")
    line = "; ".join(parts)
    if problems_in_library:
        line += f" ({plural(problems_in_library, 'problem')} in all: `photoseek problems`)"
    print(line)


def cmd_watch(args: argparse.Namespace) -> int:
    """``watch``: SIGTERM or Ctrl-C stops cleanly (batch committed, index saved)."""
    from photoseek.core.watch.service import ServiceOptions
    from photoseek.daemon import run_service
    from photoseek.warm.server import serving_warm_searches

    cluster = cluster_options(args)  # without Ray, says how to install it before anything slow
    if cluster is not None:
        print(cluster.destination(), file=sys.stderr)
    options = ServiceOptions(cluster=cluster) if cluster is not None else None
    with (
        open_writer(args) as library,
        serving_warm_searches(library),  # `photoseek search` asks this process
        progress_printer(sys.stderr) as show,
    ):
        run_service(library, once=args.once, wait=not args.once, on_progress=show, options=options)
        if args.once:
            status = library.status()
            problems = status.counts.get("error", 0)
            print(
                f"caught up: {plural(status.counts.get('indexed', 0), 'photo')} indexed, "
                f"{status.pending} waiting, {plural(problems, 'problem')}"
            )
    return EXIT_OK


# -- search -----------------------------------------------------------------------------


def search_options(args: argparse.Namespace) -> SearchOptions:
    """The search options ``args`` ask for."""
    return _search_options(args)


def _search_options(args: argparse.Namespace) -> SearchOptions:
    folder = args.folder.expanduser().resolve() if args.folder else None
    types = frozenset(args.types) if args.types else None
    tags = frozenset(args.tags) if args.tags else None
    filters = SearchFilters(folder, args.after, args.before, types, tags)
    folder = resolve_paths(args.data_dir).label_sets_dir
    templates = template_set(args.prompts, folder).templates if args.prompts else ()
    return SearchOptions(
        args.limit,
        filters,
        args.min_score,
        args.sort,
        short_query_templates=templates,
        show_hidden=args.show_hidden,
    )


def show_results(
    args: argparse.Namespace,
    results: SearchResults,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print ``results`` (to stdout and stderr, or to ``out`` and ``err``); the exit code."""
    for warning in results.warnings:
        print(f"photoseek: warning: {warning}", file=err or sys.stderr)
    if args.json:
        print(json.dumps(hits_as_json(results.hits), indent=2), file=out or sys.stdout)
    else:
        print_hits(results.hits, out or sys.stdout)
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    """``search QUERY``."""
    options = _search_options(args)
    with open_reader(args) as library:
        return show_results(args, library.search(args.query, options))


def cmd_similar(args: argparse.Namespace) -> int:
    """``similar IMAGE``."""
    options = _search_options(args)
    with open_reader(args) as library:
        return show_results(args, library.similar(args.image, options))


# -- reports ----------------------------------------------------------------------------


def cmd_status(args: argparse.Namespace) -> int:
    """``status``: read-only, no model load."""
    with open_reader(args) as library:
        status = library.status()
        service = library.service_status()
        switch = library.model_switch()
    if args.json:
        report = {**status_as_json(status), "service": service_as_json(service)}
        report["model_switch"] = None if switch is None else switch_summary(switch)
        print(json.dumps(report, indent=2))
    else:
        print_status(status)
        if switch is not None:
            print(f"switch:   {switch_line(switch)} (`photoseek model`)")
        print_service(service)
    return EXIT_OK


def cmd_raw_pairs(args: argparse.Namespace) -> int:
    """``raw-pairs [one|both]``: how a RAW beside its JPEG or HEIF is indexed (a setting)."""
    if args.mode is None:
        with open_reader(args) as library:
            print(raw_pairs_line(library.raw_pairs()))
        return EXIT_OK
    with open_writer(args) as library:
        changed = library.raw_pairs() != args.mode
        library.set_raw_pairs(args.mode)
    print(raw_pairs_line(args.mode))
    if changed:
        print("applies at the next `photoseek index` (or the watch service's next rescan)")
    return EXIT_OK


def cmd_problems(args: argparse.Namespace) -> int:
    """``problems``."""
    if _no_library(reader_paths(args)):
        problems = []
    else:
        with open_reader(args) as library:
            problems = library.problems()
    if args.json:
        print(json.dumps(problems_as_json(problems), indent=2))
    else:
        print_problems(problems)
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """``doctor``: each check is printed as soon as it is done; exit 1 if any failed."""
    from photoseek.cli_output import print_check
    from photoseek.doctor import iter_checks

    failed = False
    for check in iter_checks(resolve_paths(args.data_dir), _settings(args)):
        print_check(check)
        failed = failed or not check.ok
    return EXIT_USER_ERROR if failed else EXIT_OK


def cmd_service(args: argparse.Namespace) -> int:
    """``service install|uninstall|status``: autostart of ``photoseek watch`` at login."""
    from photoseek.autostart import ServiceSpec, for_platform, service_command

    autostart = for_platform()
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
    for line in lines:
        print(line)
    return EXIT_OK


def _model_options(args: argparse.Namespace) -> list[str]:
    """The model options to pass on to the service, when not the defaults."""
    options: list[str] = []  # none named: the service follows the library's chosen model
    if args.model is not None:
        model = Path(args.model).expanduser()
        options += ["--model", str(model.resolve()) if args.model.endswith(".json") else args.model]
    if args.pretrained is not None:
        pretrained = Path(args.pretrained).expanduser()
        options += [
            "--pretrained",
            str(pretrained.resolve()) if pretrained.exists() else args.pretrained,
        ]
    if args.device != "auto":
        options += ["--device", args.device]
    return options


COMMANDS: dict[str, Handler] = {
    "add": cmd_add,
    "remove": cmd_remove,
    "folders": cmd_folders,
    "index": cmd_index,
    "status": cmd_status,
    "problems": cmd_problems,
    "doctor": cmd_doctor,
    "watch": cmd_watch,
    "service": cmd_service,
    "search": cmd_search,
    "similar": cmd_similar,
    "raw-pairs": cmd_raw_pairs,
}


def _zeroshot_commands() -> dict[str, Handler]:
    from photoseek.cli_albums import ALBUM_COMMANDS
    from photoseek.cli_duplicates import DUPLICATE_COMMANDS
    from photoseek.cli_models import MODEL_COMMANDS
    from photoseek.cli_switch import SWITCH_COMMANDS
    from photoseek.cli_zeroshot import ZEROSHOT_COMMANDS

    return {
        **ZEROSHOT_COMMANDS,
        **ALBUM_COMMANDS,
        **SWITCH_COMMANDS,
        **MODEL_COMMANDS,
        **DUPLICATE_COMMANDS,
    }


COMMANDS.update(_zeroshot_commands())
