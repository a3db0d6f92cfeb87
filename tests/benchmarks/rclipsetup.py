"""rclip 4.0.8 beside photoseek, offline, with the same random weights.

rclip downloads its ONNX towers from the model hub, which this machine cannot
reach. So the benchmark builds what the download would leave, from the same
random-weight ``ViT-B-32-256`` file photoseek loads:

    $RCLIP_DATADIR/ViT-B-32-256-datacomp_s34b_b86k/visual.onnx    input "input"  (N, 3, 256, 256)
    $RCLIP_DATADIR/ViT-B-32-256-datacomp_s34b_b86k/textual.onnx   input "input"  (N, 77) int64
    $RCLIP_DATADIR/tokenizer/bpe_simple_vocab_16e6.txt.gz         open_clip's vocabulary
    $RCLIP_DATADIR/{LICENSE, OPENAI-CLIP-MIT.txt, README.md, THIRD_PARTY_NOTICES.md}

The towers are exported as rclip's conversion does: ``model.visual`` and
``model.encode_text`` (over the full 77-token context) through
``torch.onnx.export``, fp32, opset 17, the batch dimension dynamic, output
``"output"``. The legal files are placeholders that say where the real ones
come from. rclip itself is installed from the package registry into its own
virtual environment (it needs Python >= 3.12).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

RCLIP_VERSION = "4.0.8"
MODEL_SUBDIR = "ViT-B-32-256-datacomp_s34b_b86k"
LEGAL_FILES = ("LICENSE", "OPENAI-CLIP-MIT.txt", "README.md", "THIRD_PARTY_NOTICES.md")
ROOT = Path(tempfile.gettempdir()) / "photoseek-bench" / "rclip"


def python312() -> str | None:
    """A Python 3.12 or newer interpreter, if this machine has one.

    ``PHOTOSEEK_BENCH_PYTHON`` names one; else ``python3.13``/``python3.12`` on
    PATH, or one of pyenv's versions (its shims answer only when selected).
    """
    named = os.environ.get("PHOTOSEEK_BENCH_PYTHON")
    pyenv = sorted(Path.home().glob(".pyenv/versions/3.1[2-9]*/bin/python"), reverse=True)
    candidates = [named] if named else []
    candidates += [shutil.which(name) for name in ("python3.13", "python3.12")]
    candidates += [str(path) for path in pyenv]
    for found in candidates:
        if found and subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
            return found
    return None


def rclip_executable() -> Path | None:
    """rclip installed in its own virtual environment (made on first use); None if it cannot be."""
    venv = ROOT / f"venv-{RCLIP_VERSION}"
    executable = venv / "bin" / "rclip"
    if executable.is_file():
        return executable
    interpreter = python312()
    if interpreter is None:
        return None
    subprocess.run([interpreter, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", f"rclip=={RCLIP_VERSION}"],
        capture_output=True,
        text=True,
    )
    return executable if done.returncode == 0 and executable.is_file() else None


def rclip_datadir(weights: Path, arch: str) -> Path:
    """rclip's data folder with towers exported from ``weights`` (made once per weights file)."""
    datadir = ROOT / f"data-{weights.stem}"
    models = datadir / MODEL_SUBDIR
    if (models / "textual.onnx").is_file() and (models / "visual.onnx").is_file():
        return datadir
    models.mkdir(parents=True, exist_ok=True)
    _export_towers(weights, arch, models)
    vocabulary = datadir / "tokenizer" / "bpe_simple_vocab_16e6.txt.gz"
    vocabulary.parent.mkdir(exist_ok=True)
    from photoseek.core.model.bpe import vocabulary_file

    shutil.copyfile(vocabulary_file(), vocabulary)
    for name in LEGAL_FILES:
        (datadir / name).write_text(
            "Placeholder written by photoseek's benchmark: the real file comes with rclip's "
            "model download (huggingface.co/yurijmikhalevich/rclip-models).\n",
            encoding="utf-8",
        )
    return datadir


def _export_towers(weights: Path, arch: str, folder: Path) -> None:
    import torch

    from photoseek.core.model.embedder import ModelSettings, load_embedder

    embedder = load_embedder(ModelSettings(arch, str(weights), "cpu"), folder / ".models")
    model = embedder._model.eval()

    class _Text(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.model.encode_text(tokens)

    size = embedder.image_size
    towers = (
        ("visual.onnx", model.visual, torch.zeros(1, 3, size, size)),
        ("textual.onnx", _Text(), torch.zeros(1, 77, dtype=torch.long)),
    )
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # its fused kernel has no ONNX form
    try:
        for name, tower, example in towers:
            _export(tower, example, folder / name)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    shutil.rmtree(folder / ".models", ignore_errors=True)


def _export(tower: object, example: object, target: Path) -> None:
    import torch

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            tower,
            (example,),
            str(target),
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
