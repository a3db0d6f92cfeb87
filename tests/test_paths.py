"""paths: private folders, clear errors for unusable data dirs, readers vs writers, odd bytes.

Some tests mount a real tmpfs (read-only, or tiny); they skip cleanly where
mounting is not allowed (not root, or a CI container without CAP_SYS_ADMIN).
:func:`mounted_tmpfs` and :func:`remount_read_only` are shared with
``tests/test_doctor.py`` and ``tests/test_logsetup.py``.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from photoseek.core.errors import LibraryError
from photoseek.paths import DATA_DIR_ENV, AppPaths, make_private_dir, resolve_paths

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
LATIN1_NAME = os.fsdecode(b"caf\xe9")  # not valid UTF-8


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def mounted_tmpfs(where: Path, size: str = "4m") -> Iterator[Path]:
    """A fresh tmpfs of ``size`` at ``where``; skips the test if it cannot be mounted."""
    if os.name != "posix" or shutil.which("mount") is None:
        pytest.skip("mount is not available here")
    where.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip() or result.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False, timeout=30)


def remount_read_only(where: Path) -> None:
    """Make a mounted tmpfs read-only; skips the test if that is not allowed."""
    result = subprocess.run(
        ["mount", "-o", "remount,ro", str(where)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot remount read-only here: {result.stderr.strip()}")


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common default umask, so "created with the umask" would show as 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def no_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


# --------------------------------------------------------------------------- resolve_paths


def test_data_dir_layout_and_own_dirs(tmp_path, no_env_override):
    paths = resolve_paths(tmp_path / "lib")
    root = (tmp_path / "lib").resolve()
    assert paths == AppPaths(root, root / "cache", root / "logs")
    assert paths.own_dirs() == (root, root / "cache", root / "logs")
    assert paths.catalog == root / "catalog.sqlite3"
    assert not root.exists()  # resolving only computes names


def test_env_var_and_option_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from-env"))
    assert resolve_paths().data_dir == (tmp_path / "from-env").resolve()
    assert resolve_paths().origin == DATA_DIR_ENV
    assert resolve_paths(tmp_path / "opt").data_dir == (tmp_path / "opt").resolve()
    assert resolve_paths(tmp_path / "opt").origin == "--data-dir"


def test_platform_defaults_own_dirs(tmp_path, monkeypatch, no_env_override):
    if os.name != "posix" or os.uname().sysname != "Linux":
        pytest.skip("XDG variables steer platformdirs on Linux only")
    for var, sub in (("XDG_DATA_HOME", "share"), ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    paths = resolve_paths()
    assert paths.origin == ""
    assert paths.own_dirs() == (
        tmp_path / "share/photoseek",
        tmp_path / "cache/photoseek",
        paths.log_dir,
    )
    assert paths.log_dir.is_relative_to(tmp_path / "state")


# --------------------------------------------------------------------------- private folders


@posix_only
def test_ensure_creates_data_dir_folders_private(tmp_path, umask_022, no_env_override):
    paths = resolve_paths(tmp_path / "new" / "parent" / "lib").ensure()
    for folder in (*paths.own_dirs(), paths.index_dir):
        assert folder.is_dir()
        assert mode_of(folder) == 0o700, folder
    assert mode_of(tmp_path / "new") == 0o700  # missing parents too, as XDG asks
    assert not [p.name for p in paths.data_dir.iterdir() if p.name.startswith(".")]


@posix_only
def test_ensure_creates_platform_default_folders_private(tmp_path, monkeypatch, umask_022):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr("platformdirs.user_log_dir", lambda *a, **k: str(tmp_path / "log/ps"))
    paths = resolve_paths().ensure()
    for folder in (*paths.own_dirs(), paths.index_dir):
        assert mode_of(folder) == 0o700, folder


@posix_only
def test_existing_open_folder_is_tightened_with_one_info_line(tmp_path, caplog, umask_022):
    lib = tmp_path / "lib"
    lib.mkdir(mode=0o755)
    (lib / "cache").mkdir(mode=0o750)
    caplog.set_level(logging.INFO, logger="photoseek.paths")
    paths = resolve_paths(lib).ensure()
    assert mode_of(lib) == 0o700
    assert mode_of(lib / "cache") == 0o700
    lines = [r.getMessage() for r in caplog.records if r.name == "photoseek.paths"]
    assert lines == [
        f"made {lib} private to you (mode 0755 -> 0700)",
        f"made {lib / 'cache'} private to you (mode 0750 -> 0700)",
    ]
    assert all(r.levelno == logging.INFO for r in caplog.records)
    caplog.clear()
    paths.ensure()
    assert not caplog.records  # already private: nothing more to say


@posix_only
def test_tightening_keeps_owner_bits(tmp_path):
    folder = tmp_path / "ro-for-me"
    folder.mkdir(mode=0o555)
    folder.chmod(0o555)
    make_private_dir(folder)
    assert mode_of(folder) == 0o500


@posix_only
def test_folder_of_another_user_is_left_alone(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root can give a folder away")
    lib = tmp_path / "lib"
    lib.mkdir(mode=0o755)
    lib.chmod(0o755)
    os.chown(lib, 54321, 54321)
    resolve_paths(lib).ensure()
    assert mode_of(lib) == 0o755


# --------------------------------------------------------------------------- unusable data dirs


def test_data_dir_that_is_a_file_is_one_clear_error(tmp_path, no_env_override):
    file = tmp_path / "notes.txt"
    file.write_text("not a folder")
    paths = resolve_paths(file)
    for check in (paths.ensure, paths.check_readable):
        with pytest.raises(LibraryError) as caught:
            check()
        assert str(caught.value) == f"--data-dir {file} is a file, not a folder"
    assert file.read_text() == "not a folder"


def test_env_data_dir_that_is_a_file_names_the_variable(tmp_path, monkeypatch):
    file = tmp_path / "notes.txt"
    file.write_text("x")
    monkeypatch.setenv(DATA_DIR_ENV, str(file))
    with pytest.raises(LibraryError, match=f"^{DATA_DIR_ENV} .* is a file, not a folder$"):
        resolve_paths().ensure()


def test_cache_dir_that_is_a_file(tmp_path, no_env_override):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "cache").write_text("x")
    with pytest.raises(LibraryError, match=r"^the cache folder .* is a file, not a folder$"):
        resolve_paths(tmp_path / "lib").ensure()


def test_data_dir_under_a_file_cannot_be_created(tmp_path, no_env_override):
    (tmp_path / "file").write_text("x")
    with pytest.raises(LibraryError) as caught:
        resolve_paths(tmp_path / "file" / "lib").ensure()
    assert str(caught.value) == f"cannot create --data-dir {tmp_path}/file/lib: not a directory"


def test_permission_denied_is_one_sentence(tmp_path, monkeypatch, no_env_override):
    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(LibraryError) as caught:
        resolve_paths(tmp_path / "lib").ensure()
    assert str(caught.value) == f"cannot create --data-dir {tmp_path}/lib: permission denied"


def test_unwritable_data_dir_is_one_sentence(tmp_path, monkeypatch, no_env_override):
    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    paths = resolve_paths(tmp_path / "lib").ensure()
    monkeypatch.setattr("photoseek.paths.tempfile.mkstemp", refuse)
    with pytest.raises(LibraryError) as caught:
        paths.ensure()
    assert str(caught.value) == f"cannot write to --data-dir {paths.data_dir}: permission denied"
    paths.check_readable()  # readers are not writers


def test_read_only_file_system(tmp_path, no_env_override):
    """A real read-only mount: writers get one sentence, readers still pass."""
    with mounted_tmpfs(tmp_path / "mnt") as mnt:
        existing = resolve_paths(mnt / "lib").ensure()
        existing.catalog.write_bytes(b"stand-in for a catalog")
        remount_read_only(mnt)
        with pytest.raises(LibraryError) as caught:
            existing.ensure()
        assert str(caught.value) == (
            f"cannot write to --data-dir {existing.data_dir}: read-only file system"
        )
        assert existing.check_readable() is existing
        with pytest.raises(LibraryError) as caught:
            resolve_paths(mnt / "new").ensure()
        assert str(caught.value) == f"cannot create --data-dir {mnt}/new: read-only file system"
        assert sorted(p.name for p in mnt.iterdir()) == ["lib"]


@posix_only
def test_check_readable_reports_an_unreadable_catalog(tmp_path, monkeypatch, no_env_override):
    paths = resolve_paths(tmp_path / "lib").ensure()
    paths.catalog.write_bytes(b"x")
    real_access = os.access
    monkeypatch.setattr(
        "photoseek.paths.os.access",
        lambda p, m: False if Path(p) == paths.catalog else real_access(p, m),
    )
    with pytest.raises(LibraryError, match=r"^cannot read the catalog .*: permission denied$"):
        paths.check_readable()


def test_check_readable_creates_nothing(tmp_path, no_env_override):
    paths = resolve_paths(tmp_path / "lib")
    assert paths.check_readable() is paths
    assert not (tmp_path / "lib").exists()


# --------------------------------------------------------------------------- odd bytes


@posix_only
def test_undecodable_data_dir_works(tmp_path, umask_022, no_env_override):
    root = tmp_path / LATIN1_NAME
    paths = resolve_paths(root).ensure()
    assert os.fsencode(paths.data_dir).endswith(b"/caf\xe9")
    for folder in paths.own_dirs():
        assert folder.is_dir() and mode_of(folder) == 0o700
    assert paths.check_readable() is paths


def test_undecodable_data_dir_error_is_printable(tmp_path, no_env_override):
    file = tmp_path / LATIN1_NAME
    file.write_text("x")
    with pytest.raises(LibraryError) as caught:
        resolve_paths(file).ensure()
    message = str(caught.value)
    message.encode("utf-8")  # no lone surrogates: prints on any terminal
    assert message == f"--data-dir $'{tmp_path}/caf\\xe9' is a file, not a folder"
