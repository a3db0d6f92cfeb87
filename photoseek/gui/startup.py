"""What the app checks before it creates a QApplication (no Qt import here).

On Linux and the BSDs a window needs an X11 or Wayland display. Started
without one (over ssh, in a cron job, on a server), Qt would abort with a
long message about platform plugins; photoseek says in one line that there
is no display and what works without one instead.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

NO_DISPLAY_MESSAGE = (
    "photoseek: no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
    "use the command line (photoseek --help), or keep the library current with `photoseek watch`"
)

_DISPLAY_PLATFORMS = ("linux", "freebsd", "openbsd", "netbsd", "dragonfly", "sunos")


def missing_display(environ: Mapping[str, str], platform: str | None = None) -> bool:
    """Whether a window cannot be shown: an X11/Wayland platform with no display set.

    Choosing a Qt platform plugin yourself (``QT_QPA_PLATFORM``: ``offscreen``,
    ``vnc``, ``eglfs`` ...) counts as knowing what you do.
    """
    platform = platform or sys.platform
    if not platform.startswith(_DISPLAY_PLATFORMS):
        return False  # macOS and Windows always have their own window system
    if environ.get("QT_QPA_PLATFORM"):
        return False
    return not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))
