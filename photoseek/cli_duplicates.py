"""``duplicates``: groups of near-identical photos, each with the one to keep first.

Read-only with respect to files: the command lists groups, it never deletes
or moves a photo (the app's review view moves the others to the trash).
Photos of unavailable folders are left out. The only thing it may write is
a cache in the catalog: the perceptual hashes of photos indexed before
photoseek made them (``Library.duplicates``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from photoseek.cli_output import plural, progress_printer
from photoseek.core.duplicates.phash import HASH_BITS
from photoseek.core.duplicates.records import (
    DuplicateGroup,
    DuplicatePhoto,
    DuplicateReport,
    link_text,
)
from photoseek.core.duplicates.thresholds import DEFAULT_PHASH_DISTANCE
from photoseek.pathtext import display_path, path_to_json

if TYPE_CHECKING:
    from photoseek.core.library import Library

__all__ = ["DUPLICATE_COMMANDS", "add_duplicates_commands", "cmd_duplicates"]

EXIT_OK = 0
DEFAULT_LIMIT = 50

_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_duplicates_commands(commands: _Commands) -> None:
    """Add the ``duplicates`` command to the parser's subcommands."""
    text = "groups of near-identical photos (copies, resized, re-encoded, bursts), keep first"
    sub = commands.add_parser("duplicates", help=text, description=text)
    sub.set_defaults(handler=cmd_duplicates)
    sub.add_argument(
        "--threshold",
        type=_cosine,
        metavar="T",
        help="embedding cosine at which two photos are duplicates (default: the model's, "
        "provisional until calibrated; above 1 turns the embedding test off)",
    )
    sub.add_argument(
        "--phash-distance",
        type=_bits,
        metavar="D",
        help=f"perceptual-hash bits of {HASH_BITS} two photos may differ by "
        f"(default {DEFAULT_PHASH_DISTANCE}; 0: identical hashes only)",
    )
    sub.add_argument("--json", action="store_true", help="print a JSON list of groups")
    sub.add_argument(
        "--limit",
        type=_positive,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"groups shown (default {DEFAULT_LIMIT})",
    )


def cmd_duplicates(args: argparse.Namespace) -> int:
    """``duplicates [--threshold T] [--phash-distance D] [--json] [--limit N]``."""
    with _open(args) as library, progress_printer(sys.stderr) as show:
        report = library.duplicates(
            args.threshold, phash_distance=args.phash_distance, on_progress=show
        )
    shown = report.groups[: args.limit]
    if args.json:
        print(json.dumps([group_as_json(group) for group in shown], indent=2))
    else:
        print_report(report, shown, explicit=args.threshold is not None)
    _note_hashes(report)
    return EXIT_OK


def _open(args: argparse.Namespace) -> Library:
    """For writing where the data dir allows it (to store new hashes), else read-only."""
    from photoseek.cli_commands import open_reader, open_writer, reader_paths

    paths = reader_paths(args)
    if paths.catalog.exists() and os.access(paths.data_dir, os.W_OK):
        return open_writer(args)
    return open_reader(args)  # says there is no library yet, or opens it read-only


# -- output ----------------------------------------------------------------------------


def group_as_json(group: DuplicateGroup) -> dict[str, Any]:
    """A group as a JSON-ready dict: the kept photo's id and every photo in keep order."""
    return {
        "keep": group.kept.id,
        "photos": [
            {
                "id": photo.id,
                **path_to_json(photo.path),
                "keep": photo.keep,
                "width": photo.width,
                "height": photo.height,
                "format": photo.format,
                "date": photo.date or None,
                "size": photo.size,
                "reason": photo.link.reason,
                "like": photo.link.to,
                "phash_distance": photo.link.phash_distance,
                "cosine": None if photo.link.cosine is None else round(photo.link.cosine, 6),
            }
            for photo in group.photos
        ],
    }


def print_report(report: DuplicateReport, shown: list[DuplicateGroup], *, explicit: bool) -> None:
    """The groups for people: a header with the thresholds, then each group's photos."""
    limits = report.thresholds
    origin = "" if explicit else ", this model's provisional default"
    cosine = (
        "embedding test off"
        if limits.cosine > 1
        else f"embedding cosine >= {limits.cosine:g}{origin}"
    )
    print(
        f"{plural(len(report.groups), 'group')} of near-duplicates among "
        f"{plural(report.photos, 'photo')} ({cosine}; pHash distance <= "
        f"{limits.phash_distance} of {HASH_BITS} bits)"
    )
    for number, group in enumerate(shown, start=1):
        print(f"\ngroup {number}: {plural(len(group.photos), 'photo')}")
        place = {photo.id: n for n, photo in enumerate(group.photos, start=1)}
        for n, photo in enumerate(group.photos, start=1):
            print(_photo_line(n, photo, place))
    if len(shown) < len(report.groups):
        print(f"\n... and {plural(len(report.groups) - len(shown), 'more group')} (--limit)")
    if report.offline:
        print(f"\n{plural(report.offline, 'photo')} in unavailable folders left out")


def _photo_line(n: int, photo: DuplicatePhoto, place: dict[int, int]) -> str:
    mark = "keep" if photo.keep else "    "
    size = f"{photo.width}x{photo.height}" if photo.width and photo.height else "?x?"
    date = photo.date[:16].replace("T", " ") if photo.date else "no date"
    line = f"  {n:>2} {mark}  {size:>11}  {photo.format or '?':<5} {date:<16}  "
    line += display_path(photo.path)
    if n > 1:
        line += f"  [{why(photo, place.get(photo.link.to))}]"
    return line


def why(photo: DuplicatePhoto, like: int | None) -> str:
    """Why a photo is in its group, e.g. ``pHash 2/64, cosine 0.991, like #1``."""
    return link_text(photo.link, f"#{like}" if like is not None else f"photo {photo.link.to}")


def _note_hashes(report: DuplicateReport) -> None:
    if not report.hashed:
        return
    where = (
        "stored in the catalog"
        if report.stored
        else "kept for this run only: another photoseek process writes the library"
    )
    print(
        f"made {plural(report.hashed, 'perceptual hash')} for photos indexed before photoseek "
        f"made them ({where})",
        file=sys.stderr,
    )


# -- argument types ----------------------------------------------------------------------


def _cosine(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from None
    if not -1.0 <= value <= 2.0:
        raise argparse.ArgumentTypeError("a cosine threshold, from -1 to 1 (above 1: off)")
    return value


def _bits(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text}") from None
    if not 0 <= value <= HASH_BITS:
        raise argparse.ArgumentTypeError(f"a number of bits from 0 to {HASH_BITS}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


DUPLICATE_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"duplicates": cmd_duplicates}
"""The handlers of this module, by command name (merged into ``cli_commands.COMMANDS``)."""
