"""Command line: ``photoseek [options] COMMAND``.

Exit codes: 0 success, 1 a user error (one line on stderr), 2 bad usage,
130 interrupted. Global options may also come from the environment:
PHOTOSEEK_DATA_DIR, PHOTOSEEK_MODEL, PHOTOSEEK_PRETRAINED, PHOTOSEEK_DEVICE.

Every command checks what it was given before it loads the model (which
takes seconds), and loads it only when it has work for it.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TypeAlias

from photoseek import __version__, hugepages
from photoseek.cli_commands import COMMANDS
from photoseek.cli_models import add_models_command
from photoseek.core.errors import PhotoseekError
from photoseek.core.indexing.options import DEFAULT_BATCH_SIZE
from photoseek.core.model.embedder import DEFAULT_ARCH, DEFAULT_PRETRAINED, DEVICES
from photoseek.core.search.formats import FORMATS, parse_format
from photoseek.core.search.searcher import SORTS
from photoseek.core.zeroshot.labels import BUILTIN_SET
from photoseek.core.zeroshot.templates import DEFAULT_TEMPLATES, TEMPLATE_SETS
from photoseek.logsetup import configure_logging
from photoseek.paths import DATA_DIR_ENV, AppPaths, resolve_paths
from photoseek.pathtext import escape_undecodable

log = logging.getLogger("photoseek.cli")

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_QUERY_COMMANDS = ("search", "similar")


def build_parser(environ: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The full argument parser (also used to render the README's command list).

    The global options' defaults come from ``environ`` (the process's own
    environment by default; a warm-search server passes its client's).
    """
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="photoseek",
        description="Find photos on your own disk by what is in them.",
        epilog="Query syntax: 'beach + 0.5*@kite.jpg - people' (see README). A query that "
        "starts with '-' works as it is: photoseek search '-0.5*people + beach'.",
    )
    parser.add_argument("--version", action="version", version=f"photoseek {__version__}")
    parser.add_argument(
        "--data-dir", default=env.get(DATA_DIR_ENV), help=f"library folder (${DATA_DIR_ENV})"
    )
    parser.add_argument(
        "--model",
        default=env.get("PHOTOSEEK_MODEL"),
        help="open_clip architecture, or a model config .json, for this command ($PHOTOSEEK_MODEL;"
        f" default: the library's model, see `photoseek model`; else {DEFAULT_ARCH})",
    )
    parser.add_argument(
        "--pretrained",
        default=env.get("PHOTOSEEK_PRETRAINED"),
        help="pretrained tag, a local checkpoint file or folder, or 'none' for random "
        f"weights ($PHOTOSEEK_PRETRAINED; default: the library's; else {DEFAULT_PRETRAINED})",
    )
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default=env.get("PHOTOSEEK_DEVICE", "auto"),
        help="where the model runs ($PHOTOSEEK_DEVICE; default auto: CUDA, MPS, CPU)",
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "int8"),
        default=env.get("PHOTOSEEK_PRECISION", "fp32"),
        help="the image tower's precision ($PHOTOSEEK_PRECISION; default fp32). int8 is the "
        "fast mode on CPUs: its vectors are kept apart from fp32 ones",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more output (-vv)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_folder_commands(commands)
    _add_index_commands(commands)
    _add_search_commands(commands)
    _add_zeroshot_commands(commands)
    _add_album_commands(commands)
    from photoseek.cli_duplicates import add_duplicates_commands

    add_duplicates_commands(commands)
    _add_switch_commands(commands)
    add_models_command(commands)
    return parser


_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _command(commands: _Commands, name: str, help_text: str) -> argparse.ArgumentParser:
    sub = commands.add_parser(name, help=help_text, description=help_text)
    sub.set_defaults(handler=COMMANDS[name])
    return sub


def _add_folder_commands(commands: _Commands) -> None:
    add = _command(commands, "add", "add folders to the library")
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    add.add_argument(
        "--force", action="store_true", help="also add a whole file system root such as /"
    )
    remove = _command(commands, "remove", "forget folders (photos on disk are untouched)")
    remove.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _command(commands, "folders", "list the library's folders")


