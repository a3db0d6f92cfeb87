"""The library's own model, and a switch to another one in progress, as stored in the catalog.

A library answers searches with one model, its *chosen* model (the meta key
``chosen_model``; a library that never switched has none stored and uses the
default, or whatever a command names). ``photoseek model use`` (or the app's
setting) records a *switch*: the target model, whether it runs or is paused,
and how far it got. Whoever writes the library next (the foreground command,
the watch service, the desktop app) embeds the library with the target in the
background while the chosen model keeps answering; when every photo has a
target vector, one transaction makes the target the chosen model
(:mod:`photoseek.core.library.switch`). Both records are small JSON values in
``meta``, so they survive restarts and a killed process.

:func:`stored_choice` reads the chosen model straight from the catalog file,
without opening a library, so a command can decide its model before it
builds one (a few milliseconds).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

from photoseek.core.catalog.store import Catalog

CHOSEN_MODEL_KEY = "chosen_model"
SWITCH_KEY = "model_switch"

SwitchRun = Literal["running", "paused"]


@dataclass(frozen=True)
class ModelName:
    """An open_clip architecture and its weights, as the user names them."""

    arch: str
    pretrained: str

    def __str__(self) -> str:
        return f"{self.arch} / {self.pretrained}"


@dataclass(frozen=True)
class SwitchRecord:
    """A model switch as stored: where it goes, whether it runs, how far it got.

    ``done``/``total`` and ``rate`` (photos a second) are the last figures the
    process that runs the switch published (at most every few seconds), so
    another process can show progress and an ETA without loading anything.
    """

    target: ModelName
    source: ModelName
    state: SwitchRun = "running"
    started_at: float = 0.0
    done: int = 0
    total: int = 0
    rate: float = 0.0
    updated_at: float = 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the last published rate (None: not known yet)."""
        if self.rate <= 0 or self.total <= 0:
            return None
        return max(self.total - self.done, 0) / self.rate

    def to_json(self) -> str:
        """The record as stored in ``meta``."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SwitchRecord | None:
        """The record from its stored text (None: damaged, which reads as no switch)."""
        try:
            data = json.loads(text)
            return cls(
                target=ModelName(str(data["target"]["arch"]), str(data["target"]["pretrained"])),
                source=ModelName(str(data["source"]["arch"]), str(data["source"]["pretrained"])),
                state="paused" if data.get("state") == "paused" else "running",
                started_at=float(data.get("started_at", 0.0)),
                done=int(data.get("done", 0)),
                total=int(data.get("total", 0)),
                rate=float(data.get("rate", 0.0)),
                updated_at=float(data.get("updated_at", 0.0)),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def with_progress(self, done: int, total: int, rate: float) -> SwitchRecord:
        """The record with new progress figures, stamped now."""
        return replace(self, done=done, total=total, rate=rate, updated_at=time.time())


def read_choice(catalog: Catalog) -> ModelName | None:
    """The library's chosen model (None: never chosen, the default applies)."""
    return _choice_from(catalog.get_meta(CHOSEN_MODEL_KEY))


def read_switch(catalog: Catalog) -> SwitchRecord | None:
    """The switch in progress, if any."""
    text = catalog.get_meta(SWITCH_KEY)
    return None if text is None else SwitchRecord.from_json(text)


def write_switch(catalog: Catalog, record: SwitchRecord | None) -> None:
    """Store (or, with None, forget) the switch record."""
    if record is not None:
        catalog.set_meta(SWITCH_KEY, record.to_json())
        return
    with catalog.transaction() as tx:
        tx.execute("DELETE FROM meta WHERE key = ?", (SWITCH_KEY,))


def choice_json(name: ModelName) -> str:
    """How the chosen model is stored."""
    return json.dumps({"arch": name.arch, "pretrained": name.pretrained}, sort_keys=True)


def stored_choice(catalog_file: Path) -> ModelName | None:
    """The chosen model read from the catalog file directly (None: no file, none chosen).

    Opens the file read-only for one query; any SQLite error (a catalog
    being created, an old schema) reads as no choice, and the library then
    opens as usual and reports what is wrong.
    """
    if not catalog_file.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{catalog_file.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute(
                "SELECT value FROM meta WHERE key = ?", (CHOSEN_MODEL_KEY,)
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return _choice_from(None if row is None else str(row[0]))


def _choice_from(text: str | None) -> ModelName | None:
    if text is None:
        return None
    try:
        data = json.loads(text)
        return ModelName(str(data["arch"]), str(data["pretrained"]))
    except (ValueError, KeyError, TypeError):
        return None
