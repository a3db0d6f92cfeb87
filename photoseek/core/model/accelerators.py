"""Whether the model may run on a GPU here, found without importing torch (1.8 s).

The light image path (:mod:`.imagepath`) runs the image tower on ONNX
Runtime's CPU provider. Where torch would put the model on a GPU, the GPU
embeds photos many times faster than the CPU, so indexing must load the full
model there instead. ``--device cuda`` or ``mps`` says so; for ``auto``
(CUDA, then MPS, then CPU) this module looks for the signs torch's own
checks rest on, without importing torch: an NVIDIA driver (Linux
``/proc/driver/nvidia/version``, Windows ``nvcuda.dll``) or an Apple silicon
Mac (MPS). A false alarm (a driver with a CPU-only torch) costs the light
path's start-up saving, not correctness: the full model then runs on the CPU.
"""

from __future__ import annotations

import os
import platform
import sys

__all__ = ["may_have_gpu", "runs_on_cpu"]


def may_have_gpu() -> bool:
    """Whether ``auto`` may pick a GPU on this computer."""
    if sys.platform == "darwin":
        return platform.machine() == "arm64"
    if sys.platform.startswith("linux"):
        return os.path.exists("/proc/driver/nvidia/version")  # noqa: PTH110
    if sys.platform == "win32":
        system = os.environ.get("SYSTEMROOT", r"C:\Windows")
        return os.path.exists(os.path.join(system, "System32", "nvcuda.dll"))  # noqa: PTH110, PTH118
    return False


def runs_on_cpu(device: str) -> bool:
    """Whether a model asked to run on ``device`` (``auto``, ``cpu``, ``cuda``, ``mps``) runs
    on the CPU here, as far as can be told without torch."""
    if device == "cpu":
        return True
    if device == "auto":
        return not may_have_gpu()
    return False
