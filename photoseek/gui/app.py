"""The desktop app's entry point: ``photoseek`` without a command.

Start-up, in order, and why:

1. Without a display (Linux/BSD, no ``DISPLAY``/``WAYLAND_DISPLAY``, no
   ``QT_QPA_PLATFORM``): one line on stderr, exit 1, no QApplication.
2. Logging, the QApplication (names, icon, the system's light/dark scheme).
3. One app per user and library: a second start asks the first to raise its
   window and exits 0 (:mod:`photoseek.gui.instance`).
4. The library (the :class:`Library` facade imports no torch), the window,
   ``show()``. The time from process start to this moment is logged as
   ``window_shown`` (a benchmark reads it; :data:`started_at` is the start).
5. Then the workers: the model loads while the user types, the background
   worker indexes (or follows a watch service), the follower brings changes.

The model is the command line's (``--model``/``--pretrained``, or their
environment variables) when given, else the one chosen in the settings,
else the default; the device likewise. Nothing on this path opens a dialog:
a library that cannot be opened gets a window that says why.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from photoseek.gui.startup import NO_DISPLAY_MESSAGE, missing_display

log = logging.getLogger("photoseek.gui")

EXIT_OK, EXIT_ERROR = 0, 1


def _process_start() -> float:
    """When this process started (wall clock), as precisely as the system says.

    Linux: from ``/proc`` (the start in clock ticks against the uptime: about
    10 ms; psutil's figure there rests on a boot time rounded to the second).
    Elsewhere psutil (macOS and Windows keep the start time precisely), else now.
    """
    age = _linux_process_age()
    if age is not None:
        return time.time() - age
    try:
        import psutil

        return float(psutil.Process().create_time())
    except Exception:  # no psutil support here: the import time is close enough
        return time.time()


def _linux_process_age() -> float | None:
    """Seconds since this process started, from /proc (None elsewhere)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:  # noqa: PTH123
            fields = stat.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as uptime:  # noqa: PTH123
            now = float(uptime.read().split()[0])
        return max(0.0, now - int(fields[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return None


started_at = _process_start()
window_shown_at: float | None = None


def main(args: argparse.Namespace | None = None) -> int:
    """Run the app with the CLI's global options; the exit code."""
    if missing_display(os.environ):
        sys.stderr.write(NO_DISPLAY_MESSAGE + "\n")
        return EXIT_ERROR
    if args is None:
        from photoseek.cli import build_parser

        args = build_parser().parse_args([])
    from photoseek.gui.launch import run

    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
