"""Atomic file writes: a reader sees the old file or the new one, never a part.

Every file photoseek writes whole (thumbnails, the writer lock's owner file,
the service state, small JSON caches, autostart entries) goes through
:func:`write_atomically`: the data is written to a uniquely named temporary
in the same folder (created ``0600``, hidden by a leading dot), flushed,
``fsync``-ed when ``durable``, renamed over the target with ``os.replace``,
and the folder is ``fsync``-ed so the rename itself survives a power cut.
On any failure the temporary is removed and the exception propagates (an
``OSError`` for a full disk or a read-only folder); the old file, if any, is
left as it was.

Files that are written by someone else or in pieces use the same two
steps by hand: a resumable weights download (:mod:`photoseek.core.model.download`)
and the vector index that hnswlib writes itself
(:mod:`photoseek.core.vectors.files`) both end in :func:`fsync_file`, a
rename and :func:`fsync_dir`.

``durable=False`` skips both ``fsync`` calls: the write is still atomic (no
reader ever sees a torn file) but may be lost in a power cut. That is right
for caches that are rebuilt on demand (thumbnails) and for state that is
rewritten every few seconds (the service state).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = [
    "fsync_dir",
    "fsync_file",
    "is_temporary",
    "write_atomically",
    "write_json_atomically",
    "write_text_atomically",
]

_TEMP_SUFFIX = ".tmp"
PRIVATE_FILE_MODE = 0o600


def write_atomically(
    path: Path,
    content: bytes | Callable[[IO[bytes]], None],
    *,
    durable: bool = True,
    mode: int = PRIVATE_FILE_MODE,
) -> None:
    """Replace ``path`` with ``content`` atomically.

    ``content`` is the bytes to write, or a function that writes into the
    open binary file it is given (for example ``image.save``). ``mode`` is
    the permission of the new file (default: private to the user).
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMP_SUFFIX, dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(content):
                content(handle)
            else:
                handle.write(content)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if mode != PRIVATE_FILE_MODE:
            tmp.chmod(mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def write_text_atomically(path: Path, text: str, *, durable: bool = True) -> None:
    """Replace ``path`` with UTF-8 ``text`` atomically (see :func:`write_atomically`).

    Characters UTF-8 cannot encode (lone surrogates from undecodable file
    names) are written as backslash escapes rather than failing.
    """
    write_atomically(path, text.encode("utf-8", "backslashreplace"), durable=durable)


def write_json_atomically(path: Path, data: Any, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` as JSON atomically (see :func:`write_atomically`)."""
    write_text_atomically(path, json.dumps(data, separators=(",", ":")), durable=durable)


def is_temporary(name: str) -> bool:
    """Whether a file name is one of this module's temporaries (for stale-file cleanup)."""
    return name.startswith(".") and name.endswith(_TEMP_SUFFIX)


def fsync_file(path: Path) -> None:
    """Flush a file's content to the disk."""
    with Path(path).open("rb+") as handle:
        os.fsync(handle.fileno())


def fsync_dir(directory: Path) -> None:
    """Persist renames in ``directory`` (not possible, nor needed, on Windows)."""
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
