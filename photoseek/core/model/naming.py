"""A model's name in the catalog, worked out without importing torch.

``index`` and ``status`` must know whether there is work for the chosen
model before paying for loading it (seconds, and a download on first use).
The catalog names a model by (architecture name, pretrained label, weights
digest); the first two follow from the settings alone, and the digest of a
weights file already on disk is read from the digest cache (or computed
once). Only random weights (``none``, for tests and speed measurements)
have no digest before the model is built; they are matched by name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from photoseek.core.errors import ModelUnavailableError
from photoseek.core.model.weights import (
    RANDOM_WEIGHTS,
    WEIGHT_SUFFIXES,
    dropin_name,
    file_digest,
    local_weights_file,
    looks_like_path,
)


@dataclass(frozen=True)
class ExpectedModel:
    """What the catalog will call the model of these settings (``digest`` None: unknown yet)."""

    arch: str
    pretrained: str
    digest: str | None


def arch_name(arch: str) -> str:
    """The catalog's name of an architecture (a config file is named by its content too)."""
    path = Path(arch).expanduser()
    if arch.endswith(".json") and path.is_file():
        config_digest = hashlib.blake2b(path.read_bytes(), digest_size=6).hexdigest()
        return f"{path.stem}@{config_digest}"
    return arch


def expected_model(arch: str, pretrained: str, models_dir: Path) -> ExpectedModel:
    """The catalog name of the model ``arch`` + ``pretrained`` would load, as far as known."""
    name = arch_name(arch)
    if pretrained.lower() == RANDOM_WEIGHTS:
        return ExpectedModel(name, RANDOM_WEIGHTS, None)
    if looks_like_path(pretrained):
        try:
            file = local_weights_file(Path(pretrained).expanduser())
        except ModelUnavailableError:
            return ExpectedModel(name, Path(pretrained).name, None)
        return ExpectedModel(name, file.name, _digest(file, models_dir))
    for suffix in WEIGHT_SUFFIXES:
        dropped = models_dir / dropin_name(Path(arch).stem, pretrained, suffix)
        if dropped.is_file():
            return ExpectedModel(name, pretrained, _digest(dropped, models_dir))
    return ExpectedModel(name, pretrained, None)


def _digest(file: Path, models_dir: Path) -> str | None:
    try:
        return file_digest(file, models_dir)
    except OSError:
        return None
