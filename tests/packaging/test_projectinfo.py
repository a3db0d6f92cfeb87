"""Name and version come from pyproject.toml, and agree with the package's own."""

from __future__ import annotations

import photoseek
from tests.packaging.conftest import packaging_module

projectinfo = packaging_module("projectinfo.py")
versioninfo = packaging_module("windows/versioninfo.py")
tarball = packaging_module("tarball.py")


def test_the_version_in_pyproject_is_the_packages() -> None:
    info = projectinfo.project_info()
    assert info.name == "photoseek"
    assert info.version == photoseek.__version__


def test_the_windows_version_resource_is_an_expression_with_the_version() -> None:
    info = projectinfo.ProjectInfo("photoseek", "1.2.3", "Find photos")
    assert info.version_tuple == (1, 2, 3, 0)
    text = versioninfo.version_info_text(info)
    assert "(1, 2, 3, 0)" in text and "'1.2.3'" in text and "'photoseek.exe'" in text
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    compile(body, "version_info.txt", "eval")  # PyInstaller evaluates it


def test_the_release_file_names_version_and_platform() -> None:
    name = tarball.tarball_name("0.1.0")
    assert name.startswith("photoseek-0.1.0-") and name.endswith(".tar.gz")
