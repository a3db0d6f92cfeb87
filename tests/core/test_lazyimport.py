"""numpy and hnswlib load when vectors are first used, not when photoseek starts."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import sys
import photoseek.gui.launch  # everything the app imports before its window shows
numpy = sys.modules.get("numpy")
print("loaded-before" if numpy is not None and type(numpy).__name__ != "_LazyModule" else "lazy")
print("hnswlib" in sys.modules)
from photoseek.core.vectors import codec
print(codec.normalize([[3.0, 4.0]]).tolist())
print(type(sys.modules["numpy"]).__name__)
"""


def test_the_app_starts_without_numpy_and_loads_it_on_first_use() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        env={"QT_QPA_PLATFORM": "offscreen", **os.environ},
    )
    lazy, hnswlib, vector, kind = out.stdout.split("\n")[:4]
    assert lazy == "lazy" and hnswlib == "False"
    assert vector == "[[0.6000000238418579, 0.800000011920929]]"
    assert kind == "module"  # the real numpy, loaded by the first use
