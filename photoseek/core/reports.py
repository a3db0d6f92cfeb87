"""What ``status`` reports: counts and work for the chosen model, and the watch service.

Everything here is cheap (no model load): the model is named as the catalog
knows it, and the service's own state file says what it is doing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoseek.core.records import Folder

if TYPE_CHECKING:
    from photoseek.core.library.base import LibraryBase

STATE_FILE = "service.json"
SERVICE_PURPOSE = "watch service"
STALE_AFTER_S = 120.0


@dataclass(frozen=True)
class LibraryStatus:
    """Counts and places, cheap to compute (no model load).

    ``model`` is the chosen model (the settings); ``pending`` the photos it
    still has to embed, counted for that model (all photos when the library
    never used it: ``model_used`` is then False). ``last_model`` names the
    model of the last index run when it is another one.
    """

    data_dir: Path
    folders: list[Folder]
    counts: dict[str, int]
    pending: int
    model: str
    model_used: bool
    last_model: str | None = None
    writer: dict[str, Any] | None = None  # who holds the writer lock (pid, purpose, since)
    hidden: int = 0  # indexed photos the content filter hides
    raw_pairs: str = "one"  # a RAW beside its JPEG/HEIF: indexed "one" (as the JPEG) or "both"


@dataclass(frozen=True)
class ServiceStatus:
    """Whether a watch service writes this library, and what it last said it was doing.

    ``state`` is ``starting``, ``indexing``, ``watching``, ``waiting`` (for
    another writer), ``error`` or ``stopped``; ``detail`` holds the rest of
    what the service published (progress, folders and how each is watched).
    ``writer`` names another process holding the writer lock (an ``index``
    run), if that is what writes.
    """

    running: bool
    pid: int | None = None
    state: str | None = None
    updated_at: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    writer: dict[str, Any] | None = None

    @property
    def stale(self) -> bool:
        """Whether the running service has not said anything for a while."""
        return self.running and (self.updated_at or 0) < time.time() - STALE_AFTER_S


def library_status(library: LibraryBase, model_id: int | None) -> LibraryStatus:
    """The status of ``library`` for its chosen model (``model_id`` None: never used)."""
    from photoseek.core.library.rawpairs import raw_pairs_mode  # the package imports this module

    catalog = library.catalog
    last = catalog.get_meta("last_model_id")
    last_name = catalog.model_name(int(last)) if last and int(last) != model_id else None
    return LibraryStatus(
        data_dir=library.paths.data_dir,
        folders=catalog.folders(),
        counts=catalog.status_counts(),
        pending=catalog.pending_count(model_id, catalog.outdated(model_id)),
        model=f"{library.settings.arch} / {library.settings.pretrained}",
        model_used=model_id is not None,
        last_model=last_name,
        writer=library.writer_lock.holder(),
        hidden=_hidden(catalog, model_id),
        raw_pairs=raw_pairs_mode(catalog),
    )


def _hidden(catalog: Any, model_id: int | None) -> int:
    space = None if model_id is None else catalog.tag_space(model_id, "hide")
    return 0 if space is None else int(catalog.hidden_count(space))


def state_path(data_dir: Path) -> Path:
    """Where a running watch service publishes its state."""
    return data_dir / STATE_FILE


def read_state(data_dir: Path) -> dict[str, Any] | None:
    """The last published service state, or None."""
    try:
        data = json.loads(state_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def service_status(data_dir: Path, writer: dict[str, Any] | None) -> ServiceStatus:
    """Combine the writer lock's holder with the service's state file."""
    running = writer is not None and writer.get("purpose") == SERVICE_PURPOSE
    if not running:
        return ServiceStatus(running=False, writer=writer)
    state = read_state(data_dir) or {}
    detail = {k: v for k, v in state.items() if k not in ("pid", "state", "updated_at")}
    return ServiceStatus(
        running=True,
        pid=state.get("pid") or (writer or {}).get("pid"),
        state=state.get("state"),
        updated_at=state.get("updated_at"),
        detail=detail,
    )
