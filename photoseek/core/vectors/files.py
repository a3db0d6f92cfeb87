"""The files of a saved vector index: sidecar format, atomic save, verified load.

This module knows nothing of :class:`~photoseek.core.vectors.index.VectorIndex`;
it works on the native hnswlib index and a :class:`Sidecar` describing it, and
``VectorIndex.save``/``VectorIndex.load`` delegate to it.

Files
-----
``<path>`` is the file hnswlib writes; ``<path>.json`` (the *sidecar*) describes
it: format version, dim, metric, graph parameters, model key, counts, the
deleted labels, the labels the graph cannot reach, and the size and BLAKE2b
checksum of the index file it belongs to. A load verifies the sidecar and the
checksum (:func:`read_verified`) *before* hnswlib reads the file
(:func:`load_native`), because hnswlib trusts its input and may crash on a
damaged one.

Atomic save
-----------
Both files are written to temporaries in the same directory
(``<name>.tmp-<pid>``), checked (hnswlib ignores write errors, so a full disk
shows up as a short file), fsynced, then renamed into place: the index first,
then the sidecar, then the directory is fsynced. Because the sidecar names the
exact size and checksum of its index file, every state a crash (or a power
cut that persists only one of the renames) can leave behind is either a
matching pair (all old or all new) or a mismatch that a load rejects with
:class:`IndexCorruptError`, after which the caller rebuilds from the catalog.
The order of the two renames is therefore not what keeps the pair
consistent; the checksum is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photoseek.core.atomicfile import fsync_dir, fsync_file
from photoseek.core.errors import IndexCorruptError, LibraryError
from photoseek.core.fileidentity import FileIdentity, identity_of
from photoseek.core.vectors.hnsw import MAX_LABEL

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
METRIC = "cosine"
LOAD_ATTEMPTS = 3

_SPACE_FACTOR = 1.05
_SPACE_MARGIN = 16 * 1024 * 1024
_HASH_DIGEST = 32


class IndexMissingError(IndexCorruptError):
    """No saved index exists at the path (a first run, or the files were removed)."""


class FileChangedError(IndexCorruptError):
    """The index file was replaced while it was being loaded (a writer saved)."""


@dataclass(frozen=True)
class IndexParams:
    """HNSW graph parameters, fixed when an index is built (stored in the sidecar).

    ``M`` is 32, not hnswlib's usual 16: on a million clustered 512-d vectors
    (the scale benchmark's CLIP-like set) M=16 left 8.9 % of the nodes out of
    reach of a search for their own vector at ef 128 (every query then
    scored them all, 29 ms) and gave recall@10 0.961 at ef 512; M=32 left
    2.0 % (0.65 % at ef 512) and gave 0.975, knn p99 5.6 ms (hnswlib alone,
    one query thread). It costs 128 bytes more a photo in RAM and on disk
    and about a quarter more time to insert. An index keeps the parameters
    it was built with; a rebuild takes these.
    """

    M: int = 32
    ef_construction: int = 200


@dataclass(frozen=True)
class Sidecar:
    """The validated content of ``<path>.json``."""

    dim: int
    model_key: str
    params: IndexParams
    count: int
    element_count: int
    capacity: int
    file_size: int
    checksum: str
    deleted: frozenset[int] = field(default_factory=frozenset)
    unreachable: frozenset[int] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, Any]:
        """The sidecar as a JSON object."""
        return {
            "format_version": FORMAT_VERSION,
            "dim": self.dim,
            "metric": METRIC,
            "M": self.params.M,
            "ef_construction": self.params.ef_construction,
            "model_key": self.model_key,
            "count": self.count,
            "element_count": self.element_count,
            "capacity": self.capacity,
            "deleted": sorted(self.deleted),
            "unreachable": sorted(self.unreachable),
            "file_size": self.file_size,
            "checksum": self.checksum,
        }

    @classmethod
    def from_json(cls, data: object) -> Sidecar:
        """Parse and type-check a sidecar; raise IndexCorruptError if malformed."""
        if not isinstance(data, dict):
            raise IndexCorruptError("search index sidecar is not a JSON object")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexCorruptError(f"search index format version {version!r} is unknown")
        if data.get("metric") != METRIC:
            raise IndexCorruptError(f"search index metric {data.get('metric')!r} is not cosine")
        params = IndexParams(_json_int(data, "M"), _json_int(data, "ef_construction"))
        if params.M < 2 or params.ef_construction < 1:
            raise IndexCorruptError(f"search index sidecar has invalid parameters {params}")
        return cls(
            dim=_json_int(data, "dim"),
            model_key=_json_str(data, "model_key"),
            params=params,
            count=_json_int(data, "count"),
            element_count=_json_int(data, "element_count"),
            capacity=_json_int(data, "capacity"),
            file_size=_json_int(data, "file_size"),
            checksum=_json_str(data, "checksum"),
            deleted=frozenset(_json_labels(data, "deleted")),
            unreachable=frozenset(_json_labels(data, "unreachable")),
        )


def _json_int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise IndexCorruptError(f"search index sidecar field {key!r} is missing or invalid")
    return value


def _json_str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise IndexCorruptError(f"search index sidecar field {key!r} is missing or invalid")
    return value


def _json_labels(data: dict[str, Any], key: str) -> list[int]:
    values = data.get(key)
    if not isinstance(values, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_LABEL for v in values
    ):
        raise IndexCorruptError(f"search index sidecar field {key!r} is missing or invalid")
    return values


def sidecar_path(path: Path) -> Path:
    """The JSON sidecar that describes the index file at ``path``."""
    return path.with_name(path.name + ".json")


def temp_path(path: Path) -> Path:
    """The temporary that a save by this process writes before renaming it to ``path``."""
    return path.with_name(f"{path.name}.tmp-{os.getpid()}")


# -- saving ------------------------------------------------------------------------------


def save_atomically(path: Path, snapshot: Callable[[Path], Sidecar]) -> None:
    """Write an index and its sidecar to ``path`` atomically (see the module docstring).

    ``snapshot(tmp_index)`` writes the native index into ``tmp_index`` (see
    :func:`write_native`) and returns its sidecar, checksum still empty. The
    caller serialises saves (one writer at a time). Raises LibraryError if the
    disk lacks space or the write fails; the files previously at ``path``
    are then left untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_index, tmp_sidecar = temp_path(path), temp_path(sidecar_path(path))
    _remove_stale_temps(path)
    try:
        sidecar = snapshot(tmp_index)
        _check_written(tmp_index, sidecar.file_size)
        fsync_file(tmp_index)
        sidecar = dataclasses.replace(sidecar, checksum=_checksum(tmp_index))
        _write_json(tmp_sidecar, sidecar.to_json())
        tmp_index.replace(path)  # from here until the next line, the sidecar mismatches
        tmp_sidecar.replace(sidecar_path(path))
        fsync_dir(path.parent)
    except OSError as exc:
        raise LibraryError(f"could not save the search index to {path}: {exc}") from exc
    finally:
        tmp_index.unlink(missing_ok=True)
        tmp_sidecar.unlink(missing_ok=True)


def write_native(native: Any, tmp_index: Path) -> int:
    """hnswlib's save of ``native`` into ``tmp_index``; return the size the file must have.

    Raises LibraryError first if the disk lacks space for it. The caller holds
    the lock that keeps ``native`` unchanged while it is saved.
    """
    expected = int(native.index_file_size())
    _ensure_free_space(tmp_index.parent, expected)
    native.save_index(str(tmp_index))
    return expected


def _check_written(tmp_index: Path, expected: int) -> None:
    """Raise LibraryError unless hnswlib wrote all ``expected`` bytes (it ignores errors)."""
    try:
        written = tmp_index.stat().st_size
    except FileNotFoundError:
        written = 0
    if written != expected:
        raise LibraryError(
            f"could not write the search index in {tmp_index.parent}: wrote {written} of "
            f"{expected} bytes (is the disk full?)"
        )


def _remove_stale_temps(path: Path) -> None:
    """Remove temporaries left by a crashed save (one writer process at a time)."""
    prefixes = (f"{path.name}.tmp-", f"{sidecar_path(path).name}.tmp-")
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            if entry.name.startswith(prefixes) and entry.is_file(follow_symlinks=False):
                log.info("removing stale temporary file %s", entry.path)
                Path(entry.path).unlink(missing_ok=True)


def _ensure_free_space(directory: Path, size: int) -> None:
    need = int(size * _SPACE_FACTOR) + _SPACE_MARGIN
    free = shutil.disk_usage(directory).free
    if free < need:
        raise LibraryError(
            f"not enough disk space to save the search index: need {need / 1e6:.0f} MB "
            f"in {directory} ({free / 1e6:.0f} MB free)"
        )


def _checksum(path: Path) -> str:
    with path.open("rb") as handle:
        return _checksum_handle(handle)


def _checksum_handle(handle: io.BufferedReader) -> str:
    digest = hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=_HASH_DIGEST))
    return f"blake2b-256:{digest.hexdigest()}"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())


