"""Background work that stays out of the user's way: low thread priority, battery.

:func:`lower_thread_priority` lowers the CPU and I/O priority of the calling
thread only (the desktop app's worker must not slow the window down, which
a process-wide ``nice`` would): on Linux ``setpriority`` on the thread id and
``ioprio_set`` (best effort, lowest level); on macOS the thread's QoS class
``utility``; on Windows the thread's background mode, which lowers its CPU,
I/O and memory priority together. Threads started by a lowered thread
(the decode pool) inherit the priority on Linux. Nothing here ever raises:
where the platform refuses, the work simply runs at normal priority.

:func:`on_battery` says whether the computer runs on battery (None when it
has no battery or cannot tell), for the watch loop's pause on battery.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

NICE = 10
_IOPRIO_WHO_PROCESS = 1
_IOPRIO_CLASS_BE = 2
_IOPRIO_CLASS_SHIFT = 13
_SYS_IOPRIO_SET = {"x86_64": 251, "aarch64": 30, "arm64": 30}
_QOS_CLASS_UTILITY = 0x11
_THREAD_MODE_BACKGROUND_BEGIN = 0x00010000


def lower_thread_priority() -> bool:
    """Lower the calling thread's CPU and I/O priority; return whether it worked."""
    try:
        if sys.platform.startswith("linux"):
            return _lower_linux()
        if sys.platform == "darwin":
            return _lower_macos()
        if sys.platform == "win32":
            return _lower_windows()
    except Exception as exc:  # never fatal: the work runs at normal priority
        log.debug("could not lower the thread priority: %s", exc)
    return False


def _lower_linux() -> bool:
    tid = threading.get_native_id()
    os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), NICE))
    number = _SYS_IOPRIO_SET.get(os.uname().machine)
    if number is not None:
        libc = ctypes.CDLL(None, use_errno=True)
        value = (_IOPRIO_CLASS_BE << _IOPRIO_CLASS_SHIFT) | 7
        if libc.syscall(number, _IOPRIO_WHO_PROCESS, tid, value) != 0:
            log.debug("ioprio_set refused: errno %d", ctypes.get_errno())
    return True


def _lower_macos() -> bool:
    libc = ctypes.CDLL("/usr/lib/libSystem.dylib")
    return int(libc.pthread_set_qos_class_self_np(_QOS_CLASS_UTILITY, 0)) == 0


def _lower_windows() -> bool:
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    thread = kernel32.GetCurrentThread()
    return bool(kernel32.SetThreadPriority(thread, _THREAD_MODE_BACKGROUND_BEGIN))


def on_battery() -> bool | None:
    """True on battery power, False on mains, None without a battery (or unknown)."""
    try:
        import psutil

        battery = psutil.sensors_battery()
    except Exception:  # no sensors on this platform
        return None
    if battery is None or battery.power_plugged is None:
        return None
    return not battery.power_plugged
