"""The hyperparameters of a plain CLIP text tower, and which checkpoint tensors are its own.

Apart from :mod:`.texttower` (the torch module) so that reading a recorded
spec, as a cold search does before it picks a runtime, imports no torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

TEXT_PREFIXES = ("token_embedding.", "positional_embedding", "transformer.", "ln_final.")
TEXT_PROJECTION = "text_projection"
_PLAIN_TEXT_KEYS = {"context_length", "vocab_size", "width", "heads", "layers", "mlp_ratio"}
_IGNORED_MODEL_KEYS = {"embed_dim", "vision_cfg", "text_cfg", "quick_gelu", "init_logit_scale"}


@dataclass(frozen=True)
class TextTowerSpec:
    """The hyperparameters of a plain CLIP text tower."""

    context_length: int
    vocab_size: int
    width: int
    heads: int
    layers: int
    mlp_ratio: float
    embed_dim: int
    quick_gelu: bool

    def to_json(self) -> dict[str, Any]:
        """The spec as JSON data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TextTowerSpec:
        """A spec from :meth:`to_json`'s data (raises KeyError, TypeError or ValueError)."""
        return cls(
            context_length=int(data["context_length"]),
            vocab_size=int(data["vocab_size"]),
            width=int(data["width"]),
            heads=int(data["heads"]),
            layers=int(data["layers"]),
            mlp_ratio=float(data["mlp_ratio"]),
            embed_dim=int(data["embed_dim"]),
            quick_gelu=bool(data["quick_gelu"]),
        )


def plain_text_spec(config: dict[str, Any], *, quick_gelu: bool) -> TextTowerSpec | None:
    """The spec of an open_clip model config's text tower, or None if it is not a plain one."""
    text = config.get("text_cfg")
    if not isinstance(text, dict) or set(config) - _IGNORED_MODEL_KEYS:
        return None  # custom_text, cast dtypes, multimodal decoders ...: the full model only
    if set(text) - _PLAIN_TEXT_KEYS:
        return None  # Hugging Face towers, other pooling, projections, norms ...
    try:
        return TextTowerSpec(
            context_length=int(text.get("context_length", 77)),
            vocab_size=int(text.get("vocab_size", 49408)),
            width=int(text.get("width", 512)),
            heads=int(text.get("heads", 8)),
            layers=int(text.get("layers", 12)),
            mlp_ratio=float(text.get("mlp_ratio", 4.0)),
            embed_dim=int(config["embed_dim"]),
            quick_gelu=quick_gelu or bool(config.get("quick_gelu", False)),
        )
    except (KeyError, TypeError, ValueError):
        return None


def is_text_key(name: str) -> bool:
    """Whether a checkpoint tensor belongs to the text tower."""
    return name == TEXT_PROJECTION or name.startswith(TEXT_PREFIXES)
