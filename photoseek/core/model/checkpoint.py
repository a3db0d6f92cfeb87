"""Reading a weights file without running code from it, and fitting it to the model.

A checkpoint given with ``--pretrained file`` comes from anywhere, so it is
read as data only:

- ``.safetensors`` with :func:`safetensors.torch.load_file` (tensors, nothing else);
- torch files (``.pt``, ``.pth``, ``.bin``, ``.ckpt``) with
  ``torch.load(path, map_location="cpu", weights_only=True)`` and no fallback
  of any kind: a file that holds anything but tensors and plain containers is
  refused. ``weights_only`` is passed explicitly, so the environment variable
  ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` cannot switch it off (torch only lets
  it change calls that leave ``weights_only`` unset); TorchScript archives
  (OpenAI's original ``.pt`` files) are refused too, as torch itself does
  under ``weights_only``.

open_clip's own ``load_checkpoint`` is deliberately not used: it retries a
refused file with a full, code-running unpickle. The state-dict conventions
it applies (a ``state_dict`` key, a ``module.`` prefix, OpenAI-style text
keys, resized position embeddings, ...) are applied here with open_clip's
helper functions, and the result is loaded with ``strict=True``.
"""

from __future__ import annotations

import logging
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoseek.core.errors import ModelUnavailableError

if TYPE_CHECKING:
    import torch

__all__ = ["SAFETENSORS_SUFFIX", "TORCH_SUFFIXES", "load_weights_into", "read_state_dict"]

log = logging.getLogger(__name__)

SAFETENSORS_SUFFIX = ".safetensors"
TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")
_GLOBAL_PATTERN = re.compile(r"GLOBAL (\S+)")
_MAX_NAMED = 3

StateDict = dict[str, "torch.Tensor"]


def load_weights_into(model: Any, path: Path, arch: str) -> None:
    """Load the weights in ``path`` into the open_clip ``model`` (strictly).

    Raises :class:`ModelUnavailableError` when the file cannot be read safely
    or its tensors do not fit ``arch``.
    """
    state = fit_state_dict(model, read_state_dict(path), path, arch)
    problem = _mismatch(model, state)
    if problem:
        raise ModelUnavailableError(f"{path.name} does not fit model {arch}: {problem}")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # a mismatch _mismatch did not foresee
        raise ModelUnavailableError(
            f"{path.name} does not fit model {arch}: {_first_line(exc)}"
        ) from exc


def read_state_dict(path: Path) -> StateDict:
    """The tensors in a weights file, read as data only (see the module docstring)."""
    suffix = path.suffix.lower()
    if suffix == SAFETENSORS_SUFFIX:
        raw: object = _read_safetensors(path)
    elif suffix in TORCH_SUFFIXES:
        raw = _read_torch(path)
    else:
        raise ModelUnavailableError(
            f"{path.name}: unsupported checkpoint type "
            f"(use {', '.join((SAFETENSORS_SUFFIX, *TORCH_SUFFIXES))})"
        )
    return _tensors_only(_unwrap(raw), path)


def fit_state_dict(model: Any, state: StateDict, path: Path, arch: str) -> StateDict:
    """Apply open_clip's checkpoint conventions so ``state`` matches ``model``'s keys."""
    import torch
    from open_clip.convert import convert_state_dict
    from open_clip.model import (
        convert_to_custom_text_state_dict,
        resize_pos_embed,
        resize_text_pos_embed,
    )

    state = dict(convert_state_dict(model, state))
    if "positional_embedding" in state and not hasattr(model, "positional_embedding"):
        state = dict(convert_to_custom_text_state_dict(state))  # OpenAI-style text keys
    for name in ("logit_scale", "logit_bias"):
        own = getattr(model, name, None)
        if name in state and own is not None and state[name].ndim != own.ndim:
            state[name] = state[name].reshape(own.shape)
    if "logit_bias" not in state and getattr(model, "logit_bias", None) is not None:
        state["logit_bias"] = torch.zeros_like(model.logit_bias)
    position_ids = "text.transformer.embeddings.position_ids"
    if position_ids in state and position_ids not in model.state_dict():
        del state[position_ids]
    try:
        resize_pos_embed(state, model)
        resize_text_pos_embed(state, model)
    except (AssertionError, RuntimeError, ValueError) as exc:
        raise ModelUnavailableError(
            f"{path.name} does not fit model {arch}: its position embeddings cannot be resized"
        ) from exc
    return state


