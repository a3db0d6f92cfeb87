"""numpy and hnswlib load when vectors are first used, not when photoseek starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


HEAVY_SCRIPT = """
import sys
import photoseek.gui.launch  # everything the app imports before its window shows

def real(name):
    module = sys.modules.get(name)
    return module is not None and type(module).__name__ != "_LazyModule"

HEAVY = ("PIL", "watchdog", "filelock", "photoseek.core.indexing.pipeline")
print(" ".join(name for name in HEAVY if real(name)) or "none")
from photoseek.core.imaging import decode_image, ThumbnailCache
from photoseek.core.imaging.decode import decode_image as direct
from photoseek.core.watch import FolderWatcher
from photoseek.core.indexing import IndexJob
from photoseek.core.writerlock import WriterLock
WriterLock(__import__("pathlib").Path(sys.argv[1])).holder()
print(decode_image is direct, " ".join(name for name in HEAVY if real(name)))
"""


def test_the_app_starts_without_pillow_watchdog_filelock_or_the_pipeline(tmp_path: Path) -> None:
    """Together about 150 ms of the window's 1 s budget; each loads where it is first used."""
    out = subprocess.run(
        [sys.executable, "-c", HEAVY_SCRIPT, str(tmp_path / "writer.lock")],
        capture_output=True,
        text=True,
        check=True,
        env={"QT_QPA_PLATFORM": "offscreen", **os.environ},
    )
    before, after = out.stdout.splitlines()[:2]
    assert before == "none"
    assert after == "True PIL watchdog filelock photoseek.core.indexing.pipeline"


def test_a_lazy_package_name_that_does_not_exist_is_an_attribute_error() -> None:
    import photoseek.core.imaging as imaging

    with pytest.raises(AttributeError):
        _ = imaging.no_such_name  # type: ignore[attr-defined]


def test_a_lazy_module_first_used_by_two_threads_at_once_is_whole_in_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python 3.11's LazyLoader handed the second thread a module still being executed
    (``module 'filelock' has no attribute 'FileLock'`` in a watch service)."""
    import threading

    from photoseek.core.lazyimport import lazy_module

    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(0.3)\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_to_import", raising=False)
    module = lazy_module("slow_to_import")
    seen: list[object] = []
    start = threading.Barrier(3)

    def read() -> None:
        start.wait()
        try:
            seen.append(module.VALUE)
        except AttributeError as exc:
            seen.append(exc)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [42, 42, 42]
