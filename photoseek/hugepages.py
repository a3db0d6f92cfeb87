"""Transparent huge pages for the long-lived processes' large allocations on Linux.

A search walks the HNSW graph: every step reads a random vector of the
index's one large block (2.2 GB at a million 512-d photos). In 4 KB pages
nearly every read also misses the CPU's address cache (TLB). glibc 2.35+
asks the kernel for transparent huge pages (2 MB) for the blocks its
``malloc`` maps when the tunable ``glibc.malloc.hugetlb=1`` is set, and
hnswlib's block is then made of them. Measured on the scale benchmark's
million CLIP-like vectors (2 cores, one query thread, ef 1024), alternating
processes: knn p99 12.3-14.2 ms in 4 KB pages, 8.3-8.6 ms in huge pages
(p50 3.9-4.5 and 3.0 ms) in a busy hour; 9.7-9.8 and 7.7-7.9 ms in a quiet
one. The price is paid once, when the index is read into memory: the
kernel zeroes and, where memory is fragmented, compacts 2 MB pages. hnswlib
read that block in 1.6-1.9 s of system time in 4 KB pages and 2.7-7.4 s in
huge pages (the slow case right after 4 KB pages had been freed).

So only the processes that open an index once and then answer many
searches use them: the desktop app and ``photoseek watch`` (not ``watch
--once``). A one-shot command (a cold ``search``, ``index``) reads the
index once and exits, and stays in 4 KB pages.

glibc reads tunables only when a process starts, so :func:`restart` runs
the command again, once, in place (``execve``: the same process id, no
child) with the tunable in ``GLIBC_TUNABLES``, as soon as the command line
is read. It costs what came before: the interpreter's start, the command
line's imports and parsing, about 0.2 s here, once per app or service
start. It is skipped:

* unless the command's entry allowed it (:func:`allow_restart`; a call of
  the command line's ``main`` from Python code never restarts);
* where it cannot help: not Linux, not glibc 2.35+, or the kernel's
  transparent huge pages set to ``never``;
* where it is set already (a restarted process, or the user's own choice);
* when ``PHOTOSEEK_NO_HUGEPAGES`` is set (to ``1``): the opt-out.

Only ``malloc``'s own mappings (blocks of 128 KB and more) are affected,
and the kernel backs with huge pages only their whole aligned 2 MB pieces,
so small allocations are unchanged. The process's children inherit the
setting. The frozen app is restarted as a new instance of its bundle
(``PYINSTALLER_RESET_ENVIRONMENT``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final

TUNABLE: Final = "glibc.malloc.hugetlb=1"
OPT_OUT: Final = "PHOTOSEEK_NO_HUGEPAGES"
RESTARTED: Final = "_PHOTOSEEK_RESTARTED"  # set for the restarted process, which removes it
_THP_SETTING: Final = Path("/sys/kernel/mm/transparent_hugepage/enabled")
_MIN_GLIBC: Final = (2, 35)


def state(base: Mapping[str, str]) -> tuple[bool, str]:
    """Whether the app and ``watch`` run in huge pages with ``base`` as their environment,
    and why (a line for ``photoseek doctor``)."""
    tunables = base.get("GLIBC_TUNABLES", "")
    if sys.platform != "linux":
        return False, "off: Linux only"
    if base.get(OPT_OUT, "") not in ("", "0"):
        return False, f"off: {OPT_OUT} is set"
    if "glibc.malloc.hugetlb" in tunables:
        return TUNABLE in tunables.split(":"), f"as GLIBC_TUNABLES sets it ({tunables})"
    if not _glibc_has_tunable():
        return False, "off: needs glibc 2.35 or later"
    if not _thp_usable():
        return False, "off: the kernel's transparent huge pages are set to never"
    return True, f"on for the app and `watch` (they restart with {TUNABLE})"


def environment(base: Mapping[str, str]) -> dict[str, str] | None:
    """``base`` with the tunable added, or None where it does not apply or is set already
    (see the module)."""
    tunables = base.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.hugetlb" in tunables or not state(base)[0]:
        return None
    return {**base, "GLIBC_TUNABLES": f"{tunables}:{TUNABLE}" if tunables else TUNABLE}


def without_tunable(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` without the tunable this module adds (for a process that must start as a
    user's would: it then adds the tunable itself)."""
    env = dict(base)
    kept = [t for t in env.pop("GLIBC_TUNABLES", "").split(":") if t and t != TUNABLE]
    if kept:
        env["GLIBC_TUNABLES"] = ":".join(kept)
    return env


def restarted() -> bool:
    """Whether this process is the restart of one (the mark is removed: children start
    as new commands)."""
    return os.environ.pop(RESTARTED, None) is not None


_allowed = False


def allow_restart() -> None:
    """Let :func:`restart` run this process again: for the command's entry point only."""
    global _allowed
    _allowed = True


def restart() -> None:
    """Run this process's command again with the tunable, in place; returns only where it
    does not apply or the restart fails (the command then runs without it)."""
    env = environment(os.environ)
    if not _allowed or env is None or not sys.executable:
        return
    env[RESTARTED] = "1"
    if getattr(sys, "frozen", False):  # a PyInstaller bundle: start it as a new instance
        env["PYINSTALLER_RESET_ENVIRONMENT"] = "1"
        argv = [sys.executable, *sys.argv[1:]]
    else:  # the interpreter's own options, -m or the script, then the arguments
        argv = [sys.executable, *sys.orig_argv[1:]]
    try:
        os.execve(sys.executable, argv, env)
    except OSError as exc:  # logging loads only here: the warm path's budget is tight
        import logging

        logging.getLogger(__name__).debug("not restarted with huge pages: %s", exc)


def _glibc_has_tunable() -> bool:
    try:
        name, version = str(os.confstr("CS_GNU_LIBC_VERSION")).split()  # "glibc 2.36"
        major, minor = (int(part) for part in version.split(".")[:2])
    except (ValueError, OSError, AttributeError):  # another libc, or an odd string
        return False
    return name == "glibc" and (major, minor) >= _MIN_GLIBC


def _thp_usable() -> bool:
    try:
        return "[never]" not in _THP_SETTING.read_text(encoding="ascii")
    except OSError:  # no transparent huge pages in this kernel
        return False
