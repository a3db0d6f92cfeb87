"""Libraries that only cut binaries needed are found (packaging/elfdeps.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import packaging_module

elfdeps = packaging_module("elfdeps.py")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF files are Linux's")
def test_needed_reads_an_extension_modules_libraries() -> None:
    import hnswlib

    names = elfdeps.needed(Path(hnswlib.__file__))
    assert any(name.startswith("libc.so") for name in names), names


def test_needed_of_a_file_that_is_not_elf_is_empty(tmp_path: Path) -> None:
    (tmp_path / "text").write_text("not a library")
    assert elfdeps.needed(tmp_path / "text") == []
    assert elfdeps.needed(tmp_path / "missing") == []


def test_orphans_are_the_libraries_only_cut_binaries_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    links = {
        "/src/gtk": ["libcairo.so.2", "libglib.so.0"],
        "/src/cairo": ["libpixman.so.0"],
        "/src/core": ["libglib.so.0"],
    }
    monkeypatch.setattr(elfdeps, "needed", lambda path: links.get(str(path), []))
    collected = [
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/src/gtk", "BINARY"),
        ("libcairo.so.2", "/src/cairo", "BINARY"),
        ("libpixman.so.0", "/src/pixman", "BINARY"),
        ("libglib.so.0", "/src/glib", "BINARY"),
        ("PySide6/Qt/lib/libQt6Core.so.6", "/src/core", "BINARY"),
        ("libloaded_by_name.so", "/src/dlopen", "BINARY"),  # no user: never an orphan
    ]
    cut = {"PySide6/Qt/plugins/platformthemes/libqgtk3.so"}
    assert elfdeps.orphans(collected, cut) == {"libcairo.so.2", "libpixman.so.0"}
