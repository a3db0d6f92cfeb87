"""The headless folder-watch service behind ``photoseek watch`` (no Qt).

A thin wrapper: the watch loop itself is :class:`photoseek.core.watch.service.WatchService`,
which the desktop app's background worker runs too. This module turns
SIGTERM and SIGINT into the loop's stop request (the batch in progress is
committed, the index saved, the lock released) and restores the handlers.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from photoseek.core.library import Library
from photoseek.core.progress import Progress
from photoseek.core.reports import read_state, state_path
from photoseek.core.watch.service import ServiceOptions, ServiceState, WatchService

__all__ = [
    "ServiceOptions",
    "ServiceState",
    "WatchService",
    "read_state",
    "run_service",
    "state_path",
]

log = logging.getLogger(__name__)


def run_service(
    library: Library,
    *,
    once: bool = False,
    wait: bool = True,
    on_progress: Callable[[Progress], None] | None = None,
    options: ServiceOptions | None = None,
) -> None:
    """Run the watch loop in this thread until SIGTERM or SIGINT (or, with ``once``, caught up)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    handlers = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        WatchService(library, options, on_progress=on_progress).run(stop, once=once, wait=wait)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
