"""A plain CLIP image tower as an ONNX graph, built from the checkpoint's tensors, on ONNX Runtime.

No torch and no export: the graph (about 400 nodes) is described here from a
:class:`~.visionspec.VisionTowerSpec`, and the weights come straight from
the checkpoint (a safetensors file mapped read-only, :mod:`.mappedtensors`;
nothing of them is written to disk). Every matrix ONNX Runtime packs into
its own layout at the session's start is a plain slice of the file, and the
graph names the file as its external data (:class:`FileBacking`), so ONNX
Runtime maps and packs those bytes itself; the norms, biases, embeddings and
the convolution are copies handed over from memory (see
:meth:`_Builder.weight`). An ONNX Runtime that cannot be told the file's
folder (before 1.22: 1.17, 1.18 and 1.20 were tried) is handed every tensor
from memory instead, as before, with the same vectors. The description needs
only numpy; turning it into ONNX bytes needs the ``onnx`` package, whose
import costs 1.1 s here (``ml_dtypes``), so the bytes (100 KB, no weights)
are cached in the models folder by the description's digest and the file's
spans, and a later start reads them. A start then costs ONNX Runtime's
packing of the weights: 0.4-0.45 CPU-seconds for ``ViT-B-32`` in an
``index`` run (0.55-0.75 when it copied the matrices handed over from memory
and the attention's were transposed here first; its peak memory was 330 MB
higher), where torch and open_clip cost 6-8 s to import and build on a
2-core CPU.

The graph computes what open_clip's ``VisionTransformer.forward`` computes
in evaluation: patch convolution, class token, positions, ``ln_pre``,
pre-norm blocks (attention, then an exact-erf or quick GELU MLP),
``ln_post`` on the class token, the projection. Linear layers multiply by
the checkpoint's (out, in) matrices as they are (``FusedMatMul`` with
``transB``), the attention's input projection too: its query, key and value
rows are three products, and ``MultiHeadAttention`` adds their biases and
computes the heads, the scaled softmax and the weighted sum in one
operator. (The ``Attention`` operator, used before, does the projection
itself but wants the matrix transposed, a 85 MB copy per start; the two
graphs measured within noise of each other per photo, 69-79 ms each in
alternation, and agree to a cosine of 0.9999998.) Its vectors are checked
against the full model's before the path is recorded (:mod:`.imagepath`);
the fidelity test holds them to cosine >= 0.9999.

Where the time goes, ONNX Runtime's profile of one thread at fp32 (of the
``Attention`` graph): the matrix products 90 % (``FusedMatMul`` 64 %, most
of ``Attention``'s 26 %), ``BiasGelu`` 5 %, the patch convolution 3 %, the
rest 2.5 %. Fusing the attention and the GELU took 8 % off a photo's time
against the graph of plain operators; a ``SkipLayerNormalization`` for the
residual sums was measured no faster and is not used.

**Precisions.** ``fp32`` is the reference. The opt-in fast mode has two
graphs. ``int8``: both MLP matrices of every block (two thirds of its
multiply-adds) are quantised here per output column to symmetric int8, and
ONNX Runtime multiplies them with activations it quantises per batch
(``DynamicQuantizeMatMul``; VNNI or AMX instructions where the CPU has
them). ``int8-full``: the attention's input and output projections too, so
every matrix of every block is int8. How close either comes to float32
depends on the weights *and on the CPU's int8 kernels*: measured on the same
random weights, ``int8-full`` kept a least cosine of 0.9999 over 96 COCO
photos on an Intel Xeon with AMX, and 0.984 over 363 on an AMD EPYC, where
the softmax sharpened the projections' error (``int8`` there: 0.9959).
:mod:`.imagepath` measures both on probe images on the user's machine and
picks. The patch convolution, the attention scores, the norms and the final
projection stay float32 in both.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoseek.core.errors import ModelUnavailableError
from photoseek.core.lazyimport import lazy_module
from photoseek.core.model.mappedtensors import MappedTensors
from photoseek.core.model.visionspec import VisionTowerSpec
from photoseek.core.vectors import codec as vectorcodec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[Any]
else:
    np = lazy_module("numpy")

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "int8", "int8-full")
QUANTISED = ("int8", "int8-full")
GRAPH_VERSION = 5  # bump when the description changes: graphs are rebuilt, records re-checked
OPSET = 17
_MS = "com.microsoft"
_FILE_FOLDER_KEY = "session.model_external_initializers_file_folder_path"
_IN_MEMORY = (("location", "in-memory"), ("offset", "0"), ("length", "0"))
_LN_EPS = 1e-5


def can_run() -> bool:
    """Whether ONNX Runtime is installed (``onnx`` is needed only to build a graph once)."""
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


@dataclass
class Description:
    """The tower as plain data: nodes, small constants, and initializers (the weights)."""

    nodes: list[tuple[str, list[str], str, dict[str, Any], str]] = field(default_factory=list)
    constants: dict[str, Array] = field(default_factory=dict)
    initializers: dict[str, Array] = field(default_factory=dict)
    packed: set[str] = field(default_factory=set)  # initializers the session packs
    inputs: dict[str, list[Any]] = field(default_factory=dict)
    outputs: dict[str, list[Any]] = field(default_factory=dict)

    def digest(self) -> str:
        """Names everything in the graph but the weights' values."""
        shapes = {name: [str(a.dtype), list(a.shape)] for name, a in self.initializers.items()}
        consts = {name: a.tolist() for name, a in self.constants.items()}
        text = json.dumps([GRAPH_VERSION, self.nodes, consts, shapes, self.inputs, self.outputs])
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class _Builder:
    """Appends nodes to a :class:`Description`; names are made unique by a counter."""

    def __init__(self, weights: Mapping[str, Any], precision: str) -> None:
        self.weights = weights
        self.precision = precision
        self.out = Description()
        self.derived: dict[str, Array] = {}  # tensors computed from the checkpoint's
        self._count = 0

    def node(self, op: str, inputs: list[str], hint: str, domain: str = "", **attrs: Any) -> str:
        self._count += 1
        name = f"{hint}_{self._count}"
        self.out.nodes.append((op, inputs, name, attrs, domain))
        return name

    def weight(self, name: str, array: Any, *, packed: bool = False) -> str:
        """``array`` as the initializer ``name``: a copy, unless ``packed``: a matrix that
        ONNX Runtime packs into its own layout when the session starts and never reads
        again, which may stay a view of the checkpoint's file mapping (the session then
        lets go of the file's pages; :mod:`.mappedtensors`)."""
        held = np.ascontiguousarray(array) if packed else np.array(array, order="C")
        self.out.initializers[name] = held
        if packed:
            self.out.packed.add(name)
        return name

    def array(self, name: str) -> Array:
        """A checkpoint tensor (or one derived from them) as float32."""
        found = self.derived.get(name)
        return np.asarray(self.weights[name] if found is None else found, dtype=np.float32)

    def tensor(self, name: str, *, packed: bool = False) -> str:
        """A checkpoint tensor, as it is, as an initializer (see :meth:`weight`)."""
        return self.weight(name, self.array(name), packed=packed)

    def constant(self, values: Any, dtype: str) -> str:
        self._count += 1
        name = f"const_{self._count}"
        self.out.constants[name] = np.asarray(values, dtype=dtype)
        return name

    # -- layers ------------------------------------------------------------------------

    def layer_norm(self, x: str, prefix: str) -> str:
        scale, bias = self.tensor(f"{prefix}.weight"), self.tensor(f"{prefix}.bias")
        return self.node("LayerNormalization", [x, scale, bias], "ln", axis=-1, epsilon=_LN_EPS)

    def linear(self, x: str, prefix: str, *, quantizable: bool = True) -> str:
        """A torch ``Linear`` named ``prefix``: ``x @ weight.T + bias``."""
        return self.matmul(x, f"{prefix}.weight", f"{prefix}.bias", quantizable=quantizable)

    def matmul(self, x: str, weight: str, bias: str, *, quantizable: bool = True) -> str:
        """``x @ W.T + b`` for checkpoint tensors ``weight`` (out, in) and ``bias``."""
        product, pending = self.product(x, weight, bias, quantizable=quantizable)
        return product if pending is None else self.node("Add", [product, pending], "bias")

    def product(
        self, x: str, weight: str, bias: str, *, quantizable: bool = True
    ) -> tuple[str, str | None]:
        """``x @ W.T``, with ``b`` added where the operator takes it (int8), else returned
        for the next operator to add (``BiasGelu``, or an ``Add``)."""
        added = self.tensor(bias)
        if self.precision in QUANTISED and quantizable:
            q, scale = quantize_rows(self.array(weight))
            inputs = [
                x,
                self.weight(f"{weight}.q", q.T),
                self.weight(f"{weight}.scale", scale),
                self.weight(f"{weight}.zero", np.zeros(scale.shape, np.int8)),
                added,
            ]
            return self.node("DynamicQuantizeMatMul", inputs, "qmm", domain=_MS), None
        return self.by_rows(x, weight, self.array(weight)), added

    def by_rows(self, x: str, name: str, matrix: Array) -> str:
        """``x @ matrix.T`` for an (out, in) float32 matrix, packed by ONNX Runtime as it is."""
        packed = self.weight(name, matrix, packed=True)
        return self.node("FusedMatMul", [x, packed], "mm", domain=_MS, transB=1, alpha=1.0)

    def mlp_hidden(self, x: str, prefix: str, *, quick: bool) -> str:
        """``gelu(x @ W.T + b)`` of the MLP's first layer. The exact (erf) GELU is one
        operator with the bias added in it (``BiasGelu``; ``Gelu`` where the int8 product
        added it): five elementwise passes fewer (together with attention's fusion, 8 % of
        a photo's time; see the module's docstring)."""
        if quick:  # x * sigmoid(1.702 x)
            hidden = self.linear(x, prefix)
            scaled = self.node("Mul", [hidden, self.constant([1.702], "float32")], "qg")
            return self.node("Mul", [hidden, self.node("Sigmoid", [scaled], "sig")], "gelu")
        product, pending = self.product(x, f"{prefix}.weight", f"{prefix}.bias")
        if pending is None:
            return self.node("Gelu", [product], "gelu", domain=_MS)
        return self.node("BiasGelu", [product, pending], "gelu", domain=_MS)

    def attention(self, x: str, prefix: str, spec: VisionTowerSpec) -> str:
        """Multi-head self-attention as ``nn.MultiheadAttention`` computes it (no mask)."""
        width, head = spec.width, spec.width // spec.heads
        # the projections are int8 only in int8-full: with int8 queries and keys the softmax
        # sharpens their error on some CPUs' kernels (see the module's docstring)
        projections = self.precision == "int8-full"
        weight, bias = f"{prefix}.in_proj_weight", f"{prefix}.in_proj_bias"
        if not projections:  # as the checkpoint has them: no copy, no transposing
            rows = self.array(weight)  # (3 width, width): the q, k and v rows in turn
            q, k, v = (
                self.by_rows(x, f"{weight}.{part}", rows[i * width : (i + 1) * width])
                for i, part in enumerate("qkv")
            )
            fused = self.node(
                "MultiHeadAttention",
                [q, k, v, self.tensor(bias)],
                "attn",
                domain=_MS,
                num_heads=spec.heads,
            )
            return self.linear(fused, f"{prefix}.out_proj", quantizable=False)
        self.scale_queries(weight, bias, spec.width, head**-0.5)
        qkv = self.matmul(x, weight, bias, quantizable=projections)
        split = self.node(
            "Reshape", [qkv, self.constant([0, 0, 3, spec.heads, head], "int64")], "r"
        )
        heads = self.node("Transpose", [split], "t", perm=[2, 0, 3, 1, 4])  # 3, N, H, L, d
        q, k, v = (
            self.node("Gather", [heads, self.constant(i, "int64")], "g", axis=0) for i in range(3)
        )
        k_t = self.node("Transpose", [k], "kt", perm=[0, 1, 3, 2])
        scores = self.node("Softmax", [self.node("MatMul", [q, k_t], "qk")], "sm", axis=-1)
        context = self.node("MatMul", [scores, v], "av")
        by_token = self.node("Transpose", [context], "ct", perm=[0, 2, 1, 3])
        merged = self.node("Reshape", [by_token, self.constant([0, 0, spec.width], "int64")], "m")
        return self.linear(merged, f"{prefix}.out_proj", quantizable=projections)

    def scale_queries(self, weight: str, bias: str, width: int, factor: float) -> None:
        """Fold attention's scale on the queries into their rows of the projection, as a
        derived tensor: one multiplication per weight once, not per token per run (exact
        for ViT-B's and ViT-L's head sizes, 64: the factor is a power of two)."""
        matrix, offsets = self.array(weight).copy(), self.array(bias).copy()
        matrix[:width] *= factor
        offsets[:width] *= factor
        self.derived[weight], self.derived[bias] = matrix, offsets

    def block(self, x: str, prefix: str, spec: VisionTowerSpec) -> str:
        attended = self.attention(self.layer_norm(x, f"{prefix}.ln_1"), f"{prefix}.attn", spec)
        x = self.node("Add", [x, attended], "res")
        normed = self.layer_norm(x, f"{prefix}.ln_2")
        hidden = self.mlp_hidden(normed, f"{prefix}.mlp.c_fc", quick=spec.quick_gelu)
        mlp = self.linear(hidden, f"{prefix}.mlp.c_proj")
        return self.node("Add", [x, mlp], "res")

    def patches(self, spec: VisionTowerSpec) -> str:
        """Patch convolution, class token and positions: (N, 1 + grid², width)."""
        kernel = [spec.patch_size] * 2
        conv = self.node(
            "Conv",
            ["pixels", self.tensor("visual.conv1.weight")],
            "conv",
            kernel_shape=kernel,
            strides=kernel,
        )
        flat = self.node("Reshape", [conv, self.constant([0, spec.width, -1], "int64")], "flat")
        tokens = self.node("Transpose", [flat], "patches", perm=[0, 2, 1])
        shape = self.node("Shape", [tokens], "shape")
        begin, end = self.constant([0], "int64"), self.constant([1], "int64")
        batch = self.node("Slice", [shape, begin, end], "batch")
        cls_shape = self.node(
            "Concat", [batch, self.constant([1, spec.width], "int64")], "cs", axis=0
        )
        cls = np.asarray(self.weights["visual.class_embedding"], np.float32).reshape(1, 1, -1)
        cls_tokens = self.node("Expand", [self.weight("visual.cls", cls), cls_shape], "cls")
        joined = self.node("Concat", [cls_tokens, tokens], "tokens", axis=1)
        positions = np.asarray(self.weights["visual.positional_embedding"], np.float32)[None]
        return self.node("Add", [joined, self.weight("visual.pos", positions)], "pos")


