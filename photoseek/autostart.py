"""Start ``photoseek watch`` at login: ``photoseek service install|uninstall|status``.

One implementation per platform, all behind the :class:`Autostart` protocol:

* Linux: a systemd user unit, ``~/.config/systemd/user/photoseek.service``
  (``$XDG_CONFIG_HOME`` is respected), enabled and started with
  ``systemctl --user``. Output goes to the journal.
* macOS: a LaunchAgent, ``~/Library/LaunchAgents/com.photoseek.watch.plist``,
  loaded with ``launchctl bootstrap gui/<uid>``. Output goes to a file in the
  log dir.
* Windows: a hidden-window VBScript in the user's Startup folder. Installing
  does not start it: Windows runs it at the next logon (the install lines say
  how to start it at once). Output is discarded; photoseek's own log file
  keeps the record.

:meth:`Autostart.files` is pure, so tests check every byte that would be
written on every platform from one machine. Commands (``systemctl``,
``launchctl``) go through an injectable runner. Every file is written
atomically (temporary file, fsync, ``os.replace``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import plistlib
import posixpath
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

Runner = Callable[[list[str]], subprocess.CompletedProcess[str]]

RUNNING = "installed, running"
NOT_RUNNING = "installed, not running"
NOT_INSTALLED = "not installed"

_COMMAND_TIMEOUT_S = 60
_LABEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class AutostartError(Exception):
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


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file, fsync and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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


# --------------------------------------------------------------------------- systemd


def systemd_quote(arg: str, *, expand_dollar: bool = True) -> str:
    """Quote one word for a systemd unit file (ExecStart= or Environment=).

    Always double-quoted; backslash and quote escaped C-style, control
    characters as ``\\xNN``, ``%`` (specifiers) as ``%%``, and, for ExecStart=
    where ``$VAR`` is expanded, ``$`` as ``$$``.
    """
    out = []
    for ch in arg:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "%":
            out.append("%%")
        elif ch == "$" and expand_dollar:
            out.append("$$")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


class SystemdUserUnit:
    """Linux: a systemd user service, enabled for ``default.target``."""

    name: str = "systemd user unit"

    def __init__(
        self, unit_dir: Path, runner: Runner | None = None, label: str = "photoseek"
    ) -> None:
        self.unit_dir = unit_dir
        self.label = _check_label(label)
        self._run = _CommandRunner(
            runner,
            "is this a systemd system? Without systemd, start `photoseek watch` "
            "from your session's autostart instead.",
        )

    def unit_name(self, label: str | None = None) -> str:
        """``photoseek.service`` for the default label."""
        return f"{label or self.label}.service"

    def unit_path(self, label: str | None = None) -> Path:
        """Where the unit file lives."""
        return self.unit_dir / self.unit_name(label)

    def files(self, spec: ServiceSpec) -> dict[Path, str]:
        """The unit file."""
        return {self.unit_path(_check_label(spec.label)): self.unit_text(spec)}

    def unit_text(self, spec: ServiceSpec) -> str:
        """The unit file's content."""
        command = list(_check_command(spec.command))
        command[0] = posixpath.normpath(command[0])
        lines = [
            "# Written by `photoseek service install`; remove with `photoseek service uninstall`.",
            "# Logs: journalctl --user -u " + self.unit_name(spec.label),
            "[Unit]",
            "Description=photoseek folder watcher",
            # No After=: WantedBy=default.target pulls it in once the user manager is up
            # (ordered after basic.target by default); graphical-session.target does not
            # exist on a headless machine.
            "StartLimitIntervalSec=300",
            "StartLimitBurst=5",
            "",
            "[Service]",
            "Type=simple",
            "ExecStart=" + " ".join(systemd_quote(arg) for arg in command),
            *(
                "Environment=" + systemd_quote(f"{key}={value}", expand_dollar=False)
                for key, value in _check_environment(spec.environment).items()
            ),
            "Restart=on-failure",
            "RestartSec=10",
            "KillSignal=SIGTERM",
            "TimeoutStopSec=30",
            "Nice=10",
            "IOSchedulingClass=idle",
            "CPUWeight=20",
            "",
            "[Install]",
            "WantedBy=default.target",
        ]
        return "\n".join(lines) + "\n"

    def install(self, spec: ServiceSpec) -> list[str]:
        """Check systemctl exists, write the unit, reload systemd, enable and (re)start it.

        ``restart`` rather than ``enable --now``, so that reinstalling with new
        options takes effect on a running service.
        """
        files = self.files(spec)
        self._run.must(["systemctl", "--version"])
        lines = _write_files(files)
        unit = self.unit_name(spec.label)
        hint = " (is a user session running? over ssh, `loginctl enable-linger` first)"
        for argv in (["daemon-reload"], ["enable", unit], ["restart", unit]):
            self._run.must(["systemctl", "--user", *argv], hint)
        lines.append(f"enabled and started {unit} (systemctl --user)")
        lines.append(f"logs: journalctl --user -u {spec.label}")
        lines.append("it starts when you log in; to run it without a login: loginctl enable-linger")
        return lines

    def uninstall(self) -> list[str]:
        """Stop and disable the unit (ignoring "not loaded"), remove it, reload."""
        unit, path = self.unit_name(), self.unit_path()
        lines = self._disable(unit)
        removed = _remove(path) + _remove(self.unit_dir / "default.target.wants" / unit)
        lines += removed
        if removed:
            lines += self._reload_quietly()
        if not lines:
            lines.append(f"{unit} was not installed")
        return lines

    def _disable(self, unit: str) -> list[str]:
        """``systemctl --user disable --now``; failures only become a line of text."""
        try:
            result = self._run(["systemctl", "--user", "disable", "--now", unit])
        except AutostartError as exc:
            return [] if not self.unit_path().exists() else [f"could not stop {unit}: {exc}"]
        if result.returncode == 0:
            return [f"stopped and disabled {unit}"]
        log.debug("disable %s: %s", unit, _first_line(result))
        if not self.unit_path().exists():
            return []
        return [f"could not stop {unit}: {_first_line(result)}"]

    def _reload_quietly(self) -> list[str]:
        """``systemctl --user daemon-reload``, reporting rather than raising a failure."""
        try:
            result = self._run(["systemctl", "--user", "daemon-reload"])
        except AutostartError as exc:
            return [str(exc)]
        return [] if result.returncode == 0 else [f"daemon-reload failed: {_first_line(result)}"]

    def status(self) -> str:
        """From the unit file's presence and ``systemctl --user is-active``."""
        path, unit = self.unit_path(), self.unit_name()
        try:
            result = self._run(["systemctl", "--user", "is-active", unit])
        except AutostartError as exc:
            return f"installed, state unknown ({exc})" if path.exists() else NOT_INSTALLED
        state = (result.stdout or "").strip() or _first_line(result)
        if not path.exists():
            return NOT_INSTALLED + (f" (but {unit} is {state})" if result.returncode == 0 else "")
        if result.returncode == 0:
            return f"{RUNNING} ({path})"
        return f"{NOT_RUNNING} ({state}; see journalctl --user -u {self.label}) ({path})"


