"""When two photos count as near-duplicates: the thresholds and their defaults.

Two photos are joined when **either** test passes:

* their embedding cosine is at least the model's duplicate threshold
  (bursts, crops, edits: what the model sees as the same picture), or
* their pHash Hamming distance is at most :data:`DEFAULT_PHASH_DISTANCE`
  (resized and re-encoded copies, whatever the model).

**The embedding thresholds are PROVISIONAL.** A threshold depends on the
model's geometry (CLIP and SigLIP towers spread images differently), and no
real weights can be loaded on the machine this was written on, so nothing
here was calibrated. 0.95 sits inside the range other tools expose for CLIP
image-image duplicates (Immich lets its users choose a cosine distance from
0.001 to 0.1, that is a cosine from 0.999 down to 0.9, and warns that 0.1
may give false positives); each value must be checked on a real
checkpoint with labelled bursts, edits and distinct photos, and the table
updated per model. Until then ``--threshold`` (and the ``threshold``
argument) overrides it; a value above 1 turns the embedding test off. With
the test suite's random weights, distinct photos reach cosines of 0.99 and
more, so the default is meaningless for them
(``tests/integration/test_duplicates_variants.py``).

The pHash distance default was measured (:mod:`.phash`): resized and
re-encoded variants were at most 6 bits of 64 from their originals, brightness
+20 % at most 8 (99.5 % at most 6), while distinct photos were at least 10
bits apart. 6 keeps every resize and re-encode and two steps of margin to
the nearest distinct pair (distances are even); 8 would catch the last
brightness edits but leave one step, where a library of 100,000 photos tests
over a million candidate pairs, so those few are left to the embedding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from photoseek.core.duplicates.phash import HASH_BITS
from photoseek.core.errors import PhotoseekError

__all__ = [
    "DEFAULT_COSINE",
    "DEFAULT_PHASH_DISTANCE",
    "MODEL_COSINES",
    "Thresholds",
    "default_cosine",
    "thresholds",
]

DEFAULT_PHASH_DISTANCE: Final = 6
"""Bits of 64 two pHashes may differ by and still be duplicates (measured, see above)."""

DEFAULT_COSINE: Final = 0.95
"""PROVISIONAL embedding cosine for a model the table does not name."""

MODEL_COSINES: Final[dict[tuple[str, str], float]] = {
    # PROVISIONAL, every one: to be calibrated on the real checkpoint (module docstring).
    ("ViT-B-32-256", "datacomp_s34b_b86k"): 0.95,
    ("ViT-B-32", "datacomp_xl_s13b_b90k"): 0.95,
    ("xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k"): 0.95,
    ("ViT-B-16-SigLIP2", "webli"): 0.95,
    ("ViT-L-14", "datacomp_xl_s13b_b90k"): 0.95,
}
"""Embedding cosine per (architecture, pretrained tag)."""


@dataclass(frozen=True)
class Thresholds:
    """The two tests of a duplicate search (see the module docstring)."""

    cosine: float
    phash_distance: int

    def __post_init__(self) -> None:
        if not math.isfinite(self.cosine) or not -1.0 <= self.cosine <= 2.0:
            raise PhotoseekError(f"the duplicate threshold is a cosine, not {self.cosine}")
        if not 0 <= self.phash_distance <= HASH_BITS:
            raise PhotoseekError(
                f"the pHash distance is a number of bits from 0 to {HASH_BITS}, "
                f"not {self.phash_distance}"
            )


def default_cosine(arch: str, pretrained: str) -> float:
    """The model's (provisional) duplicate cosine; :data:`DEFAULT_COSINE` when not listed."""
    return MODEL_COSINES.get((arch, pretrained), DEFAULT_COSINE)


def thresholds(
    arch: str, pretrained: str, cosine: float | None = None, phash_distance: int | None = None
) -> Thresholds:
    """The thresholds for a model: the given values, else the defaults."""
    return Thresholds(
        default_cosine(arch, pretrained) if cosine is None else cosine,
        DEFAULT_PHASH_DISTANCE if phash_distance is None else phash_distance,
    )
