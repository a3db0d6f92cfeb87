"""Single files of open_clip, loaded without running open_clip's package ``__init__``.

Importing ``open_clip`` imports torchvision, timm and ``torch._dynamo``: 2.5-3 s
here. Its tokenizer and its zero-shot template lists are plain modules that
need none of that, so a text query and the template sets load them on their
own, as ``photoseek._open_clip.<name>``. Once open_clip itself is imported,
its own module is used instead.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType

__all__ = ["open_clip_file"]

_LOCK = threading.Lock()


def open_clip_file(name: str) -> ModuleType:
    """open_clip's module ``name`` (``"tokenizer"``, ``"zero_shot_metadata"``)."""
    imported = sys.modules.get(f"open_clip.{name}")
    if imported is not None:
        return imported
    alias = f"photoseek._open_clip.{name}"
    with _LOCK:
        loaded = sys.modules.get(alias)
        if loaded is not None:
            return loaded
        package = importlib.util.find_spec("open_clip")  # finds the folder; runs nothing
        if package is None or not package.submodule_search_locations:
            raise ImportError("open_clip is not installed")
        path = Path(next(iter(package.submodule_search_locations))) / f"{name}.py"
        spec = importlib.util.spec_from_file_location(alias, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[alias] = module
        return module
