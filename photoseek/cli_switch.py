"""``photoseek model``: the library's model, switching to another one, dropping old vectors.

``model use NAME`` records the switch and, unless ``--background`` or a
watch service holds the library, runs it here with a progress bar; Ctrl-C
pauses it (``model resume`` goes on, also after a restart). While it runs,
searches in every other process keep answering with the current model; the
swap happens in one transaction at the end (:mod:`photoseek.core.library.switch`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from photoseek.cli_commands import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    Handler,
    _Interrupt,
    cluster_options,
    open_writer,
)
from photoseek.cli_output import plural, progress_printer
from photoseek.cli_switchtext import name_json, switch_line, switch_summary
from photoseek.core.cluster.connection import connected_if
from photoseek.core.cluster.options import ClusterOptions
from photoseek.core.errors import LibraryError, PhotoseekError
from photoseek.core.library import Library
from photoseek.core.library.modelchoice import ModelName, SwitchRecord
from photoseek.core.library.switch import DroppedModel
from photoseek.core.model.embedder import DEFAULT_ARCH, DEFAULT_PRETRAINED
from photoseek.core.model.naming import arch_name
from photoseek.core.progress import Phase, Progress
from photoseek.core.writerlock import LibraryLockedError

_ACTIONS = ("status", "use", "pause", "resume", "cancel", "drop")


def add_switch_commands(commands: Any) -> Any:
    """The ``model`` command's arguments (its parser is returned)."""
    model = commands.add_parser(
        "model",
        help="the library's model: status, switch (use), pause, resume, cancel, drop",
        description="The model the library answers with, and switching to another one in the "
        "background while the current one keeps answering.",
    )
    model.set_defaults(handler=cmd_model)
    model.add_argument("action", nargs="?", default="status", choices=_ACTIONS)
    model.add_argument(
        "name", nargs="?", metavar="ARCH", help="use/drop: an open_clip architecture or config"
    )
    model.add_argument(
        "weights",
        nargs="?",
        metavar="WEIGHTS",
        help="use/drop: its pretrained tag or weights file (default: the catalogue's, see "
        "`photoseek models`)",
    )
    model.add_argument(
        "--background",
        action="store_true",
        help="use/resume: only record it; the watch service or the app does the work",
    )
    model.add_argument("--json", action="store_true", help="status: machine-readable output")
    return model


def cmd_model(args: argparse.Namespace) -> int:
    """``model [status|use|pause|resume|cancel|drop]``."""
    action = args.action
    if action in ("use", "drop") and not args.name:
        raise PhotoseekError(f"`photoseek model {action}` needs a model: photoseek model {action} "
                             "ARCH [WEIGHTS]")  # fmt: skip
    cluster = cluster_options(args) if action in ("use", "resume") else None
    with open_writer(args) as library:
        if action == "status":
            return _status(library, as_json=args.json)
        if action == "use":
            record = library.start_model_switch(_target(args))
            return _run_or_leave(library, record, background=args.background, cluster=cluster)
        if action == "resume":
            record = library.resume_model_switch()
            return _run_or_leave(library, record, background=args.background, cluster=cluster)
        if action == "pause":
            record = library.pause_model_switch()
            print(f"paused the switch to {record.target} at {_fraction(record)}; "
                  "`photoseek model resume` goes on")  # fmt: skip
            return EXIT_OK
        if action == "cancel":
            record = library.cancel_model_switch()
            print(f"cancelled the switch to {record.target}; {record.source} keeps answering. "
                  f"Its vectors made so far stay: `photoseek model drop {record.target.arch}` "
                  "frees them")  # fmt: skip
            return EXIT_OK
        return _print_dropped(library.drop_model(_target(args)))


def _target(args: argparse.Namespace) -> ModelName:
    """The model the arguments name; paths are made absolute (the service runs elsewhere)."""
    arch = _absolute_if_file(args.name)
    weights = args.weights or _catalogue_weights(arch)
    return ModelName(arch, _absolute_if_file(weights))


