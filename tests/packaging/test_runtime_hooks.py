"""The bundle's runtime hooks (packaging/hooks/rthook_*.py), run outside a bundle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HOOKS = Path(__file__).resolve().parents[2] / "packaging" / "hooks"

CHILD_ENV = f"""
import os, runpy, sys
sys._MEIPASS = {{bundle!r}}
runpy.run_path({str(HOOKS / "rthook_child_env.py")!r})
print(os.environ.get("LD_LIBRARY_PATH", "-"), "LD_LIBRARY_PATH_ORIG" in os.environ)
"""


def _child_env(bundle: str, **env: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", CHILD_ENV.format(bundle=bundle)],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LD_LIBRARY_PATH is Linux's")
def test_children_get_the_users_library_path_back() -> None:
    assert _child_env("/b/_internal", LD_LIBRARY_PATH="/b/_internal") == "- False"
    restored = _child_env(
        "/b/_internal", LD_LIBRARY_PATH="/b/_internal:/opt/lib", LD_LIBRARY_PATH_ORIG="/opt/lib"
    )
    assert restored == "/opt/lib False"
    assert _child_env("/b/_internal", LD_LIBRARY_PATH="/mine") == "/mine False"  # not the bundle's


QT_LAZY = f"""
import os, runpy, sys
sys._MEIPASS = {{bundle!r}}
runpy.run_path({str(HOOKS / "rthook_qt_lazy.py")!r})
assert "PySide6.QtCore" not in sys.modules
from PySide6.QtCore import QCoreApplication
plugins = os.path.join(sys._MEIPASS, "PySide6", "Qt", "plugins")
print(plugins in QCoreApplication.libraryPaths(), "QT_PLUGIN_PATH" in os.environ)
"""


@pytest.mark.skipif(sys.platform.startswith("win"), reason="the plugin folder differs there")
def test_qt_gets_the_bundles_plugin_folder_when_imported_and_the_environment_stays_clean(
    tmp_path: Path,
) -> None:
    (tmp_path / "PySide6" / "Qt" / "plugins").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "QT_PLUGIN_PATH"}
    out = subprocess.run(
        [sys.executable, "-c", QT_LAZY.format(bundle=str(tmp_path))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]


TORCHVISION = f"""
import runpy, sys
runpy.run_path({str(HOOKS / "rthook_torchvision_ops.py")!r})
import torchvision.transforms
print(torchvision.extension._has_ops(), any(
    type(finder).__name__ == "_DeclareMissingOps" for finder in sys.meta_path))
"""


def test_the_torchvision_shim_steps_aside_where_the_ops_load() -> None:
    out = subprocess.run(
        [sys.executable, "-c", TORCHVISION], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]  # ops loaded; the finder removed itself
