"""Shared pieces of autostart: the spec, the error, the service command and file/command helpers.

Everything here is platform-neutral; :mod:`.systemd`, :mod:`.launchd` and
:mod:`.windows` build on it. Commands (``systemctl``, ``launchctl``) go
through an injectable runner, and every file is written atomically
(:func:`photoseek.core.atomicfile.write_atomically`). An install that fails
after writing its file puts back what was there before (:class:`_WrittenFiles`),
so ``status`` never reports a half-done install.

Paths whose bytes are not valid UTF-8 (PEP 383 surrogates in ``str``) are
written exactly where the format can carry bytes (systemd's ``\\xNN``
escapes) and refused with one clear :class:`AutostartError` where it cannot
(:func:`_require_utf8`).
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from photoseek.core.atomicfile import write_atomically
from photoseek.core.errors import PhotoseekError
from photoseek.pathtext import display_path, is_exact_text

# One logger for the whole package, named as before the split (log lines show the name).
log = logging.getLogger("photoseek.autostart")

Runner = Callable[[list[str]], subprocess.CompletedProcess[str]]

RUNNING = "installed, running"
NOT_RUNNING = "installed, not running"
NOT_INSTALLED = "not installed"

_COMMAND_TIMEOUT_S = 60
_LABEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class AutostartError(PhotoseekError):
    """A user-facing, one-line reason why autostart could not be set up."""


@dataclass(frozen=True)
class ServiceSpec:
    """What the autostart entry runs.

    ``command`` is the full argv (build it with :func:`service_command`; its
    paths must be absolute, since the service does not start in the user's
    working directory). ``environment`` holds extra variables for the service.
    ``log_dir`` receives the service's stdout/stderr where the platform needs a
    file for them (launchd). ``label`` is the stem of the unit/agent/file name.
    """

    command: list[str]
    environment: dict[str, str]
    log_dir: Path
    label: str = "photoseek"


class Autostart(Protocol):
    """One platform's way of running the watch service at login."""

    name: str

    def files(self, spec: ServiceSpec) -> dict[Path, str]:
        """Every file :meth:`install` would write, with its content (no side effects)."""
        ...

    def install(self, spec: ServiceSpec) -> list[str]:
        """Write the files, then enable and start the service; lines saying what was done."""
        ...

    def uninstall(self) -> list[str]:
        """Stop and disable the service and remove its files; safe to repeat."""
        ...

    def status(self) -> str:
        """``installed, running``, ``installed, not running`` or ``not installed``, + detail."""
        ...


# --------------------------------------------------------------------------- command


def service_command(data_dir: Path | None, passthrough: list[str]) -> list[str]:
    """The argv that runs the watch service with this installation of photoseek.

    The program is, in order of preference: the frozen executable inside a
    PyInstaller bundle; the ``photoseek`` console script installed beside the
    running interpreter (so a different ``photoseek`` earlier on ``PATH`` is
    never picked); ``python -m photoseek`` with the running interpreter. Then
    ``--data-dir`` (made absolute), the global options in ``passthrough``
    (e.g. ``["--model", "X"]``; give file paths in them as absolute paths),
    then ``watch``.
    """
    argv = _program()
    if data_dir is not None:
        argv += ["--data-dir", str(Path(data_dir).expanduser().absolute())]
    return [*argv, *passthrough, "watch"]


def _program() -> list[str]:
    """The argv prefix that starts photoseek (see :func:`service_command`)."""
    if not sys.executable:
        raise AutostartError("cannot tell which Python runs photoseek (sys.executable is empty)")
    executable = str(Path(sys.executable).absolute())
    if getattr(sys, "frozen", False):
        return [executable]
    script = shutil.which("photoseek", path=os.pathsep.join(_script_dirs()))
    if script:
        return [str(Path(script).absolute())]
    return [executable, "-m", "photoseek"]


def _script_dirs() -> list[str]:
    """Folders holding the console scripts of the running interpreter's installation."""
    dirs = [sysconfig.get_path("scripts"), str(Path(sys.executable).absolute().parent)]
    return list(dict.fromkeys(d for d in dirs if d))


# --------------------------------------------------------------------------- helpers


_FILE_MODE = 0o644


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0644) atomically, creating missing parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data, mode=_FILE_MODE)


