"""The records of the light paths: which weights file a tower alone was shown exact for.

The light text path (``text-towers.json``) and the light image path
(``image-towers.json``) each keep one JSON object in the models folder, keyed
by the full model's identity key. A record names the weights file with its
size and modification time; it is used only while the file is unchanged.
Both are caches: unreadable or damaged, they read as empty.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoseek.core.atomicfile import write_json_atomically
from photoseek.core.model.naming import expected_model

if TYPE_CHECKING:
    from photoseek.core.model.embedder import ModelSettings


def read_records(path: Path) -> dict[str, Any]:
    """The records in ``path`` (empty when missing or damaged)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_records(path: Path, records: dict[str, Any]) -> None:
    """Replace ``path`` with ``records`` (atomic, not durable: a cache). Raises ``OSError``."""
    write_json_atomically(path, records, durable=False)


def file_record(file: Path) -> dict[str, Any]:
    """What names ``file`` in a record: its path, size and modification time."""
    stat = file.stat()
    return {"file": str(file), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def usable_file(record: object, file: Path | None = None) -> Path | None:
    """The record's weights file if it is still the one recorded (and ``file``, if given)."""
    if not isinstance(record, dict) or not isinstance(record.get("file"), str):
        return None
    recorded = Path(record["file"])
    if file is not None and recorded != file:
        return None
    try:
        stat = recorded.stat()
    except OSError:
        return None
    same = stat.st_size == record.get("size") and stat.st_mtime_ns == record.get("mtime_ns")
    return recorded if same else None


def recorded_for(
    settings: ModelSettings, models_dir: Path, path: Path
) -> tuple[Path, dict[str, Any], tuple[str, str, str]] | None:
    """The usable record of ``settings``' model in ``path``: (weights file, record,
    (arch, pretrained, digest)); None when there is none or its file changed."""
    expected = expected_model(settings.arch, settings.pretrained, models_dir)
    if expected.digest is None:
        return None
    key = f"{expected.arch}/{expected.pretrained}/{expected.digest}"
    record = read_records(path).get(key)
    file = usable_file(record)
    if file is None or not isinstance(record, dict):
        return None
    return file, record, (expected.arch, expected.pretrained, expected.digest)