def _catalogue_weights(arch: str) -> str:
    """The weights the catalogue offers for ``arch`` (the default model's for it)."""
    if arch == DEFAULT_ARCH:
        return DEFAULT_PRETRAINED
    try:
        from photoseek.core.model.catalogue import default_weights
    except ImportError:  # pragma: no cover - the catalogue ships with photoseek
        default_weights = None
    found = default_weights(arch) if default_weights is not None else None
    if found is None:
        raise PhotoseekError(
            f"which weights of {arch}? name them: photoseek model use ARCH WEIGHTS "
            "(`photoseek models` lists the offered ones)"
        )
    return found


def _absolute_if_file(text: str) -> str:
    path = Path(text).expanduser()
    return str(path.resolve()) if path.exists() else text


def _run_or_leave(
    library: Library,
    record: SwitchRecord,
    *,
    background: bool,
    cluster: ClusterOptions | None = None,
) -> int:
    """Run the switch here (on ``cluster`` when given), or say who will."""
    if background:
        print(f"switching to {record.target} in the background: the watch service or the app "
              "does it; `photoseek model` shows how far it got")  # fmt: skip
        return EXIT_OK
    try:
        library.acquire_writer("switching the model")
    except LibraryLockedError as exc:
        print(f"switching to {record.target}: {exc}; that process does it in the background "
              "(`photoseek model` shows how far it got)")  # fmt: skip
        return EXIT_OK
    print(f"switching to {record.target}; {record.source} answers searches until it is done. "
          "Ctrl-C pauses it.", file=sys.stderr)  # fmt: skip
    if cluster is not None:
        print(cluster.destination(), file=sys.stderr)
    last = Progress(Phase.SWITCHING_MODEL)
    with connected_if(cluster):
        switcher = library.model_switcher(cluster)
        try:
            with (
                _Interrupt("pausing after the current batch") as cancel,
                progress_printer(sys.stderr) as show,
            ):
                for last in switcher.run(cancel):
                    show(last)
        except PhotoseekError:
            if last.done == 0 and library.model_switch() == record:
                library.cancel_model_switch()  # a model that cannot load is not left recorded
            raise
        finally:
            switcher.close()
    if switcher.finished:
        source = arch_name(record.source.arch)
        kept = [n for n, _vectors, _ in library.stored_models() if n.arch == source]
        drop = f"photoseek model drop {record.source.arch} {record.source.pretrained}"
        print(f"done: the library answers with {record.target} now"
              + (f"; {record.source}'s vectors stay until `{drop}`" if kept else ""))  # fmt: skip
        return EXIT_OK
    current = library.model_switch()
    if current is not None and current.state == "running" and cancel.is_set():
        library.pause_model_switch()
        print(f"paused at {last.done:,}/{last.total or 0:,} photos; "
              "`photoseek model resume` goes on")  # fmt: skip
        return EXIT_INTERRUPTED
    print("stopped: the switch was paused or cancelled by another process")
    return EXIT_OK


def _fraction(record: SwitchRecord) -> str:
    if record.total <= 0:
        return "its start"
    return f"{record.done:,}/{record.total:,} photos"


def _status(library: Library, *, as_json: bool) -> int:
    record = library.model_switch()
    stored = library.stored_models()
    if as_json:
        report = {
            "model": name_json(library.chosen_model()),
            "switch": None if record is None else switch_summary(record),
            "stored": [
                {**name_json(name), "vectors": vectors, "bytes": size}
                for name, vectors, size in stored
            ],
        }
        print(json.dumps(report, indent=2))
        return EXIT_OK
    print(f"model:     {library.chosen_model()}")
    if record is not None:
        print(f"switching: {switch_line(record)}")
    for name, vectors, size in stored:
        print(f"stored:    {name}: {plural(vectors, 'vector')}, {_size(size)}")
    return EXIT_OK


def _print_dropped(dropped: DroppedModel) -> int:
    if dropped.vectors == 0:
        raise LibraryError(f"the library has no vectors of {dropped.name}")
    print(f"dropped {dropped.name}: {plural(dropped.vectors, 'vector')}, "
          f"{_size(dropped.bytes_freed)} freed")  # fmt: skip
    return EXIT_OK


def _size(count: int) -> str:
    """Bytes for people (SI units, as a file manager shows them)."""
    if count < 100_000:
        return f"{count / 1000:.1f} kB"
    if count < 1_000_000_000:
        return f"{count / 1e6:.1f} MB"
    return f"{count / 1e9:.2f} GB"


SWITCH_COMMANDS: dict[str, Handler] = {"model": cmd_model}
