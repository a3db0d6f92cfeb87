"""A safetensors file's tensors as numpy arrays over a read-only memory map, not copies.

The light image path starts a tower on every ``index`` run. Copying the
tower's 350 MB out of the file (``safe_open(framework="numpy")``) cost 0.5-0.8
CPU-seconds in a fresh process, most of it faulting in new memory, of a
tower start of 1.9 CPU-seconds: a fifth of a 48-photo run on 2 cores, spent
while the decoders need those cores.
Mapped, the arrays cost nothing until read, and ONNX Runtime reads the big
matrices once, when it packs them into its own layout at session start;
:meth:`MappedTensors.release_pages` then lets go of the file's pages (they
are clean, so they are dropped, not written; a later read would fault them
back in from the file), which takes their 350 MB out of the process's
resident memory.

The file is checked by the ``safetensors`` library first (its header is
parsed and validated there: offsets inside the file, no overlap, sizes that
match shapes), then the header's offsets are read here and checked again
against the library's shapes and data types, so a file the library refuses
is refused here too. Only what numpy holds natively is mapped (float32,
float16); another type raises :class:`ValueError`.

A mapping sees the file as it is on disk: a weights file rewritten in
place while a process runs could change what the mapping reads. The caller
copies every tensor that ONNX Runtime reads on each run (norms, biases,
embeddings) and maps only the matrices it packs (:mod:`.visiongraph`), and
downloads replace files by renaming, which a mapping does not see.

**Read by ONNX Runtime straight from the file.** Handing ONNX Runtime the
mapped matrices as in-memory initializers still made it copy them before
packing them: 0.18 s of its log for ``ViT-B-32``'s 330 MB of matrices, and
the resident size just after the session's start was 248 MB higher than with
the 245 MB that could then be read from the file. :meth:`MappedTensors.span`
gives a view's place in the file instead, so that the graph can name the
file as the matrix's external data; ONNX Runtime then maps those bytes
itself and packs them from there (:mod:`.visionbytes`).
:meth:`MappedTensors.unchanged` says whether the path still names the file
this object validated, for the caller to check once ONNX Runtime has read it
by name.

Where pages cannot be given back (no ``madvise``: Windows), the tensors are
copied out of the mapping and it is closed at once, as before this module:
a mapped file cannot be replaced or deleted there while it stays mapped.
There, no view has a :meth:`~MappedTensors.span`, so nothing is read by name.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from photoseek.core.fileidentity import identity_of

if TYPE_CHECKING:
    import numpy.typing as npt

    Array = npt.NDArray[Any]

__all__ = ["MappedTensors"]

CAN_RELEASE: Final = hasattr(mmap, "MADV_DONTNEED")
_HEADER_LENGTH: Final = struct.Struct("<Q")
_DTYPES: Final = {"F32": "float32", "F16": "float16"}


class MappedTensors(Mapping[str, "Array"]):
    """The tensors of ``file`` whose names ``wanted`` accepts, keyed by ``rename(name)``."""

    def __init__(
        self,
        file: Path,
        wanted: Callable[[str], bool],
        rename: Callable[[str], str] = lambda name: name,
    ) -> None:
        import numpy as np

        with file.open("rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            self._identity = identity_of(os.fstat(handle.fileno()))
        self.file = file
        self._start = 0  # the mapping's address (0: no view has a span)
        self._arrays: dict[str, Array] = {}
        for name, (dtype, shape, start, end) in _validated_entries(file, self._map, wanted).items():
            if end > len(self._map):
                raise ValueError(f"{file.name}: tensor {name} ends past the end of the file")
            count = (end - start) // np.dtype(dtype).itemsize
            view = np.frombuffer(self._map, dtype, count=count, offset=start).reshape(shape)
            self._arrays[rename(name)] = view if CAN_RELEASE else view.copy()
            del view  # no view but the kept ones may hold the mapping
        if not CAN_RELEASE:  # copies: a mapped file could not be replaced there meanwhile
            self._map.close()
        elif len(self._map):
            whole = np.frombuffer(self._map, np.uint8)
            self._start = int(whole.__array_interface__["data"][0])
            del whole  # the mapping stays: its address does not move

    def __getitem__(self, name: str) -> Array:
        return self._arrays[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def span(self, array: Array) -> tuple[int, int] | None:
        """``(offset, length)`` in the file of ``array``'s bytes, when it is a C-ordered view
        of this mapping (as mapped: no copy, no other type); None for anything else, and
        for every array where the tensors are copies (Windows)."""
        if not self._start or self._map.closed or not array.flags["C_CONTIGUOUS"]:
            return None
        offset = int(array.__array_interface__["data"][0]) - self._start
        if offset < 0 or offset + array.nbytes > len(self._map):
            return None
        return offset, int(array.nbytes)

    def unchanged(self) -> bool:
        """Whether the path still names the file that was mapped and validated, as it was
        (the same file, size and modification time)."""
        try:
            return identity_of(self.file.stat()) == self._identity
        except OSError:
            return False

    def release_pages(self) -> None:
        """Drop the file's pages from this process's memory (read back from the file if
        touched again): for after a consumer has copied or packed what it needs."""
        if CAN_RELEASE:
            self._map.madvise(mmap.MADV_DONTNEED)


def _validated_entries(
    file: Path, mapped: mmap.mmap, wanted: Callable[[str], bool]
) -> dict[str, tuple[str, list[int], int, int]]:
    """``name -> (numpy dtype, shape, start, end)`` in file offsets, for the wanted tensors,
    after the ``safetensors`` library has accepted the file."""
    from safetensors import safe_open

    with safe_open(str(file), framework="numpy") as checked:
        names = [n for n in checked.keys() if wanted(n)]  # noqa: SIM118 (not a dict)
        slices = {n: checked.get_slice(n) for n in names}
        library: dict[str, tuple[str, list[int]]] = {
            n: (s.get_dtype(), list(s.get_shape())) for n, s in slices.items()
        }
    header, data_start = _header(file, mapped)
    entries = {}
    for name in names:
        meta = header.get(name)
        if not isinstance(meta, dict):
            raise ValueError(f"{file.name}: tensor {name} is not in the header")
        dtype, shape, offsets = meta.get("dtype"), meta.get("shape"), meta.get("data_offsets")
        if dtype not in _DTYPES:
            raise ValueError(f"{file.name}: tensor {name} is {dtype}; float32 or float16 needed")
        if library[name] != (dtype, shape):
            raise ValueError(f"{file.name}: tensor {name}'s header disagrees with safetensors")
        shape = library[name][1]  # the same list, as the library typed it
        size = _elements(shape) * (4 if dtype == "F32" else 2)
        match offsets:
            case [int(start), int(end)] if start >= 0 and end - start == size:
                pass
            case _:
                raise ValueError(f"{file.name}: tensor {name}'s offsets do not match its shape")
        entries[name] = (_DTYPES[dtype], shape, data_start + start, data_start + end)
    return entries


def _header(file: Path, mapped: mmap.mmap) -> tuple[dict[str, Any], int]:
    """The parsed JSON header and the file offset where the tensors' data starts."""
    start = _HEADER_LENGTH.size
    if len(mapped) < start:
        raise ValueError(f"{file.name}: too short for a safetensors file")
    (length,) = _HEADER_LENGTH.unpack_from(mapped, 0)
    header = json.loads(mapped[start : start + length])
    if not isinstance(header, dict):
        raise ValueError(f"{file.name}: the safetensors header is not a table")
    return header, start + length


def _elements(shape: list[int]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count
