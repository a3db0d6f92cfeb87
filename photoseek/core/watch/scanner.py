"""Walk one top folder and list the files that may be photos.

The scanner only looks at names and ``stat`` results; it never opens a file.
Whether a file really is an image is decided later by
:func:`photoseek.core.imaging.decode.decode_image` from its content, so a ``.txt`` or
an extension-less file is listed here and then recorded as a problem there.

What is skipped silently (not photos, and not worth a problem report):

* hidden entries: any name starting with ``.`` (this covers macOS AppleDouble
  ``._*`` files, ``.DS_Store``, ``.Trashes``, ``.Spotlight-V100``,
  ``.fseventsd``, ``.thumbnails``), plus entries the OS marks hidden (Windows
  hidden/system attribute, macOS ``UF_HIDDEN`` flag);
* system and NAS folders, compared case-insensitively: see
  :data:`SYSTEM_FOLDER_NAMES` (Synology ``@eaDir``/``#recycle``/``#snapshot``,
  QNAP ``@Recycle``/``@Recently-Snapshot``, Windows ``$RECYCLE.BIN``/``System
  Volume Information``/``RECYCLER``, Linux ``lost+found``);
* system files :data:`SYSTEM_FILE_NAMES` (``Thumbs.db``, ``desktop.ini``,
  macOS ``Icon\\r``);
* companion files that live next to photos: :data:`COMPANION_EXTENSIONS`
  (sidecars, videos, Live Photo clips, editor settings);
* a folder already visited (through a bind mount): each folder is walked
  once;
* photoseek's own folders (its data, cache and log dirs, passed as
  ``exclude``), wherever they lie: the catalog never indexes itself;
* a camera RAW with a JPEG or HEIF of the same stem in the same folder
  (:func:`photoseek.core.imaging.pairs.raws_with_developed_sibling`): the
  pair is one photo, indexed as its JPEG or HEIF, unless the library is set
  to index both (``keep_paired_raw``). Such RAWs are listed in
  :attr:`FolderScan.paired`. Only files the scan lists pair up: a JPEG left
  out by an exclude pattern, or a folder named like one, stands for no RAW.

What is reported in :attr:`FolderScan.skipped` (the user may want to know):
FIFOs, sockets and devices, broken or looping symbolic links, symbolic links
to folders, subfolders that cannot be read, and entries whose examination
raised anything at all (the reason names it; the scan goes on).

Symbolic links: a link to a file is listed under the link's own path (its
content is what gets indexed). A link to a folder is **not entered**; it is
reported with the folder it points to, which the user can add to the library
like any other. So every folder photoseek indexes is a folder it watches
(watchdog does not follow links), loops cannot occur, and a link to a parent
folder cannot pull photoseek's own data in. The root itself may be a link:
the user chose it (``add`` stores it resolved).

The root itself is walked even if its name is hidden: the user chose it.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from photoseek.core.catalog.values import as_int64
from photoseek.core.errors import Cancelled
from photoseek.core.filekinds import file_kind
from photoseek.core.imaging.pairs import raws_with_developed_sibling
from photoseek.core.watch.entries import (
    first_visit,
    folder_key,
    folder_link_reason,
    hidden_by_attributes,
    why,
)

logger = logging.getLogger(__name__)

COMPANION_EXTENSIONS: frozenset[str] = frozenset(
    {
        # metadata sidecars and edit settings
        ".xmp", ".aae", ".thm", ".pp3", ".dop", ".on1", ".xml", ".json",
        ".acr", ".cos", ".arp", ".picasa", ".lrv", ".ithmb", ".photoscape",
        # video (incl. Live Photo / motion photo clips) and audio notes
        ".mov", ".mp4", ".m4v", ".avi", ".mkv", ".mts", ".m2ts", ".3gp", ".3g2",
        ".wmv", ".mpg", ".mpeg", ".webm", ".flv", ".wav", ".mp3", ".m4a", ".aac",
        # databases, settings and OS/tool droppings
        ".db", ".ini", ".ds_store", ".tmp", ".part", ".crdownload", ".lnk",
        ".url", ".sfv", ".md5", ".par2",
    }
)  # fmt: skip
"""Lower-case extensions (with the dot) of files that are not photos but
commonly live next to them; they are ignored silently."""

SYSTEM_FOLDER_NAMES: frozenset[str] = frozenset(
    {
        "@eadir",
        "#recycle",
        "#snapshot",
        "@recycle",
        "@recently-snapshot",
        "@tmp",
        "$recycle.bin",
        "recycler",
        "system volume information",
        "lost+found",
        ".trashes",
        ".trash",
        ".spotlight-v100",
        ".fseventsd",
        ".thumbnails",
    }
)
"""Lower-cased names of OS, NAS and recycle-bin folders that are never walked."""

SYSTEM_FILE_NAMES: frozenset[str] = frozenset({"thumbs.db", "desktop.ini", "icon\r"})
"""Lower-cased names of system files that are ignored silently."""


@dataclass(frozen=True)
class ScannedFile:
    """A regular file that may be a photo: its path (under the root), size, mtime and inode."""

    path: Path
    size: int
    mtime_ns: int
    inode: int = 0


@dataclass(frozen=True)
class SkippedFile:
    """A file or folder that could not be considered, with a user-facing reason."""

    path: Path
    reason: str


@dataclass
class FolderScan:
    """Result of :func:`scan_folder`.

    When ``available`` is false (folder missing, unreadable, volume not
    mounted) ``reason`` says why and the caller must keep, not delete, the
    photos it knows under ``root``. Likewise for photos under any of
    ``unlisted_folders``.
    """

    root: Path
    available: bool
    reason: str | None = None
    files: list[ScannedFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    unlisted_folders: list[Path] = field(default_factory=list)
    """Subfolders that could not be read (also in ``skipped``): photos known
    under them were not seen but must be kept, not treated as deleted."""
    paired: list[Path] = field(default_factory=list)
    """RAW files left out because a JPEG or HEIF beside them stands for the photo."""


def device_of(path: Path) -> int:
    """The device id (``st_dev``) of ``path``, following symlinks.

    Stored with a folder so a later scan can tell an unmounted volume (an empty
    mount point on another device) from a folder whose photos were deleted.
    Raises ``OSError`` if ``path`` cannot be accessed.
    """
    return as_int64(path.stat().st_dev)


ScanProgress = Callable[[int], None]
"""Called with the number of files listed so far (every :data:`PROGRESS_EVERY` files)."""

PROGRESS_EVERY = 500


@dataclass
class _Walk:
    """The state of one walk: what was visited, what to leave out, and who listens."""

    scan: FolderScan
    exclude: frozenset[tuple[int, int]] = frozenset()
    on_progress: ScanProgress | None = None
    cancel: threading.Event | None = None
    skip: Callable[[Path], bool] | None = None  # the folder's exclude patterns
    keep_paired_raw: bool = False  # list a RAW beside its JPEG/HEIF too (index both)
    visited: set[tuple[int, int | str]] = field(default_factory=set)

    def listed(self) -> None:
        """Report progress now and then; stop when cancelled."""
        count = len(self.scan.files)
        if self.on_progress is not None and count % PROGRESS_EVERY == 0:
            self.on_progress(count)

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("the scan was cancelled")


def exclusion_keys(paths: Iterable[Path]) -> frozenset[tuple[int, int]]:
    """(device, inode) of each existing folder in ``paths``, for ``exclude``."""
    keys: set[tuple[int, int]] = set()
    for path in paths:
        try:
            st = path.stat()
        except (OSError, ValueError):
            continue
        keys.add((st.st_dev, st.st_ino))
    return frozenset(keys)


def scan_folder(
    root: Path,
    *,
    expected_device: int | None = None,
    had_photos: bool = False,
    exclude: frozenset[tuple[int, int]] = frozenset(),
    on_progress: ScanProgress | None = None,
    cancel: threading.Event | None = None,
    skip: Callable[[Path], bool] | None = None,
    keep_paired_raw: bool = False,
) -> FolderScan:
    """List every candidate photo under ``root``, in a deterministic order.

    The walk is iterative (no recursion limit), depth first, names sorted by
    code point within each folder: a folder's files come before its subfolders.
    Links to folders are not entered (see the module docstring); every folder
    is walked at most once (tracked by device and inode). Folders whose
    (device, inode) is in ``exclude``, and paths ``skip`` says to leave out
    (the folder's exclude patterns), are skipped silently; so is a RAW beside
    a JPEG or HEIF of its stem, unless ``keep_paired_raw``.

    The root is *unavailable* when it is missing, not a folder or unreadable.
    Offline-volume heuristic: when ``expected_device`` is given, the root now
    lives on another device, it holds no visible entries and ``had_photos`` is
    true, the volume is taken as not mounted (an empty mount point) and the
    scan is unavailable with reason ``"volume not mounted"``, because an empty
    mount point must never make the library delete every photo. An empty
    folder on the expected device, or without ``had_photos``, is available.

    Never raises for file-system problems: they end up in ``reason`` or
    ``skipped``. Raises :class:`Cancelled` when ``cancel`` is set.
    """
    root_stat = _stat_root(root)
    if isinstance(root_stat, str):
        return _unavailable(root, root_stat)
    entries = _list_root(root)
    if isinstance(entries, str):
        return _unavailable(root, entries)
    if _looks_unmounted(root_stat, entries, expected_device, had_photos):
        return _unavailable(root, "volume not mounted")
    walk = _Walk(
        FolderScan(root=root, available=True), exclude, on_progress, cancel, skip, keep_paired_raw
    )
    _walk(root, root_stat, entries, walk)
    return walk.scan


def scan_directory(
    folder: Path,
    *,
    recursive: bool,
    exclude: frozenset[tuple[int, int]] = frozenset(),
    skip: Callable[[Path], bool] | None = None,
    keep_paired_raw: bool = False,
) -> FolderScan:
    """List the candidate photos in one folder below a top folder (for watched changes).

    Non-recursive scans return the folder's own files only. A folder that no
    longer exists yields an available, empty scan: its files are gone (the
    caller checks the top folder itself with :func:`scan_folder`). RAW files
    pair with their JPEG or HEIF as in :func:`scan_folder`.
    """
    walk = _Walk(
        FolderScan(root=folder, available=True), exclude, skip=skip, keep_paired_raw=keep_paired_raw
    )
    try:
        folder_stat = folder.stat()
        entries = _visible_entries(folder)
    except (FileNotFoundError, NotADirectoryError):
        return walk.scan
    except (OSError, ValueError) as exc:
        _unlisted(walk.scan, folder, f"folder not readable: {why(exc)}")
        return walk.scan
    if recursive:
        _walk(folder, folder_stat, entries, walk)
    else:
        walk.visited.add(folder_key(folder, folder_stat))
        _scan_entries(entries, walk)
    return walk.scan


def is_ignored_path(root: Path, path: Path) -> bool:
    """Whether the scanner would skip ``path`` (below ``root``) by its names alone."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return True
    for part in parts:
        lower = part.lower()
        if part.startswith(".") or lower in SYSTEM_FOLDER_NAMES or lower in SYSTEM_FILE_NAMES:
            return True
    dot = path.name.rfind(".")
    return dot > 0 and path.name[dot:].lower() in COMPANION_EXTENSIONS


def _stat_root(root: Path) -> os.stat_result | str:
    """Stat the root folder; a string is the reason it is unavailable."""
    try:
        st = root.stat()
    except (FileNotFoundError, NotADirectoryError):
        return "folder not found"
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        return f"folder not reachable: {exc.strerror or exc}"
    return st if stat.S_ISDIR(st.st_mode) else "not a folder"


def _list_root(root: Path) -> list[os.DirEntry[str]] | str:
    """The root's visible entries; a string is the reason it is unavailable."""
    try:
        return _visible_entries(root)
    except FileNotFoundError:
        return "folder not found"
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        return f"folder not readable: {exc.strerror or exc}"


def _unavailable(root: Path, reason: str) -> FolderScan:
    """An unavailable scan of ``root``: its photos must be kept, not deleted."""
    logger.info("folder %s unavailable: %s", root, reason)
    return FolderScan(root=root, available=False, reason=reason)


def _looks_unmounted(
    root_stat: os.stat_result,
    entries: list[os.DirEntry[str]],
    expected_device: int | None,
    had_photos: bool,
) -> bool:
    """The offline-volume heuristic documented in :func:`scan_folder`."""
    return (
        expected_device is not None
        and as_int64(root_stat.st_dev) != expected_device
        and not entries
        and had_photos
    )


def _walk(
    root: Path,
    root_stat: os.stat_result,
    root_entries: list[os.DirEntry[str]],
    walk: _Walk,
) -> None:
    """Depth-first walk with an explicit stack, filling ``walk.scan``."""
    walk.visited.add(folder_key(root, root_stat))
    stack: list[tuple[Path, list[os.DirEntry[str]] | None]] = [(root, root_entries)]
    while stack:
        walk.check_cancel()
        folder, entries = stack.pop()
        if entries is None:
            entries = _list_subfolder(folder, walk.scan)
        subfolders = _scan_entries(entries, walk)
        stack.extend((sub, None) for sub in reversed(subfolders))


def _list_subfolder(folder: Path, scan: FolderScan) -> list[os.DirEntry[str]]:
    """A subfolder's visible entries; problems become skipped entries."""
    try:
        return _visible_entries(folder)
    except FileNotFoundError:
        logger.debug("folder vanished during the scan: %s", folder)
    except PermissionError:
        _unlisted(scan, folder, "permission denied (folder)")
    except (OSError, ValueError) as exc:
        _unlisted(scan, folder, f"folder not readable: {why(exc)}")
    return []


def _unlisted(scan: FolderScan, folder: Path, reason: str) -> None:
    """Record a subfolder whose content is unknown this time."""
    scan.skipped.append(SkippedFile(folder, reason))
    scan.unlisted_folders.append(folder)


def _visible_entries(folder: Path) -> list[os.DirEntry[str]]:
    """Entries of ``folder`` that are not ignored by name, sorted by name."""
    with os.scandir(folder) as it:
        entries = [entry for entry in it if not _ignored_name(entry)]
    entries.sort(key=lambda entry: entry.name)
    return entries


def _ignored_name(entry: os.DirEntry[str]) -> bool:
    """Hidden, system or companion by name alone (no system call on POSIX)."""
    name = entry.name
    lower = name.lower()
    if name.startswith(".") or lower in SYSTEM_FOLDER_NAMES or lower in SYSTEM_FILE_NAMES:
        return True
    dot = lower.rfind(".")
    return dot > 0 and lower[dot:] in COMPANION_EXTENSIONS


def _scan_entries(entries: list[os.DirEntry[str]], walk: _Walk) -> list[Path]:
    """Add one folder's files to the scan; return its subfolders still to walk."""
    subfolders: list[Path] = []
    first = len(walk.scan.files)
    for entry in entries:
        path = Path(entry.path)
        try:
            _scan_entry(entry, path, walk, subfolders)
        except Exception as exc:  # one entry never stops the scan, whatever it raises
            logger.warning("cannot examine %s", path, exc_info=True)
            walk.scan.skipped.append(SkippedFile(path, f"cannot examine: {why(exc)}"))
    if not walk.keep_paired_raw:
        _leave_out_paired_raw(walk.scan, first)
    return subfolders


def _leave_out_paired_raw(scan: FolderScan, first: int) -> None:
    """Drop the RAWs among one folder's files (from ``first`` on) that a JPEG/HEIF stands for."""
    files = scan.files[first:]
    paired = raws_with_developed_sibling(file.path.name for file in files)
    if not paired:
        return
    scan.files[first:] = [file for file in files if file.path.name not in paired]
    scan.paired += [file.path for file in files if file.path.name in paired]


def _scan_entry(entry: os.DirEntry[str], path: Path, walk: _Walk, subfolders: list[Path]) -> None:
    scan = walk.scan
    if walk.skip is not None and walk.skip(path):
        return  # left out by the folder's exclude patterns
    st = _stat_entry(entry, path, scan)
    if st is None or hidden_by_attributes(st):
        return
    if stat.S_ISDIR(st.st_mode):
        if (st.st_dev, st.st_ino) in walk.exclude:
            logger.debug("not scanning photoseek's own folder %s", path)
        elif entry.is_symlink():
            scan.skipped.append(SkippedFile(path, folder_link_reason(path)))
        elif first_visit(path, st, walk.visited):
            subfolders.append(path)
    elif stat.S_ISREG(st.st_mode):
        scan.files.append(
            ScannedFile(path, st.st_size, as_int64(st.st_mtime_ns), as_int64(st.st_ino))
        )
        walk.listed()
    else:
        scan.skipped.append(SkippedFile(path, f"not a regular file ({file_kind(st.st_mode)})"))


def _stat_entry(entry: os.DirEntry[str], path: Path, scan: FolderScan) -> os.stat_result | None:
    """Stat an entry following symlinks; report broken links and unreadable ones."""
    try:
        return entry.stat(follow_symlinks=True)
    except FileNotFoundError:
        if entry.is_symlink():
            scan.skipped.append(SkippedFile(path, "broken symbolic link"))
        else:
            logger.debug("file vanished during the scan: %s", path)
    except PermissionError:
        scan.skipped.append(SkippedFile(path, "permission denied"))
    except OSError as exc:
        reason = "broken symbolic link (loop)" if entry.is_symlink() else "cannot read"
        scan.skipped.append(SkippedFile(path, f"{reason}: {exc.strerror or exc}"))
    return None
