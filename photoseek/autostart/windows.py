"""Windows autostart: a hidden-window VBScript in the user's Startup folder.

Installing does not start it: Windows runs it at the next logon (the install
lines say how to start it at once). Output is discarded; photoseek's own log
file keeps the record. The script is UTF-16 text, which cannot hold a path
that is not valid Unicode (a lone surrogate): such a spec is refused with one
clear :class:`~photoseek.autostart.common.AutostartError`.
"""

from __future__ import annotations

import os
from pathlib import Path

from photoseek.autostart.common import (
    NOT_INSTALLED,
    AutostartError,
    ServiceSpec,
    _check_command,
    _check_environment,
    _check_label,
    _remove,
    _require_utf8,
    _write_files,
)
from photoseek.pathtext import display_path

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
        _require_utf8([*command, *spec.environment.values()], "a Windows startup script")
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
            return f"installed (starts at next logon) ({display_path(path)})"
        return NOT_INSTALLED


def _windows_startup_dir(home: Path | None) -> Path:
    """The per-user Startup folder, from ``%APPDATA%`` unless ``home`` is given."""
    appdata = os.environ.get("APPDATA", "") if home is None else ""
    roaming = Path(appdata) if appdata else (home or Path.home()) / "AppData" / "Roaming"
    return roaming / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