# -- loading -----------------------------------------------------------------------------


def read_verified(path: Path, dim: int, model_key: str) -> tuple[Sidecar, FileIdentity]:
    """The sidecar of ``path``, checked against ``dim``, ``model_key`` and the index file.

    Verifies the index file's size and checksum, and returns the sidecar and
    the identity of the file checked (for :func:`check_unchanged`). Raises
    IndexMissingError if neither file exists, FileChangedError if the sidecar
    was replaced meanwhile (retry), IndexCorruptError otherwise.
    """
    side = sidecar_path(path)
    side_identity = _file_identity(side) if side.exists() else None
    sidecar = _read_sidecar(path)
    _check_identity(sidecar, dim, model_key)
    try:
        identity = _verify_file(path, sidecar)
    except IndexCorruptError:
        if side_identity is not None and _file_identity(side) != side_identity:
            raise FileChangedError(f"search index {path} was saved while loading") from None
        raise
    return sidecar, identity


def check_unchanged(path: Path, identity: FileIdentity) -> None:
    """Raise FileChangedError if ``path`` is no longer the file :func:`read_verified` checked."""
    if _file_identity(path) != identity:
        raise FileChangedError(f"search index {path} changed while loading")


def check_labels(native: Any, sidecar: Sidecar) -> set[int]:
    """Check a loaded native index against its sidecar; return its live labels."""
    if int(native.element_count) != sidecar.element_count or (
        int(native.M),
        int(native.ef_construction),
    ) != (sidecar.params.M, sidecar.params.ef_construction):
        raise IndexCorruptError("search index file does not match its sidecar")
    ids = {int(i) for i in native.get_ids_list()}
    live = ids - sidecar.deleted
    if (
        len(ids) != sidecar.element_count
        or not sidecar.deleted <= ids
        or len(live) != sidecar.count
        or not sidecar.unreachable <= live
    ):
        raise IndexCorruptError("search index labels do not match its sidecar")
    return live


