"""A safetensors file mapped, not copied: the same arrays, refused where the file is wrong,
a tower that has ONNX Runtime read its matrices from the file by name and gives the
vectors of one handed them from memory, and that no longer reads the file once the
session has started, nor trusts a file replaced as it started."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import save_file

from photoseek.core.model import imagepath, mappedtensors, onnxvision, visionbytes, visiongraph
from photoseek.core.model.embedder import load_embedder
from photoseek.core.model.mappedtensors import MappedTensors
from tests.conftest import tiny_settings
from tests.core.test_textpath import _weights_file


def _tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {
        "module.visual.a": rng.normal(size=(4, 6)).astype(np.float32),
        "module.visual.b": rng.normal(size=(5,)).astype(np.float16),
        "text.c": rng.normal(size=(3, 3)).astype(np.float32),
    }


def _mapped(file: Path) -> MappedTensors:
    return MappedTensors(
        file,
        wanted=lambda name: "visual" in name,
        rename=lambda name: name.removeprefix("module."),
    )


def test_the_mapped_arrays_are_the_files_tensors(tmp_path: Path) -> None:
    file = tmp_path / "w.safetensors"
    tensors = _tensors()
    save_file(tensors, str(file))
    mapped = _mapped(file)
    assert sorted(mapped) == ["visual.a", "visual.b"]
    for name, array in mapped.items():
        expected = tensors[f"module.{name}"]
        assert array.dtype == expected.dtype and np.array_equal(array, expected)
    mapped.release_pages()  # dropped pages are read back from the file
    assert np.array_equal(mapped["visual.a"], tensors["module.visual.a"])


def _rewritten_header(file: Path, edit: dict[str, object]) -> None:
    """Replace one tensor's header entry, keeping the header's length (padded with spaces)."""
    data = file.read_bytes()
    (length,) = struct.unpack_from("<Q", data)
    header = json.loads(data[8 : 8 + length])
    header["module.visual.a"].update(edit)
    text = json.dumps(header, separators=(",", ":")).encode()
    assert len(text) <= length
    file.write_bytes(data[:8] + text.ljust(length) + data[8 + length :])


def test_where_pages_cannot_be_given_back_the_tensors_are_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "w.safetensors"
    tensors = _tensors()
    save_file(tensors, str(file))
    monkeypatch.setattr(mappedtensors, "CAN_RELEASE", False)
    mapped = _mapped(file)
    assert mapped._map.closed  # nothing holds the file (Windows could not replace it)
    assert np.array_equal(mapped["visual.a"], tensors["module.visual.a"])
    mapped.release_pages()  # nothing to give back


@pytest.mark.parametrize(
    "edit",
    [
        {"data_offsets": [0, 8]},  # shorter than its shape
        {"shape": [4, 7]},  # longer than its bytes
        {"dtype": "I32"},  # not a float type numpy maps
    ],
)
def test_a_file_whose_header_lies_is_refused(tmp_path: Path, edit: dict[str, object]) -> None:
    file = tmp_path / "w.safetensors"
    save_file(_tensors(), str(file))
    _rewritten_header(file, edit)
    with pytest.raises(Exception, match=r"."):  # the library's error, or this module's
        _mapped(file)


def test_a_type_numpy_cannot_hold_is_refused_by_name(tmp_path: Path) -> None:
    file = tmp_path / "w.safetensors"
    save_file({"module.visual.a": np.zeros((2, 2), np.int32)}, str(file))
    with pytest.raises(ValueError, match="I32; float32 or float16 needed"):
        _mapped(file)


def test_a_tower_on_the_mapping_ignores_the_file_rewritten_in_place(tmp_path: Path) -> None:
    """Only matrices the session packs stay views of the mapping, so once the session has
    started the file's bytes no longer matter: rewriting them in place (same size) leaves
    the tower's vectors as they were."""
    weights = _weights_file(tmp_path)
    spec = load_embedder(tiny_settings(str(weights)), tmp_path / "models").vision_spec
    assert spec is not None
    pixels = np.random.default_rng(0).normal(size=(3, 3, spec.image_size, spec.image_size))
    pixels = pixels.astype(np.float32)
    mapped = imagepath.vision_tensors(weights)
    tower = onnxvision.OnnxImageTower(spec, mapped, "fp32")
    before = tower.encode(pixels)
    description = visiongraph.describe(spec, mapped, "fp32")
    packed = {inputs[1] for op, inputs, *_ in description.nodes if op in {"FusedMatMul", "MatMul"}}
    views = {
        name
        for name, array in description.initializers.items()
        if any(np.shares_memory(array, source) for source in mapped.values())
    }
    if mappedtensors.CAN_RELEASE:
        assert views and views <= packed  # norms, biases, embeddings, the convolution: copies
    else:
        assert not views  # copied out of a mapping that is closed at once

    data = bytearray(weights.read_bytes())
    (length,) = struct.unpack_from("<Q", data)
    start = 8 + length
    data[start:] = np.random.default_rng(1).bytes(len(data) - start)
    with weights.open("r+b") as handle:  # in place: the same inode the mapping sees
        handle.write(data)
    assert not np.array_equal(mapped["visual.proj"], description.initializers["visual.proj"])
    assert np.allclose(tower.encode(pixels), before, atol=1e-6)


def _tower_inputs(tmp_path: Path) -> tuple[Path, Any, np.ndarray]:
    weights = _weights_file(tmp_path)
    spec = load_embedder(tiny_settings(str(weights)), tmp_path / "models").vision_spec
    assert spec is not None
    pixels = np.random.default_rng(0).normal(size=(3, 3, spec.image_size, spec.image_size))
    return weights, spec, pixels.astype(np.float32)


