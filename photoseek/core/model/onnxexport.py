"""The light text tower exported to ONNX, so that a cold search needs neither torch nor open_clip.

Run once per weights file, by :func:`photoseek.core.model.textpath.remember`
after the torch text tower has been shown exact; the file is then checked
against the full model on its own before it is recorded (see
:mod:`.onnxtext`). The export needs the ``onnx`` package (the exporter writes
the graph through it); without it there is no ONNX file, and searches use the
torch text tower.

The exported graph takes token ids of any batch size and any length up to the
context: the caller cuts each batch after its last end-of-text token, as the
torch tower does itself (:mod:`.texttower`). ``nn.MultiheadAttention`` traces
with the example's length fixed in its reshapes, so the export runs the same
attention written out with lengths taken from the input.

The weights go in a side file next to the graph (ONNX's external data): ONNX
Runtime opens a 250 MB model that way in 0.25 s here, against 0.8-1.0 s for
one file holding both (measured, ``ViT-B-32-256``'s text tower).
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from photoseek.core.model.onnxtext import DATA_SUFFIX
from photoseek.core.model.texttower import TextTower

log = logging.getLogger(__name__)

OPSET = 17


def export_text_tower(tower: TextTower, target: Path) -> Path:
    """Write ``tower`` as ONNX to ``target`` (its weights to ``target`` + ``.data``); ``target``.

    Both files appear whole or not at all (written under temporary names,
    then renamed, the weights first). Raises ``ImportError`` without the
    ``onnx`` package, and whatever the exporter raises.
    """
    import onnx

    target.parent.mkdir(parents=True, exist_ok=True)
    example = _example_tokens(tower.spec.vocab_size)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as scratch:
        traced = Path(scratch) / "tower.onnx"
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # the exporter's notes on advanced indexing
            torch.onnx.export(
                _DynamicLengthTower(tower),
                (example,),
                str(traced),
                input_names=["tokens"],
                output_names=["features"],
                dynamic_axes={"tokens": {0: "batch", 1: "length"}},
                opset_version=OPSET,
                dynamo=False,
            )
        model = onnx.load(str(traced))
        graph, data = Path(scratch) / target.name, target.name + DATA_SUFFIX
        onnx.save_model(
            model,
            str(graph),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=data,
            size_threshold=0,
        )
        os.replace(Path(scratch) / data, target.parent / data)
        os.replace(graph, target)
    log.info("text tower exported to %s", target)
    return target


def _example_tokens(vocab_size: int) -> torch.Tensor:
    """A batch of one short text: start, a few ids, end (the highest id)."""
    ids = [vocab_size - 2, 320, 1929, 530, 320, 2870, vocab_size - 1]
    return torch.tensor([ids], dtype=torch.long)


class _DynamicLengthTower(nn.Module):
    """``tower``'s computation with every length read from the input (for the exporter)."""

    def __init__(self, tower: TextTower) -> None:
        super().__init__()
        self.tower = tower

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        tower = self.tower
        length = tokens.shape[1]
        ends = tokens.argmax(dim=-1)
        x = tower.token_embedding(tokens) + tower.positional_embedding[:length]
        mask = tower.attn_mask[:length, :length]
        blocks: list[Any] = list(tower.transformer.resblocks)  # texttower's residual blocks
        for block in blocks:
            normed = block.ln_1(x)
            x = x + _attention(block.attn, normed, mask)
            x = x + block.mlp(block.ln_2(x))
        x = tower.ln_final(x)
        pooled = x[torch.arange(x.shape[0]), ends]
        out: torch.Tensor = pooled @ tower.text_projection
        return out


def _attention(attn: nn.MultiheadAttention, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Self-attention as ``nn.MultiheadAttention`` computes it (batch first, no dropout)."""
    heads, width = attn.num_heads, attn.embed_dim
    head_width = width // heads
    query, key, value = functional.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, -1)

    def split(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(t.shape[0], -1, heads, head_width).transpose(1, 2)

    query, key, value = split(query), split(key), split(value)
    scores = (query @ key.transpose(-2, -1)) * (head_width**-0.5) + mask
    mixed = (torch.softmax(scores, dim=-1) @ value).transpose(1, 2)
    out: torch.Tensor = attn.out_proj(mixed.reshape(x.shape[0], -1, width))
    return out
