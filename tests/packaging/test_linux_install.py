"""packaging/linux/install.sh and uninstall.sh, on a stand-in bundle in a fresh HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINUX = REPO / "packaging" / "linux"

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("sh") is None,
    reason="the install scripts are for Linux",
)

FAKE_PROGRAM = """#!/bin/sh
case "$1" in
    --version) echo "photoseek 0.1.0" ;;
    service) echo "service $2" >> "$HOME/service-calls" ;;
esac
"""


def _unpacked_release(root: Path) -> Path:
    """The tarball's layout, with a shell script standing in for the bundle's executable."""
    top = root / "photoseek-0.1.0"
    bundle = top / "photoseek"
    (bundle / "_internal").mkdir(parents=True)
    shutil.copytree(REPO / "resources" / "icons", bundle / "_internal" / "resources" / "icons")
    for name in ("photoseek.svg", "photoseek.desktop"):
        shutil.copy(REPO / "resources" / name, bundle / "_internal" / "resources" / name)
    program = bundle / "photoseek"
    program.write_text(FAKE_PROGRAM)
    program.chmod(0o755)
    for script in ("install.sh", "uninstall.sh"):
        shutil.copy(LINUX / script, top / script)
    return top


def _run(script: Path, home: Path, *args: str) -> str:
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    out = subprocess.run(
        ["sh", str(script), *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_install_puts_the_app_the_menu_entry_and_the_icons_in_the_users_folders(
    tmp_path: Path,
) -> None:
    top, home = _unpacked_release(tmp_path / "release"), tmp_path / "home"
    out = _run(top / "install.sh", home)
    assert "photoseek 0.1.0 installed" in out
    installed = home / ".local" / "lib" / "photoseek" / "photoseek"
    launcher = home / ".local" / "bin" / "photoseek"
    assert launcher.is_symlink() and launcher.resolve() == installed.resolve()
    share = home / ".local" / "share"
    desktop = (share / "applications" / "photoseek.desktop").read_text()
    assert f"Exec={installed}\n" in desktop and f"TryExec={installed}\n" in desktop
    assert "Icon=photoseek\n" in desktop
    for size in (16, 48, 256, 512):
        assert (share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "photoseek.png").is_file()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "photoseek.svg").is_file()
    _run(top / "install.sh", home)  # again: replaces the installed copy
    assert installed.is_file() and not installed.parent.with_name("photoseek.old").exists()


def test_uninstall_removes_it_and_keeps_the_library_unless_purged(tmp_path: Path) -> None:
    top, home = _unpacked_release(tmp_path / "release"), tmp_path / "home"
    _run(top / "install.sh", home)
    library = home / ".local" / "share" / "photoseek"
    library.mkdir(parents=True)
    (library / "catalog.sqlite3").write_text("the library")
    _run(top / "uninstall.sh", home)
    assert (home / "service-calls").read_text() == "service uninstall\n"
    assert not (home / ".local" / "lib" / "photoseek").exists()
    assert not (home / ".local" / "bin" / "photoseek").is_symlink()
    share = home / ".local" / "share"
    assert not (share / "applications" / "photoseek.desktop").exists()
    assert not list((share / "icons").rglob("photoseek.*"))
    assert (library / "catalog.sqlite3").is_file()
    _run(top / "install.sh", home)
    _run(top / "uninstall.sh", home, "--purge")
    assert not library.exists()


def test_the_installed_uninstall_script_knows_its_prefix(tmp_path: Path) -> None:
    top, home, prefix = _unpacked_release(tmp_path / "release"), tmp_path / "home", tmp_path / "opt"
    _run(top / "install.sh", home, "--prefix", str(prefix))
    assert (prefix / "bin" / "photoseek").is_symlink()
    shutil.rmtree(top)  # the unpacked release is gone; the installed copy remains
    _run(prefix / "lib" / "photoseek" / "uninstall.sh", home)
    assert not (prefix / "lib" / "photoseek").exists()
    assert not (prefix / "bin" / "photoseek").is_symlink()
    assert not (home / ".local" / "share" / "applications" / "photoseek.desktop").exists()
