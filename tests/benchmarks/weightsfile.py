"""A random-weight checkpoint file of a real architecture, as a user's downloaded weights.

Users load their weights from a file (downloaded on first use), so the
benchmarks that time a start-up load one too, through the same code: a
``.safetensors`` file of the architecture's seeded random weights, written
once under the system's temp folder (``photoseek-bench/weights``) and reused.
It costs what the real weights cost to read and load; only the numbers differ.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from photoseek.core.model.embedder import ModelSettings, load_embedder


def random_weights_file(arch: str) -> Path:
    """The cached ``.safetensors`` file of ``arch``'s seeded random weights."""
    from safetensors.torch import save_file

    folder = Path(tempfile.gettempdir()) / "photoseek-bench" / "weights"
    target = folder / f"{Path(arch).stem}-random.safetensors"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    embedder = load_embedder(ModelSettings(arch, "none", "cpu"), folder / "models")
    state = {k: v.contiguous() for k, v in embedder._model.state_dict().items()}
    partial = target.with_suffix(".partial")
    save_file(state, partial)
    partial.replace(target)
    return target