def quantize_rows(matrix: Array) -> tuple[Array, Array]:
    """Symmetric int8 per row of an (out, in) matrix: (int8 matrix, float32 scale per row).

    In place on one scratch copy (a start of the int8-full tower quantises
    85 million weights: 0.37 s with a temporary array per step)."""
    peak = np.maximum(matrix.max(axis=1), -matrix.min(axis=1))
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    scratch = np.multiply(matrix, (1.0 / scale)[:, None], dtype=np.float32)
    np.rint(scratch, out=scratch)
    np.clip(scratch, -127, 127, out=scratch)
    return scratch.astype(np.int8), scale


def describe(
    spec: VisionTowerSpec, weights: Mapping[str, Any], precision: str = "fp32"
) -> Description:
    """The tower's graph: input ``pixels`` (N, 3, S, S), output ``features`` (N, embed_dim),
    not normalised. ``weights`` maps open_clip's ``visual.*`` names to arrays."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r} (use {', '.join(PRECISIONS)})")
    b = _Builder(weights, precision)
    x = b.layer_norm(b.patches(spec), "visual.ln_pre")
    for i in range(spec.layers):
        x = b.block(x, f"visual.transformer.resblocks.{i}", spec)
    first = b.node("Gather", [x, b.constant(0, "int64")], "cls", axis=1)
    pooled = b.layer_norm(first, "visual.ln_post")
    b.out.nodes.append(
        ("MatMul", [pooled, b.tensor("visual.proj", packed=True)], "features", {}, "")
    )
    b.out.inputs["pixels"] = ["batch", 3, spec.image_size, spec.image_size]
    b.out.outputs["features"] = ["batch", spec.embed_dim]
    return b.out


@dataclass(frozen=True)
class FileBacking:
    """Initializers that ONNX Runtime reads from the weights file itself: the file's folder
    and name, and each initializer's ``(offset, length)`` there (see :mod:`.mappedtensors`)."""

    folder: Path
    name: str
    spans: Mapping[str, tuple[int, int]]

    @staticmethod
    def of(weights: MappedTensors, description: Description) -> FileBacking | None:
        """The packed initializers of ``description`` that are views of ``weights``' file
        mapping, or None where there are none (copies, a name the graph cannot hold)."""
        try:  # the graph names the file, and the session option its folder, in UTF-8
            str(weights.file.resolve().parent).encode("utf-8")
            weights.file.name.encode("utf-8")
        except (OSError, UnicodeEncodeError):
            return None
        spans = {}
        for name in description.packed:
            span = weights.span(description.initializers[name])
            if span is not None:
                spans[name] = span
        if not spans:
            return None
        return FileBacking(weights.file.resolve().parent, weights.file.name, spans)

    def key(self) -> str:
        """What the graph says of the file: its name and the spans (not the folder)."""
        return json.dumps([self.name, sorted(self.spans.items())])

    def place(self, name: str) -> tuple[tuple[str, str], ...]:
        """Where the graph says initializer ``name``'s data is: a span of the file, or in
        memory (handed over by the caller)."""
        span = self.spans.get(name)
        if span is None:
            return _IN_MEMORY
        return ("location", self.name), ("offset", str(span[0])), ("length", str(span[1]))