def _add_index_commands(commands: _Commands) -> None:
    index = _command(commands, "index", "scan folders and index new or changed photos")
    index.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        help=f"photos per model batch and per commit (default {DEFAULT_BATCH_SIZE})",
    )
    index.add_argument("--workers", type=_positive_int, help="decoding threads")
    index.add_argument("--no-draft", action="store_true", help="decode JPEGs at full size")
    index.add_argument(
        "--timings",
        action="store_true",
        help="print where the time went: each phase, and each stage of the photos' pipeline",
    )
    add_cluster_arguments(index, "this run")
    for name, help_text in (
        ("status", "folders, counts, pending work and the watch service"),
        ("problems", "files that were skipped, and why"),
    ):
        _command(commands, name, help_text).add_argument(
            "--json", action="store_true", help="machine-readable output"
        )
    pairs = _command(
        commands, "raw-pairs", "how a camera RAW beside its JPEG or HEIF is indexed (a setting)"
    )
    pairs.add_argument(
        "mode",
        nargs="?",
        choices=("one", "both"),
        help="one: the pair once, as the JPEG, the RAW listed as its original (default); "
        "both: the RAW too. Without it: show the setting",
    )
    _command(commands, "doctor", "check versions, paths, catalog, device, model and index")
    watch = _command(
        commands, "watch", "keep the library current: index, then watch folders until stopped"
    )
    watch.add_argument("--once", action="store_true", help="catch up and exit (for cron)")
    watch.add_argument(
        "--batch-size",
        type=_positive_int,
        default=8,
        help="photos per batch (default 8: a stop request is honoured within a batch)",
    )
    add_cluster_arguments(watch, "catch-up, new photos and a model switch")
    service = _command(commands, "service", "start the watcher at login (autostart)")
    service.add_argument("action", choices=("install", "uninstall", "status"))


def _add_search_commands(commands: _Commands) -> None:
    search = _command(commands, "search", "find photos by a text (and photo) query")
    search.add_argument("query", metavar="QUERY")
    similar = _command(commands, "similar", "find photos that look like IMAGE")
    similar.add_argument("image", type=Path, metavar="IMAGE")
    for sub in (search, similar):
        sub.add_argument("--limit", type=_positive_int, default=20, help="results (default 20)")
        sub.add_argument("--json", action="store_true", help="print a JSON list")
        sub.add_argument("--folder", type=Path, help="only photos under this library folder")
        sub.add_argument("--after", type=_iso_date, help="taken on or after YYYY-MM-DD")
        sub.add_argument("--before", type=_iso_date, help="taken on or before YYYY-MM-DD")
        sub.add_argument(
            "--type",
            action="append",
            dest="types",
            type=_format,
            metavar="FORMAT",
            help=f"only this format ({', '.join(FORMATS)}; also jpg, tif, heic...); repeatable",
        )
        sub.add_argument(
            "--min-score", type=_finite_float, help="relevance cut-off (cosine, e.g. 0.2)"
        )
        sub.add_argument("--sort", choices=SORTS, default="relevance", help="result order")
        sub.add_argument("--show-hidden", action="store_true", help=_SHOW_HIDDEN)
        sub.add_argument(
            "--prompts",
            metavar="SET",
            help="embed a one- or two-word query through these templates, as a label "
            "(off by default: README, Tags)",
        )
        sub.add_argument(
            "--tag",
            action="append",
            dest="tags",
            metavar="TAG",
            help="only photos with this tag (`photoseek tags`); repeatable",
        )


def _add_zeroshot_commands(commands: _Commands) -> None:
    classify = _command(commands, "classify", "zero-shot: which labels fit each image")
    classify.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    _add_label_choice(classify)
    classify.add_argument("--top", type=_positive_int, default=5, help="labels shown (default 5)")
    classify.add_argument("--json", action="store_true", help="print JSON")
    labels = _command(commands, "labels", "list label sets, add or remove a label of your own")
    labels.add_argument("action", choices=("list", "add", "remove"))
    labels.add_argument("label", nargs="?", metavar="LABEL", help="the label to add or remove")
    labels.add_argument("--set", help="the label set (list: all sets; add/remove: default mine)")
    labels.add_argument("--synonyms", help='add: other words for it, "puppy, doggy"')
    labels.add_argument(
        "--prompt", action="append", help="add: a whole sentence for it; repeatable"
    )
    _add_tag_commands(commands)
    evaluate = _command(
        commands, "eval", "score a checkpoint: retrieval recall, zero-shot accuracy"
    )
    evaluate.add_argument("kind", choices=("retrieval", "zeroshot"))
    evaluate.add_argument(
        "file", type=Path, metavar="FILE", help="image path TAB caption (or label) per line"
    )
    evaluate.add_argument("--json", action="store_true", help="print JSON")


