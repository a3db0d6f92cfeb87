"""The watcher's pieces: volume kinds, fallbacks, stability, overflow."""

from __future__ import annotations

import errno
import itertools
import logging
import time
from pathlib import Path

import pytest

from photoseek.core.watch import watcher as watcher_module
from photoseek.core.watch.volumes import polling_reason, volume_of
from photoseek.core.watch.watcher import INOTIFY_SYSCTL, FolderWatcher

MOUNTS = [
    ("/", "ext4", "rw"),
    ("/mnt/nas", "nfs4", "rw"),
    ("/mnt/share", "cifs", "rw"),
    ("/home/u/remote", "fuse.sshfs", "rw"),
    ("/media/u/CARD", "vfat", "rw"),
    ("/media/u/SSD", "exfat", "rw"),
    ("/mnt/nas/local-cache", "ext4", "rw"),
    ("Z:\\", "NTFS", "rw,remote"),
]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/home/u/Pictures", None),
        ("/mnt/nas/photos/2020", "network volume (nfs4)"),
        ("/mnt/share", "network volume (cifs)"),
        ("/home/u/remote/pics", "network volume (fuse.sshfs)"),
        ("/media/u/CARD/DCIM", "removable volume (vfat)"),
        ("/media/u/SSD", "removable volume (exfat)"),
        ("/mnt/nas/local-cache/x", None),  # the longest mount point wins
    ],
)
def test_polling_reason(path: str, expected: str | None) -> None:
    assert polling_reason(Path(path), MOUNTS) == expected


def test_volume_of_this_machine_finds_a_mount(tmp_path: Path) -> None:
    mount, fstype, _ = volume_of(tmp_path)
    assert mount and fstype


@pytest.fixture
def watcher():
    w = FolderWatcher(stable_s=0.3, poll_interval_s=0.2)
    w.start()
    yield w
    w.stop()


def _wait_for_changes(w: FolderWatcher, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        changes = w.take()
        if changes:
            return changes
        time.sleep(0.05)
    raise AssertionError("no changes reported")


def test_native_events_become_directory_changes(watcher: FolderWatcher, tmp_path: Path) -> None:
    assert watcher.watch([tmp_path]) == {tmp_path: "native events"}
    (tmp_path / "a.jpg").write_bytes(b"x")
    assert tmp_path in _wait_for_changes(watcher).dirs


def test_network_volume_is_polled(watcher: FolderWatcher, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(watcher_module, "polling_reason", lambda path: "network volume (nfs4)")
    modes = watcher.watch([tmp_path])
    assert modes[tmp_path].startswith("polling") and "nfs4" in modes[tmp_path]
    (tmp_path / "b.jpg").write_bytes(b"y")
    assert tmp_path in _wait_for_changes(watcher).dirs


def test_inotify_limit_falls_back_to_polling_with_one_warning(
    watcher: FolderWatcher, tmp_path: Path, monkeypatch, caplog
) -> None:
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(watcher._native, "schedule", full)
    folders = [tmp_path / "one", tmp_path / "two"]
    for folder in folders:
        folder.mkdir()
    with caplog.at_level(logging.WARNING):
        modes = watcher.watch(folders)
    assert all("inotify limit" in modes[f] for f in folders)
    warnings = [r for r in caplog.records if INOTIFY_SYSCTL in r.getMessage()]
    assert len(warnings) == 1
    (folders[1] / "c.jpg").write_bytes(b"z")
    assert folders[1] in _wait_for_changes(watcher).dirs


def test_file_is_released_only_when_stable(tmp_path: Path) -> None:
    w = FolderWatcher(stable_s=2.0)

    class Event:
        event_type, is_directory, src_path = "created", False, str(tmp_path / "x.jpg")

    target = tmp_path / "x.jpg"
    target.write_bytes(b"1")
    w.note_event(Event())
    t = time.monotonic()
    assert not w.take(t)  # first look: records size and mtime
    target.write_bytes(b"12")  # still growing
    assert not w.take(t + 3)
    assert not w.take(t + 4)  # unchanged, but not yet quiet for 2 s
    assert w.take(t + 5.5).dirs == {tmp_path}
    assert w.pending_count() == 0


def test_deleted_file_is_released_at_once(tmp_path: Path) -> None:
    w = FolderWatcher(stable_s=60)

    class Event:
        event_type, is_directory, src_path = "deleted", False, str(tmp_path / "gone.jpg")

    w.note_event(Event())
    assert w.take().dirs == {tmp_path}


def test_overflow_logged_by_watchdog_asks_for_full_rescan(watcher: FolderWatcher) -> None:
    logging.getLogger("watchdog.observers.inotify_c").warning(
        "Inotify queue overflowed; filesystem events were lost"
    )
    assert watcher.take().overflow


def test_missing_top_folder_is_unwatched_then_rewatched(
    watcher: FolderWatcher, tmp_path: Path
) -> None:
    folder = tmp_path / "top"
    folder.mkdir()
    watcher.watch([folder])
    folder.rmdir()
    assert watcher.watch([folder]) == {folder: "unavailable"}
    assert watcher.watched() == set()
    folder.mkdir()
    assert watcher.watch([folder]) == {folder: "native events"}


def test_unreadable_file_is_retried_with_backoff(tmp_path: Path, monkeypatch) -> None:
    w = FolderWatcher(stable_s=1.0)
    target = tmp_path / "locked.jpg"
    target.write_bytes(b"1")

    class Event:
        event_type, is_directory, src_path = "created", False, str(target)

    looks: list[float] = []
    real_stat = Path.stat

    def locked_stat(self, *args, **kwargs):
        if self == target:
            looks.append(now)
            raise PermissionError("in use by another program")
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", locked_stat)
    w.note_event(Event())
    now = time.monotonic()
    released = None
    for step in range(0, 600):  # ten simulated minutes, one look a second
        now += 1.0
        if w.take(now):
            released = step
            break
    gaps = [b - a for a, b in itertools.pairwise(looks)]
    assert gaps[:4] == [2.0, 4.0, 8.0, 16.0]  # backoff, not a busy retry
    assert released is not None and len(looks) == 9  # then reconcile records the reason
