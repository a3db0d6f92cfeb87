"""One writer per library: a lock file in the data dir (filelock, OS-level locks).

The lock is an OS file lock (fcntl on POSIX, msvcrt on Windows), so it dies
with its process: a crashed writer never leaves a stale lock behind. Next to
it, ``writer.json`` says who holds it (pid, what for, since when) so other
processes can explain why they open the library read-only.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import filelock

from photoseek.core.errors import LibraryError

log = logging.getLogger(__name__)

_PROBE_GRACE_S = 1.0


class LibraryLockedError(LibraryError):
    """Another process is writing this library."""


class WriterLock:
    """The library's writer lock; held from :meth:`acquire` until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.owner_file = path.with_name("writer.json")
        self._lock = filelock.FileLock(str(path), thread_local=False)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return bool(self._lock.is_locked)

    def acquire(self, purpose: str) -> None:
        """Take the lock now or raise :class:`LibraryLockedError` naming the holder."""
        if self.held:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:  # a short wait, so that another process's holder() probe never fails us
            self._lock.acquire(timeout=_PROBE_GRACE_S)
        except filelock.Timeout:
            raise LibraryLockedError(_locked_message(self.holder())) from None
        owner = {"pid": os.getpid(), "purpose": purpose, "since": time.time()}
        _write_json(self.owner_file, owner)
        log.debug("writer lock taken for %s", purpose)

    def release(self) -> None:
        """Give the lock back (no-op when not held)."""
        if self.held:
            self.owner_file.unlink(missing_ok=True)
            self._lock.release()

    def holder(self) -> dict[str, Any] | None:
        """Who holds the lock (pid, purpose, since), or None when nobody does."""
        if self.held:
            return _read_json(self.owner_file)
        probe = filelock.FileLock(str(self.path), thread_local=False)
        try:
            probe.acquire(timeout=0)
        except filelock.Timeout:
            return _read_json(self.owner_file) or {"pid": None, "purpose": "unknown"}
        probe.release()
        return None


def _locked_message(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "another photoseek process is writing this library"
    who = f"pid {holder.get('pid')}" if holder.get("pid") else "another process"
    purpose = holder.get("purpose", "writing")
    return (
        f"another photoseek process ({who}, {purpose}) is writing this library; "
        "it keeps the library up to date, or stop it first"
    )


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)
