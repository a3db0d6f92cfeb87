"""Where photoseek keeps its files.

By default the platform's locations (platformdirs): the catalog and the vector
index in the user data dir, thumbnails and model weights in the user cache dir,
logs in the user log dir. One override moves everything under a single folder:
``--data-dir DIR`` or the ``PHOTOSEEK_DATA_DIR`` environment variable (the
command-line option wins). That is also what tests and portable installs use.

Privacy: these folders reveal what is in a person's photos, so on POSIX
photoseek creates them (and any missing parent) with mode ``0700``, for the
platformdirs defaults and for ``--data-dir`` alike, and tightens an existing
one that the user owns but that group or others can open (one INFO log line
per folder; owner bits are kept). Folders owned by someone else are left
alone. On Windows nothing special is done: the folders inherit the ACL of the
user's profile, which is already private to the user.

Two checks, for two kinds of callers:

* :meth:`AppPaths.ensure` is for writers (``add``, ``index``, ``watch``): it
  creates the folders and checks that the data and cache dirs can be written.
* :meth:`AppPaths.check_readable` is for readers (``status``, ``search``,
  ``doctor`` ...): it creates and writes nothing, so a read-only data dir
  whose catalog exists stays usable.

Both raise :class:`~photoseek.core.errors.LibraryError` with one sentence that
names the folder and the reason: a data dir that is a regular file, one that
cannot be created, or one that cannot be written. :func:`resolve_paths` never
raises for such reasons (it only computes names; the log set-up calls it before
any error can be reported).

Paths are handled as :class:`~pathlib.Path` throughout, so names whose bytes
are not valid UTF-8 work; messages show them with
:func:`photoseek.pathtext.display_path`.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from photoseek.pathtext import display_path

if TYPE_CHECKING:
    from photoseek.core.errors import LibraryError

log = logging.getLogger(__name__)

APP_NAME = "photoseek"
DATA_DIR_ENV = "PHOTOSEEK_DATA_DIR"
PRIVATE_DIR_MODE = 0o700
_GROUP_OTHER = 0o077
_PROBE_PREFIX = ".photoseek-write-test-"


@dataclass(frozen=True)
class AppPaths:
    """The folders photoseek uses; created on demand by :meth:`ensure`.

    ``origin`` says where ``data_dir`` came from (``"--data-dir"``,
    ``"PHOTOSEEK_DATA_DIR"``, or ``""`` for the platform default); it only
    words error messages.
    """

    data_dir: Path
    cache_dir: Path
    log_dir: Path
    origin: str = field(default="", compare=False)
    config_dir: Path | None = field(default=None, compare=False)  # None: under data_dir

    @property
    def catalog(self) -> Path:
        """The SQLite catalog: the one source of truth."""
        return self.data_dir / "catalog.sqlite3"

    @property
    def index_dir(self) -> Path:
        """Vector index files (a rebuildable cache, one per model)."""
        return self.data_dir / "index"

    @property
    def thumbnails_dir(self) -> Path:
        """Thumbnail cache, keyed by content fingerprint."""
        return self.cache_dir / "thumbnails"

    @property
    def label_sets_dir(self) -> Path:
        """The user's label sets (plain text, :mod:`photoseek.core.zeroshot.labelfile`):
        the config dir, or ``labels`` under ``--data-dir`` when one is given."""
        return (self.config_dir or self.data_dir) / "labels"

    @property
    def models_dir(self) -> Path:
        """Downloaded model weights."""
        return self.cache_dir / "models"

    @property
    def lock_file(self) -> Path:
        """Held by the one process that writes the library."""
        return self.data_dir / "writer.lock"

    def own_dirs(self) -> tuple[Path, ...]:
        """The data, cache and log dirs: photoseek's own files, never to be scanned as photos."""
        return (self.data_dir, self.cache_dir, self.log_dir)

    def describe(self, folder: Path) -> str:
        """How messages name one of these folders: ``--data-dir X``, ``the cache folder X`` ..."""
        shown = display_path(folder)
        if folder == self.data_dir:
            return f"{self.origin} {shown}" if self.origin else f"the data folder {shown}"
        label = {
            self.cache_dir: "the cache folder",
            self.log_dir: "the log folder",
            self.index_dir: "the index folder",
        }.get(folder, "the folder")
        return f"{label} {shown}"

    def ensure(self) -> AppPaths:
        """Create every folder (private to the user) and check it can be written; return self.

        For writers. Raises LibraryError when a folder is a file, cannot be
        created, or (data and cache dirs) cannot be written.
        """
        folders = (self.data_dir, self.cache_dir, self.log_dir, self.index_dir)
        for folder in folders:
            self._refuse_non_folder(folder)
        for folder in folders:
            try:
                make_private_dir(folder)
            except OSError as exc:
                message = f"cannot create {self.describe(folder)}: {_reason(exc)}"
                raise _library_error(message) from exc
        for folder in (self.data_dir, self.cache_dir):
            self._check_writable(folder)
        return self

    def check_readable(self) -> AppPaths:
        """Check, creating and writing nothing, that a reader can use the library; return self.

        Raises LibraryError when the data dir or the catalog exists but is
        not a folder / not a file, or cannot be read. A missing data dir or
        catalog is not an error here (see :attr:`catalog`).
        """
        self._refuse_non_folder(self.data_dir)
        if self.data_dir.is_dir() and not os.access(self.data_dir, os.R_OK | os.X_OK):
            raise _library_error(f"cannot read {self.describe(self.data_dir)}: permission denied")
        catalog = self.catalog
        if catalog.exists() and not catalog.is_file():
            raise _library_error(f"the catalog {display_path(catalog)} is not a file")
        if catalog.exists() and not os.access(catalog, os.R_OK):
            shown = display_path(catalog)
            raise _library_error(f"cannot read the catalog {shown}: permission denied")
        return self

    def _refuse_non_folder(self, folder: Path) -> None:
        """LibraryError if ``folder`` exists as something other than a folder."""
        if folder.exists() and not folder.is_dir():
            raise _library_error(f"{self.describe(folder)} is a file, not a folder")

    def _check_writable(self, folder: Path) -> None:
        """Create and remove an empty file in ``folder``; LibraryError if that fails."""
        try:
            fd, name = tempfile.mkstemp(prefix=_PROBE_PREFIX, dir=folder)
        except OSError as exc:
            message = f"cannot write to {self.describe(folder)}: {_reason(exc)}"
            raise _library_error(message) from exc
        os.close(fd)
        Path(name).unlink(missing_ok=True)


