"""A model switch in words and in JSON, for ``photoseek model`` and ``photoseek status``."""

from __future__ import annotations

from typing import Any

from photoseek.core.library.modelchoice import ModelName, SwitchRecord


def switch_line(record: SwitchRecord) -> str:
    """``to ViT-B-32 / datacomp_xl_s13b_b90k, running, 1,204/5,310 photos, 6.1 photos/s, ...``."""
    done = f"{record.done:,}/{record.total:,} photos" if record.total > 0 else "starting"
    eta = record.eta_s
    pace = f", {record.rate:.1f} photos/s, ETA {eta:.0f} s" if eta is not None else ""
    return f"to {record.target}, {record.state}, {done}{pace}"


def switch_summary(record: SwitchRecord) -> dict[str, Any]:
    """The switch as a JSON-ready dict."""
    return {
        "target": name_json(record.target),
        "source": name_json(record.source),
        "state": record.state,
        "done": record.done,
        "total": record.total,
        "rate": record.rate,
        "eta_s": record.eta_s,
    }


def name_json(name: ModelName) -> dict[str, str]:
    """A model name as a JSON-ready dict."""
    return {"arch": name.arch, "pretrained": name.pretrained}
