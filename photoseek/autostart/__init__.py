"""Start ``photoseek watch`` at login: ``photoseek service install|uninstall|status``.

One implementation per platform, all behind the :class:`Autostart` protocol:

* Linux (:mod:`.systemd`): a systemd user unit,
  ``~/.config/systemd/user/photoseek.service`` (``$XDG_CONFIG_HOME`` is
  respected), enabled and started with ``systemctl --user``. Output goes to
  the journal.
* macOS (:mod:`.launchd`): a LaunchAgent,
  ``~/Library/LaunchAgents/com.photoseek.watch.plist``, loaded with
  ``launchctl bootstrap gui/<uid>``. Output goes to a file in the log dir.
* Windows (:mod:`.windows`): a hidden-window VBScript in the user's Startup
  folder. Installing does not start it: Windows runs it at the next logon (the
  install lines say how to start it at once). Output is discarded; photoseek's
  own log file keeps the record.

:meth:`Autostart.files` is pure, so tests check every byte that would be
written on every platform from one machine. Commands (``systemctl``,
``launchctl``) go through an injectable runner. Every file is written
atomically (temporary file, fsync, ``os.replace``). The shared pieces
(:class:`ServiceSpec`, :class:`AutostartError`, :func:`service_command`, the
runner and file helpers) live in :mod:`.common`.

This module re-exports the public API and chooses the implementation with
:func:`for_platform`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from photoseek.autostart.common import (
    NOT_INSTALLED,
    NOT_RUNNING,
    RUNNING,
    Autostart,
    AutostartError,
    Runner,
    ServiceSpec,
    log,
    service_command,
    write_atomic,
)
from photoseek.autostart.launchd import LaunchAgent, domain_of
from photoseek.autostart.systemd import SystemdUserUnit, _systemd_unit_dir, systemd_quote
from photoseek.autostart.windows import (
    WindowsStartupEntry,
    _windows_startup_dir,
    vbs_string,
    windows_command_line,
    windows_quote,
)

__all__ = [
    "NOT_INSTALLED",
    "NOT_RUNNING",
    "RUNNING",
    "Autostart",
    "AutostartError",
    "LaunchAgent",
    "Runner",
    "ServiceSpec",
    "SystemdUserUnit",
    "WindowsStartupEntry",
    "domain_of",
    "for_platform",
    "log",
    "service_command",
    "systemd_quote",
    "vbs_string",
    "windows_command_line",
    "windows_quote",
    "write_atomic",
]


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
