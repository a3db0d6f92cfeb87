"""Logging: a rotating file in the platform log dir; the console stays quiet.

The console shows warnings and errors only, INFO with ``-v`` and DEBUG with
``-vv``. The file always records INFO and above (DEBUG with ``-vv``).

Logging never fails loudly:

* Text that the output cannot encode (a path whose bytes are not valid UTF-8
  arrives as a lone surrogate) is written with ``errors="backslashreplace"``;
  an undecodable byte shows as ``\\xNN``. No "--- Logging error ---" is printed.
* A log dir that cannot be created or written costs one warning on the
  console, never a traceback; logging to the file then stops, the console
  keeps working.
* The log dir is private to the user (``0700``) and the log files are
  ``0600`` on POSIX (see :mod:`photoseek.paths`).
"""

from __future__ import annotations

import codecs
import contextlib
import io
import logging
import logging.handlers
import os
import stat
import sys
from pathlib import Path
from typing import IO

from photoseek.paths import make_private_dir
from photoseek.pathtext import display_path, escape_undecodable

LOG_FILE = "photoseek.log"
PRIVATE_FILE_MODE = 0o600
_MAX_BYTES = 2 * 1024 * 1024
_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"
_ERRORS = "backslashreplace"

log = logging.getLogger(__name__)


class _DropOpenClipRandomInit(logging.Filter):
    """open_clip warns about random init even though photoseek loads the weights itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("No pretrained weights loaded for model")


class _SafeFormatter(logging.Formatter):
    """A formatter whose output holds no undecodable-byte surrogates."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, undecodable bytes as ``\\xNN``."""
        return escape_undecodable(super().format(record))


class _ConsoleHandler(logging.StreamHandler[IO[str]]):
    """stderr, with whatever its encoding cannot hold backslash-escaped."""

    def format(self, record: logging.LogRecord) -> str:
        """Format, then make the text encodable in the stream's encoding."""
        text = super().format(record)
        encoding = getattr(self.stream, "encoding", None) or "utf-8"
        try:
            codecs.lookup(encoding)
        except LookupError:
            encoding = "utf-8"
        return text.encode(encoding, _ERRORS).decode(encoding, _ERRORS)

    def handleError(self, record: logging.LogRecord) -> None:
        """A console that cannot be written (closed, broken pipe) is not worth a traceback."""


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file created ``0600``; a failing write gives one warning, then silence."""

    def __init__(self, path: Path) -> None:
        self._failed = False
        super().__init__(
            path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8", errors=_ERRORS
        )

    def _open(self) -> io.TextIOWrapper:
        """Open (or create) the log file private to the user, appending as rotation does."""
        stream = open(  # noqa: SIM115 (logging owns and closes the stream)
            self.baseFilename,
            "a",
            encoding=self.encoding,
            errors=self.errors,
            opener=_private_opener,
        )
        _make_private_file(stream.fileno())
        return stream

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record unless writing already failed once."""
        if not self._failed:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        """On a write failure (full disk, volume gone): warn once and stop writing the file."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handleError(record)  # a programming error in a log call: keep it visible
            return
        self._failed = True
        stream, self.stream = self.stream, None
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.close()
        log.warning(
            "cannot write the log file %s (%s); logging to it stopped",
            display_path(self.baseFilename),
            error.strerror or error,
        )


def _private_opener(path: str, flags: int) -> int:
    """``os.open`` creating new files ``0600``."""
    return os.open(path, flags, PRIVATE_FILE_MODE)


def _make_private_file(fd: int) -> None:
    """Drop group/other bits of an existing log file (POSIX; best effort)."""
    if os.name == "nt":
        return
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            os.fchmod(fd, mode & ~0o077)
    except OSError as exc:
        log.debug("cannot make the log file private: %s", exc)


def configure_logging(log_dir: Path | None, verbosity: int = 0) -> Path | None:
    """Install the handlers; return the log file path (None if it cannot be written).

    ``log_dir`` None logs to the console only, without a warning (the front
    end knows why: a read-only data dir, a data dir that is a file).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
    console = _ConsoleHandler()
    console.setLevel({0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG))
    console.setFormatter(_SafeFormatter("photoseek: %(levelname)s: %(message)s"))
    console.addFilter(_DropOpenClipRandomInit())
    root.addHandler(console)
    if log_dir is None:
        return None
    path = log_dir / LOG_FILE
    try:
        make_private_dir(log_dir)
        file_handler = _PrivateRotatingFileHandler(path)
    except OSError as exc:
        log.warning(
            "cannot write a log file in %s (%s); logging to the console only",
            display_path(log_dir),
            exc.strerror or exc,
        )
        return None
    file_handler.setFormatter(_SafeFormatter(_FORMAT))
    file_handler.addFilter(_DropOpenClipRandomInit())
    root.addHandler(file_handler)
    return path
