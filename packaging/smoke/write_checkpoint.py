"""Write a tiny open_clip model config and a random-weight ``.safetensors`` checkpoint for it.

    PYTHON packaging/smoke/write_checkpoint.py OUT_DIR

Run with a Python that has photoseek and torch (the build's environment): the
weights are the ones photoseek's own loader draws for ``--pretrained none``
(a fixed seed), saved as a user's downloaded weights file would be. The bundle
then loads them with ``--model OUT_DIR/tiny-clip.json --pretrained
OUT_DIR/tiny-clip.safetensors``, through the very code that loads real weights.
Prints the two paths.
"""

from __future__ import annotations

import json
import runpy
import sys
import tempfile
from pathlib import Path

# The bundle's runtime hook for a torchvision whose C++ ops do not load beside this torch
# (a CPU torch with PyPI's CUDA torchvision); it does nothing where the ops load.
TORCHVISION_SHIM = Path(__file__).resolve().parents[1] / "hooks" / "rthook_torchvision_ops.py"

# The tests' tiny architecture (tests/fixtures/tiny-clip.json): a real CLIP, 2 layers wide 64.
TINY_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def write_checkpoint(out_dir: Path) -> tuple[Path, Path]:
    """The config and the weights file written into ``out_dir``."""
    from photoseek.core.model.embedder import ModelSettings, load_embedder
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    config = out_dir / "tiny-clip.json"
    config.write_text(json.dumps(TINY_CONFIG, indent=2), encoding="utf-8")
    with tempfile.TemporaryDirectory() as models:
        embedder = load_embedder(ModelSettings(str(config), "none", "cpu"), Path(models))
    state = {name: tensor.contiguous() for name, tensor in embedder._model.state_dict().items()}
    weights = out_dir / "tiny-clip.safetensors"
    save_file(state, str(weights))
    return config, weights


if __name__ == "__main__":
    runpy.run_path(str(TORCHVISION_SHIM))
    for path in write_checkpoint(Path(sys.argv[1])):
        print(path)