# --------------------------------------------------------------------------- launchd


class LaunchAgent:
    """macOS: a per-user LaunchAgent, loaded into the ``gui/<uid>`` domain."""

    name: str = "LaunchAgent"

    def __init__(
        self,
        agents_dir: Path,
        runner: Runner | None = None,
        label: str = "photoseek",
        uid: int | None = None,
    ) -> None:
        self.agents_dir = agents_dir
        self.label = _check_label(label)
        self.uid = uid if uid is not None else _current_uid()
        self._run = _CommandRunner(runner, "LaunchAgents need macOS's launchctl.")

    @staticmethod
    def agent_label(label: str) -> str:
        """``com.photoseek.watch`` for the default label."""
        return f"com.{label}.watch"

    def plist_path(self, label: str | None = None) -> Path:
        """Where the agent's plist lives."""
        return self.agents_dir / f"{self.agent_label(label or self.label)}.plist"

    def log_file(self, spec: ServiceSpec) -> Path:
        """Where launchd sends the service's stdout and stderr."""
        return spec.log_dir.absolute() / f"{spec.label}-watch-service.log"

    def files(self, spec: ServiceSpec) -> dict[Path, str]:
        """The plist."""
        return {self.plist_path(_check_label(spec.label)): self.plist_text(spec)}

    def plist_text(self, spec: ServiceSpec) -> str:
        """The plist's XML."""
        agent: dict[str, object] = {
            "Label": self.agent_label(spec.label),
            "ProgramArguments": _check_command(spec.command),
            "RunAtLoad": True,
            "KeepAlive": {"SuccessfulExit": False},
            "ThrottleInterval": 10,
            "ProcessType": "Background",
            "LowPriorityIO": True,
            "Nice": 10,
            "ExitTimeOut": 30,
            "StandardOutPath": str(self.log_file(spec)),
            "StandardErrorPath": str(self.log_file(spec)),
        }
        if spec.environment:
            agent["EnvironmentVariables"] = dict(_check_environment(spec.environment))
        return plistlib.dumps(agent).decode("utf-8")

    def _target(self) -> str:
        """``gui/<uid>/com.photoseek.watch``."""
        return f"{domain_of(self.uid)}/{self.agent_label(self.label)}"

    def install(self, spec: ServiceSpec) -> list[str]:
        """Write the plist and (re)load it: bootstrap, falling back to ``load -w``."""
        spec.log_dir.mkdir(parents=True, exist_ok=True)
        lines = _write_files(self.files(spec))
        plist = str(self.plist_path(spec.label))
        domain = domain_of(self.uid)
        target = f"{domain}/{self.agent_label(spec.label)}"
        self._run(["launchctl", "bootout", target])  # an older copy may be loaded
        self._run(["launchctl", "enable", target])  # clears a "disabled" override
        result = self._run(["launchctl", "bootstrap", domain, plist])
        if result.returncode != 0:
            log.info("launchctl bootstrap failed (%s); trying load -w", _first_line(result))
            fallback = self._run(["launchctl", "load", "-w", plist])
            if fallback.returncode != 0:
                raise AutostartError(
                    f"launchctl could not load {plist}: {_first_line(result)}; "
                    f"load -w: {_first_line(fallback)}"
                )
        lines.append(f"loaded {self.agent_label(spec.label)} into {domain} (runs at login)")
        lines.append(f"output: {self.log_file(spec)}")
        return lines

    def uninstall(self) -> list[str]:
        """Boot the agent out (ignoring "not loaded") and remove the plist."""
        lines: list[str] = []
        with contextlib.suppress(AutostartError):
            if self._run(["launchctl", "bootout", self._target()]).returncode == 0:
                lines.append(f"stopped {self.agent_label(self.label)}")
        lines += _remove(self.plist_path())
        return lines or [f"{self.agent_label(self.label)} was not installed"]

    def status(self) -> str:
        """From the plist's presence and ``launchctl print``."""
        path = self.plist_path()
        if not path.exists():
            return NOT_INSTALLED
        try:
            result = self._run(["launchctl", "print", self._target()])
        except AutostartError as exc:
            return f"installed, state unknown ({exc})"
        if result.returncode != 0:
            return f"{NOT_RUNNING} (not loaded) ({path})"
        if re.search(r"^\s*state = running\s*$", result.stdout or "", re.MULTILINE):
            return f"{RUNNING} ({path})"
        match = re.search(r"last exit code = ([^\n]+)", result.stdout or "")
        detail = f"last exit code {match.group(1).strip()}" if match else "loaded"
        return f"{NOT_RUNNING} ({detail}) ({path})"


