"""``photoseek doctor``: versions, folders, catalog, device, model and index health.

:func:`iter_checks` yields one :class:`Check` as soon as it is done, so a
front end prints each line at once (the model check can take a while). It
never raises: any exception becomes a failed check with a one-line detail.
It never writes anything: the catalog, when there is one, is opened
read-only, folders are inspected without creating or probing files, and no
index is saved. So it also answers on a full disk, on a read-only data dir
and when ``--data-dir`` names a file. (Loading the model may still download
its weights into the cache dir, as every command that needs the model does.)

Checks, in order: photoseek, packages, data dir, cache dir, log dir,
catalog, device, model, index. A check that cannot run because an earlier one
failed is ``skipped`` (it does not count as a failure on its own).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoseek import __version__, hugepages
from photoseek.core.catalog.migrations import latest_version
from photoseek.core.errors import PhotoseekError
from photoseek.core.library import Library
from photoseek.core.model.embedder import DEVICES, ModelSettings, available_devices, load_embedder
from photoseek.paths import AppPaths, is_private
from photoseek.pathtext import display_path, escape_undecodable

if TYPE_CHECKING:
    from photoseek.core.model.embedder import Embedder

MIN_FREE_BYTES = 100 * 1000 * 1000
_SQLITE_MAGIC = b"SQLite format 3\x00"
_READ_ONLY_MEANS = {
    "data dir": "searching works; adding, indexing and watching do not",
    "cache dir": "thumbnails and downloaded weights cannot be saved",
    "log dir": "no log file is written",
}
_USER_VERSION_OFFSET = 60

_PACKAGES = (
    "torch",
    "open_clip_torch",
    "hnswlib",
    "numpy",
    "pillow",
    "pillow-heif",
    "platformdirs",
    "watchdog",
    "pyside6",
)


@dataclass(frozen=True)
class Check:
    """One line of the report.

    ``ok`` is False only for a real failure; a check that could not run
    because of an earlier failure has ``skipped`` set (and ``ok`` True).
    ``detail`` is always one line of valid Unicode (undecodable path bytes as
    ``\\xNN``), safe to print anywhere.
    """

    name: str
    ok: bool
    detail: str
    skipped: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", _one_line(self.detail))

    @property
    def label(self) -> str:
        """``ok``, ``FAIL`` or ``skip``: the tag a front end shows."""
        if self.skipped:
            return "skip"
        return "ok" if self.ok else "FAIL"


def _one_line(text: str) -> str:
    """``text`` as one line of valid Unicode (line breaks of a message become spaces)."""
    text = escape_undecodable(text)
    lines = text.splitlines()
    if len(lines) <= 1:
        return text
    return " ".join(line.strip() for line in lines if line.strip())


def _failure(name: str, exc: Exception) -> Check:
    """A failed check for an exception: its message, or its type and message."""
    if isinstance(exc, PhotoseekError):
        return Check(name, False, str(exc) or type(exc).__name__)
    return Check(name, False, f"{type(exc).__name__}: {exc}")


def _guard(name: str, probe: Callable[[], Check]) -> Check:
    """Run one check; every exception becomes a failed check."""
    try:
        return probe()
    except Exception as exc:  # the doctor reports everything, it never crashes
        return _failure(name, exc)


# --------------------------------------------------------------------------- the checks


def iter_checks(paths: AppPaths, settings: ModelSettings) -> Iterator[Check]:
    """Every check, in order, each yielded as soon as it is done; never raises."""
    library: Library | None = None
    try:
        yield _guard("photoseek", _about)
        yield _guard("packages", _packages)
        yield _guard("huge pages", _huge_pages)
        yield _guard("data dir", lambda: _folder_check("data dir", paths.data_dir, paths))
        yield _guard("cache dir", lambda: _folder_check("cache dir", paths.cache_dir, paths))
        yield _guard("log dir", lambda: _folder_check("log dir", paths.log_dir, paths))
        try:
            catalog, library = _open_catalog(paths, settings)
        except Exception as exc:  # e.g. the data dir cannot even be looked into
            catalog = _failure("catalog", exc)
        yield catalog
        device = _guard("device", lambda: _device_check(settings.device))
        yield device
        model, embedder = _model_check(paths, settings, library, device)
        yield model
        yield _index_check(library, embedder, catalog)
    finally:
        if library is not None:
            _close_quietly(library)


def run_checks(library: Library) -> list[Check]:
    """Every check at once, for ``library``'s paths and model settings (see :func:`iter_checks`).

    Kept for old callers; the library itself is not used (the checks open
    their own, read-only).
    """
    return list(iter_checks(library.paths, library.settings))


def _about() -> Check:
    detail = f"{__version__} on Python {sys.version.split()[0]}, {platform.platform()}"
    return Check("photoseek", True, detail)


def _huge_pages() -> Check:
    """Whether the app and the watch service keep the index in huge pages (never a failure:
    without them searches at a million photos are slower, nothing more)."""
    _, why = hugepages.state(os.environ)
    return Check("huge pages", True, why)


def _packages() -> Check:
    found = []
    missing = False
    for name in _PACKAGES:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} MISSING")
            missing = missing or name != "pyside6"  # the GUI is optional
    return Check("packages", not missing, ", ".join(found))


# --------------------------------------------------------------------------- folders


def _folder_check(name: str, folder: Path, paths: AppPaths) -> Check:
    """Exists, is a folder, writable or read-only, private or not, free space."""
    if folder.exists() and not folder.is_dir():
        return Check(name, False, f"{paths.describe(folder)} is a file, not a folder")
    if not folder.exists():
        return _missing_folder_check(name, folder)
    ok, parts = True, []
    writable = _is_writable(folder)
    if writable:
        parts.append("writable")
    else:
        ok = False
        parts.append(f"read-only ({_READ_ONLY_MEANS.get(name, 'nothing can be saved')})")
    if is_private(folder):
        parts.append("private")
    else:
        mode = folder.stat().st_mode & 0o777
        parts.append(f"NOT private (mode {mode:04o}; photoseek makes it 0700 when it next writes)")
    enough, free = _free_space(folder)
    ok = ok and (enough or not writable)  # free space only matters where photoseek writes
    parts.append(free)
    return Check(name, ok, f"{display_path(folder)}: {', '.join(parts)}")


def _missing_folder_check(name: str, folder: Path) -> Check:
    """A folder that does not exist yet: can it be created, with room to spare?"""
    parent = _nearest_existing(folder)
    shown = display_path(folder)
    if not parent.is_dir():
        return Check(name, False, f"{shown}: cannot be created, {display_path(parent)} is a file")
    if not _is_writable(parent):
        detail = f"{shown}: cannot be created, {display_path(parent)} is not writable"
        return Check(name, False, detail)
    enough, free = _free_space(parent)
    return Check(name, enough, f"{shown}: not created yet (made on first use), {free}")


def _nearest_existing(folder: Path) -> Path:
    """``folder``'s closest ancestor that exists."""
    for parent in folder.parents:
        if parent.exists():
            return parent
    return Path(folder.anchor or ".")


