"""Where a library's warm-search socket lives: a private per-user folder, named by the library.

Unix sockets only (``socket.AF_UNIX``; elsewhere there is no warm path and
every search is cold). The folder is ``$XDG_RUNTIME_DIR/photoseek`` where
that is set (per user, mode 0700, cleared at logout), else
``/tmp/photoseek-UID``, made with mode 0700 and used only while it belongs
to this user and nobody else may enter it; the socket itself is made with
mode 0600. The name is a digest of the library folder's resolved path, so
it stays short (a socket path has about 100 bytes) whatever the path.

Imports only the standard library's light modules: the client runs it
before anything else of photoseek.
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat

SUPPORTED = hasattr(socket, "AF_UNIX") and hasattr(os, "getuid")


def socket_path(data_dir: str) -> str | None:
    """The socket of the library in ``data_dir`` (an absolute path), or None where there is none.

    Creates the private folder if needed; None when it cannot be made private.
    """
    if not SUPPORTED:
        return None
    folder = _private_folder()
    if folder is None:
        return None
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:24]
    return os.path.join(folder, f"search-{digest}.sock")


def _private_folder() -> str | None:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = runtime if runtime and os.path.isdir(runtime) else "/tmp"
    folder = os.path.join(base, "photoseek" if runtime else f"photoseek-{os.getuid()}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        info = os.lstat(folder)
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    return folder if private and info.st_uid == os.getuid() else None