def domain_of(uid: int) -> str:
    """The launchd domain of a user's GUI session."""
    return f"gui/{uid}"


def _current_uid() -> int:
    """The user id (0 where the OS has none, which only happens off macOS)."""
    getuid: Callable[[], int] | None = getattr(os, "getuid", None)
    return getuid() if getuid else 0


# --------------------------------------------------------------------------- Windows

_PERCENT_VAR = "PHOTOSEEK_PERCENT_SIGN"


def windows_quote(arg: str) -> str:
    """Quote one argument the way the Microsoft C runtime (and Python) parses it back."""
    if arg and not any(ch in arg for ch in ' \t\n\v"'):
        return arg
    out, backslashes = ['"'], 0
    for ch in arg:
        if ch == "\\":
            backslashes += 1
            continue
        if ch == '"':
            out.append("\\" * (2 * backslashes + 1) + '"')
        else:
            out.append("\\" * backslashes + ch)
        backslashes = 0
    out.append("\\" * (2 * backslashes) + '"')
    return "".join(out)


def windows_command_line(command: list[str]) -> str:
    """The command line for argv: the program in plain quotes (no escapes apply to it)."""
    program = command[0]
    if '"' in program:
        raise AutostartError(f"a Windows program path cannot contain a quote: {program!r}")
    return " ".join([f'"{program}"', *(windows_quote(arg) for arg in command[1:])])


def vbs_string(text: str) -> str:
    """A VBScript string literal (quotes doubled; line breaks are refused earlier)."""
    return '"' + text.replace('"', '""') + '"'


