"""The build's own virtual environment: torch first, hnswlib from source, photoseek, PyInstaller.

Never the development environment: what goes into the bundle is exactly what
this environment holds, so it is made fresh for each release build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

from projectinfo import REPO

HERE = Path(__file__).resolve().parent
BUILD_REQUIREMENTS = HERE / "requirements-build.txt"
# hnswlib's default build adds -march=native: a bundle built on a new CPU would die with
# SIGILL on an older one. HNSWLIB_NO_NATIVE=1 builds it for the baseline of the platform.
HNSWLIB_REQUIREMENT = "hnswlib>=0.8,<0.9"


@dataclass(frozen=True)
class TorchSource:
    """Where torch and torchvision come from.

    ``index_url``: a package index holding both (the release machine's CPU build:
    ``https://download.pytorch.org/whl/cpu``). Otherwise ``torch`` and
    ``torchvision`` are requirements or wheel files (empty: what photoseek's
    dependencies resolve to, a CUDA build on Linux from PyPI).
    """

    index_url: str | None = None
    torch: str = ""
    torchvision: str = ""


def python_of(venv_dir: Path) -> Path:
    """The interpreter of ``venv_dir``."""
    scripts = "Scripts" if sys.platform == "win32" else "bin"
    return venv_dir / scripts / ("python.exe" if sys.platform == "win32" else "python")


def run(argv: list[str], env: dict[str, str] | None = None) -> None:
    """Run ``argv``, echoing it; raise on a non-zero exit."""
    print("+", " ".join(argv), flush=True)
    subprocess.run(argv, check=True, env=env)


def create(venv_dir: Path, source: TorchSource) -> Path:
    """A fresh environment at ``venv_dir`` with everything the bundle holds; its python."""
    venv.EnvBuilder(clear=True, with_pip=True).create(venv_dir)
    python = str(python_of(venv_dir))
    pip = [python, "-m", "pip", "install", "--quiet"]
    install_torch(pip, source)
    hnswlib_env = dict(os.environ, HNSWLIB_NO_NATIVE="1")
    # --no-cache-dir: a wheel cached from an earlier native build must not be reused
    run([*pip, "--no-cache-dir", "--no-binary", "hnswlib", HNSWLIB_REQUIREMENT], hnswlib_env)
    strip_debug_info(venv_dir, "hnswlib*")
    run([*pip, str(REPO)])  # a regular (not editable) install: what the wheel would hold
    run([*pip, "-r", str(BUILD_REQUIREMENTS)])
    return Path(python)


def strip_debug_info(venv_dir: Path, pattern: str) -> None:
    """Drop the debug information of the extension modules ``pattern`` built here (Linux).

    Python's own compiler flags carry ``-g``: hnswlib's module is 8.5 MB with
    it, 0.6 MB without; the code is the same.
    """
    strip = shutil.which("strip")
    if not sys.platform.startswith("linux") or strip is None:
        return
    for library in venv_dir.glob(f"lib/python*/site-packages/{pattern}.so"):
        run([strip, "--strip-debug", str(library)])


def install_torch(pip: list[str], source: TorchSource) -> None:
    """torch and torchvision, before photoseek, so that its dependency is already met."""
    if source.index_url:
        names = [source.torch or "torch", source.torchvision or "torchvision"]
        run([*pip, "--index-url", source.index_url, *names])
    elif source.torch or source.torchvision:
        run([*pip, *(spec for spec in (source.torch, source.torchvision) if spec)])


PROBE = r"""
import glob, json, os, importlib.util
import torch
found = {"torch": torch.__version__, "cuda": torch.version.cuda}
spec = importlib.util.find_spec("torchvision")
folder = next(iter(spec.submodule_search_locations))
found["torchvision_ops"] = None
for lib in glob.glob(os.path.join(folder, "_C*.so")) + glob.glob(os.path.join(folder, "_C*.pyd")):
    try:
        torch.ops.load_library(lib)
        found["torchvision_ops"] = True
    except (OSError, RuntimeError) as exc:
        found["torchvision_ops"] = False
        found["torchvision_error"] = str(exc).splitlines()[0]
from importlib.metadata import version
found["torchvision"] = version("torchvision")
print(json.dumps(found))
"""


def probe_torch(python: Path) -> dict[str, object]:
    """torch's version and CUDA version, and whether torchvision's C++ ops load beside it.

    Loads ``torchvision/_C`` the way torchvision does, without importing
    torchvision (whose import fails outright when the ops are missing).
    """
    out = subprocess.run(
        [str(python), "-c", PROBE], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))
