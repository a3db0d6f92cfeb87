"""doctor: every check arrives on its own, nothing is written, nothing raises.

Covers a fresh machine, an existing library, a full disk (a real 2 MB tmpfs
where mounting is allowed, and a faked ``shutil.disk_usage`` everywhere), a
read-only data dir, a data dir that is a file, a catalog from a newer
photoseek, ``--device cuda`` on a machine without CUDA, and an undecodable
data dir name.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections import namedtuple
from pathlib import Path

import pytest
import torch

from photoseek import doctor
from photoseek.core.errors import ModelUnavailableError
from photoseek.core.model.embedder import ModelSettings
from photoseek.doctor import Check, iter_checks, run_checks
from photoseek.paths import resolve_paths
from tests.conftest import tiny_library, tiny_settings
from tests.test_paths import mounted_tmpfs, remount_read_only

NAMES = [
    "photoseek",
    "packages",
    "huge pages",
    "data dir",
    "cache dir",
    "log dir",
    "catalog",
    "device",
    "model",
    "index",
]
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
Usage = namedtuple("Usage", "total used free")


def by_name(checks: list[Check]) -> dict[str, Check]:
    assert [c.name for c in checks] == NAMES
    return {c.name: c for c in checks}


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (what "writes nothing" is checked against)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def assert_printable(checks: list[Check]) -> None:
    for check in checks:
        assert "\n" not in check.detail, check
        check.detail.encode("utf-8")  # no lone surrogates: prints on any terminal


def make_library(data_dir: Path) -> None:
    """A library with a catalog (closed again)."""
    tiny_library(data_dir).close()


def test_fresh_machine(tmp_path):
    paths = resolve_paths(tmp_path / "lib")
    checks = by_name(list(iter_checks(paths, tiny_settings())))
    assert all(c.ok for c in checks.values()), checks
    assert checks["data dir"].detail.startswith(f"{paths.data_dir}: not created yet")
    assert checks["catalog"].detail.startswith("no library yet")
    assert checks["model"].detail.endswith("on cpu")
    assert checks["index"].skipped and checks["index"].label == "skip"
    assert not (tmp_path / "lib").exists()  # the doctor created nothing


def test_existing_library_is_read_not_written(tmp_path):
    data_dir = tmp_path / "lib"
    make_library(data_dir)
    before = snapshot(data_dir)
    checks = by_name(list(iter_checks(resolve_paths(data_dir), tiny_settings())))
    assert all(c.ok and not c.skipped for c in checks.values()), checks
    assert checks["data dir"].detail.startswith(f"{data_dir}: writable, private, ")
    assert checks["catalog"].detail.startswith(f"{data_dir / 'catalog.sqlite3'}: integrity ok")
    assert checks["index"].detail == "no vectors for this model yet (run `photoseek index`)"
    after = snapshot(data_dir)
    # SQLite itself adds the -shm/-wal side files of a read-only connection; nothing else.
    assert set(after) - set(before) <= {"catalog.sqlite3-shm", "catalog.sqlite3-wal"}
    assert {k: v for k, v in after.items() if k in before} == before


def test_checks_arrive_one_at_a_time(tmp_path, monkeypatch):
    loaded: list[ModelSettings] = []

    def fake_load(settings: ModelSettings, models_dir: Path) -> object:
        loaded.append(settings)
        raise ModelUnavailableError("weights are not on this computer")

    monkeypatch.setattr(doctor, "load_embedder", fake_load)
    checks = iter_checks(resolve_paths(tmp_path / "lib"), tiny_settings())
    seen = []
    for check in checks:
        seen.append(check.name)
        if check.name == "device":
            assert not loaded  # the device line is out before the model starts loading
            break
    model = next(checks)
    assert loaded and model == Check("model", False, "weights are not on this computer")
    assert next(checks).name == "index"
    assert seen == NAMES[: NAMES.index("device") + 1]
    with pytest.raises(StopIteration):
        next(checks)


def test_full_disk_faked(tmp_path, monkeypatch):
    make_library(tmp_path / "lib")
    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda p: Usage(10**9, 10**9, 12_345_678))
    checks = by_name(list(iter_checks(resolve_paths(tmp_path / "lib"), tiny_settings())))
    for name in ("data dir", "cache dir", "log dir"):
        assert not checks[name].ok
        assert checks[name].detail.endswith(
            "only 12.3 MB free (photoseek needs at least 100 MB)"
        ), checks[name]
    assert checks["catalog"].ok and checks["model"].ok


def test_full_disk_real(tmp_path):
    with mounted_tmpfs(tmp_path / "mnt", size="2m") as mnt:
        data_dir = mnt / "lib"
        make_library(data_dir)
        with (mnt / "filler").open("wb", buffering=0) as handle, pytest.raises(OSError):
            while True:
                handle.write(b"\0" * 65536)
        before = snapshot(data_dir)
        checks = list(iter_checks(resolve_paths(data_dir), tiny_settings()))
        after = snapshot(data_dir)
    named = by_name(checks)
    assert_printable(checks)
    assert not named["data dir"].ok
    assert "only 0 B free (photoseek needs at least 100 MB)" in named["data dir"].detail
    assert named["catalog"].name == "catalog" and named["model"].ok
    assert not [name for name in after if ".tmp" in name]  # no half-written temporaries
    assert {k: v for k, v in after.items() if k in before} == before


def test_read_only_data_dir(tmp_path):
    with mounted_tmpfs(tmp_path / "mnt", size="200m") as mnt:  # room enough: only "ro" fails
        data_dir = mnt / "lib"
        make_library(data_dir)
        remount_read_only(mnt)
        checks = list(iter_checks(resolve_paths(data_dir), tiny_settings()))
    named = by_name(checks)
    assert_printable(checks)
    assert not named["data dir"].ok
    assert named["data dir"].detail.startswith(
        f"{data_dir}: read-only (searching works; adding, indexing and watching do not), private, "
    )
    assert named["log dir"].detail.startswith(
        f"{data_dir / 'logs'}: read-only (no log file is written), private, "
    )
    assert named["device"].ok and named["model"].ok
    # The catalog line says what a read-only open gives (today SQLite cannot open a WAL
    # catalog in a read-only folder: "cannot be read (...)"), on one line, no traceback.
    assert named["catalog"].detail.startswith(f"{data_dir / 'catalog.sqlite3'}: ")


def test_data_dir_that_cannot_be_created(tmp_path):
    with mounted_tmpfs(tmp_path / "mnt", size="200m") as mnt:
        remount_read_only(mnt)
        checks = by_name(list(iter_checks(resolve_paths(mnt / "lib"), tiny_settings())))
    assert checks["data dir"] == Check(
        "data dir", False, f"{mnt}/lib: cannot be created, {mnt} is not writable"
    )
    assert checks["catalog"].detail.startswith("no library yet")


def test_data_dir_that_is_a_file(tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("not a library")
    checks = by_name(list(iter_checks(resolve_paths(file), tiny_settings())))
    assert checks["data dir"] == Check(
        "data dir", False, f"--data-dir {file} is a file, not a folder"
    )
    assert not checks["cache dir"].ok
    assert checks["cache dir"].detail == f"{file}/cache: cannot be created, {file} is a file"
    assert checks["catalog"].skipped
    assert checks["model"].ok  # the rest of the report still comes
    assert file.read_text() == "not a library"


def test_catalog_from_a_newer_photoseek(tmp_path):
    data_dir = tmp_path / "lib"
    make_library(data_dir)
    with sqlite3.connect(data_dir / "catalog.sqlite3") as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    checks = by_name(list(iter_checks(resolve_paths(data_dir), tiny_settings())))
    assert not checks["catalog"].ok
    assert "written by a newer photoseek (schema v99" in checks["catalog"].detail
    assert checks["index"].skipped


def test_not_a_catalog(tmp_path):
    data_dir = tmp_path / "lib"
    resolve_paths(data_dir).ensure()
    (data_dir / "catalog.sqlite3").write_bytes(b"garbage" * 100)
    checks = by_name(list(iter_checks(resolve_paths(data_dir), tiny_settings())))
    assert not checks["catalog"].ok
    assert checks["catalog"].detail.endswith("is not a photoseek catalog (not SQLite)")


@no_cuda
def test_cuda_asked_for_on_a_machine_without_it(tmp_path):
    settings = ModelSettings(tiny_settings().arch, "none", "cuda")
    checks = by_name(list(iter_checks(resolve_paths(tmp_path / "lib"), settings)))
    expected = "cuda was asked for but is not available (this machine: cpu)"
    if torch.backends.mps.is_available():
        expected = expected.replace("cpu)", "mps, cpu)")
    assert checks["device"] == Check("device", False, expected)
    assert checks["model"].skipped and checks["model"].label == "skip"
    assert checks["model"].detail == "not loaded: the device check failed"


@no_cuda
def test_auto_device_reports_what_it_picked(tmp_path):
    settings = ModelSettings(tiny_settings().arch, "none", "auto")
    checks = by_name(list(iter_checks(resolve_paths(tmp_path / "lib"), settings)))
    if not torch.backends.mps.is_available():
        assert checks["device"].detail.startswith("auto -> cpu (no CUDA")


def test_unknown_device(tmp_path):
    settings = ModelSettings(tiny_settings().arch, "none", "tpu")
    checks = by_name(list(iter_checks(resolve_paths(tmp_path / "lib"), settings)))
    assert not checks["device"].ok
    assert checks["device"].detail == "unknown device 'tpu' (use auto, cpu, cuda, mps)"


def test_any_exception_becomes_one_failed_line(tmp_path, monkeypatch):
    def boom() -> str:
        raise RuntimeError("first line\nsecond line")

    def broken_load(settings: ModelSettings, models_dir: Path) -> object:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(doctor.platform, "platform", boom)
    monkeypatch.setattr(doctor, "load_embedder", broken_load)
    checks = by_name(list(iter_checks(resolve_paths(tmp_path / "lib"), tiny_settings())))
    assert checks["photoseek"] == Check("photoseek", False, "RuntimeError: first line second line")
    assert checks["model"] == Check("model", False, "OSError: [Errno 5] Input/output error")
    assert checks["packages"].ok and checks["device"].ok


def test_undecodable_data_dir(tmp_path):
    data_dir = tmp_path / os.fsdecode(b"caf\xe9  two spaces")
    make_library(data_dir)
    checks = list(iter_checks(resolve_paths(data_dir), tiny_settings()))
    assert_printable(checks)
    named = by_name(checks)
    assert named["data dir"].ok
    assert named["data dir"].detail.startswith(f"$'{tmp_path}/caf\\xe9  two spaces': writable")


def test_run_checks_wrapper(tmp_path):
    library = tiny_library(tmp_path / "lib")
    try:
        assert [c.name for c in run_checks(library)] == NAMES
    finally:
        library.close()


def test_format_bytes():
    assert doctor.format_bytes(0) == "0 B"
    assert doctor.format_bytes(999) == "999 B"
    assert doctor.format_bytes(12_345_678) == "12.3 MB"
    assert doctor.format_bytes(100 * 10**6) == "100 MB"
    assert doctor.format_bytes(78_800_000_000) == "78.8 GB"
    assert doctor.format_bytes(5 * 10**15) == "5000 TB"


def test_shutil_is_the_one_the_doctor_uses():
    assert doctor.shutil is shutil  # the faked-disk test patches the real thing
