"""The image tower's ONNX graph as plain data, built from a checkpoint's tensors (numpy only).

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
graphs measured within noise of each other per photo: medians 81.3 ms for
``Attention`` and 78.9 ms for this one over six alternating runs in one
process, 68.5-75.1 ms each in separate processes; they agree to a cosine of
0.9999998.) Its vectors are checked
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from photoseek.core.lazyimport import lazy_module
from photoseek.core.model.visionspec import VisionTowerSpec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[Any]
else:
    np = lazy_module("numpy")

PRECISIONS = ("fp32", "int8", "int8-full")
QUANTISED = ("int8", "int8-full")
GRAPH_VERSION = 5  # bump when the description changes: graphs are rebuilt, records re-checked
OPSET = 17
MS_DOMAIN = "com.microsoft"  # ONNX Runtime's own operators
_LN_EPS = 1e-5


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
        again, which stays a view of the checkpoint's file mapping where it is one, so
        that the graph's bytes can name its place in the file (:mod:`.visionbytes`)."""
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
            return self.node("DynamicQuantizeMatMul", inputs, "qmm", domain=MS_DOMAIN), None
        return self.by_rows(x, weight, self.array(weight)), added

    def by_rows(self, x: str, name: str, matrix: Array) -> str:
        """``x @ matrix.T`` for an (out, in) float32 matrix, packed by ONNX Runtime as it is."""
        packed = self.weight(name, matrix, packed=True)
        return self.node("FusedMatMul", [x, packed], "mm", domain=MS_DOMAIN, transB=1, alpha=1.0)

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
            return self.node("Gelu", [product], "gelu", domain=MS_DOMAIN)
        return self.node("BiasGelu", [product, pending], "gelu", domain=MS_DOMAIN)

    def attention(self, x: str, prefix: str, spec: VisionTowerSpec) -> str:
        """Multi-head self-attention as ``nn.MultiheadAttention`` computes it (no mask)."""
        width, head = spec.width, spec.width // spec.heads
        # the projections are int8 only in int8-full: with int8 queries and keys the softmax
        # sharpens their error on some CPUs' kernels (see the module's docstring)
        weight, bias = f"{prefix}.in_proj_weight", f"{prefix}.in_proj_bias"
        if self.precision != "int8-full":  # as the checkpoint has them: no copy, no transposing
            rows = self.array(weight)  # (3 width, width): the q, k and v rows in turn
            q, k, v = (
                self.by_rows(x, f"{weight}.{part}", rows[i * width : (i + 1) * width])
                for i, part in enumerate("qkv")
            )
            fused = self.node(
                "MultiHeadAttention",
                [q, k, v, self.tensor(bias)],
                "attn",
                domain=MS_DOMAIN,
                num_heads=spec.heads,
            )
            return self.linear(fused, f"{prefix}.out_proj", quantizable=False)
        self.scale_queries(weight, bias, spec.width, head**-0.5)
        qkv = self.matmul(x, weight, bias)
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
        return self.linear(merged, f"{prefix}.out_proj")

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
