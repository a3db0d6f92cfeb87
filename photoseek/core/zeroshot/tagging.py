"""Tags: every label a photo matches, by a rule that allows none, one or several.

The rule (multi-label: labels are scored independently, never an argmax):
a photo gets a label when the label's *margin* reaches the threshold::

    margin = cos(photo, label vector) - cos(photo, neutral vector)

The neutral vector is the ensemble of prompts that name nothing ("a
photo.", "a picture." ...). A raw cosine says little on its own: CLIP's
cosines sit in a narrow band whose level moves with the photo (a busy street
scores higher against every label than a plain wall). Subtracting what the
photo scores against a caption that says nothing removes that level, so one
threshold serves every photo and every label; a photo that matches nothing
in the set gets no tag. Softmax probabilities would force the labels to
compete and always crown one.

The margins are stored (one float16 blob per photo and label space), so a
new threshold re-tags from them without the model. The threshold is the
user's setting, else the model's default (:data:`DEFAULT_THRESHOLDS`, else
:data:`DEFAULT_THRESHOLD`). The defaults are provisional: no real weights can
be downloaded where this was written. Calibrate them on a real checkpoint with
``photoseek eval zeroshot LABELS.tsv``, which prints the margin threshold with
the best F1 over its labelled images (README, "Tags").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from photoseek.core.catalog.tags import StoredSpace
from photoseek.core.lazyimport import lazy_module
from photoseek.core.vectors.codec import FloatArray, normalize
from photoseek.core.zeroshot.labels import LabelSet
from photoseek.core.zeroshot.service import ZeroShot
from photoseek.core.zeroshot.templates import TemplateSet

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = [
    "DEFAULT_THRESHOLD",
    "DEFAULT_THRESHOLDS",
    "NEUTRAL_PROMPTS",
    "best_f1_threshold",
    "build_space",
    "default_threshold",
    "margins",
    "space_key",
    "templates_of",
]

NEUTRAL_PROMPTS = (
    "a photo.",
    "a picture.",
    "an image.",
    "a photo of something.",
    "a snapshot.",
    "a photo of an object.",
)
DEFAULT_THRESHOLD = 0.03  # provisional (see the module docstring)
DEFAULT_THRESHOLDS: dict[str, float] = {}  # per architecture, once calibrated
_CHUNK = 32_768


def default_threshold(arch: str) -> float:
    """The model's default margin threshold."""
    return DEFAULT_THRESHOLDS.get(arch, DEFAULT_THRESHOLD)


def build_space(
    zeroshot: ZeroShot, model_id: int, labels: LabelSet, templates: TemplateSet
) -> StoredSpace:
    """The label vectors of ``labels`` with the neutral vector last, ready to store."""
    vectors = zeroshot.label_vectors(labels, templates)
    neutral = normalize(zeroshot.text_vectors(list(NEUTRAL_PROMPTS)).mean(axis=0))
    stacked = np.concatenate([vectors, neutral]).astype(np.float32)
    space = space_key(labels, templates)
    return StoredSpace(model_id, space, labels.name, tuple(labels.names), stacked, None)


def space_key(labels: LabelSet, templates: TemplateSet) -> str:
    """What a label space is stored under: the set's digest and the templates' key."""
    return f"{labels.digest}:{templates.key}"


def templates_of(space: str) -> str:
    """The template set's name in a stored space key."""
    return space.split(":", 1)[-1].rsplit(".", 1)[0]


def margins(space_vectors: FloatArray, image_vectors: np.ndarray) -> FloatArray:
    """(images, labels) margins over the neutral vector (the last row of ``space_vectors``).

    ``image_vectors`` may be float16 as stored: they are converted and
    multiplied with torch in chunks (numpy's float16 conversion alone took
    longer than the whole re-tagging should).
    """
    import torch

    images = np.atleast_2d(image_vectors)
    labels = torch.from_numpy(np.ascontiguousarray(space_vectors, np.float32)).T
    parts = []
    for start in range(0, len(images), _CHUNK):
        chunk = torch.from_numpy(np.array(images[start : start + _CHUNK]))  # writable copy
        parts.append((chunk.to(torch.float32) @ labels).numpy())
    cosines = np.concatenate(parts) if parts else np.zeros((0, len(space_vectors)), np.float32)
    result: FloatArray = (cosines[:, :-1] - cosines[:, -1:]).astype(np.float32)
    return result


def best_f1_threshold(scores: FloatArray, truth: FloatArray) -> tuple[float, float]:
    """The threshold on ``scores`` (images, labels) with the best micro-F1 against the
    boolean ``truth``, and that F1."""
    flat, wanted = scores.ravel(), truth.ravel().astype(bool)
    order = np.argsort(-flat, kind="stable")
    hits = np.cumsum(wanted[order])
    predicted = np.arange(1, len(flat) + 1)
    f1 = 2 * hits / (predicted + wanted.sum())
    best = int(np.argmax(f1))
    return float(flat[order][best]), float(f1[best])
