"""The ``models`` command: the model catalogue with measured speeds (parser: :mod:`photoseek.cli`).

Reads the catalogue, the measured-speeds file and the models folder only:
no torch, no open_clip, no network, no library, so it answers at once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TypeAlias

from photoseek.core.model.catalogue import (
    CatalogueModel,
    default_model,
    is_installed,
    not_offered_models,
    offered_models,
)
from photoseek.core.model.extras import MULTILINGUAL_EXTRA, missing_multilingual_modules
from photoseek.core.model.measuredspeeds import MeasuredSpeeds, load_measured_speeds
from photoseek.paths import resolve_paths

EXIT_OK = 0
MULTILINGUAL_CAVEAT = (
    "multilingual search quality is unverified here: no multilingual weights or test set "
    "could be run on the machine that measured the speeds"
)
INSTALL_EXTRA = f"pip install 'photoseek[{MULTILINGUAL_EXTRA}]'"
_HEADER = (
    "model",
    "GFLOPs",
    "IN-1k",
    "COCO t2i",
    "i2t",
    "languages",
    "download",
    "licence",
    "installed",
    "images/s",
    "query ms",
)

_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_models_command(commands: _Commands) -> None:
    """Add ``models [--json]`` to the command line's subcommands."""
    text = "the supported models: published accuracy, cost, licence, installed, measured speed"
    models = commands.add_parser("models", help=text, description=text)
    models.add_argument("--json", action="store_true", help="every field, as JSON")
    models.set_defaults(handler=MODEL_COMMANDS["models"])


def cmd_models(args: argparse.Namespace) -> int:
    """``models [--json]``: the catalogue as a table, or as JSON."""
    models_dir = resolve_paths(args.data_dir).models_dir
    measured = load_measured_speeds()
    extra_missing = missing_multilingual_modules()
    if args.json:
        print(json.dumps(_as_json(models_dir, measured, extra_missing), indent=2))
        return EXIT_OK
    rows = [_row(model, models_dir, measured) for model in offered_models()]
    print("Offered models (accuracy: published figures, %; speeds: measured)")
    _print_table([list(_HEADER), *rows])
    if any(model.needs_multilingual for model in offered_models()):
        state = "not installed here" if extra_missing else "installed"
        print(f"* needs the {MULTILINGUAL_EXTRA} extra ({state}): {INSTALL_EXTRA}")
    print(
        "images/s: the image tower alone, torch float32, a batch of images at the model's "
        "input size; query ms: one text query through the text tower"
    )
    if measured is None:
        print("speeds: not measured (run tests/benchmarks/test_bench_models.py)")
    else:
        print(f"measured on: {measured.machine_line}")
    print(MULTILINGUAL_CAVEAT)
    print("\nNot offered:")
    for model in not_offered_models():
        print(f"  {model.name}: {model.reason}")
    return EXIT_OK


def _row(model: CatalogueModel, models_dir: Path, measured: MeasuredSpeeds | None) -> list[str]:
    speed = measured.speed(model.arch, model.pretrained) if measured else None
    name = model.name + (" (default)" if model is default_model() else "")
    return [
        name + (" *" if model.needs_multilingual else ""),
        _number(model.image_gflops, "g"),
        _number(model.imagenet_top1),
        _number(model.coco_t2i_r1),
        _number(model.coco_i2t_r1),
        model.languages.split(" (")[0],
        model.download_label,
        model.licence,
        "yes" if is_installed(model, models_dir) else "no",
        _number(speed.images_per_s if speed else None),
        _number(speed.query_ms if speed else None, ".0f"),
    ]


def _number(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _print_table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [
            c.ljust(w) if i in (0, 5, 6, 7, 8) else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _as_json(
    models_dir: Path, measured: MeasuredSpeeds | None, extra_missing: list[str]
) -> dict[str, Any]:
    machine = None
    if measured is not None:
        machine = {**measured.machine, "description": measured.machine_line}
    return {
        "measured_on": machine,
        "method": measured.method if measured else None,
        "multilingual_extra": {
            "installed": not extra_missing,
            "missing": extra_missing,
            "install": INSTALL_EXTRA,
        },
        "multilingual_quality": MULTILINGUAL_CAVEAT,
        "models": [
            _model_json(model, models_dir, measured)
            for model in (*offered_models(), *not_offered_models())
        ],
    }


def _model_json(
    model: CatalogueModel, models_dir: Path, measured: MeasuredSpeeds | None
) -> dict[str, Any]:
    speed = measured.speed(model.arch, model.pretrained) if measured else None
    return {
        "arch": model.arch,
        "pretrained": model.pretrained,
        "default": model is default_model(),
        "role": model.role,
        "offered": model.offered,
        "reason": model.reason or None,
        "image_size": model.image_size,
        "image_gflops": model.image_gflops,
        "imagenet_top1": model.imagenet_top1,
        "coco_t2i_r1": model.coco_t2i_r1,
        "coco_i2t_r1": model.coco_i2t_r1,
        "figures_source": model.source,
        "languages": model.languages,
        "download_mb": model.download_mb,
        "licence": model.licence,
        "hub_repo": model.hub_repo,
        "needs_multilingual_extra": model.needs_multilingual,
        "installed": is_installed(model, models_dir),
        "images_per_s": speed.images_per_s if speed else None,
        "query_ms": speed.query_ms if speed else None,
        "speed_note": (speed.note or None) if speed else None,
    }


MODEL_COMMANDS = {"models": cmd_models}
