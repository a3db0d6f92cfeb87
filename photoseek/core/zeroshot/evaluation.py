"""The evaluation harness: retrieval Recall@K and zero-shot accuracy on the user's images.

* :func:`retrieval_recall`: text-to-image (each caption ranks every image;
  a hit when its own image is in the top K) and image-to-text (each image
  ranks every caption; a hit when any of its captions is in the top K),
  as in the CLIP paper's Flickr30k/COCO tables.
* :func:`zeroshot_accuracy`: top-K accuracy of images against the label
  vectors of their classes.

Both work on unit vectors, so a test can hand them constructed ones (a
perfect embedder scores 1.0, a shuffled one chance). :func:`read_pairs`
reads the ``image path TAB text`` files both commands take; paths are
relative to the file's folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from photoseek.core.errors import PhotoseekError
from photoseek.core.lazyimport import lazy_module
from photoseek.core.vectors.codec import FloatArray

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

__all__ = ["KS", "Pair", "read_pairs", "retrieval_recall", "top_k_hits", "zeroshot_accuracy"]

KS = (1, 5, 10)


@dataclass(frozen=True)
class Pair:
    """One line of a pairs file."""

    image: Path
    text: str


def read_pairs(path: Path) -> list[Pair]:
    """The ``image TAB text`` lines of ``path`` (UTF-8; blank and ``#`` lines skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PhotoseekError(f"cannot read {path}: {exc}") from exc
    pairs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        image, tab, text = line.partition("\t")
        if not tab or not image.strip() or not text.strip():
            raise PhotoseekError(f"{path}, line {number}: expected 'image path<TAB>text'")
        pairs.append(Pair((path.parent / image.strip()).resolve(), text.strip()))
    if not pairs:
        raise PhotoseekError(f"{path} has no 'image path<TAB>text' lines")
    return pairs


def top_k_hits(scores: FloatArray, wanted: Sequence[set[int]], k: int) -> float:
    """The share of rows whose top ``k`` columns hold one of the row's wanted columns."""
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    hits = [bool(wanted[row] & set(top[row].tolist())) for row in range(scores.shape[0])]
    return float(np.mean(hits)) if hits else 0.0


def retrieval_recall(
    image_vectors: FloatArray,
    text_vectors: FloatArray,
    image_of_text: Sequence[int],
    ks: Sequence[int] = KS,
) -> dict[str, dict[int, float]]:
    """``{"text_to_image": {k: recall}, "image_to_text": {k: recall}}``."""
    scores = text_vectors @ image_vectors.T  # (texts, images)
    texts_of_image: list[set[int]] = [set() for _ in range(image_vectors.shape[0])]
    for text, image in enumerate(image_of_text):
        texts_of_image[image].add(text)
    text_to_image = [{image} for image in image_of_text]
    return {
        "text_to_image": {k: top_k_hits(scores, text_to_image, k) for k in ks},
        "image_to_text": {k: top_k_hits(scores.T, texts_of_image, k) for k in ks},
    }


def zeroshot_accuracy(
    image_vectors: FloatArray, label_vectors: FloatArray, truth: Sequence[int], ks: Sequence[int]
) -> dict[int, float]:
    """``{k: top-k accuracy}`` of each image's true label among ``label_vectors``."""
    scores = image_vectors @ label_vectors.T
    return {k: top_k_hits(scores, [{label} for label in truth], k) for k in ks}
