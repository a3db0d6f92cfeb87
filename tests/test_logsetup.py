"""logsetup: undecodable paths never break logging; unwritable log dirs cost one warning."""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from photoseek import logsetup
from photoseek.logsetup import LOG_FILE, configure_logging
from tests.test_paths import mounted_tmpfs, remount_read_only

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
UNDECODABLE = Path(os.fsdecode(b"/photos/caf\xe9.jpg"))
log = logging.getLogger("photoseek.test")


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """configure_logging replaces the root handlers: put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        if handler not in handlers:
            handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def flush_all() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_undecodable_path_is_logged_without_logging_error(tmp_path, capsys):
    path = configure_logging(tmp_path / "logs")
    assert path == tmp_path / "logs" / LOG_FILE
    log.warning("cannot read %s", UNDECODABLE)
    log.info("indexed %s", UNDECODABLE)
    log.warning("literal in the message: %s" % UNDECODABLE)  # noqa: UP031 (on purpose)
    flush_all()
    err = capsys.readouterr().err
    assert "Logging error" not in err
    assert err.splitlines() == [
        "photoseek: WARNING: cannot read /photos/caf\\xe9.jpg",
        "photoseek: WARNING: literal in the message: /photos/caf\\xe9.jpg",
    ]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "cannot read /photos/caf\\xe9.jpg",
        "indexed /photos/caf\\xe9.jpg",
        "literal in the message: /photos/caf\\xe9.jpg",
    ]


def test_console_that_cannot_encode_gets_escapes(tmp_path, capsys):
    configure_logging(tmp_path / "logs")
    console = logging.getLogger().handlers[0]
    strict_ascii = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")
    console.setStream(strict_ascii)  # type: ignore[attr-defined]
    log.warning("café 🏖 %s", UNDECODABLE)
    strict_ascii.flush()
    assert "Logging error" not in capsys.readouterr().err
    written = strict_ascii.buffer.getvalue()  # type: ignore[attr-defined]
    assert written == b"photoseek: WARNING: caf\\xe9 \\U0001f3d6 /photos/caf\\xe9.jpg\n"


@posix_only
def test_log_dir_and_file_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        path = configure_logging(tmp_path / "state" / "logs")
    finally:
        os.umask(old)
    assert path is not None
    log.warning("hello")
    flush_all()
    assert mode_of(tmp_path / "state" / "logs") == 0o700
    assert mode_of(path) == 0o600


@posix_only
def test_existing_open_log_file_is_tightened(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / LOG_FILE).write_text("old line\n")
    (logs / LOG_FILE).chmod(0o644)
    configure_logging(logs)
    assert mode_of(logs / LOG_FILE) == 0o600
    assert (logs / LOG_FILE).read_text().startswith("old line\n")


@posix_only
def test_rotated_files_stay_private(tmp_path, monkeypatch):
    monkeypatch.setattr(logsetup, "_MAX_BYTES", 300)
    path = configure_logging(tmp_path / "logs")
    assert path is not None
    for i in range(20):
        log.warning("line %d %s", i, "x" * 40)
    flush_all()
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == [LOG_FILE, f"{LOG_FILE}.1", f"{LOG_FILE}.2", f"{LOG_FILE}.3"]
    assert all(mode_of(tmp_path / "logs" / name) == 0o600 for name in files)


def test_log_dir_under_a_file_gives_one_warning(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert configure_logging(tmp_path / "file" / "logs") is None
    log.warning("still on the console")
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Logging error" not in err
    assert err.splitlines() == [
        f"photoseek: WARNING: cannot write a log file in {tmp_path}/file/logs "
        "(Not a directory); logging to the console only",
        "photoseek: WARNING: still on the console",
    ]


def test_read_only_log_dir_gives_one_warning(tmp_path, capsys):
    with mounted_tmpfs(tmp_path / "mnt") as mnt:
        (mnt / "logs").mkdir(mode=0o700)
        remount_read_only(mnt)
        assert configure_logging(mnt / "logs") is None
        log.error("works anyway")
        err = capsys.readouterr().err
    assert "Traceback" not in err and "Logging error" not in err
    assert err.splitlines() == [
        f"photoseek: WARNING: cannot write a log file in {mnt}/logs "
        "(Read-only file system); logging to the console only",
        "photoseek: ERROR: works anyway",
    ]


class FailingStream:
    """A log file whose disk filled up: every write fails."""

    def __init__(self) -> None:
        self.closed = False

    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        raise OSError(28, "No space left on device")

    def seek(self, *args: object) -> int:
        return 0

    def tell(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True


def test_write_failure_later_warns_once_then_keeps_quiet(tmp_path, capsys):
    path = configure_logging(tmp_path / "logs")
    file_handler = logging.getLogger().handlers[1]
    broken = FailingStream()
    file_handler.stream = broken  # type: ignore[attr-defined]
    for i in range(3):
        log.warning("photo %d", i)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Logging error" not in err
    assert err.splitlines() == [
        "photoseek: WARNING: photo 0",
        f"photoseek: WARNING: cannot write the log file {path} (No space left on device); "
        "logging to it stopped",
        "photoseek: WARNING: photo 1",
        "photoseek: WARNING: photo 2",
    ]
    assert broken.closed
    logging.getLogger().removeHandler(file_handler)
    file_handler.close()  # closing a stopped handler does not fail either


def test_full_disk_log_file(tmp_path, capsys):
    """A real full file system: one warning, no traceback."""
    with mounted_tmpfs(tmp_path / "mnt", size="64k") as mnt:
        path = configure_logging(mnt / "logs")
        assert path is not None
        with (mnt / "filler").open("wb", buffering=0) as handle, pytest.raises(OSError):
            while True:
                handle.write(b"\0" * 4096)
        for i in range(50):
            log.warning("line %d %s", i, "y" * 2000)
        err = capsys.readouterr().err
        for handler in list(logging.getLogger().handlers):
            logging.getLogger().removeHandler(handler)
            handler.close()
    assert "Traceback" not in err and "Logging error" not in err
    warnings = [line for line in err.splitlines() if "cannot write the log file" in line]
    assert warnings == [
        f"photoseek: WARNING: cannot write the log file {path} (No space left on device); "
        "logging to it stopped"
    ]