_SHOW_HIDDEN = "also photos the content filter hides"


def _add_label_choice(sub: argparse.ArgumentParser) -> None:
    """``--labels`` or ``--label-set``, and ``--templates``."""
    chosen = sub.add_mutually_exclusive_group()
    chosen.add_argument("--labels", help='labels separated by commas: "cat, dog, a birthday party"')
    chosen.add_argument(
        "--label-set", default=BUILTIN_SET, help=f"a label set (default {BUILTIN_SET})"
    )
    sub.add_argument(
        "--templates",
        default=DEFAULT_TEMPLATES,
        metavar="SET",
        help=f"prompt templates: {', '.join(TEMPLATE_SETS)} or a file of yours (default "
        f"{DEFAULT_TEMPLATES}: OpenAI's 7; openai: the 80)",
    )


def _add_tag_commands(commands: _Commands) -> None:
    tag = _command(commands, "tag", "tag every indexed photo with a label set (zero-shot)")
    _add_label_choice(tag)
    tags = _command(commands, "tags", "the library's tags with counts, or one tag's photos")
    tags.add_argument("name", nargs="?", metavar="TAG", help="list this tag's photos, newest first")
    threshold = tags.add_mutually_exclusive_group()
    threshold.add_argument(
        "--threshold", type=_finite_float, help="re-tag at this margin (no model needed)"
    )
    threshold.add_argument(
        "--default-threshold", action="store_true", help="re-tag at the model's default"
    )
    tags.add_argument("--limit", type=_positive_int, default=50, help="photos (default 50)")
    tags.add_argument("--json", action="store_true", help="print JSON")
    tags.add_argument("--show-hidden", action="store_true", help=_SHOW_HIDDEN)
    hide = _command(commands, "filter", "the content filter: hide photos that match a description")
    hide.add_argument("action", choices=("list", "add", "remove", "off", "threshold"))
    hide.add_argument(
        "value", nargs="?", metavar="TEXT", help="add/remove: a description; threshold: M|default"
    )


def _add_switch_commands(commands: _Commands) -> None:
    from photoseek.cli_switch import add_switch_commands

    model = add_switch_commands(commands)
    add_cluster_arguments(model, "use/resume: the re-embedding")


def _add_album_commands(commands: _Commands) -> None:
    album = _command(commands, "album", "smart albums: saved searches that stay up to date")
    actions = album.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="save a query as an album (or replace one)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("query", metavar="QUERY", help="search syntax: text, @photo, weights, tag:")
    add.add_argument("--min-score", type=_finite_float, help="cut-off for this model")
    add.add_argument("--folder", type=Path, help="only photos under this library folder")
    add.add_argument("--after", type=_iso_date, help="taken on or after YYYY-MM-DD")
    add.add_argument("--before", type=_iso_date, help="taken on or before YYYY-MM-DD")
    add.add_argument("--type", action="append", dest="types", type=_format, metavar="FORMAT")
    add.add_argument("--tag", action="append", dest="tags", metavar="TAG")
    listing = actions.add_parser("list", help="every album")
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = actions.add_parser("show", help="an album's photos now, best first")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--limit", type=_positive_int, default=200, help="photos (default 200)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.add_argument("--show-hidden", action="store_true", help=_SHOW_HIDDEN)
    cutoff = actions.add_parser("cutoff", help="set an album's cut-off for this model")
    cutoff.add_argument("name", metavar="NAME")
    cutoff.add_argument("min_score", type=_finite_float, metavar="SCORE")
    remove = actions.add_parser("remove", help="forget an album (photos untouched)")
    remove.add_argument("name", metavar="NAME")
    export = actions.add_parser("export", help="links (or copies) of an album's photos")
    export.add_argument("name", metavar="NAME")
    export.add_argument("folder_out", type=Path, metavar="DIR")
    export.add_argument("--copy", action="store_true", help="copy the files instead of linking")
    export.add_argument("--show-hidden", action="store_true", help=_SHOW_HIDDEN)


