"""Label vectors from prompt ensembles, and image-to-label probabilities.

:func:`label_vectors` embeds every prompt of every label once (in batches),
normalises each, averages a label's prompts and normalises the mean: for a
label without synonyms or prompts of its own that is exactly open_clip's
``build_zero_shot_classifier`` (``tests/core/test_zeroshot.py`` checks it on
the tiny model). :class:`Scoring` turns cosines into probabilities by the
rule of the model's training: CLIP-trained models learned a softmax over
the batch, so a set's probabilities are ``softmax(scale * cos)`` across its
labels and sum to 1; SigLIP-trained ones learned a sigmoid per pair, so each
label gets ``sigmoid(scale * cos + bias)`` on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from photoseek.core.lazyimport import lazy_module
from photoseek.core.vectors.codec import FloatArray, normalize
from photoseek.core.zeroshot.labels import Label, LabelSet
from photoseek.core.zeroshot.templates import TemplateSet

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = ["Scoring", "TextsEncoder", "label_prompts", "label_vectors"]

TextsEncoder = Callable[[Sequence[str]], FloatArray]  # texts -> (n, dim) unit vectors


def label_prompts(label: Label, templates: TemplateSet) -> list[str]:
    """Every prompt of ``label``: each template with each term, then its own prompts."""
    filled = [prompt for term in label.terms for prompt in templates.fill(term)]
    return filled + list(label.prompts)


def label_vectors(encode: TextsEncoder, labels: LabelSet, templates: TemplateSet) -> FloatArray:
    """One unit vector per label: the normalised mean of its normalised prompt vectors."""
    prompts = [label_prompts(label, templates) for label in labels.labels]
    flat = [prompt for group in prompts for prompt in group]
    vectors = normalize(encode(flat)) if flat else np.zeros((0, 0), np.float32)
    means = []
    start = 0
    for group in prompts:
        means.append(vectors[start : start + len(group)].mean(axis=0))
        start += len(group)
    return normalize(np.stack(means)) if means else vectors


@dataclass(frozen=True)
class Scoring:
    """How a model family turns cosines into probabilities (see the module docstring)."""

    logit_scale: float
    logit_bias: float | None = None  # set: SigLIP (a sigmoid per label)

    @property
    def family(self) -> str:
        """``"siglip"`` or ``"clip"``."""
        return "clip" if self.logit_bias is None else "siglip"

    def probabilities(self, image_vectors: FloatArray, label_vectors: FloatArray) -> FloatArray:
        """(images, labels) probabilities from unit image and label vectors."""
        logits = np.atleast_2d(image_vectors) @ label_vectors.T * self.logit_scale
        if self.logit_bias is not None:
            result: FloatArray = (1.0 / (1.0 + np.exp(-(logits + self.logit_bias)))).astype(
                np.float32
            )
            return result
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        softmax: FloatArray = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
        return softmax