def make_private_dir(folder: Path) -> None:
    """Create ``folder`` and missing parents private to the user; tighten it if it exists.

    POSIX only (on Windows a plain ``mkdir``). New folders get ``0700``. An
    existing folder owned by the user that group or others can open loses
    those bits (one INFO line); a failure to change it is logged, not raised.
    Raises OSError when the folder cannot be created (``NotADirectoryError``
    when it, or a parent, is a file).
    """
    if os.name == "nt":
        folder.mkdir(parents=True, exist_ok=True)
        return
    if folder.is_dir():
        _tighten(folder)
        return
    if folder.exists():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    for missing in reversed([folder, *_missing_parents(folder)]):
        try:
            missing.mkdir(PRIVATE_DIR_MODE)
        except FileExistsError:  # made meanwhile by another process
            if not missing.is_dir():
                raise
            continue
        if missing == folder:
            folder.chmod(PRIVATE_DIR_MODE)  # the umask may have taken owner bits away


def _missing_parents(folder: Path) -> list[Path]:
    """The parents of ``folder`` that do not exist yet, nearest first."""
    missing = []
    for parent in folder.parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing


def _tighten(folder: Path) -> None:
    """Drop group/other bits of a folder the user owns (logged; failures are not raised)."""
    try:
        st = folder.stat()
    except OSError as exc:
        log.info("cannot check the permissions of %s: %s", display_path(folder), exc)
        return
    mode = stat.S_IMODE(st.st_mode)
    if not mode & _GROUP_OTHER or st.st_uid != os.geteuid():
        return
    new_mode = mode & ~_GROUP_OTHER
    try:
        folder.chmod(new_mode)
    except OSError as exc:
        log.info("could not make %s private to you: %s", display_path(folder), _reason(exc))
        return
    log.info("made %s private to you (mode %04o -> %04o)", display_path(folder), mode, new_mode)


def is_private(folder: Path) -> bool:
    """Whether group and others cannot open ``folder`` (always True on Windows)."""
    if os.name == "nt":
        return True
    return not stat.S_IMODE(folder.stat().st_mode) & _GROUP_OTHER


def _reason(exc: OSError) -> str:
    """An OSError's reason in words, lower-cased to follow a colon."""
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


def _library_error(message: str) -> LibraryError:
    """A LibraryError (imported late: :mod:`photoseek.core` imports this module)."""
    from photoseek.core.errors import LibraryError

    return LibraryError(message)


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """Pick the folders: explicit ``data_dir``, else the env var, else platformdirs.

    Only computes names: nothing is created or checked (see :meth:`AppPaths.ensure`).
    """
    if data_dir:
        return _under(data_dir, "--data-dir")
    if os.environ.get(DATA_DIR_ENV):
        return _under(os.environ[DATA_DIR_ENV], DATA_DIR_ENV)
    return AppPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
    )


def _under(override: str | os.PathLike[str], origin: str) -> AppPaths:
    """Everything under one folder (the ``--data-dir`` layout)."""
    root = Path(override).expanduser().resolve()
    return AppPaths(root, root / "cache", root / "logs", origin=origin)
