"""Runtime hook: Qt's plugin folder, set when Qt is first imported (replaces pyi_rth_pyside6).

PyInstaller's own PySide6 hook, which the spec drops, runs at every start: it
imports ``PySide6.QtCore`` (0.1-0.25 s on each command, ``photoseek search``
included, which never uses Qt) and puts ``QT_PLUGIN_PATH`` and
``QML2_IMPORT_PATH`` into the environment, which every program the app starts
inherits: a Qt image viewer or file manager opened from photoseek would load
this bundle's Qt plugins and abort. Here the same set-up happens in-process,
once ``PySide6.QtCore`` is imported: the bundle's plugin folder is added to
``QCoreApplication.libraryPaths()`` (before any QApplication exists), and
nothing goes into the environment. photoseek uses no QML.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

_MODULE = "PySide6.QtCore"


def _plugins_dir() -> str:
    bundle = getattr(sys, "_MEIPASS", "")
    # os.path: a runtime hook runs at every start, before anything imported pathlib
    if sys.platform.startswith("win"):
        return os.path.join(bundle, "PySide6", "plugins")  # noqa: PTH118
    return os.path.join(bundle, "PySide6", "Qt", "plugins")  # noqa: PTH118


class _ThenSetUp(importlib.abc.Loader):
    """Loads the module as its own loader would, then adds the plugin folder."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        module.QCoreApplication.addLibraryPath(_plugins_dir())


class _QtCoreFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != _MODULE:
            return None
        sys.meta_path.remove(self)  # once; and the lookup below must not find this finder
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenSetUp(spec.loader)
        return spec


sys.meta_path.insert(0, _QtCoreFinder())
