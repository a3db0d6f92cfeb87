"""Every command on a broken data dir ends in one clear sentence, never a traceback.

The commands run in process (``main()``), so any exception that is not a
``PhotoseekError`` fails the test with its traceback; one case runs as a real
process to check what a user sees. Faults: a read-only data dir (a tmpfs
remounted read-only), a data dir that is a file, a catalog locked by another
program, and a full disk (a small tmpfs filled up). Mounts are skipped
cleanly where the machine does not allow them.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from photoseek.cli import main
from photoseek.core.catalog import store
from tests.conftest import make_photos, run_index, tiny_env, tiny_library

READERS = [["status"], ["folders"], ["problems"], ["search", "a red ball"], ["doctor"]]
WRITERS = [["index"], ["watch", "--once"]]


def _mount_tmpfs(point: Path, size: str) -> None:
    point.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Path]:
    point = tmp_path / "mnt"
    _mount_tmpfs(point, "48m")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key, value in tiny_env(tmp_path / "unused").items():
        if key.startswith("PHOTOSEEK_") and key != "PHOTOSEEK_DATA_DIR":
            monkeypatch.setenv(key, value)
    return tmp_path


def _library_in(data_dir: Path, photos: Path) -> None:
    make_photos(photos, 4)
    library = tiny_library(data_dir)
    library.add_folder(photos)
    run_index(library)
    library.close()


def _run(argv: list[str], data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--data-dir", str(data_dir), *argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _one_error(err: str) -> str:
    errors = [line for line in err.splitlines() if line.startswith("photoseek: error:")]
    assert len(errors) == 1, err
    return errors[0]


def test_read_only_data_dir(env: Path, mount: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = mount / "library"
    _library_in(data, env / "pics")
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    for argv in READERS[:-1]:
        code, err = _run(argv, data, capsys)
        assert code == 0, (argv, err)  # readers work on a read-only library
    assert main(["--data-dir", str(data), "doctor"]) == 1  # it says what does not work:
    report = capsys.readouterr().out
    assert "[FAIL] data dir" in report and "read-only (searching works" in report
    assert "[ok] catalog" in report and "[ok] index" in report
    for argv in [["add", str(env)], *WRITERS]:
        code, err = _run(argv, data, capsys)
        assert code == 1
        assert "cannot" in _one_error(err) and "read-only" in err


def test_data_dir_that_is_a_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = env / "not-a-folder"
    data.write_text("oops")
    for argv in [*READERS, ["add", str(env)], *WRITERS]:
        code, err = _run(argv, data, capsys)
        assert code == 1, argv
        if argv != ["doctor"]:
            assert _one_error(err).endswith("is a file, not a folder")
    assert data.read_text() == "oops"


def test_locked_catalog(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = env / "data"
    _library_in(data, env / "pics")
    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.1)
    (env / "more").mkdir()
    other = sqlite3.connect(data / "catalog.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the catalog
    try:
        for argv in [["add", str(env / "more")], ["remove", str(env / "pics")], ["index"]]:
            code, err = _run(argv, data, capsys)
            assert code == 1
            assert "locked by another program" in _one_error(err)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert _run(["status"], data, capsys)[0] == 0


def test_full_disk(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    point = tmp_path / "small"
    _mount_tmpfs(point, "8m")
    try:
        data = point / "library"
        _library_in(data, env / "pics")
        make_photos(env / "pics", 30, start=100)  # work to write
        with (point / "filler").open("wb") as handle:
            try:
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
            except OSError:
                pass
        for argv in [["index"], ["add", str(env / "pics" / "..")]]:
            code, err = _run(argv, data, capsys)
            assert code == 1, (argv, err)
            _one_error(err)
        assert main(["--data-dir", str(data), "doctor"]) == 1  # a report, on a full disk too
        report = capsys.readouterr().out
        assert "[FAIL] data dir" in report and "free (photoseek needs" in report
        assert "[ok] catalog" in report
        assert not list(data.glob("writer.json.tmp*")) and not list(data.glob(".writer*"))
        assert _run(["status"], data, capsys)[0] == 0
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_a_real_process_on_a_file_data_dir_prints_one_line(tmp_path: Path) -> None:
    data = tmp_path / "file"
    data.write_text("x")
    env = tiny_env(data)
    out = subprocess.run(
        [sys.executable, "-m", "photoseek", "search", "beach"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"photoseek: error: --data-dir {data} is a file, not a folder"
    ]