class WindowsStartupEntry:
    """Windows: a ``.vbs`` in the Startup folder that runs the service with no window."""

    name: str = "Windows Startup entry"

    def __init__(self, startup_dir: Path, label: str = "photoseek") -> None:
        self.startup_dir = startup_dir
        self.label = _check_label(label)

    def script_path(self, label: str | None = None) -> Path:
        """Where the script lives."""
        return self.startup_dir / f"{label or self.label}-watch.vbs"

    def files(self, spec: ServiceSpec) -> dict[Path, str]:
        """The script."""
        return {self.script_path(_check_label(spec.label)): self.script_text(spec)}

    def script_text(self, spec: ServiceSpec) -> str:
        """The VBScript (CRLF line ends; written as UTF-16 so any path survives).

        ``WshShell.Run`` expands ``%NAME%`` in its command line and offers no
        escape, so each ``%`` in the command becomes ``%PHOTOSEEK_PERCENT_SIGN%``,
        a variable this script sets to ``%`` (the expansion is single-pass).
        """
        command = _check_command(spec.command, windows=True)
        if any(ch in arg for arg in command for ch in "\r\n"):
            raise AutostartError("a Windows startup command cannot contain a line break")
        line = windows_command_line(command)
        environment = dict(_check_environment(spec.environment))
        if "%" in line:
            line = line.replace("%", f"%{_PERCENT_VAR}%")
            environment[_PERCENT_VAR] = "%"
        lines = [
            "' photoseek folder watcher, run at logon from the Startup folder.",
            "' Written by `photoseek service install`; remove with `photoseek service uninstall`.",
            "Option Explicit",
            "Dim shell, env",
            'Set shell = CreateObject("WScript.Shell")',
            'Set env = shell.Environment("Process")',
            *(f"env({vbs_string(k)}) = {vbs_string(v)}" for k, v in environment.items()),
            f"shell.Run {vbs_string(line)}, 0, False",
        ]
        return "\r\n".join(lines) + "\r\n"

    def install(self, spec: ServiceSpec) -> list[str]:
        """Write the script; it starts at the next logon (nothing is started now)."""
        lines = _write_files(self.files(spec))
        path = self.script_path(spec.label)
        lines.append("photoseek watch starts hidden at your next logon")
        lines.append(f'to start it now: wscript "{path}"')
        return lines

    def uninstall(self) -> list[str]:
        """Remove the script (a running watcher keeps running until logoff)."""
        removed = _remove(self.script_path())
        if not removed:
            return [f"{self.script_path().name} was not installed"]
        return [*removed, "a photoseek watch already running stops at logoff (or in Task Manager)"]

    def status(self) -> str:
        """Whether the script is in the Startup folder (running state is not checked)."""
        path = self.script_path()
        if path.exists():
            return f"installed (starts at next logon) ({path})"
        return NOT_INSTALLED


# --------------------------------------------------------------------------- shared


def _encode(path: Path, text: str) -> bytes:
    """UTF-16 with a BOM for VBScript (WSH reads no UTF-8), UTF-8 otherwise."""
    if path.suffix.lower() == ".vbs":
        return b"\xff\xfe" + text.encode("utf-16-le")
    return text.encode("utf-8")


def _write_files(files: dict[Path, str]) -> list[str]:
    """Write every file atomically; one line per file."""
    for path, text in files.items():
        write_atomic(path, _encode(path, text))
        log.info("wrote %s", path)
    return [f"wrote {path}" for path in files]


def _remove(path: Path) -> list[str]:
    """Remove a file or symlink if present; a line if something was removed."""
    if not (path.exists() or path.is_symlink()):
        return []
    path.unlink()
    log.info("removed %s", path)
    return [f"removed {path}"]


def _systemd_unit_dir(home: Path | None) -> Path:
    """``~/.config/systemd/user``, honouring an absolute ``$XDG_CONFIG_HOME``."""
    if home is None:
        xdg = os.environ.get("XDG_CONFIG_HOME", "")
        config = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    else:
        config = home / ".config"
    return config / "systemd" / "user"


def _windows_startup_dir(home: Path | None) -> Path:
    """The per-user Startup folder, from ``%APPDATA%`` unless ``home`` is given."""
    appdata = os.environ.get("APPDATA", "") if home is None else ""
    roaming = Path(appdata) if appdata else (home or Path.home()) / "AppData" / "Roaming"
    return roaming / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"


def for_platform(
    platform: str | None = None,
    *,
    home: Path | None = None,
    runner: Runner | None = None,
    label: str = "photoseek",
) -> Autostart:
    """The autostart implementation for ``platform`` (a ``sys.platform`` value).

    ``home`` overrides the user's home folder and ``runner`` runs platform
    commands (both for tests). ``label`` names the entry that
    :meth:`Autostart.uninstall` and :meth:`Autostart.status` look at.
    """
    platform = platform or sys.platform
    if platform.startswith("linux"):
        return SystemdUserUnit(_systemd_unit_dir(home), runner, label)
    if platform == "darwin":
        agents = (home or Path.home()) / "Library" / "LaunchAgents"
        return LaunchAgent(agents, runner, label)
    if platform == "win32":
        return WindowsStartupEntry(_windows_startup_dir(home), label)
    raise AutostartError(
        f"autostart is not supported on {platform}: start `photoseek watch` from your own "
        "startup script"
    )
