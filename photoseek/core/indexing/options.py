"""The indexer's tuning knobs, apart from the pipeline so that the library imports them cheaply.

The pipeline module imports Pillow, the decoders and the zero-shot tagging;
the library facade needs only these defaults until it indexes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_BATCH_SIZE = 32


def _default_workers() -> int:
    """Decode threads: half the cores, at least 2 and at most 4."""
    return min(4, max(2, (os.cpu_count() or 2) // 2))


@dataclass
class IndexerOptions:
    """Tuning knobs; the defaults suit a desktop."""

    batch_size: int = DEFAULT_BATCH_SIZE
    workers: int = field(default_factory=_default_workers)
    draft: bool = True  # JPEG draft decoding to just above the model's input size