def add_cluster_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--cluster`` and its options, for a command that embeds photos (``what`` it embeds)."""
    cluster = parser.add_argument_group(
        "cluster",
        f"decode and embed on a Ray cluster ({what}; needs `pip install 'photoseek[cluster]'`)",
    )
    cluster.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="send the photos to embed to this Ray cluster: auto, ray://HOST:PORT, or local "
        "(a Ray instance on 127.0.0.1 for this run); photos leave this computer only then",
    )
    cluster.add_argument(
        "--path-map",
        action="append",
        default=[],
        type=_path_map,
        metavar="LOCAL=REMOTE",
        help="workers read files under LOCAL from REMOTE on their own mount (repeatable)",
    )
    cluster.add_argument(
        "--cluster-actors", type=_positive_int, default=1, help="model actors (default 1)"
    )
    cluster.add_argument(
        "--gpus-per-actor", type=float, default=0.0, help="GPUs per model actor (default 0)"
    )


def _path_map(text: str) -> object:
    from photoseek.core.cluster.options import parse_path_map

    try:
        return parse_path_map(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from exc


def _format(text: str) -> str:
    try:
        return parse_format(text)
    except PhotoseekError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def protect_dash_queries(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """Make a query or path that starts with ``-`` a positional argument.

    ``photoseek search "-0.5*people + beach"`` would otherwise read the query
    as an unknown option. The first word after ``search``/``similar`` that
    starts with ``-`` and is none of that command's options moves behind a
    ``--``, where argparse takes it as the positional it is.
    """
    args = list(argv)
    position = _command_position(args, parser)
    if position is None or args[position] not in _QUERY_COMMANDS or "--" in args:
        return args
    options = _option_arities(parser, args[position])
    i = position + 1
    while i < len(args):
        token = args[i]
        name = token.split("=", 1)[0]
        if name in options:
            i += 1 + (options[name] if "=" not in token else 0)
        elif token.startswith("-") and token != "-":
            return [*args[:i], *args[i + 1 :], "--", token]
        else:
            i += 1
    return args


def _command_position(args: list[str], parser: argparse.ArgumentParser) -> int | None:
    options = _arities(parser)
    i = 0
    while i < len(args):
        token = args[i]
        name = token.split("=", 1)[0]
        if name in options:
            i += 1 + (options[name] if "=" not in token else 0)
        elif token.startswith("-"):
            i += 1
        else:
            return i
    return None


def _option_arities(parser: argparse.ArgumentParser, command: str) -> dict[str, int]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return _arities(action.choices[command])
    return {}


def _arities(parser: argparse.ArgumentParser) -> dict[str, int]:
    """Option string -> how many values follow it."""
    arities: dict[str, int] = {}
    for action in parser._actions:
        takes = 0 if action.nargs == 0 else 1
        for option in action.option_strings:
            arities[option] = takes
    return arities


def _guard_streams() -> None:
    """Never fail printing a path: undecodable bytes become escapes, not exceptions."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure: Callable[..., None] | None = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _log_dir(paths: AppPaths) -> Path | None:
    """Where this run logs: nowhere but the console when the data dir cannot hold logs.

    A data dir that is a file gets its own one-sentence error from the
    command; a read-only one serves readers fine and needs no warning.
    """
    data_dir = paths.data_dir
    if data_dir.exists() and (not data_dir.is_dir() or not os.access(data_dir, os.W_OK)):
        return None
    return paths.log_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``photoseek`` console script."""
    _guard_streams()
    parser = build_parser()
    args = parser.parse_args(protect_dash_queries(sys.argv[1:] if argv is None else argv, parser))
    handler = getattr(args, "handler", None)
    if args.command is None or (args.command == "watch" and not args.once):
        hugepages.restart()  # long-lived: huge pages for the index (where the entry allows)
    if handler is None:  # no command: the desktop app
        from photoseek.gui.app import main as run_app

        return run_app(args)
    try:
        configure_logging(_log_dir(resolve_paths(args.data_dir)), args.verbose)
        return int(handler(args))
    except PhotoseekError as exc:
        log.debug("command failed", exc_info=True)
        print(f"photoseek: error: {escape_undecodable(str(exc))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("photoseek: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
