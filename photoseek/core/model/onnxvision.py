"""A plain CLIP image tower as an ONNX graph, built from the checkpoint's tensors, on ONNX Runtime.

No torch and no export: the graph (about 400 nodes) is described from a
:class:`~.visionspec.VisionTowerSpec` (:mod:`.visiongraph`), and the weights
come straight from the checkpoint (a safetensors file mapped read-only,
:mod:`.mappedtensors`; nothing of them is written to disk). Every matrix
ONNX Runtime packs into its own layout at the session's start is a plain
slice of the file, and the graph's bytes name the file as its external data
(:class:`~.visionbytes.FileBacking`), so ONNX Runtime maps and packs those
bytes itself; the norms, biases, embeddings and the convolution are copies
handed over from memory. An ONNX Runtime that cannot be told the file's
folder (before 1.22: 1.17, 1.18 and 1.20 were tried) is handed every tensor
from memory instead, as before, with the same vectors.

A start costs ONNX Runtime's packing of the weights: 0.4-0.45 CPU-seconds
for ``ViT-B-32`` in an ``index`` run (0.54-0.76 when it copied the matrices
handed over from memory and the attention's were transposed first, and the
peak resident size of an fp32 ``index`` run was 942-1,155 MiB against
687-710 MiB now), where torch and open_clip cost 6-8 s to import
and build on a 2-core CPU.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoseek.core.errors import ModelUnavailableError
from photoseek.core.lazyimport import lazy_module
from photoseek.core.model.mappedtensors import MappedTensors
from photoseek.core.model.visionbytes import FileBacking, cached_model_bytes
from photoseek.core.model.visiongraph import Description, describe
from photoseek.core.model.visionspec import VisionTowerSpec
from photoseek.core.vectors import codec as vectorcodec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[Any]
else:
    np = lazy_module("numpy")

log = logging.getLogger(__name__)

_FILE_FOLDER_KEY = "session.model_external_initializers_file_folder_path"


def can_run() -> bool:
    """Whether ONNX Runtime is installed (``onnx`` is needed only to build a graph once)."""
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


class OnnxImageTower:
    """A tower in an ONNX Runtime session: ``(N, 3, S, S)`` pixels to unit vectors.

    Thread-safe: one batch runs at a time; a text query on another session
    does not wait for it. A batch is run in pieces of at most ``run_size``
    photos (default: :func:`photos_per_run`), and ``parts`` threads (default:
    one per usable core) take the pieces in turn, each running one at a time
    (the session is single-threaded; ONNX Runtime runs concurrent calls of
    one session). The number of pieces is a multiple of the threads (one a
    photo for a batch smaller than that), so the threads end a batch together.

    One session splitting each operator over the cores instead makes every
    operator wait for its slowest thread, and beside the decode threads that
    share the cores one of its threads is always the slowest: measured on 2
    cores with the camera-size photos of the indexing benchmark, the model
    took 68 ms a photo beside the decoders against 45 ms alone. Small pieces
    keep each operator's rows in the CPU's caches, and a thread the decoders
    slowed takes fewer of them, so the threads finish a batch together.
    """

    def __init__(
        self,
        spec: VisionTowerSpec,
        weights: Mapping[str, Any],
        precision: str = "fp32",
        *,
        graph_cache: Path | None = None,
        parts: int | None = None,
        run_size: int | None = None,
    ) -> None:
        self.spec = spec
        self.precision = precision
        self._parts = max(1, parts or _default_threads())
        self._per_run = max(1, run_size or photos_per_run(spec))
        description = describe(spec, weights, precision)
        mapped = weights if isinstance(weights, MappedTensors) else None
        self._session = self._open(description, graph_cache, mapped)
        if mapped is not None:  # the session has packed what it reads of the mapping
            mapped.release_pages()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._cpu_lock = threading.Lock()
        self._cpu = 0.0

    def _open(
        self, description: Description, graph_cache: Path | None, mapped: MappedTensors | None
    ) -> Any:
        """The session, reading the packed matrices from the weights file by name where it
        can, and from memory where ONNX Runtime cannot be told the file's folder (before
        1.22) or the path no longer names the file that was validated."""
        backing = FileBacking.of(mapped, description) if mapped is not None else None
        if mapped is None or backing is None:
            return self._start(description, graph_cache, None)
        try:
            session = self._start(description, graph_cache, backing)
        except ModelUnavailableError as exc:
            log.info("image tower: weights not read from the file by name (%s)", exc)
            return self._start(description, graph_cache, None)
        if not mapped.unchanged():
            log.warning("the weights file changed as the image tower started; starting again")
            return self._start(description, graph_cache, None)  # from the validated mapping
        return session

    def _start(
        self, description: Description, graph_cache: Path | None, backing: FileBacking | None
    ) -> Any:
        """The session: the initializers ``backing`` places are read from the weights file
        by ONNX Runtime, the others handed over from memory (and kept alive here)."""
        import onnxruntime as ort

        data = cached_model_bytes(description, graph_cache, backing)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        if self.precision == "fp32":
            # The graph is fused as ONNX Runtime would fuse it (FusedMatMul, MultiHeadAttention,
            # LayerNormalization), and its further passes gain nothing measurable per photo
            # (73.9-76.2 ms against 73.6-77.3, batches of 16 on one thread) but cost their time
            # and memory at every start: 0.369-0.376 CPU-s and 92,800 page faults to open the
            # tower with basic passes only, against 0.385-0.392 and 101,900 (ViT-B-32, six
            # alternating processes each); the vectors differ by 8e-8. The int8 graphs keep all:
            # there they change the vectors by 1e-3, and their recorded cosines were measured so.
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        if backing is not None:
            options.add_session_config_entry(_FILE_FOLDER_KEY, str(backing.folder))
        in_file = backing.spans if backing is not None else {}
        names = [name for name in description.initializers if name not in in_file]
        self._arrays = description.initializers  # the session reads these buffers: keep them
        self._values = [ort.OrtValue.ortvalue_from_numpy(self._arrays[n]) for n in names]
        options.add_external_initializers(names, self._values)
        try:
            return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelUnavailableError(
                f"the image tower cannot run on ONNX Runtime: {exc}"
            ) from exc

    def encode(self, pixels: Array) -> vectorcodec.FloatArray:
        """Unit vectors (N, embed_dim) of a float32 batch (N, 3, S, S)."""
        runs = _pieces(len(pixels), self._per_run, self._parts)
        with self._lock:
            if runs <= 1:
                features = self._run(pixels)
            else:
                pieces = np.array_split(pixels, runs)
                spread = self._threads().map if self._parts > 1 else map
                features = np.concatenate(list(spread(self._run, pieces)))
        return vectorcodec.normalize(features)

    def _threads(self) -> ThreadPoolExecutor:
        """The ``parts`` threads that take the pieces (started on the first batch)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._parts, "image-tower")
        return self._pool

    def cpu_seconds(self) -> float:
        """CPU seconds spent in :meth:`encode` so far, summed over the threads that ran it."""
        with self._cpu_lock:
            return self._cpu

    def _run(self, pixels: Array) -> Array:
        started = time.thread_time()  # the session is single-threaded: this thread computes
        (features,) = self._session.run(["features"], {"pixels": pixels})
        with self._cpu_lock:
            self._cpu += time.thread_time() - started
        result: Array = features
        return result