def _default_runner(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output as text; never raises on a non-zero exit."""
    return subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=_COMMAND_TIMEOUT_S
    )


def _first_line(result: subprocess.CompletedProcess[str]) -> str:
    """The first non-empty line of a command's stderr (else stdout), for messages."""
    for text in (result.stderr, result.stdout):
        for line in (text or "").splitlines():
            if line.strip():
                return line.strip()
    return f"exit status {result.returncode}"


def _check_label(label: str) -> str:
    """Refuse a label that is not a plain file-name stem."""
    if not _LABEL_RE.fullmatch(label):
        raise AutostartError(f"invalid service label {label!r}: use letters, digits, '.-_'")
    return label


def _check_environment(environment: dict[str, str]) -> dict[str, str]:
    """Refuse variable names no platform accepts, and NUL or newlines in values."""
    for name, value in environment.items():
        if not _ENV_NAME_RE.fullmatch(name):
            raise AutostartError(f"invalid environment variable name {name!r}")
        if any(ch in value for ch in "\0\r\n"):
            raise AutostartError(f"environment variable {name} contains a NUL or a line break")
    return environment


def _require_utf8(texts: Iterable[str], container: str) -> None:
    """AutostartError for the first text that is not valid UTF-8 (undecodable path bytes)."""
    for text in texts:
        if not is_exact_text(text):
            raise AutostartError(
                f"the path {display_path(text)} is not valid UTF-8, which {container} cannot "
                "hold: choose a data folder (--data-dir) and model files whose names are UTF-8"
            )


def _check_command(command: list[str], *, windows: bool = False) -> list[str]:
    """Refuse an empty command, a relative program path, and NUL characters."""
    if not command:
        raise AutostartError("the service command is empty")
    if not (_is_windows_abs(command[0]) if windows else posixpath.isabs(command[0])):
        raise AutostartError(f"the service program must be an absolute path, not {command[0]!r}")
    if any("\0" in arg for arg in command):
        raise AutostartError("the service command contains a NUL character")
    return command


def _is_windows_abs(path: str) -> bool:
    """True for ``C:\\...`` and ``\\\\server\\share`` paths (checked on any OS)."""
    return bool(re.match(r"[A-Za-z]:[\\/]", path)) or path.startswith("\\\\")


class _CommandRunner:
    """Runs one platform tool, turning "not found" and time-outs into AutostartError."""

    def __init__(self, runner: Runner | None, missing_hint: str) -> None:
        self._runner = runner or _default_runner
        self._missing_hint = missing_hint

    def __call__(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        """Run ``argv``; raise AutostartError if the tool is missing or hangs."""
        log.debug("running %s", argv)
        try:
            result = self._runner(argv)
        except FileNotFoundError as exc:
            raise AutostartError(f"{argv[0]} not found: {self._missing_hint}") from exc
        except subprocess.TimeoutExpired as exc:
            raise AutostartError(f"{' '.join(argv)} did not finish in {exc.timeout} s") from exc
        log.debug("%s exited %d", argv[0], result.returncode)
        return result

    def must(self, argv: list[str], hint: str = "") -> subprocess.CompletedProcess[str]:
        """Run ``argv``; raise AutostartError with its message (+ ``hint``) if it fails."""
        result = self(argv)
        if result.returncode != 0:
            raise AutostartError(f"`{' '.join(argv)}` failed: {_first_line(result)}{hint}")
        return result


# --------------------------------------------------------------------------- files


def _encode(path: Path, text: str) -> bytes:
    """UTF-16 with a BOM for VBScript (WSH reads no UTF-8), UTF-8 otherwise."""
    if path.suffix.lower() == ".vbs":
        return b"\xff\xfe" + text.encode("utf-16-le")
    return text.encode("utf-8")


class _WrittenFiles:
    """The files one install wrote, with what each replaced, so a failed install can be undone."""

    def __init__(self) -> None:
        self._previous: dict[Path, bytes | None] = {}

    def write(self, files: dict[Path, str]) -> list[str]:
        """Write every file atomically; one line per file. AutostartError if one cannot be."""
        for path, text in files.items():
            previous = _read_or_none(path)
            try:
                write_atomic(path, _encode(path, text))
            except OSError as exc:
                shown, reason, undone = display_path(path), exc.strerror or exc, self.undo()
                raise AutostartError(f"cannot write {shown} ({reason}); {undone}") from exc
            self._previous[path] = previous
            log.info("wrote %s", display_path(path))
        return [f"wrote {display_path(path)}" for path in files]

    def undo(self) -> str:
        """Put back what each written file replaced (or remove it); say what was done."""
        done = [self._undo_one(path, previous) for path, previous in self._previous.items()]
        self._previous.clear()
        return "; ".join(done) or "nothing was written"

    @staticmethod
    def _undo_one(path: Path, previous: bytes | None) -> str:
        """Restore or remove one file; a phrase for the error message."""
        shown = display_path(path)
        try:
            if previous is None:
                path.unlink(missing_ok=True)
            else:
                write_atomic(path, previous)
        except OSError as exc:
            log.warning("could not undo the install of %s: %s", shown, exc)
            return f"could not undo the install of {shown} ({exc.strerror or exc}); fix it by hand"
        done = f"removed {shown} again" if previous is None else f"put the previous {shown} back"
        log.info("%s", done)
        return done


def _read_or_none(path: Path) -> bytes | None:
    """A file's bytes, or None when there is no such file."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise AutostartError(f"cannot read {display_path(path)} ({exc.strerror or exc})") from exc


def _write_files(files: dict[Path, str]) -> list[str]:
    """Write every file atomically, with no undo; one line per file."""
    return _WrittenFiles().write(files)


def _remove(path: Path) -> list[str]:
    """Remove a file or symlink if present; a line if something was removed."""
    if not (path.exists() or path.is_symlink()):
        return []
    try:
        path.unlink()
    except OSError as exc:
        raise AutostartError(f"cannot remove {display_path(path)} ({exc.strerror or exc})") from exc
    log.info("removed %s", display_path(path))
    return [f"removed {display_path(path)}"]