def _external_places(data: bytes) -> dict[str, str]:
    """Each initializer's external data location in a serialised graph."""
    import onnx

    model = onnx.load_from_string(data)
    return {
        tensor.name: {entry.key: entry.value for entry in tensor.external_data}["location"]
        for tensor in model.graph.initializer
        if tensor.external_data
    }


@pytest.mark.skipif(not mappedtensors.CAN_RELEASE, reason="tensors are copies here")
def test_the_packed_matrices_are_read_from_the_file_by_name(tmp_path: Path) -> None:
    """Every matrix the session packs is named in the weights file (ONNX Runtime maps it
    itself: no copy of ours or its own), the rest come from memory, and the vectors are
    those of a tower handed every tensor from memory."""
    weights, spec, pixels = _tower_inputs(tmp_path)
    mapped = imagepath.vision_tensors(weights)
    description = visiongraph.describe(spec, mapped, "fp32")
    backing = visionbytes.FileBacking.of(mapped, description)
    assert backing is not None
    assert backing.folder == weights.parent and set(backing.spans) == description.packed
    places = _external_places(visionbytes.model_bytes(description, backing))
    assert {n for n, place in places.items() if place == weights.name} == description.packed
    assert {n for n, place in places.items() if place == "in-memory"} == (
        set(description.initializers) - description.packed
    )
    for name, (offset, length) in backing.spans.items():  # the bytes the view has
        with weights.open("rb") as handle:
            handle.seek(offset)
            assert handle.read(length) == description.initializers[name].tobytes()

    in_memory = {name: np.array(array) for name, array in mapped.items()}
    from_file = onnxvision.OnnxImageTower(spec, mapped, "fp32").encode(pixels)
    from_memory = onnxvision.OnnxImageTower(spec, in_memory, "fp32").encode(pixels)
    assert np.array_equal(from_file, from_memory)


def test_where_tensors_are_copies_nothing_is_read_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights, spec, _ = _tower_inputs(tmp_path)
    monkeypatch.setattr(mappedtensors, "CAN_RELEASE", False)
    mapped = imagepath.vision_tensors(weights)
    assert visionbytes.FileBacking.of(mapped, visiongraph.describe(spec, mapped, "fp32")) is None


@pytest.mark.parametrize("odd", ["name", "folder"])
def test_a_path_a_graph_cannot_hold_is_not_read_by_name(tmp_path: Path, odd: str) -> None:
    """The graph names the file, and a session option its folder, in UTF-8: a path that is
    not (as a Linux disk may hold) gets the matrices from memory, and the tower works."""
    weights, spec, pixels = _tower_inputs(tmp_path)
    not_utf8 = os.fsdecode(b"w\xff")
    if odd == "name":
        moved = tmp_path / f"{not_utf8}.safetensors"
    else:
        moved = tmp_path / not_utf8 / weights.name
    try:
        moved.parent.mkdir(exist_ok=True)
        weights.rename(moved)
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses a name that is not UTF-8")
    mapped = imagepath.vision_tensors(moved)
    assert visionbytes.FileBacking.of(mapped, visiongraph.describe(spec, mapped, "fp32")) is None
    assert onnxvision.OnnxImageTower(spec, mapped, "fp32").encode(pixels).shape[0] == 3


@pytest.mark.skipif(not mappedtensors.CAN_RELEASE, reason="tensors are copies here")
def test_a_file_replaced_as_the_tower_starts_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ONNX Runtime opens the file by name after it was validated and mapped: another file
    renamed over it in between (same size, other weights) would be read instead. The
    tower sees the change and starts again from its mapping, so its vectors are those of
    the file it validated."""
    weights, spec, pixels = _tower_inputs(tmp_path)
    expected = onnxvision.OnnxImageTower(
        spec, {n: np.array(a) for n, a in imagepath.vision_tensors(weights).items()}, "fp32"
    ).encode(pixels)
    other = tmp_path / "other.safetensors"
    data = bytearray(weights.read_bytes())
    (length,) = struct.unpack_from("<Q", data)
    start = 8 + length
    data[start:] = np.random.default_rng(5).bytes(len(data) - start)
    other.write_bytes(data)

    real_of = visionbytes.FileBacking.of

    def replaced_meanwhile(
        mapped: MappedTensors, description: visiongraph.Description
    ) -> visionbytes.FileBacking | None:
        backing = real_of(mapped, description)
        other.replace(weights)  # between the validation and the session's read
        return backing

    monkeypatch.setattr(visionbytes.FileBacking, "of", staticmethod(replaced_meanwhile))
    mapped = imagepath.vision_tensors(weights)
    assert mapped.unchanged()
    tower = onnxvision.OnnxImageTower(spec, mapped, "fp32")
    assert not mapped.unchanged()
    assert np.allclose(tower.encode(pixels), expected, atol=1e-6)


@pytest.mark.skipif(not mappedtensors.CAN_RELEASE, reason="tensors are copies here")
def test_an_onnx_runtime_that_cannot_read_the_file_by_name_gets_the_matrices_from_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ONNX Runtime before 1.22 cannot be told the folder of an in-memory graph's external
    data (1.17, 1.18 and 1.20 were tried): the tower then starts as it did before, with
    every tensor handed over from memory, and gives the same vectors."""
    weights, spec, pixels = _tower_inputs(tmp_path)
    expected = onnxvision.OnnxImageTower(spec, imagepath.vision_tensors(weights), "fp32")
    monkeypatch.setattr(onnxvision, "_FILE_FOLDER_KEY", "session.no_such_setting")
    monkeypatch.chdir(tmp_path / "models")  # nor may the file be found beside the process
    fallen_back = onnxvision.OnnxImageTower(spec, imagepath.vision_tensors(weights), "fp32")
    assert np.array_equal(fallen_back.encode(pixels), expected.encode(pixels))
