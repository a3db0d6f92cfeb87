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


class _LazyModule(ModuleType):
    """A stand-in for a module not imported yet: the first attribute read imports it.

    Not Python's ``importlib.util.LazyLoader``: on Python 3.11 it hands a
    second thread the module while the first is still executing it (an
    ``AttributeError`` for a name the module does define; seen as
    ``module 'filelock' has no attribute 'FileLock'`` in a watch service).
    Here the import goes through ``importlib.import_module``, whose per-module
    lock makes every other thread wait for the whole module; its names are
    then copied in, so later reads cost what a module's do.
    """

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return getattr(module, attr)


def lazy_module(name: str) -> ModuleType:
    """``name`` as a module that is imported at the first attribute read (thread-safe).

    An already imported module is returned as it is. The stand-in is not
    put in ``sys.modules``: an ``import name`` elsewhere imports the real
    module as usual.
    """
    found = sys.modules.get(name)
    if found is not None:
        return found
    if importlib.util.find_spec(name) is None:
        raise ImportError(f"no module named {name!r}")
    return _LazyModule(name)


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
