"""macOS autostart: a LaunchAgent loaded into the user's ``gui/<uid>`` launchd domain.

The agent is ``~/Library/LaunchAgents/com.photoseek.watch.plist``; the
service's output goes to a file in the log dir. A plist is UTF-8 XML, so a
path that is not valid UTF-8 cannot be written into it: such a spec is refused
with one clear :class:`~photoseek.autostart.common.AutostartError`.
"""

from __future__ import annotations

import contextlib
import os
import plistlib
import re
from collections.abc import Callable
from pathlib import Path

from photoseek.autostart.common import (
    NOT_INSTALLED,
    NOT_RUNNING,
    RUNNING,
    AutostartError,
    Runner,
    ServiceSpec,
    _check_command,
    _check_environment,
    _check_label,
    _CommandRunner,
    _first_line,
    _remove,
    _require_utf8,
    _WrittenFiles,
    log,
)
from photoseek.paths import make_private_dir
from photoseek.pathtext import display_path

_CANNOT_HOLD = "a LaunchAgent plist"


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
        _require_utf8([*spec.command, *spec.environment.values()], _CANNOT_HOLD)
        _require_utf8([str(self.log_file(spec))], _CANNOT_HOLD)
        return plistlib.dumps(agent).decode("utf-8")

    def _target(self) -> str:
        """``gui/<uid>/com.photoseek.watch``."""
        return f"{domain_of(self.uid)}/{self.agent_label(self.label)}"

    def install(self, spec: ServiceSpec) -> list[str]:
        """Write the plist and (re)load it: bootstrap, falling back to ``load -w``.

        If loading fails, the plist is removed again (or the previous one put
        back) and the error says so.
        """
        files = self.files(spec)
        _make_log_dir(spec.log_dir.absolute())
        written = _WrittenFiles()
        lines = written.write(files)
        try:
            lines += self._load(spec)
        except AutostartError as exc:
            raise AutostartError(f"{exc}; {written.undo()}") from exc
        lines.append(f"output: {display_path(self.log_file(spec))}")
        return lines

    def _load(self, spec: ServiceSpec) -> list[str]:
        """Boot out an older copy, then bootstrap the agent (``load -w`` as a fallback)."""
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
                    f"launchctl could not load {display_path(plist)}: {_first_line(result)}; "
                    f"load -w: {_first_line(fallback)}"
                )
        return [f"loaded {self.agent_label(spec.label)} into {domain} (runs at login)"]

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
            return f"{NOT_RUNNING} (not loaded) ({display_path(path)})"
        if re.search(r"^\s*state = running\s*$", result.stdout or "", re.MULTILINE):
            return f"{RUNNING} ({display_path(path)})"
        match = re.search(r"last exit code = ([^\n]+)", result.stdout or "")
        detail = f"last exit code {match.group(1).strip()}" if match else "loaded"
        return f"{NOT_RUNNING} ({detail}) ({display_path(path)})"


def _make_log_dir(log_dir: Path) -> None:
    """Create the folder launchd writes the service's output to (private to the user)."""
    try:
        make_private_dir(log_dir)
    except OSError as exc:
        raise AutostartError(
            f"cannot create the log folder {display_path(log_dir)} ({exc.strerror or exc})"
        ) from exc


def domain_of(uid: int) -> str:
    """The launchd domain of a user's GUI session."""
    return f"gui/{uid}"


def _current_uid() -> int:
    """The user id (0 where the OS has none, which only happens off macOS)."""
    getuid: Callable[[], int] | None = getattr(os, "getuid", None)
    return getuid() if getuid else 0