def model_bytes(description: Description, backing: FileBacking | None = None) -> bytes:
    """The ONNX model of ``description``, its initializers named as external data: in the
    weights file where ``backing`` places them, else in memory (the session gets those
    from the caller). Needs the ``onnx`` package."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node(op, inputs, [output], domain=domain, **attrs)
        for op, inputs, output, attrs, domain in description.nodes
    ]
    constants = [numpy_helper.from_array(a, name) for name, a in description.constants.items()]
    external = [
        _external(name, a, backing.place(name) if backing is not None else _IN_MEMORY)
        for name, a in description.initializers.items()
    ]
    floats = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes,
        "clip_visual",
        [helper.make_tensor_value_info(n, floats, s) for n, s in description.inputs.items()],
        [helper.make_tensor_value_info(n, floats, s) for n, s in description.outputs.items()],
        initializer=[*constants, *external],
    )
    opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid(_MS, 1)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="photoseek")
    model.ir_version = 8
    data: bytes = model.SerializeToString()
    return data


def _external(name: str, array: Array, place: tuple[tuple[str, str], ...]) -> Any:
    """A tensor whose data is elsewhere: in the weights file, or in memory (the session
    gets it from the caller)."""
    from onnx import TensorProto, helper

    proto = TensorProto()
    proto.name = name
    proto.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
    proto.dims.extend(array.shape)
    proto.data_location = TensorProto.EXTERNAL
    for key, value in place:
        entry = proto.external_data.add()
        entry.key, entry.value = key, value
    return proto


def cached_model_bytes(
    description: Description, cache_dir: Path | None, backing: FileBacking | None = None
) -> bytes:
    """:func:`model_bytes`, read from ``cache_dir`` when built before (written when not)."""
    if cache_dir is None:
        return model_bytes(description, backing)
    name = description.digest()
    if backing is not None:
        name = hashlib.blake2b(f"{name} {backing.key()}".encode(), digest_size=12).hexdigest()
    path = cache_dir / f"visual-{name}.onnx"
    try:
        return path.read_bytes()
    except OSError:
        pass
    data = model_bytes(description, backing)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.part")
        part.write_bytes(data)
        part.replace(path)
    except OSError as exc:  # a cache: the next start builds it again
        log.warning("image tower graph not cached: %s", exc)
    return data


class OnnxImageTower:
    """A tower in an ONNX Runtime session: ``(N, 3, S, S)`` pixels to unit vectors.

    Thread-safe: one batch runs at a time; a text query on another session
    does not wait for it. A batch is split into ``parts`` parts (default:
    one per usable core), and the parts run at once, each on one thread of
    its own (the session is single-threaded; ONNX Runtime runs concurrent
    calls of one session).
    One session splitting each operator over the cores instead makes every
    operator wait for its slowest thread, and beside the decode threads that
    share the cores one of its threads is always the slowest: measured on 2
    cores with the camera-size photos of the indexing benchmark, the model
    took 68 ms a photo beside the decoders against 45 ms alone. Alone, the
    parts are as fast or faster (fp32 47 against 48 ms a photo, int8-full
    14.7 against 17.2 ms, batches of 32 on 2 cores).
    """

    def __init__(
        self,
        spec: VisionTowerSpec,
        weights: Mapping[str, Any],
        precision: str = "fp32",
        *,
        graph_cache: Path | None = None,
        parts: int | None = None,
    ) -> None:
        self.spec = spec
        self.precision = precision
        self._parts = max(1, parts or _default_threads())
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
        if backing is None:
            return self._start(description, graph_cache, None)
        try:
            session = self._start(description, graph_cache, backing)
        except ModelUnavailableError as exc:
            log.info("image tower: weights not read from the file by name (%s)", exc)
            return self._start(description, graph_cache, None)
        if mapped is not None and not mapped.unchanged():
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
        parts = min(self._parts, len(pixels))
        with self._lock:
            if parts <= 1:
                features = self._run(pixels)
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._parts, "image-tower")
                chunks = np.array_split(pixels, parts)
                features = np.concatenate(list(self._pool.map(self._run, chunks)))
        return vectorcodec.normalize(features)

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


def _default_threads() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
