"""``album add|list|show|cutoff|remove|export`` (the parser lives in :mod:`photoseek.cli`)."""

from __future__ import annotations

import argparse
import json

from photoseek.cli_output import plural
from photoseek.core.search.searcher import SearchFilters
from photoseek.pathtext import display_path

EXIT_OK = 0


def cmd_album(args: argparse.Namespace) -> int:
    """Smart albums: saved queries that stay up to date."""
    from photoseek.cli_commands import open_reader, open_writer, show_results

    action = args.action
    if action in ("add", "cutoff", "remove"):
        with open_writer(args) as library:
            if action == "add":
                types = frozenset(args.types) if args.types else None
                tags = frozenset(args.tags) if args.tags else None
                folder = args.folder.expanduser().resolve() if args.folder else None
                filters = SearchFilters(folder, args.after, args.before, types, tags)
                album = library.save_album(args.name, args.query, filters, args.min_score)
                cut = "no cut-off" if album.min_score is None else f"cut-off {album.min_score:g}"
                print(f"album {album.name!r} saved: {album.query!r}, {cut}")
            elif action == "cutoff":
                album = library.set_album_cutoff(args.name, args.min_score)
                print(f"album {album.name!r}: cut-off {album.min_score:g} for this model")
            else:
                library.remove_album(args.name)
                print(f"album {args.name!r} removed (no photo was touched)")
        return EXIT_OK
    with open_reader(args) as library:
        if action == "list":
            albums = library.albums()
            if args.json:
                rows = [
                    {"name": a.name, "query": a.query, "min_score": a.min_score} for a in albums
                ]
                print(json.dumps(rows, indent=2))
            elif not albums:
                print("no albums yet: photoseek album add NAME QUERY")
            for album in [] if args.json else albums:
                cut = "best only" if album.min_score is None else f">= {album.min_score:g}"
                print(f"{album.name}  {album.query!r}  ({cut})")
            return EXIT_OK
        if action == "show":
            results = library.album_results(
                args.name, limit=args.limit, show_hidden=args.show_hidden
            )
            return show_results(args, results)
        summary = library.export_album(
            args.name, args.folder_out, copy=args.copy, show_hidden=args.show_hidden
        )
    what = "copies" if args.copy else "links"
    print(f"{plural(summary.made, 'photo')} exported as {what} to {display_path(summary.folder)}")
    for path, reason in summary.skipped:
        print(f"skipped {display_path(path)}: {reason}")
    return EXIT_OK


ALBUM_COMMANDS = {"album": cmd_album}
