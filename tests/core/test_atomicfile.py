"""Atomic writes: all or nothing, private, no temporaries left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from photoseek.core import atomicfile


def test_writes_replace_whole_files_privately(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    atomicfile.write_json_atomically(target, {"a": 1})
    atomicfile.write_json_atomically(target, {"a": 2})
    assert target.read_text() == '{"a":2}'
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "thumb.jpg"
    target.write_bytes(b"old")

    def broken(handle) -> None:  # type: ignore[no-untyped-def]
        handle.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomicfile.write_atomically(target, broken, durable=False)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["thumb.jpg"]


def test_undecodable_names_in_text_do_not_fail(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.jpg")  # a Latin-1 byte: a lone surrogate in Python
    atomicfile.write_text_atomically(tmp_path / "t.txt", f"current: {name}")
    assert (tmp_path / "t.txt").read_bytes() == b"current: caf\\udce9.jpg"
    assert atomicfile.is_temporary(".t.txt.abc123.tmp")
    assert not atomicfile.is_temporary("t.txt")
