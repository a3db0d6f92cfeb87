"""The zero-shot commands: ``classify``, ``labels`` and ``eval`` (parser in :mod:`photoseek.cli`).

None of them needs a library: ``classify`` and ``eval`` load the model and
read image files; ``labels`` edits the plain-text label sets in the config
dir (``labels`` under ``--data-dir`` when one is given).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from photoseek.cli_output import plural
from photoseek.core.errors import PhotoseekError
from photoseek.core.model.embedder import ModelSettings
from photoseek.core.zeroshot import labelfile
from photoseek.core.zeroshot.evalrun import EvalReport, evaluate_retrieval, evaluate_zeroshot
from photoseek.core.zeroshot.evaluation import read_pairs
from photoseek.core.zeroshot.labels import Label, LabelSet
from photoseek.core.zeroshot.service import Classification, open_zeroshot
from photoseek.core.zeroshot.templates import template_set, template_set_names
from photoseek.modelargs import command_settings
from photoseek.paths import resolve_paths
from photoseek.pathtext import display_path

EXIT_OK, EXIT_USER_ERROR = 0, 1


def _chosen_labels(args: argparse.Namespace) -> LabelSet:
    if args.labels:
        return labelfile.ad_hoc_label_set(args.labels)
    return labelfile.load_label_set(resolve_paths(args.data_dir).label_sets_dir, args.label_set)


def cmd_classify(args: argparse.Namespace) -> int:
    """``classify IMAGE... --labels "cat, dog"`` (or ``--label-set NAME``)."""
    labels = _chosen_labels(args)  # checked before the model loads
    templates = template_set(args.templates, resolve_paths(args.data_dir).label_sets_dir)
    zeroshot = open_zeroshot(resolve_paths(args.data_dir), command_settings(args))
    results = zeroshot.classify(args.images, labels, templates)
    family = zeroshot.scoring.family
    if args.json:
        print(
            json.dumps([_as_json(r, args.top, templates.name, family) for r in results], indent=2)
        )
    else:
        rule = "softmax over the set" if family == "clip" else "a sigmoid per label"
        print(
            f"labels: {labels.name} ({plural(len(labels.labels), 'label')}), templates: "
            f"{templates.name} ({len(templates.templates)}), {rule}"
        )
        for result in results:
            _print_classification(result, args.top)
    return EXIT_USER_ERROR if any(r.error for r in results) else EXIT_OK


def _as_json(result: Classification, top: int, templates: str, family: str) -> dict[str, Any]:
    return {
        "path": str(result.path),
        "error": result.error or None,
        "templates": templates,
        "rule": "softmax" if family == "clip" else "sigmoid",
        "labels": [{"label": name, "probability": round(p, 6)} for name, p in result.scores[:top]],
    }


def _print_classification(result: Classification, top: int) -> None:
    print(display_path(result.path))
    if result.error:
        print(f"  skipped: {result.error}")
    for name, probability in result.scores[:top]:
        print(f"  {probability:7.2%}  {name}")


def cmd_labels(args: argparse.Namespace) -> int:
    """``labels list|add|remove``."""
    folder = resolve_paths(args.data_dir).label_sets_dir
    if args.action == "list":
        if args.set is None:
            for name in labelfile.label_set_names(folder):
                count = len(labelfile.load_label_set(folder, name).labels)
                print(f"{name}  ({plural(count, 'label')})")
            sets = [template_set(name, folder) for name in template_set_names(folder)]
            print("templates: " + ", ".join(f"{t.name} ({len(t.templates)})" for t in sets))
        else:
            _print_label_set(labelfile.load_label_set(folder, args.set))
        return EXIT_OK
    set_name = args.set or "mine"
    if not args.label:
        raise PhotoseekError(f"labels {args.action} needs the label's name")
    if args.action == "add":
        synonyms = tuple(s.strip() for s in (args.synonyms or "").split(",") if s.strip())
        label = Label(args.label, synonyms, tuple(args.prompt or ()))
        updated = labelfile.add_label(folder, set_name, label)
        print(f"{args.label!r} is in {set_name} ({plural(len(updated.labels), 'label')})")
    else:
        updated = labelfile.remove_label(folder, set_name, args.label)
        print(f"removed {args.label!r} from {set_name} ({plural(len(updated.labels), 'label')})")
    return EXIT_OK


def _print_label_set(labels: LabelSet) -> None:
    for label in labels.labels:
        extra = f" = {', '.join(label.synonyms)}" if label.synonyms else ""
        prompts = "".join(f" | {p}" for p in label.prompts)
        print(f"{label.name}{extra}{prompts}")


def cmd_eval(args: argparse.Namespace) -> int:
    """``eval retrieval CAPTIONS.tsv`` / ``eval zeroshot LABELS.tsv``."""
    pairs = read_pairs(args.file)
    settings = command_settings(args)
    zeroshot = open_zeroshot(resolve_paths(args.data_dir), settings)
    run = evaluate_retrieval if args.kind == "retrieval" else evaluate_zeroshot
    report = run(zeroshot, pairs)
    if args.json:
        print(json.dumps(_report_json(report, settings), indent=2))
    else:
        _print_report(report, settings)
    return EXIT_OK


def _report_json(report: EvalReport, settings: ModelSettings) -> dict[str, Any]:
    return {
        "kind": report.kind,
        "model": settings.arch,
        "pretrained": settings.pretrained,
        "images": report.images,
        "texts": report.texts,
        "seconds": round(report.seconds, 2),
        "scores": {
            row: {f"@{k}": v for k, v in by_k.items()} for row, by_k in report.scores.items()
        },
        "skipped": [{"path": str(p), "reason": r} for p, r in report.skipped],
        "tag_threshold": None
        if report.calibration is None
        else {"threshold": report.calibration[0], "f1": report.calibration[1]},
    }


def _print_report(report: EvalReport, settings: ModelSettings) -> None:
    what = "captions" if report.kind == "retrieval" else "classes"
    measure = "Recall" if report.kind == "retrieval" else "top-k accuracy"
    print(
        f"{settings.arch} / {settings.pretrained}: {report.images} images, "
        f"{report.texts} {what}, {report.seconds:.1f} s"
    )
    ks = sorted({k for by_k in report.scores.values() for k in by_k})
    first = "direction" if report.kind == "retrieval" else "prompts"
    print(f"{first:16}" + "".join(f"{measure + '@' + str(k):>16}" for k in ks))
    for row, by_k in report.scores.items():
        print(f"{row:16}" + "".join(f"{by_k[k]:16.3f}" for k in ks))
    if report.calibration is not None:
        threshold, f1 = report.calibration
        print(
            f"tag threshold with the best F1 on these labels: {threshold:+.3f} (F1 {f1:.3f}; "
            "margin over the neutral prompts, default templates)"
        )
    for path, reason in report.skipped:
        print(f"skipped {display_path(path)}: {reason}")


def cmd_tag(args: argparse.Namespace) -> int:
    """``tag``: tag every indexed photo with a label set (the library's tags from now on)."""
    from photoseek.cli_commands import open_writer

    labels = _chosen_labels(args)
    templates = template_set(args.templates, resolve_paths(args.data_dir).label_sets_dir)
    with open_writer(args) as library:
        summary = library.tag(labels, templates)
    print(
        f"tagged {plural(summary.photos, 'photo')} with {summary.label_set} "
        f"({plural(summary.labels, 'label')}, templates {templates.name}) in "
        f"{summary.seconds:.1f} s; threshold {summary.threshold:+.3f}"
    )
    return EXIT_OK


def cmd_tags(args: argparse.Namespace) -> int:
    """``tags [NAME]``: tags with counts, or one tag's photos; ``--threshold`` re-tags."""
    from photoseek.cli_commands import open_reader, open_writer

    if args.threshold is not None or args.default_threshold:
        with open_writer(args) as library:
            value = library.set_tag_threshold(None if args.default_threshold else args.threshold)
        print(f"tags re-made at threshold {value:+.3f} from the stored scores")
    with open_reader(args) as library:
        if args.name:
            photos = library.browse(
                limit=args.limit, tag=args.name, show_hidden=args.show_hidden
            ).photos
            if args.json:
                rows = [{"path": str(p.path), "id": p.id, "date": p.sort_date} for p in photos]
                print(json.dumps(rows, indent=2))
            for photo in [] if args.json else photos:
                print(display_path(photo.path))
            return EXIT_OK
        counts, threshold = library.tags(show_hidden=args.show_hidden), library.tag_threshold()
    if args.json:
        print(json.dumps({"threshold": threshold, "tags": dict(counts)}, indent=2))
    elif threshold is None:
        print("no tags yet: run `photoseek tag` to tag the library")
    else:
        for name, count in counts:
            print(f"{count:8}  {name}")
        print(f"(threshold {threshold:+.3f}; {plural(len(counts), 'tag')} in use)")
    return EXIT_OK


def cmd_filter(args: argparse.Namespace) -> int:
    """``filter list|add|remove|off|threshold``: the content filter."""
    from photoseek.cli_commands import open_reader, open_writer

    if args.action == "list":
        with open_reader(args) as library:
            descriptions = library.content_filter()
            threshold, hidden = library.content_filter_threshold(), library.hidden_count()
        if not descriptions:
            print("the content filter is off: photoseek filter add DESCRIPTION")
        for description in descriptions:
            print(description)
        if descriptions:
            print(f"({plural(hidden, 'photo')} hidden; threshold {threshold:+.3f})")
        return EXIT_OK
    with open_writer(args) as library:
        current = library.content_filter()
        if args.action == "threshold":
            value = None if args.value == "default" else _margin(args.value)
            hidden = library.set_content_filter_threshold(value)
        else:
            if args.action == "add":
                wanted = [*current, *_required(args.value, "add")]
            elif args.action == "remove":
                gone = _required(args.value, "remove")[0]
                if gone.casefold() not in {d.casefold() for d in current}:
                    raise PhotoseekError(f"the content filter has no {gone!r}")
                wanted = [d for d in current if d.casefold() != gone.casefold()]
            else:  # off
                wanted = []
            hidden = library.set_content_filter(wanted)
    state = "off" if args.action == "off" else f"{plural(hidden, 'photo')} hidden"
    print(f"content filter: {state}")
    return EXIT_OK


def _required(value: str | None, action: str) -> list[str]:
    if not value or not value.strip():
        raise PhotoseekError(f"filter {action} needs a description, e.g. 'screenshots of chats'")
    return [value.strip()]


def _margin(text: str | None) -> float:
    try:
        return float(text or "")
    except ValueError:
        raise PhotoseekError(f"not a threshold: {text!r} (a number, or 'default')") from None


ZEROSHOT_COMMANDS = {
    "filter": cmd_filter,
    "classify": cmd_classify,
    "labels": cmd_labels,
    "eval": cmd_eval,
    "tag": cmd_tag,
    "tags": cmd_tags,
}
