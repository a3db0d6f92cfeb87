"""The library's weights on the cluster's workers: sent once from the driver, or shared storage.

The driver resolves the weights file its own model was loaded from. Under a
``--path-map`` the workers read that file from their own mount; otherwise the
driver puts its bytes into Ray's object store once per run, and every model
actor receives them once, when it starts. Either way the actor lays the file
out in a private folder exactly as the driver has it (a file of the same name,
or the drop-in name of a pretrained tag), so the very same safe loader
(:func:`~photoseek.core.model.embedder.load_embedder`: safetensors, or torch
files with ``weights_only=True``) loads it and records the same model identity
(architecture, label, SHA-256 digest). Workers never download weights.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from photoseek.core.cluster.options import ClusterOptions
from photoseek.core.model.embedder import ModelSettings, register_arch
from photoseek.core.model.weights import (
    RANDOM_WEIGHTS,
    dropin_name,
    looks_like_path,
    resolve_weights,
)


@dataclass(frozen=True)
class WorkerWeights:
    """Where a model actor finds the library's weights (the bytes travel beside it).

    ``file_name`` is the weights file's name on the driver ("" for random
    weights); ``shared`` its path on the workers' own mount ("" when the driver
    sends the bytes); ``tag`` the pretrained tag it stands for, or "" when the
    user named a file.
    """

    file_name: str
    shared: str
    tag: str

    @property
    def sent(self) -> bool:
        """Whether the actor needs the bytes the driver put into the object store."""
        return bool(self.file_name) and not self.shared


def driver_weights(
    settings: ModelSettings, models_dir: Path, cluster: ClusterOptions
) -> tuple[WorkerWeights, Path | None]:
    """What the workers need, and the local file whose bytes must be sent (None: nothing)."""
    arch, _name = register_arch(settings.arch)
    source = resolve_weights(arch, settings.pretrained, models_dir)  # on disk already: no download
    if source.file is None:
        return WorkerWeights("", "", ""), None
    tag = "" if looks_like_path(settings.pretrained) else settings.pretrained
    shared = cluster.remote_path(source.file) or ""
    weights = WorkerWeights(source.file.name, shared, tag)
    return weights, (None if shared else source.file)


def worker_settings(
    settings: ModelSettings, weights: WorkerWeights, data: bytes | None, folder: Path
) -> tuple[ModelSettings, Path]:
    """The settings and models folder that make the worker load ``weights`` from ``folder``.

    ``data`` is the file's bytes when the driver sent them. Raises
    ``FileNotFoundError`` when the shared file is not there.
    """
    models_dir = folder / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    if not weights.file_name:
        return replace(settings, pretrained=RANDOM_WEIGHTS), models_dir
    arch, _name = register_arch(settings.arch)
    suffix = Path(weights.file_name).suffix
    target = (
        models_dir / dropin_name(arch, weights.tag, suffix)
        if weights.tag
        else folder / weights.file_name
    )
    if weights.shared:
        source = Path(weights.shared)
        if not source.is_file():
            raise FileNotFoundError(f"the weights are not at {source} on this worker")
        target.symlink_to(source)
    else:
        assert data is not None, "the driver sends the bytes of weights it does not share"
        target.write_bytes(data)
    pretrained = weights.tag or str(target)
    return replace(settings, pretrained=pretrained), models_dir


def private_folder() -> Path:
    """A new folder only this worker process uses (removed with :func:`remove_folder`)."""
    return Path(tempfile.mkdtemp(prefix="photoseek-worker-"))


def remove_folder(folder: Path) -> None:
    """Remove a worker's private folder (the weights are in memory by then)."""
    shutil.rmtree(folder, ignore_errors=True)
