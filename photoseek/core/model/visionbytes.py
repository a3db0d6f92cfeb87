"""The image tower's graph as ONNX bytes, with its weights left outside (cached per graph).

The bytes name every initializer as external data: in the weights file
itself where :class:`FileBacking` places it (ONNX Runtime then maps and
packs those bytes; see :mod:`.mappedtensors`), else "in memory", handed to
the session by the caller. Turning a description into bytes needs the
``onnx`` package, whose import costs 1.1 s here (``ml_dtypes``), so the
bytes (100 KB, no weights) are cached in the models folder by the
description's digest and the file's spans, and a later start reads them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoseek.core.atomicfile import write_atomically
from photoseek.core.model.mappedtensors import MappedTensors
from photoseek.core.model.visiongraph import MS_DOMAIN, OPSET, Description

if TYPE_CHECKING:
    import numpy.typing as npt

    Array = npt.NDArray[Any]

log = logging.getLogger(__name__)

_IN_MEMORY = (("location", "in-memory"), ("offset", "0"), ("length", "0"))


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
            folder = weights.file.resolve().parent
            f"{folder}/{weights.file.name}".encode()
        except (OSError, UnicodeEncodeError):
            return None
        spans = {}
        for name in description.packed:
            span = weights.span(description.initializers[name])
            if span is not None:
                spans[name] = span
        return FileBacking(folder, weights.file.name, spans) if spans else None

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
    opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid(MS_DOMAIN, 1)]
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
        write_atomically(path, data, durable=False)  # private, and no partial file left
    except OSError as exc:  # a cache: the next start builds it again
        log.warning("image tower graph not cached: %s", exc)
    return data
