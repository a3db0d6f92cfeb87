"""The project's name, version and description, read from ``pyproject.toml``.

The spec, the build script, the tarball and the installers' metadata all take
them from here, so a release changes the version in one place.
"""

from __future__ import annotations

import platform
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = REPO / "pyproject.toml"

# The bundle's identity on macOS (CFBundleIdentifier) and Windows (AppUserModelID, Inno
# Setup's AppId); never change it once shipped: the OS keys permissions and settings on it.
BUNDLE_ID = "org.photoseek.photoseek"
WINDOWS_APP_ID = "{8C4E2A51-6F0B-4C7A-9E3D-1B5F0A7D2C64}"


@dataclass(frozen=True)
class ProjectInfo:
    """What ``[project]`` in pyproject.toml says about photoseek."""

    name: str
    version: str
    description: str

    @property
    def version_tuple(self) -> tuple[int, int, int, int]:
        """``0.1.0`` as ``(0, 1, 0, 0)`` (Windows' fixed-size file version)."""
        numbers = [int(part) for part in self.version.split(".")[:4] if part.isdigit()]
        return tuple([*numbers, 0, 0, 0, 0][:4])  # type: ignore[return-value]


def project_info(pyproject: Path = PYPROJECT) -> ProjectInfo:
    """The project's identity from ``pyproject``."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return ProjectInfo(project["name"], project["version"], project["description"])


def platform_tag() -> str:
    """``linux-x86_64``, ``macos-arm64``, ``windows-amd64``: the release file's suffix."""
    system = {"darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    return f"{system}-{platform.machine().lower()}"
