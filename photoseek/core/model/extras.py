"""Optional extras a model needs, checked before anything slow loads.

A model whose text side comes from Hugging Face ``transformers`` (a
``hf_tokenizer_name`` or ``hf_model_name`` in its open_clip config: the
multilingual XLM-RoBERTa and NLLB towers, SigLIP 2's Gemma tokenizer) needs
the ``multilingual`` extra (``transformers`` and ``sentencepiece``). Without
it, open_clip would fail deep inside a model build, after seconds of imports
and possibly a download; :func:`check_model_extras` says what to install
first, reading only the model's config file: no torch, no open_clip import.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from photoseek.core.errors import MissingExtraError

__all__ = [
    "MULTILINGUAL_EXTRA",
    "MULTILINGUAL_MODULES",
    "check_model_extras",
    "missing_multilingual_modules",
    "model_config",
    "needs_multilingual",
]

MULTILINGUAL_EXTRA = "multilingual"
MULTILINGUAL_MODULES = ("transformers", "sentencepiece")
_HF_TEXT_KEYS = ("hf_tokenizer_name", "hf_model_name")


def model_config(arch: str) -> dict[str, Any] | None:
    """The open_clip config of ``arch`` (a name or a config ``.json``) as data; None: unknown."""
    path = Path(arch).expanduser() if arch.endswith(".json") else _bundled_config(arch)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # the model load reports a missing or broken config in its own words
    return data if isinstance(data, dict) else None


def needs_multilingual(config: dict[str, Any]) -> bool:
    """Whether a model config's text tower or tokenizer comes from ``transformers``."""
    text = config.get("text_cfg")
    return isinstance(text, dict) and any(text.get(key) for key in _HF_TEXT_KEYS)


def missing_multilingual_modules() -> list[str]:
    """The modules of the multilingual extra that cannot be imported (nothing is imported)."""
    missing = []
    for name in MULTILINGUAL_MODULES:
        try:
            found = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            found = None
        if found is None:
            missing.append(name)
    return missing


def check_model_extras(arch: str) -> None:
    """Raise :class:`MissingExtraError` if ``arch`` needs an extra that is not installed."""
    config = model_config(arch)
    if config is None or not needs_multilingual(config):
        return
    missing = missing_multilingual_modules()
    if missing:
        name = Path(arch).stem if arch.endswith(".json") else arch
        raise MissingExtraError(
            f"{name}: this model's tokenizer needs the {MULTILINGUAL_EXTRA} extra: "
            f"pip install 'photoseek[{MULTILINGUAL_EXTRA}]' (missing: {', '.join(missing)})"
        )


def _bundled_config(arch: str) -> Path | None:
    """open_clip's own ``model_configs/<arch>.json``, found without importing open_clip."""
    try:
        package = importlib.util.find_spec("open_clip")
    except (ImportError, ValueError):
        return None
    if package is None or not package.submodule_search_locations:
        return None
    folder = Path(next(iter(package.submodule_search_locations))) / "model_configs"
    path = folder / f"{arch}.json"
    return path if path.is_file() else None
