"""Speeds measured on a named machine: image-tower images/s and text-query ms per model.

``tests/benchmarks/test_bench_models.py`` measures each offered catalogue
model and writes :data:`SPEEDS_FILE` (shipped with the package) through
:func:`write_measured_speeds`; ``photoseek models`` shows the figures with
the machine they were measured on. They are one machine's numbers, not this
computer's, unless that is the machine named.

The file::

    {"machine": {"cpu": ..., "cores": 2, "torch": ..., "date": ...},
     "method": "...",
     "models": [{"arch": ..., "pretrained": ..., "images_per_s": 12.3,
                 "query_ms": 45.6, "note": "..."}, ...]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photoseek.core.atomicfile import write_atomically

__all__ = [
    "SPEEDS_FILE",
    "MeasuredSpeed",
    "MeasuredSpeeds",
    "load_measured_speeds",
    "write_measured_speeds",
]

SPEEDS_FILE = Path(__file__).with_name("measured_speeds.json")


@dataclass(frozen=True)
class MeasuredSpeed:
    """One model's measured speed: image-tower throughput and one text query's latency."""

    images_per_s: float
    query_ms: float
    note: str = ""


@dataclass(frozen=True)
class MeasuredSpeeds:
    """The measured speeds and the machine they were measured on."""

    machine: dict[str, Any]
    method: str
    speeds: dict[tuple[str, str], MeasuredSpeed] = field(default_factory=dict)

    def speed(self, arch: str, pretrained: str) -> MeasuredSpeed | None:
        """The speed measured for ``arch`` + ``pretrained``, or None."""
        return self.speeds.get((arch, pretrained))

    @property
    def machine_line(self) -> str:
        """The machine in one line: CPU, cores, torch version, date."""
        machine = self.machine
        parts = [str(machine.get("cpu") or "unknown CPU")]
        if machine.get("cores"):
            parts[0] += f" ({machine['cores']} cores)"
        if machine.get("torch"):
            parts.append(f"torch {machine['torch']}")
        if machine.get("date"):
            parts.append(str(machine["date"]))
        return ", ".join(parts)


def load_measured_speeds(path: Path = SPEEDS_FILE) -> MeasuredSpeeds | None:
    """The speeds in ``path``; None when the file is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        speeds = {
            (str(row["arch"]), str(row["pretrained"])): MeasuredSpeed(
                images_per_s=float(row["images_per_s"]),
                query_ms=float(row["query_ms"]),
                note=str(row.get("note", "")),
            )
            for row in data["models"]
        }
        return MeasuredSpeeds(dict(data["machine"]), str(data.get("method", "")), speeds)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_measured_speeds(
    path: Path,
    machine: dict[str, Any],
    method: str,
    speeds: dict[tuple[str, str], MeasuredSpeed],
) -> None:
    """Write the speeds to ``path`` atomically, readable JSON, in the order given."""
    rows = [
        {
            "arch": arch,
            "pretrained": pretrained,
            "images_per_s": round(speed.images_per_s, 2),
            "query_ms": round(speed.query_ms, 1),
            "note": speed.note,
        }
        for (arch, pretrained), speed in speeds.items()
    ]
    text = json.dumps({"machine": machine, "method": method, "models": rows}, indent=2)
    write_atomically(path, (text + "\n").encode("utf-8"), mode=0o644)  # a file in the repository
