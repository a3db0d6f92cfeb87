"""What the bundle leaves out (packaging/bundlerules.py) never includes what photoseek uses."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.packaging.conftest import packaging_module

rules = packaging_module("bundlerules.py")
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "dest",
    [
        "photoseek/core/model/measured_speeds.json",
        "resources/icons/photoseek-256.png",
        "resources/photoseek.desktop",
        "open_clip/bpe_simple_vocab_16e6.txt.gz",
        "open_clip/model_configs/ViT-B-32.json",
        "torch/lib/libtorch_cpu.so",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "onnxruntime/capi/libonnxruntime.so.1",
    ],
)
def test_what_the_app_loads_is_kept(dest: str) -> None:
    assert not rules.excluded(dest)


@pytest.mark.parametrize(
    "dest",
    [
        "nvidia/cublas/lib/libcublas.so.13",
        "libcudart.so.13",
        "triton/backends/nvidia/bin/ptxas",
        "torch/include/ATen/ATen.h",
        "torch/bin/test_api",
        "torch/lib/libtorch_cpu.a",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "libQt6Quick.so.6",
        "numpy/_core/tests/test_multiarray.py",
    ],
)
def test_what_the_app_never_loads_is_cut(dest: str) -> None:
    assert rules.excluded(dest)
    assert rules.excluded(dest.replace("/", "\\"))  # a Windows build's separators


def test_prune_splits_a_toc_and_drops_links_to_what_it_cut() -> None:
    toc = [
        ("torch/lib/libtorch_cpu.so", "/src/a", "BINARY"),
        ("PySide6/Qt/lib/libQt6Quick.so.6", "/src/b", "BINARY"),
        ("libQt6Quick.so.6", "PySide6/Qt/lib/libQt6Quick.so.6", "SYMLINK"),
        ("libQt6Core.so.6", "PySide6/Qt/lib/libQt6Core.so.6", "SYMLINK"),
    ]
    kept, cut = rules.prune(toc)
    assert [entry[0] for entry in kept] == ["torch/lib/libtorch_cpu.so", "libQt6Core.so.6"]
    assert cut == ["PySide6/Qt/lib/libQt6Quick.so.6", "libQt6Quick.so.6"]
    dangling = [("libfoo.so", "sub/libfoo.so", "SYMLINK"), ("libQt6Core.so.6", "x", "SYMLINK")]
    assert rules.without_dangling_links(dangling, {"sub/libfoo.so"}) == dangling[1:]


def _imported_modules(root: Path) -> set[str]:
    names: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
    return names


def test_no_excluded_module_is_imported_by_photoseek() -> None:
    imported = _imported_modules(REPO / "photoseek")
    clashes = {
        name
        for name in imported
        for excluded in rules.EXCLUDED_MODULES
        if name == excluded or name.startswith(excluded + ".")
    }
    assert not clashes, f"photoseek imports modules the bundle leaves out: {clashes}"


def test_a_cuda_build_keeps_cudas_libraries() -> None:
    for dest in ("nvidia/cublas/lib/libcublas.so.13", "torch/lib/libcudart.so.13"):
        assert rules.excluded(dest, cpu_only=True)
        assert not rules.excluded(dest, cpu_only=False)
    assert rules.excluded("triton/backends/nvidia/bin/ptxas", cpu_only=False)


def test_the_systems_own_libraries_are_cut_but_wheels_hashed_copies_kept() -> None:
    assert rules.excluded("libstdc++.so.6") and rules.excluded("libfontconfig.so.1")
    assert not rules.excluded("libfreetype-57f805ba.so.6.20.6")
    assert not rules.excluded("libxcb-cursor.so.0")  # Qt 6.5+ needs it; many systems lack it
