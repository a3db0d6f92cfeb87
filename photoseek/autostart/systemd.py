"""Linux autostart: a systemd user unit, enabled and started with ``systemctl --user``.

The unit is ``~/.config/systemd/user/photoseek.service`` (``$XDG_CONFIG_HOME``
is respected); the service's output goes to the journal.

Quoting follows systemd.syntax(7) "Quoting" and systemd.service(5) "Command
lines": every word is double-quoted with C-style escapes (``\\\\`` and ``\\"``),
``%`` (specifiers) is written ``%%`` and, in ExecStart=, ``$`` is written
``$$``. Control characters and each byte of a name that is not valid UTF-8
become ``\\xNN``, which systemd turns back into that very byte, so the service
runs with the exact path bytes. Environment= values must be valid UTF-8
(systemd ignores other assignments), so such a value is refused.
"""

from __future__ import annotations

import os
import posixpath
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
from photoseek.pathtext import display_path


def systemd_quote(arg: str, *, expand_dollar: bool = True) -> str:
    """Quote one word for a systemd unit file (ExecStart= or Environment=).

    Always double-quoted; backslash and quote escaped C-style, control
    characters and undecodable bytes (PEP 383 surrogates) as ``\\xNN``, ``%``
    (specifiers) as ``%%``, and, for ExecStart= where ``$VAR`` is expanded,
    ``$`` as ``$$``. AutostartError for a surrogate that stands for no byte.
    """
    return '"' + "".join(_quote_char(ch, expand_dollar) for ch in arg) + '"'


def _quote_char(ch: str, expand_dollar: bool) -> str:
    """One character of a double-quoted systemd word."""
    if ch in '\\"':
        return "\\" + ch
    if ch == "%":
        return "%%"
    if ch == "$" and expand_dollar:
        return "$$"
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"\\x{ord(ch):02x}"
    if 0xD800 <= ord(ch) <= 0xDFFF:
        return "".join(f"\\x{byte:02x}" for byte in _surrogate_byte(ch))
    return ch


def _surrogate_byte(ch: str) -> bytes:
    """The file-name byte a PEP 383 surrogate stands for."""
    try:
        return ch.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise AutostartError(
            f"the service command holds U+{ord(ch):04X}, which is no file-name byte"
        ) from exc


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
                for key, value in self._environment(spec).items()
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

    @staticmethod
    def _environment(spec: ServiceSpec) -> dict[str, str]:
        """The checked environment; systemd only accepts UTF-8 values."""
        environment = _check_environment(spec.environment)
        _require_utf8(environment.values(), "a systemd Environment= setting")
        return environment

    def install(self, spec: ServiceSpec) -> list[str]:
        """Check systemctl exists, write the unit, reload systemd, enable and (re)start it.

        ``restart`` rather than ``enable --now``, so that reinstalling with new
        options takes effect on a running service. If a ``systemctl`` step
        fails, the unit file is removed again (or the previous one put back)
        and the error says so.
        """
        files = self.files(spec)
        self._run.must(["systemctl", "--version"])
        unit = self.unit_name(spec.label)
        fresh = not self.unit_path(spec.label).exists()
        written = _WrittenFiles()
        lines = written.write(files)
        hint = " (is a user session running? over ssh, `loginctl enable-linger` first)"
        enabled = False
        try:
            for argv in (["daemon-reload"], ["enable", unit], ["restart", unit]):
                self._run.must(["systemctl", "--user", *argv], hint)
                enabled = enabled or argv[0] == "enable"
        except AutostartError as exc:
            undone = self._undo_install(unit, written, disable=fresh and enabled, unlink=fresh)
            raise AutostartError(f"{exc}; {undone}") from exc
        lines.append(f"enabled and started {unit} (systemctl --user)")
        lines.append(f"logs: journalctl --user -u {spec.label}")
        lines.append("it starts when you log in; to run it without a login: loginctl enable-linger")
        return lines

    def _undo_install(
        self, unit: str, written: _WrittenFiles, *, disable: bool, unlink: bool
    ) -> str:
        """After a failed install: undo the file (and a fresh enable), reload; best effort.

        ``disable``: the failed install enabled a unit that was not installed
        before. ``unlink``: remove the ``default.target.wants`` link too.
        """
        if disable:
            try:
                self._run(["systemctl", "--user", "disable", unit])
            except AutostartError as exc:
                log.debug("disable after a failed install: %s", exc)
        done = written.undo()
        if unlink:
            _remove_quietly(self.unit_dir / "default.target.wants" / unit)
        self._reload_quietly()
        return done

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
            return f"{RUNNING} ({display_path(path)})"
        hint = f"see journalctl --user -u {self.label}"
        return f"{NOT_RUNNING} ({state}; {hint}) ({display_path(path)})"


def _remove_quietly(path: Path) -> None:
    """Remove a file or link if present; a failure is only logged."""
    try:
        _remove(path)
    except AutostartError as exc:
        log.warning("%s", exc)


def _systemd_unit_dir(home: Path | None) -> Path:
    """``~/.config/systemd/user``, honouring an absolute ``$XDG_CONFIG_HOME``."""
    if home is None:
        xdg = os.environ.get("XDG_CONFIG_HOME", "")
        config = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    else:
        config = home / ".config"
    return config / "systemd" / "user"
