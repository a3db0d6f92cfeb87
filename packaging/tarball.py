"""The Linux release file: ``photoseek-VERSION-linux-x86_64.tar.gz``.

Layout (one top folder, so unpacking never spills into the current folder)::

    photoseek-0.1.0/
        install.sh        installs for the current user (see linux/install.sh)
        uninstall.sh
        README.txt        the three commands, and where things go
        photoseek/        the one-folder bundle: photoseek, _internal/
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from projectinfo import platform_tag, project_info

LINUX = Path(__file__).resolve().parent / "linux"


def tarball_name(version: str) -> str:
    """``photoseek-0.1.0-linux-x86_64.tar.gz``."""
    return f"photoseek-{version}-{platform_tag()}.tar.gz"


def make_tarball(bundle: Path, dist: Path) -> Path:
    """Pack ``bundle`` with the install scripts into ``dist``; the tarball's path."""
    version = project_info().version
    top = f"photoseek-{version}"
    target = dist / tarball_name(version)
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        for script in ("install.sh", "uninstall.sh"):
            tar.add(LINUX / script, f"{top}/{script}")
        tar.add(LINUX / "README.txt", f"{top}/README.txt")
        tar.add(bundle, f"{top}/{bundle.name}")
    partial.replace(target)
    return target
