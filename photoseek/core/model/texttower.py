"""CLIP's text tower on its own, in plain torch: a query's vector without open_clip.

Importing open_clip costs 2.5-3 s on a 2-core CPU, most of it torchvision
(whose ``ops`` import ``torch._dynamo``) and timm, none of which a text query
needs. This module rebuilds the text half of open_clip's ``CLIP`` model (the
class every plain CLIP config builds; custom, Hugging Face and SigLIP text
towers are not covered) from the same torch layers, under the same
parameter names, so the weights load from the checkpoint by name:

    token_embedding, positional_embedding,
    transformer.resblocks.N.{ln_1, attn, ln_2, mlp.c_fc, mlp.c_proj},
    ln_final, text_projection

and the same computation as ``CLIP.encode_text``: embeddings plus positions,
pre-norm residual blocks under the causal mask, a final norm, the features
at the end-of-text token (the highest id), the projection. That it matches
is not assumed: :mod:`.textpath` and the :class:`~.embedder.Embedder`
compare it with the full model on the same weights before it is ever used.

One thing it does differently: it runs only the positions up to the last
end-of-text token, not all 77. Under the causal mask no position attends to
a later one, so the padding after the end-of-text token cannot change the
features taken there; a short query ("a red kite on the beach", 8 tokens)
costs a tenth of the full context's compute.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from photoseek.core.model.textspec import (
    TEXT_PREFIXES,
    TEXT_PROJECTION,
    TextTowerSpec,
    is_text_key,
    plain_text_spec,
)

__all__ = [
    "TEXT_PREFIXES",
    "TEXT_PROJECTION",
    "TextTower",
    "TextTowerSpec",
    "is_text_key",
    "plain_text_spec",
    "tower_sharing",
]


class _QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class _Block(nn.Module):
    """One pre-norm residual attention block (open_clip's ``ResidualAttentionBlock``)."""

    def __init__(self, width: int, heads: int, mlp_width: int, quick_gelu: bool) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(width)
        activation: nn.Module = _QuickGELU() if quick_gelu else nn.GELU()
        self.mlp = nn.Sequential(
            OrderedDict(
                c_fc=nn.Linear(width, mlp_width),
                gelu=activation,
                c_proj=nn.Linear(mlp_width, width),
            )
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        normed = self.ln_1(x)
        x = x + self.attn(normed, normed, normed, need_weights=False, attn_mask=mask)[0]
        out: torch.Tensor = x + self.mlp(self.ln_2(x))
        return out


class _Blocks(nn.Module):
    def __init__(self, spec: TextTowerSpec) -> None:
        super().__init__()
        mlp_width = int(spec.width * spec.mlp_ratio)
        self.resblocks = nn.ModuleList(
            _Block(spec.width, spec.heads, mlp_width, spec.quick_gelu) for _ in range(spec.layers)
        )


class TextTower(nn.Module):
    """The text half of open_clip's ``CLIP``; parameters named as in its checkpoints."""

    def __init__(self, spec: TextTowerSpec) -> None:
        super().__init__()
        self.spec = spec
        self.token_embedding = nn.Embedding(spec.vocab_size, spec.width)
        self.positional_embedding = nn.Parameter(torch.empty(spec.context_length, spec.width))
        self.transformer = _Blocks(spec)
        self.ln_final = nn.LayerNorm(spec.width)
        self.text_projection = nn.Parameter(torch.empty(spec.width, spec.embed_dim))
        causal = torch.full((spec.context_length, spec.context_length), float("-inf")).triu_(1)
        self.attn_mask: torch.Tensor
        self.register_buffer("attn_mask", causal, persistent=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Unnormalised text features of a (batch, context) tensor of token ids."""
        ends = tokens.argmax(dim=-1)
        length = int(ends.max()) + 1  # nothing after the last end-of-text token matters
        tokens = tokens[:, :length]
        x = self.token_embedding(tokens) + self.positional_embedding[:length]
        mask = self.attn_mask[:length, :length]
        for block in self.transformer.resblocks:
            x = block(x, mask)
        x = self.ln_final(x)
        pooled = x[torch.arange(x.shape[0]), ends]
        out: torch.Tensor = pooled @ self.text_projection
        return out


def tower_sharing(model: nn.Module, spec: TextTowerSpec) -> TextTower:
    """A :class:`TextTower` over ``model``'s own text tensors (no copy, no random draws)."""
    from photoseek.core.model.noinit import random_initialisers_skipped

    with random_initialisers_skipped():
        tower = TextTower(spec)
    own = {name: value for name, value in model.state_dict().items() if is_text_key(name)}
    tower.load_state_dict(own, strict=True, assign=True)
    return tower.eval()
