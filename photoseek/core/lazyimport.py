"""Modules imported when first used, not when photoseek starts.

numpy and hnswlib cost the desktop app's start-up about 0.25 s before its
window could show, and the window needs neither: they serve vectors, which
come later (the first search, the first photo embedded). A module that needs
them writes::

    if TYPE_CHECKING:
        import numpy as np
    else:
        np = lazy_module("numpy")

and type checkers see the real module.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any


def lazy_module(name: str) -> ModuleType:
    """``name`` as a module that runs its import at the first attribute access.

    Python's ``importlib.util.LazyLoader``; an already imported module is
    returned as it is. Only for pure-Python packages (numpy's is): an
    extension module is imported where it is used instead.
    """
    found = sys.modules.get(name)
    if found is not None:
        return found
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def lazy_attributes(sources: dict[str, str]) -> Callable[[str], Any]:
    """A package's module ``__getattr__`` (PEP 562) that imports each name from its module.

    ``sources`` maps a public name to the module that defines it. A package
    that re-exports its submodules' names this way costs nothing to import
    until one of them is used: ``photoseek.core.imaging.decoders`` is a few
    constants, and importing it must not import Pillow.
    """

    def __getattr__(name: str) -> Any:
        module = sources.get(name)
        if module is None:
            raise AttributeError(name)
        return getattr(importlib.import_module(module), name)

    return __getattr__
