"""Running the evaluation harness with a loaded model (``photoseek eval ...``).

Every image named in the pairs file is embedded once (unreadable ones are
skipped and listed); captions are embedded in batches; for zero-shot, the
classes are the distinct labels and each is scored with four prompt modes
side by side: the bare label, the single default prompt, OpenAI's 7
templates and the CLIP paper's 80.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from photoseek.core.errors import PhotoseekError
from photoseek.core.lazyimport import lazy_module
from photoseek.core.vectors.codec import FloatArray, normalize
from photoseek.core.zeroshot.evaluation import KS, Pair, retrieval_recall, zeroshot_accuracy
from photoseek.core.zeroshot.labels import Label, LabelSet
from photoseek.core.zeroshot.service import ZeroShot
from photoseek.core.zeroshot.tagging import NEUTRAL_PROMPTS, best_f1_threshold, margins
from photoseek.core.zeroshot.templates import DEFAULT_TEMPLATES, template_set

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = ["PROMPT_MODES", "EvalReport", "evaluate_retrieval", "evaluate_zeroshot"]

PROMPT_MODES = ("bare", "photo", "simple", "openai")  # template sets, in the table's order


@dataclass
class EvalReport:
    """What a run measured: ``scores[row][k]`` (rows: directions or prompt modes)."""

    kind: str
    images: int
    texts: int
    scores: dict[str, dict[int, float]]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0
    calibration: tuple[float, float] | None = None  # zeroshot: best-F1 tag threshold, its F1


def _distinct_images(pairs: list[Pair]) -> tuple[list[Path], list[int]]:
    """The images in first-seen order, and each pair's image number."""
    number: dict[Path, int] = {}
    of_pair = [number.setdefault(pair.image, len(number)) for pair in pairs]
    return list(number), of_pair


def evaluate_retrieval(zeroshot: ZeroShot, pairs: list[Pair]) -> EvalReport:
    """Text-to-image and image-to-text Recall@1/5/10 over the images ``pairs`` name."""
    started = time.perf_counter()
    images, image_of_pair = _distinct_images(pairs)
    kept, image_vectors, skipped = zeroshot.image_vectors(images)
    row_of_image = {image: row for row, image in enumerate(kept)}
    usable = [(n, row_of_image[i]) for n, i in enumerate(image_of_pair) if i in row_of_image]
    if not usable:
        raise PhotoseekError("none of the images in the file could be read")
    text_vectors = zeroshot.text_vectors([pairs[n].text for n, _ in usable])
    recall = retrieval_recall(image_vectors, text_vectors, [row for _, row in usable], KS)
    seconds = time.perf_counter() - started
    return EvalReport("retrieval", len(kept), len(usable), recall, skipped, seconds)


def evaluate_zeroshot(zeroshot: ZeroShot, pairs: list[Pair]) -> EvalReport:
    """Top-1 and top-5 accuracy with each of :data:`PROMPT_MODES`, and the tag threshold
    with the best F1 (an image may have several lines, hence several true labels)."""
    started = time.perf_counter()
    classes = sorted({pair.text for pair in pairs})
    if len(classes) < 2:
        raise PhotoseekError("zero-shot accuracy needs at least two different labels")
    images, image_of_pair = _distinct_images(pairs)
    kept, image_vectors, skipped = zeroshot.image_vectors(images)
    row_of_image = {image: row for row, image in enumerate(kept)}
    usable = [(n, row_of_image[i]) for n, i in enumerate(image_of_pair) if i in row_of_image]
    rows = image_vectors[[row for _, row in usable]]
    truth = [classes.index(pairs[n].text) for n, _ in usable]
    labels = LabelSet("eval", tuple(Label(name) for name in classes))
    scores = {
        mode: zeroshot_accuracy(
            rows, zeroshot.label_vectors(labels, template_set(mode)), truth, (1, 5)
        )
        for mode in PROMPT_MODES
    }
    calibration = _calibration(zeroshot, labels, image_vectors, usable, truth)
    seconds = time.perf_counter() - started
    return EvalReport("zeroshot", len(kept), len(classes), scores, skipped, seconds, calibration)


def _calibration(
    zeroshot: ZeroShot,
    labels: LabelSet,
    image_vectors: FloatArray,
    usable: list[tuple[int, int]],
    truth: list[int],
) -> tuple[float, float]:
    """The margin threshold (default templates) with the best micro-F1, and that F1."""
    vectors = zeroshot.label_vectors(labels, template_set(DEFAULT_TEMPLATES))
    neutral = normalize(zeroshot.text_vectors(list(NEUTRAL_PROMPTS)).mean(axis=0))
    scores = margins(np.concatenate([vectors, neutral]), image_vectors)
    wanted = np.zeros(scores.shape, bool)
    for (_, row), label in zip(usable, truth, strict=True):
        wanted[row, label] = True
    return best_f1_threshold(scores, wanted)
