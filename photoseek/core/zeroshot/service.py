"""Zero-shot with a loaded model: cached label vectors, and classifying image files.

Label vectors are a derived cache, one ``.npy`` file per (model identity,
label set digest, template set) under ``<cache dir>/labels/``, written
atomically and read with ``allow_pickle=False``; a file that does not load
or has the wrong shape is rebuilt. Building the 62 built-in labels with the
80 OpenAI templates embeds 11,207 prompts, 96 s here (see
``tests/benchmarks/test_bench_zeroshot.py`` for the time).
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from photoseek.core.atomicfile import write_atomically
from photoseek.core.errors import ImageError, PhotoseekError
from photoseek.core.imaging.modelinput import model_input
from photoseek.core.lazyimport import lazy_module
from photoseek.core.records import ModelIdentity
from photoseek.core.vectors.codec import FloatArray
from photoseek.core.zeroshot.classify import Scoring, label_vectors
from photoseek.core.zeroshot.labels import LabelSet
from photoseek.core.zeroshot.templates import TemplateSet

if TYPE_CHECKING:
    import numpy as np

    from photoseek.core.model.embedder import Embedder, ModelSettings
    from photoseek.paths import AppPaths
else:
    np = lazy_module("numpy")

log = logging.getLogger(__name__)

__all__ = ["Classification", "ZeroShot", "open_zeroshot"]


@dataclass(frozen=True)
class Classification:
    """One image's probabilities, best first; ``error`` says why an image was skipped."""

    path: Path
    scores: list[tuple[str, float]]
    error: str = ""


class ZeroShot:
    """Label vectors and classification with one loaded model (thread-safe)."""

    def __init__(self, embedder: Embedder, cache_dir: Path) -> None:
        self._embedder = embedder
        self._folder = cache_dir / "labels" / embedder.identity.slug
        self._lock = threading.Lock()
        self._memory: dict[tuple[str, str], FloatArray] = {}

    @property
    def identity(self) -> ModelIdentity:
        """The model's identity."""
        return self._embedder.identity

    @property
    def scoring(self) -> Scoring:
        """The model family's rule (softmax for CLIP, sigmoid for SigLIP)."""
        return Scoring(self._embedder.logit_scale, self._embedder.logit_bias)

    def label_vectors(self, labels: LabelSet, templates: TemplateSet) -> FloatArray:
        """(labels, dim) unit vectors; from the cache when this model built them before."""
        key = (labels.digest, templates.key)
        with self._lock:
            cached = self._memory.get(key)
            if cached is None:
                cached = self._from_file(key, len(labels.labels))
                if cached is None:
                    cached = self._built(key, labels, templates)
                self._memory[key] = cached
            return cached

    def classify(
        self, paths: Sequence[Path], labels: LabelSet, templates: TemplateSet
    ) -> list[Classification]:
        """Each image's probability for each label, best first; unreadable images say why."""
        vectors = self.label_vectors(labels, templates)
        scoring = self.scoring
        results = []
        for path in paths:
            try:
                image_vector = self.image_vector(path)
            except PhotoseekError as exc:
                results.append(Classification(path, [], str(exc)))
                continue
            probabilities = scoring.probabilities(image_vector, vectors)[0]
            order = np.argsort(-probabilities, kind="stable")
            scores = [(labels.labels[i].name, float(probabilities[i])) for i in order]
            results.append(Classification(path, scores))
        return results

    def text_vectors(self, texts: Sequence[str]) -> FloatArray:
        """(n, dim) unit vectors of ``texts``, embedded in batches (uncached)."""
        return self._embedder.encode_texts(texts)

    def image_vector(self, path: Path) -> FloatArray:
        """The unit vector of any image file (decoded as indexing decodes)."""
        if not path.is_file():
            raise PhotoseekError(f"image not found: {path}")
        try:
            image = model_input(path, self._embedder.image_size)
        except ImageError as exc:
            raise PhotoseekError(f"cannot read {path}: {exc.reason}") from exc
        return self._embedder.encode_image(image)

    def image_vectors(
        self, paths: Sequence[Path], batch_size: int = 32
    ) -> tuple[list[int], FloatArray, list[tuple[Path, str]]]:
        """Unit vectors of many image files, in batches: (the rows that decoded, their
        vectors, and (path, reason) for each image skipped)."""
        kept: list[int] = []
        skipped: list[tuple[Path, str]] = []
        rows: list[FloatArray] = []
        batch: list[object] = []
        for number, path in enumerate(paths):
            try:
                image = model_input(path, self._embedder.image_size)
                batch.append(self._embedder.preprocess(image))
                kept.append(number)
            except ImageError as exc:
                skipped.append((path, exc.reason))
            except OSError as exc:  # vanished, unreadable
                skipped.append((path, str(exc)))
            if len(batch) == batch_size:
                rows.append(self._embedder.encode_images(batch))  # type: ignore[arg-type]
                batch = []
        if batch:
            rows.append(self._embedder.encode_images(batch))  # type: ignore[arg-type]
        dim = self._embedder.identity.dim
        return kept, np.concatenate(rows) if rows else np.zeros((0, dim), np.float32), skipped

    def _built(self, key: tuple[str, str], labels: LabelSet, templates: TemplateSet) -> FloatArray:
        vectors = label_vectors(self._embedder.encode_texts, labels, templates)
        buffer = io.BytesIO()
        np.save(buffer, vectors, allow_pickle=False)
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            write_atomically(self._file(key), buffer.getvalue(), durable=False)
        except OSError as exc:  # a cache: losing it costs time, never an answer
            log.info("label vectors not cached: %s", exc)
        return vectors

    def _from_file(self, key: tuple[str, str], count: int) -> FloatArray | None:
        path = self._file(key)
        if not path.exists():
            return None
        try:
            vectors = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            log.info("rebuilding the label vectors in %s: %s", path, exc)
            return None
        if vectors.shape != (count, self._embedder.identity.dim) or vectors.dtype != np.float32:
            log.info("rebuilding the label vectors in %s: shape %s", path, vectors.shape)
            return None
        loaded: FloatArray = vectors
        return loaded

    def _file(self, key: tuple[str, str]) -> Path:
        digest, templates = key
        return self._folder / f"{digest}-{templates}.npy"


def open_zeroshot(paths: AppPaths, settings: ModelSettings) -> ZeroShot:
    """Zero-shot with the model ``settings`` name, loaded (and downloaded) now.

    Classifying files and evaluating a checkpoint need no library: only the
    model (in ``paths.models_dir``) and the label-vector cache.
    """
    from photoseek.core.model.embedder import load_embedder

    return ZeroShot(load_embedder(settings, paths.models_dir), paths.cache_dir)