def _is_writable(folder: Path) -> bool:
    """Whether files can be created in ``folder``, judged without writing any."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    statvfs: Callable[[Path], Any] | None = getattr(os, "statvfs", None)
    if statvfs is None:
        return True
    return not statvfs(folder).f_flag & getattr(os, "ST_RDONLY", 1)


def _free_space(folder: Path) -> tuple[bool, str]:
    """(enough, "N free" or "only N free (...)")."""
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        need = format_bytes(MIN_FREE_BYTES)
        return False, f"only {format_bytes(free)} free (photoseek needs at least {need})"
    return True, f"{format_bytes(free)} free"


def format_bytes(count: int) -> str:
    """``12.3 GB``, ``840 MB``, ``0 B``: decimal units, as file managers show them."""
    units = ("B", "kB", "MB", "GB", "TB")
    value, index = float(count), 0
    while value >= 1000 and index < len(units) - 1:
        value, index = value / 1000, index + 1
    digits = 0 if index == 0 or value >= 100 else 1
    return f"{value:.{digits}f} {units[index]}"


# --------------------------------------------------------------------------- catalog


def _open_catalog(paths: AppPaths, settings: ModelSettings) -> tuple[Check, Library | None]:
    """Open the catalog read-only and check its integrity; (check, library or None)."""
    catalog, shown = paths.catalog, display_path(paths.catalog)
    if paths.data_dir.exists() and not paths.data_dir.is_dir():
        skip = Check("catalog", True, "not checked: the data dir is not a folder", skipped=True)
        return skip, None
    if not catalog.exists():
        return Check("catalog", True, f"no library yet ({shown} does not exist)"), None
    library: Library | None = None
    try:
        version = _schema_version(catalog)
        library = Library(paths, settings, read_only=True)
        result = library.catalog.integrity_check()
    except PhotoseekError as exc:
        return _failure("catalog", _closed(library, exc)), None
    except Exception as exc:
        failure = _failure("catalog", _closed(library, exc))
        return Check("catalog", False, f"{shown}: cannot be read ({failure.detail})"), None
    if result != "ok":
        return Check("catalog", False, f"{shown}: integrity check failed: {result}"), library
    return Check("catalog", True, f"{shown}: integrity ok, schema v{version}"), library


def _schema_version(catalog: Path) -> int:
    """The catalog's ``user_version``, read from the file header (no connection, no write).

    Raises PhotoseekError for a file that is not SQLite or from a newer photoseek.
    """
    with catalog.open("rb") as handle:
        header = handle.read(100)
    if not header.startswith(_SQLITE_MAGIC) or len(header) < 100:
        raise PhotoseekError(f"{display_path(catalog)} is not a photoseek catalog (not SQLite)")
    version = int.from_bytes(header[_USER_VERSION_OFFSET : _USER_VERSION_OFFSET + 4], "big")
    if version > latest_version():
        raise PhotoseekError(
            f"{display_path(catalog)} was written by a newer photoseek (schema v{version}, "
            f"this version knows up to v{latest_version()}); upgrade photoseek to use it"
        )
    return version


def _closed(library: Library | None, exc: Exception) -> Exception:
    """Close a half-opened library; return ``exc`` to report."""
    if library is not None:
        _close_quietly(library)
    return exc


def _close_quietly(library: Library) -> None:
    """Close a read-only library; a failure here is not worth a report."""
    try:
        library.close()
    except Exception:  # nothing was written, so nothing can be lost
        return


# --------------------------------------------------------------------------- device, model, index


def _device_check(requested: str) -> Check:
    """What ``--device`` asked for, against what this machine has (imports torch)."""
    import torch

    available = available_devices()
    threads = f"torch threads {torch.get_num_threads()}"
    if requested == "auto":
        picked = available[0]
        gpu = torch.cuda.get_device_name(0) if picked == "cuda" else "no CUDA"
        return Check("device", True, f"auto -> {picked} ({gpu}; {threads})")
    if requested not in DEVICES:
        return Check("device", False, f"unknown device {requested!r} (use {', '.join(DEVICES)})")
    if requested not in available:
        detail = (
            f"{requested} was asked for but is not available (this machine: {', '.join(available)})"
        )
        return Check("device", False, detail)
    gpu = f"{torch.cuda.get_device_name(0)}; " if requested == "cuda" else ""
    return Check("device", True, f"{requested} ({gpu}{threads})")


def _model_check(
    paths: AppPaths, settings: ModelSettings, library: Library | None, device: Check
) -> tuple[Check, Embedder | None]:
    """Load the model (through the library when there is one); (check, embedder or None)."""
    if not device.ok:
        return Check("model", True, "not loaded: the device check failed", skipped=True), None
    try:
        embedder = library.embedder if library else load_embedder(settings, paths.models_dir)
    except Exception as exc:
        return _failure("model", exc), None
    return Check("model", True, f"{embedder.identity.key} on {embedder.device}"), embedder


def _index_check(library: Library | None, embedder: Embedder | None, catalog: Check) -> Check:
    """The vector index against the catalog (needs the library and the model)."""
    if library is None:
        why = "the catalog check failed" if not catalog.ok else "no library"
        return Check("index", True, f"not checked: {why}", skipped=True)
    if embedder is None:
        return Check("index", True, "not checked: the model did not load", skipped=True)

    def probe() -> Check:
        if library.catalog.model_id(embedder.identity, create=False) is None:
            return Check("index", True, "no vectors for this model yet (run `photoseek index`)")
        health = library.index_health()
        return Check("index", "OUT OF SYNC" not in health, health)

    return _guard("index", probe)