def _read_sidecar(path: Path) -> Sidecar:
    side = sidecar_path(path)
    if not side.exists():
        if not path.exists():
            raise IndexMissingError(f"no saved search index at {path}")
        raise IndexCorruptError(f"search index sidecar {side.name} is missing")
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"search index sidecar {side.name} is unreadable: {exc}") from exc
    return Sidecar.from_json(data)


def _check_identity(sidecar: Sidecar, dim: int, model_key: str) -> None:
    if sidecar.dim != dim:
        raise IndexCorruptError(f"search index has dim {sidecar.dim}, expected {dim}")
    if sidecar.model_key != model_key:
        raise IndexCorruptError(
            f"search index belongs to model {sidecar.model_key!r}, expected {model_key!r}"
        )


def _file_identity(path: Path) -> FileIdentity:
    try:
        st = path.stat()
    except OSError as exc:
        raise FileChangedError(f"search index {path} disappeared while loading") from exc
    return identity_of(st)


def _verify_file(path: Path, sidecar: Sidecar) -> FileIdentity:
    """Check the size and checksum of ``path``; return the identity of the file checked."""
    try:
        with path.open("rb") as handle:
            st = os.fstat(handle.fileno())
            if st.st_size != sidecar.file_size:
                raise IndexCorruptError(
                    f"search index file is {st.st_size} bytes, its sidecar says "
                    f"{sidecar.file_size} (truncated, or from another save)"
                )
            checksum = _checksum_handle(handle)
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"search index file {path.name} is missing") from exc
    except OSError as exc:
        raise IndexCorruptError(f"search index file {path.name} is unreadable: {exc}") from exc
    if checksum != sidecar.checksum:
        raise IndexCorruptError("search index checksum does not match its sidecar")
    return identity_of(st)


def plausible_capacity(sidecar: Sidecar, initial_capacity: int) -> int:
    """The saved capacity, unless implausibly large (0: as many slots as elements).

    Plausible is at most twice the elements plus ``initial_capacity`` (what a
    new index starts with). The sidecar is not checksummed itself, and hnswlib
    allocates every slot up front, so a damaged ``capacity`` must not become a
    huge allocation.
    """
    if sidecar.capacity <= 2 * sidecar.element_count + initial_capacity:
        return sidecar.capacity
    return 0


def load_native(path: Path, dim: int, capacity: int) -> Any:
    """hnswlib's load of a verified index file with ``capacity`` slots (0: one per element)."""
    import hnswlib  # here, not at start-up: it imports numpy (0.25 s)

    native = hnswlib.Index(space=METRIC, dim=dim)
    try:
        native.load_index(str(path), max_elements=capacity)
    except (RuntimeError, MemoryError) as exc:
        raise IndexCorruptError(f"hnswlib could not load the search index: {exc}") from exc
    return native