def _read_safetensors(path: Path) -> StateDict:
    from safetensors.torch import load_file

    try:
        return dict(load_file(str(path), device="cpu"))
    except Exception as exc:  # SafetensorError, OSError: a torn or foreign file
        raise ModelUnavailableError(
            f"cannot read {path.name}: it is not a valid safetensors file ({_first_line(exc)})"
        ) from exc


def _read_torch(path: Path) -> object:
    import torch

    try:
        # weights_only passed explicitly: TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD cannot override it
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelUnavailableError(_refused_message(path, str(exc))) from None
    except RuntimeError as exc:
        text = str(exc)
        if "TorchScript" in text or "legacy .tar" in text:
            raise ModelUnavailableError(
                f"{path.name} is a TorchScript or legacy torch archive, which photoseek will "
                "not run; use a .safetensors file of the same weights instead"
            ) from None
        raise ModelUnavailableError(
            f"cannot read {path.name} as torch weights ({_clean(text)})"
        ) from None
    except Exception as exc:  # not a torch file at all (garbage, truncated, ...)
        raise ModelUnavailableError(
            f"cannot read {path.name} as torch weights ({_clean(str(exc)) or type(exc).__name__})"
        ) from None


def _refused_message(path: Path, torch_message: str) -> str:
    found = _GLOBAL_PATTERN.search(torch_message)
    if found or "blocked" in torch_message:
        what = f" ({found.group(1)})" if found else ""
        return (
            f"{path.name} holds Python objects{what} that photoseek will not unpickle, because "
            "loading them could run code; use a .safetensors file of the same weights instead"
        )
    return (
        f"cannot read {path.name} as torch weights: it is not a torch checkpoint, or it holds "
        "data photoseek will not unpickle; use a .safetensors file of the same weights instead"
    )


def _unwrap(raw: object) -> object:
    if isinstance(raw, Mapping) and isinstance(raw.get("state_dict"), Mapping):
        return raw["state_dict"]  # a training checkpoint: {"epoch":..., "state_dict":...}
    return raw


def _tensors_only(raw: object, path: Path) -> StateDict:
    import torch

    if not isinstance(raw, Mapping) or not raw:
        raise ModelUnavailableError(f"{path.name} does not hold model weights (no state dict)")
    state: StateDict = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise ModelUnavailableError(
                f"{path.name} does not hold model weights ({key!r} is not a named tensor)"
            )
        state[key.removeprefix("module.")] = value  # saved from DataParallel / DDP
    return state


def _mismatch(model: Any, state: StateDict) -> str:
    """A short description of how ``state`` does not fit ``model``; empty when it fits."""
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    reshaped = sorted(
        name for name in set(expected) & set(state) if tuple(state[name].shape) != expected[name]
    )
    parts = []
    if reshaped:
        name = reshaped[0]
        file_shape, model_shape = _shape(tuple(state[name].shape)), _shape(expected[name])
        parts.append(
            f"{len(reshaped)} tensors have other shapes (e.g. {name}: "
            f"{file_shape} in the file, {model_shape} in the model)"
        )
    if missing:
        parts.append(f"{len(missing)} tensors are missing (e.g. {_names(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} tensors are unknown to it (e.g. {_names(unexpected)})")
    return "; ".join(parts)


def _names(names: list[str]) -> str:
    return ", ".join(names[:_MAX_NAMED])


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape) or "scalar"


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _clean(message: str) -> str:
    """torch's message without its advice to load with ``weights_only=False``."""
    import torch.serialization

    unsafe_advice = str(getattr(torch.serialization, "UNSAFE_MESSAGE", "")) or "\0"
    text = " ".join(message.replace(unsafe_advice, "").split())
    if "weights_only" in text:
        return "torch's safe loader refused it"
    return text[:200]