ROWS_PER_RUN = 256
"""Token rows (photos x tokens a photo) a session run is sized to. CPU-ms a photo measured
on 2 cores (2 threads, random weights), by photos a run: ``ViT-B-32-256`` (65 tokens) fp32
2: 69-73, 4: 64-65, 8: 65-66, 16: 68-69, int8-full 4: 16-19, 8: 17-18, 16: 21-23;
``ViT-B-16`` (197) fp32 1: 201-208, 2: 198-212, 4: 207-218, 8: 218-227, int8-full 1: 50-59,
2: 49-50, 4: 58-59, 8: 70-81; ``ViT-L-14`` (257) fp32 1: 909-953, 2: 942-1,007, 4: 958-991."""


def photos_per_run(spec: VisionTowerSpec) -> int:
    """Photos in one session run: about :data:`ROWS_PER_RUN` token rows, at least one."""
    return max(1, round(ROWS_PER_RUN / (spec.grid**2 + 1)))


def _pieces(photos: int, per_run: int, threads: int) -> int:
    """How many pieces a batch is cut in: runs of at most ``per_run`` photos, their count
    rounded up to a multiple of ``threads`` (at most one a photo), so the threads end
    together: 11 photos at 4 a run are 3, 3, 3 and 2 on two threads, not 4, 4 and 3."""
    runs = -(-photos // per_run)
    return min(photos, -(-runs // threads) * threads)


def _default_threads() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
