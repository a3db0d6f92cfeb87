"""A query's vector from the exported text tower on ONNX Runtime: no torch, no open_clip.

A cold ``photoseek search`` on torch pays ``import torch`` (about 2 s on a
2-core CPU) before it reads a weight. On ONNX Runtime it pays 0.15 s for the
import and 0.25 s to open the tower (measured, ``ViT-B-32-256``), with the
tokens from :class:`~.bpe.ClipTokenizer`. rclip made the same choice.

An exported tower is used only after it was checked: :func:`verify` encodes
the probe texts with it and with the full model, and
:func:`~photoseek.core.model.textpath.remember` records the file only when
the tokens are equal and every cosine is at least :data:`MIN_COSINE`. torch
stays the reference (indexing runs the image tower alone on ONNX Runtime
too: :mod:`.imagepath`); without ``onnxruntime`` the torch text tower answers
instead (slower to start, the same vectors).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoseek.core.lazyimport import lazy_module
from photoseek.core.model.bpe import ClipTokenizer
from photoseek.core.model.textcache import TextVector, TextVectorCache, is_truncated
from photoseek.core.records import ModelIdentity
from photoseek.core.vectors import codec as vectorcodec

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import numpy as np
else:
    np = lazy_module("numpy")

log = logging.getLogger(__name__)

MIN_COSINE = 0.9999
"""The least cosine with the full model, on every probe text, for an exported tower to be used."""


RUNTIME_VARIABLE = "PHOTOSEEK_TEXT_RUNTIME"
"""Set to ``torch`` to keep the exported tower unused (to compare, or to rule it out)."""


def runtime_available() -> bool:
    """Whether ONNX Runtime is installed (found, not imported) and not switched off."""
    if os.environ.get(RUNTIME_VARIABLE, "").strip().lower() == "torch":
        return False
    return importlib.util.find_spec("onnxruntime") is not None


class OnnxTextEncoder:
    """A query's text to a unit vector with the exported tower (thread-safe)."""

    def __init__(self, graph: Path, context_length: int, identity: ModelIdentity) -> None:
        self.identity = identity
        # ONNX Runtime opens the graph without Python's lock: the tokenizer's tables are
        # built meanwhile (measured: 0.29 s for both, against 0.58 s one after the other)
        with ThreadPoolExecutor(1, thread_name_prefix="photoseek-onnx-open") as pool:
            opening = pool.submit(_session, graph)
            self._tokenizer = ClipTokenizer(context_length)
            self._session = opening.result()
        self._cache = TextVectorCache()
        self._lock = threading.Lock()

    def encode_text(self, text: str) -> TextVector:
        """Embed a text (cached); CLIP's token limit truncates and is reported."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        result = TextVector(self.raw_vector(text), is_truncated(self._tokenizer, text))
        self._cache.put(text, result)
        return result

    def tokens(self, text: str) -> list[int]:
        """The token ids the tower reads for ``text`` (the whole context, zero padded)."""
        row: list[int] = self._tokenizer([text])[0].tolist()
        return row

    def raw_vector(self, text: str) -> vectorcodec.FloatArray:
        """The unit vector of ``text``, uncached."""
        rows = self._tokenizer([text])
        length = int(rows.argmax(axis=-1).max()) + 1  # after the end token nothing counts
        with self._lock:  # one run at a time: each already uses every core
            (features,) = self._session.run(["features"], {"tokens": rows[:, :length]})
        return vectorcodec.first_row(vectorcodec.normalize(np.asarray(features, np.float32)))


def verify(
    encoder: OnnxTextEncoder,
    texts: Iterable[str],
    reference_tokens: Callable[[str], list[int]],
    reference_vector: Callable[[str], vectorcodec.FloatArray],
) -> float | None:
    """The least cosine with the reference over ``texts``; None where any tokens differ."""
    least = 1.0
    for text in texts:
        if encoder.tokens(text) != reference_tokens(text):
            log.info("the exported tower's tokens differ on %r", text[:30])
            return None
        least = min(least, float(encoder.raw_vector(text) @ reference_vector(text)))
    return least


def _session(graph: Path) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: its notes are not the user's business
    # No repacking of the weights for its matrix kernels: opening the tower then takes
    # 0.10 s instead of 0.31 s, and a short query runs in 27 ms instead of 12 (measured,
    # ViT-B-32-256): this tower answers the first queries of a process, the full model
    # the rest, so the open is what a user waits for.
    options.add_session_config_entry("session.disable_prepacking", "1")
    return onnxruntime.InferenceSession(
        str(graph), sess_options=options, providers=["CPUExecutionProvider"]
    )


# -- the exported file, recorded with the light path ---------------------------------------

FOLDER = "text-onnx"
"""The exported towers' folder in the models folder: one graph and its weights per weights file."""
DATA_SUFFIX = ".data"
"""A graph's weights are in the file of its name plus this."""


def data_file(graph: Path) -> Path:
    """The weights file beside an exported graph."""
    return graph.with_name(graph.name + DATA_SUFFIX)


def can_export() -> bool:
    """Whether a tower can be exported and run here (``onnx`` and ``onnxruntime`` installed)."""
    return runtime_available() and importlib.util.find_spec("onnx") is not None


def export_checked(
    tower: Any,
    models_dir: Path,
    identity: ModelIdentity,
    texts: Iterable[str],
    reference_tokens: Callable[[str], list[int]],
    reference_vector: Callable[[str], vectorcodec.FloatArray],
) -> dict[str, Any] | None:
    """Export ``tower`` (a torch :class:`~.texttower.TextTower`), check it against the
    reference; its record entry, or None (and no file left) where it disagrees."""
    from photoseek.core.model.onnxexport import export_text_tower

    stem = re.sub(r"[^A-Za-z0-9._-]", "_", f"{identity.arch}-{identity.digest}")  # any file system
    graph = models_dir / FOLDER / f"{stem}.onnx"
    export_text_tower(tower, graph)
    encoder = OnnxTextEncoder(graph, tower.spec.context_length, identity)
    least = verify(encoder, texts, reference_tokens, reference_vector)
    if least is None or least < MIN_COSINE:
        log.warning("the exported text tower differs from the model (cosine %s): not used", least)
        for path in (graph, data_file(graph)):
            path.unlink(missing_ok=True)
        return None
    log.info("exported text tower recorded: least cosine %.7f to the full model", least)
    return {"graph": graph.name, "data_size": data_file(graph).stat().st_size, "cosine": least}


def recorded_encoder(
    entry: object, context_length: int, identity: ModelIdentity, models_dir: Path
) -> OnnxTextEncoder | None:
    """The encoder of a record's entry, if the runtime is here and the files are as recorded."""
    if not isinstance(entry, dict) or not runtime_available():
        return None
    name = entry.get("graph")
    if not isinstance(name, str) or Path(name).name != name or not name.endswith(".onnx"):
        return None
    graph = models_dir / FOLDER / name
    try:
        same = data_file(graph).stat().st_size == entry.get("data_size")
    except OSError:
        return None
    return OnnxTextEncoder(graph, context_length, identity) if same else None


def drop_exports_except(models_dir: Path, graphs: set[str]) -> None:
    """Delete the exported graphs (and their weights) not named in ``graphs``."""
    folder = models_dir / FOLDER
    if not folder.is_dir():
        return
    for graph in folder.glob("*.onnx"):
        if graph.name not in graphs:
            for path in (graph, data_file(graph)):
                path.unlink(missing_ok=True)
            log.info("dropped the exported text tower %s: no weights file uses it", graph.name)
