"""``photoseek doctor``: versions, device, model, paths and index health."""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass

from photoseek import __version__
from photoseek.core.errors import PhotoseekError
from photoseek.core.library import Library

_PACKAGES = (
    "torch",
    "open_clip_torch",
    "hnswlib",
    "numpy",
    "pillow",
    "pillow-heif",
    "platformdirs",
    "watchdog",
    "pyside6",
)


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str


def _versions() -> str:
    found = []
    for name in _PACKAGES:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} MISSING")
    return ", ".join(found)


def _check(name: str, probe: Callable[[], str]) -> Check:
    try:
        return Check(name, True, probe())
    except PhotoseekError as exc:
        return Check(name, False, str(exc))
    except Exception as exc:  # the doctor reports everything, it never crashes
        return Check(name, False, f"{type(exc).__name__}: {exc}")


def _device() -> str:
    import torch

    from photoseek.core.model.embedder import pick_device

    cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA"
    return f"auto -> {pick_device('auto')} ({cuda}; torch threads {torch.get_num_threads()})"


def _catalog_integrity(library: Library) -> str:
    result = library.catalog.integrity_check()
    if result != "ok":
        raise PhotoseekError(f"{library.paths.catalog}: integrity check failed: {result}")
    return f"{library.paths.catalog}: integrity ok"


def run_checks(library: Library) -> list[Check]:
    """Every check, in order; a failing check does not stop the others."""
    paths = library.paths
    checks = [
        Check(
            "photoseek",
            True,
            f"{__version__} on Python {sys.version.split()[0]}, {platform.platform()}",
        ),
        _check("packages", _versions),
        Check("data dir", True, str(paths.data_dir)),
        Check("cache dir", True, str(paths.cache_dir)),
        Check("log dir", True, str(paths.log_dir)),
        _check("catalog", lambda: _catalog_integrity(library)),
        _check("device", _device),
        _check("model", lambda: f"{library.embedder.identity.key} on {library.embedder.device}"),
    ]
    if checks[-1].ok:  # the index needs the model
        checks.append(_check("index", library.index_health))
    return checks
