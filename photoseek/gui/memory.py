"""Keep Python's full garbage collections short while the app runs.

With the model loaded and 100,000 results in the grid, one full (oldest
generation) collection took 100-400 ms here, measured with ``gc.callbacks``
in the app benchmark's process; it runs in whichever thread triggers it,
holding Python's lock, so the window froze for that long at random moments.
Almost everything alive once the model is ready (torch's and open_clip's
modules, the model's Python objects, the app itself) lives as long as the
process, so :func:`freeze_long_lived_objects` moves it into the collector's
permanent generation (``gc.freeze``): later full collections look only at
what was made since.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def freeze_long_lived_objects() -> None:
    """Exclude every object alive now from later collections (see the module docstring)."""
    gc.freeze()
    log.info("%d long-lived objects moved out of the collector's reach", gc.get_freeze_count())
