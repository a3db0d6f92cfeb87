"""Tests for photoseek.core.watch.scanner: walking a folder of hostile files."""

from __future__ import annotations

import os
import sys
import threading
import traceback
from pathlib import Path

import pytest

from photoseek.core.watch.scanner import (
    COMPANION_EXTENSIONS,
    SYSTEM_FOLDER_NAMES,
    FolderScan,
    ScannedFile,
    SkippedFile,
    device_of,
    scan_folder,
)
from tests.hostile_corpus import HostileCorpus, make_hostile_corpus

needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> HostileCorpus:
    return make_hostile_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def corpus_scan(corpus: HostileCorpus) -> FolderScan:
    return _scan_with_timeout(corpus.root)


def _scan_with_timeout(root: Path, timeout: float = 10.0) -> FolderScan:
    """Run scan_folder in a thread so a blocking FIFO fails the test instead of hanging."""
    result: list[FolderScan] = []
    worker = threading.Thread(target=lambda: result.append(scan_folder(root)), daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), "scan_folder did not finish (blocked or looping)"
    return result[0]


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _is_under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


# --------------------------------------------------------------------------- corpus


def test_corpus_has_enough_hostile_kinds(corpus: HostileCorpus) -> None:
    assert len(corpus.bad) >= 25
    assert len(set(corpus.bad.values())) == len(corpus.bad)
    assert len(corpus.good) >= 25


def test_corpus_files_are_listed_exactly(corpus: HostileCorpus, corpus_scan: FolderScan) -> None:
    assert corpus_scan.available and corpus_scan.reason is None
    listed = {entry.path for entry in corpus_scan.files}
    expected = set(corpus.good) | (set(corpus.bad) - corpus.scan_problems)
    assert listed == expected


def test_corpus_scan_problems_are_reported(corpus: HostileCorpus, corpus_scan: FolderScan) -> None:
    skipped = {entry.path: entry.reason for entry in corpus_scan.skipped}
    assert set(skipped) == corpus.scan_problems
    assert all(reason for reason in skipped.values())
    assert corpus_scan.unlisted_folders == []


def test_ignored_entries_are_silent(corpus: HostileCorpus, corpus_scan: FolderScan) -> None:
    seen = [entry.path for entry in corpus_scan.files] + [e.path for e in corpus_scan.skipped]
    for ignored in corpus.ignored:
        assert not any(_is_under(path, ignored) for path in seen), ignored


@needs_fifo
def test_fifo_is_reported_without_blocking(corpus: HostileCorpus, corpus_scan: FolderScan) -> None:
    fifo = corpus.root / "sub" / "fifo.jpg"
    assert SkippedFile(fifo, "not a regular file (fifo)") in corpus_scan.skipped


@needs_symlinks
def test_broken_symlinks_are_reported(corpus: HostileCorpus, corpus_scan: FolderScan) -> None:
    reasons = {entry.path.name: entry.reason for entry in corpus_scan.skipped}
    assert reasons["broken_link.jpg"] == "broken symbolic link"
    assert reasons["self_loop.jpg"].startswith("broken symbolic link (loop)")


@needs_symlinks
def test_symlinked_file_is_listed_under_the_link_path(corpus: HostileCorpus) -> None:
    scan = scan_folder(corpus.root)
    link = corpus.root / "linked.png"
    entry = next(item for item in scan.files if item.path == link)
    assert entry.size == (corpus.root / ".store" / "target.png").stat().st_size


def test_folder_named_like_a_photo_is_walked(
    corpus_scan: FolderScan, corpus: HostileCorpus
) -> None:
    assert corpus.root / "folder.jpg" / "inside.png" in {e.path for e in corpus_scan.files}


def test_scan_order_is_deterministic(corpus: HostileCorpus, corpus_scan: FolderScan) -> None:
    again = scan_folder(corpus.root)
    assert again.files == corpus_scan.files
    assert again.skipped == corpus_scan.skipped


# --------------------------------------------------------------------------- filters


def test_hidden_appledouble_system_and_companions_are_skipped(tmp_path: Path) -> None:
    keep = ["photo.jpg", "notes.txt", "no_extension", "scan.PDF", "album/img.heic"]
    for name in keep:
        _touch(tmp_path / name)
    for name in [
        ".hidden.jpg",
        "._photo.jpg",
        ".DS_Store",
        "photo.xmp",
        "IMG_1.AAE",
        "clip.MOV",
        "clip.mp4",
        "meta.json",
        "Thumbs.db",
        "desktop.ini",
        ".git/objects/x.jpg",
        "@eaDir/photo.jpg/SYNOPHOTO_THUMB.jpg",
        "#recycle/a.jpg",
        "$RECYCLE.BIN/S-1-5/b.jpg",
        "System Volume Information/c.jpg",
        ".Trashes/501/d.jpg",
        "lost+found/e.jpg",
        "album/.thumbnails/f.jpg",
    ]:
        _touch(tmp_path / name)
    scan = scan_folder(tmp_path)
    got = [entry.path.relative_to(tmp_path).as_posix() for entry in scan.files]
    assert got == ["no_extension", "notes.txt", "photo.jpg", "scan.PDF", "album/img.heic"]
    assert scan.skipped == []


def test_companion_and_system_names_are_lower_case() -> None:
    for extension in COMPANION_EXTENSIONS:
        assert extension.startswith(".") and extension == extension.lower()
    for required in [".xmp", ".aae", ".thm", ".mov", ".mp4", ".json", ".db", ".ini", ".lrv"]:
        assert required in COMPANION_EXTENSIONS
    assert {"@eadir", "#recycle", "$recycle.bin", "system volume information"} <= (
        SYSTEM_FOLDER_NAMES
    )
    for photo in [".jpg", ".jpeg", ".png", ".heic", ".tif", ".webp", ".gif", ".bmp"]:
        assert photo not in COMPANION_EXTENSIONS


def test_hidden_root_is_still_walked(tmp_path: Path) -> None:
    root = tmp_path / ".photos"
    photo = _touch(root / "a.jpg")
    assert [entry.path for entry in scan_folder(root).files] == [photo]


# --------------------------------------------------------------------------- order and metadata


def test_files_before_subfolders_each_sorted(tmp_path: Path) -> None:
    names = ["b.jpg", "a.jpg", "z/2.jpg", "z/1.jpg", "m/x/deep.jpg", "m/shallow.jpg", "C.jpg"]
    for name in names:
        _touch(tmp_path / name)
    got = [entry.path.relative_to(tmp_path).as_posix() for entry in scan_folder(tmp_path).files]
    assert got == ["C.jpg", "a.jpg", "b.jpg", "m/shallow.jpg", "m/x/deep.jpg", "z/1.jpg", "z/2.jpg"]


def test_sizes_and_mtimes_are_correct(tmp_path: Path) -> None:
    small = _touch(tmp_path / "small.jpg", b"12345")
    big = _touch(tmp_path / "sub" / "big.png", b"\x00" * 70_000)
    os.utime(small, ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    expected = {
        small: ScannedFile(small, 5, small.stat().st_mtime_ns, small.stat().st_ino),
        big: ScannedFile(big, 70_000, big.stat().st_mtime_ns, big.stat().st_ino),
    }
    scan = scan_folder(tmp_path)
    assert {entry.path: entry for entry in scan.files} == expected
    assert expected[small].mtime_ns == small.stat().st_mtime_ns
    assert small.stat().st_mtime_ns // 1_000_000_000 == 1_600_000_000


def test_deep_nesting_needs_no_recursion(tmp_path: Path) -> None:
    folder = tmp_path
    for _ in range(300):
        folder = folder / "d"
        folder.mkdir()
    photo = _touch(folder / "deep.jpg")
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(traceback.extract_stack()) + 150)  # far below 300 levels
    try:
        scan = scan_folder(tmp_path)
    finally:
        sys.setrecursionlimit(old_limit)
    assert [entry.path for entry in scan.files] == [photo]


# --------------------------------------------------------------------------- links, special files


@needs_symlinks
def test_links_to_folders_are_reported_not_entered(tmp_path: Path) -> None:
    photo = _touch(tmp_path / "a" / "photo.jpg")
    (tmp_path / "a" / "up").symlink_to(tmp_path)
    (tmp_path / "a" / "to_b").symlink_to(tmp_path / "b")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "to_a").symlink_to(tmp_path / "a")
    scan = _scan_with_timeout(tmp_path)
    assert [entry.path for entry in scan.files] == [photo]
    reasons = {s.path.name: s.reason for s in scan.skipped}
    assert set(reasons) == {"up", "to_b", "to_a"}
    assert reasons["to_b"] == (
        f"symbolic link to a folder, not followed (add {tmp_path / 'b'} to the library "
        "to include it)"
    )


@needs_symlinks
def test_link_to_a_parent_never_pulls_in_photoseeks_own_folders(tmp_path: Path) -> None:
    from photoseek.core.watch.scanner import exclusion_keys

    library = tmp_path / "library"
    photo = _touch(tmp_path / "pics" / "a.jpg")
    _touch(library / "catalog.sqlite3")
    _touch(tmp_path / "pics" / "inside" / "b.jpg")
    (tmp_path / "pics" / "parent").symlink_to(tmp_path)
    scan = scan_folder(tmp_path, exclude=exclusion_keys([library]))
    assert [e.path for e in scan.files] == [photo, tmp_path / "pics" / "inside" / "b.jpg"]
    assert [s.path.name for s in scan.skipped] == ["parent"]


def test_an_entry_that_raises_anything_is_skipped_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from photoseek.core.watch import scanner

    good = _touch(tmp_path / "a.jpg")
    bad = _touch(tmp_path / "b.jpg")
    real = scanner._stat_entry

    def flaky(entry, path, scan):  # type: ignore[no-untyped-def]
        if path == bad:
            raise OverflowError("timestamp out of range for platform time_t")
        return real(entry, path, scan)

    monkeypatch.setattr(scanner, "_stat_entry", flaky)
    scan = scan_folder(tmp_path)
    assert [e.path for e in scan.files] == [good]
    assert scan.skipped == [
        SkippedFile(
            bad, "cannot examine: OverflowError: timestamp out of range for platform time_t"
        )
    ]


def test_scan_reports_progress_and_honours_cancel(tmp_path: Path) -> None:
    import threading

    from photoseek.core.errors import Cancelled
    from photoseek.core.watch import scanner

    for i in range(scanner.PROGRESS_EVERY * 2 + 3):
        _touch(tmp_path / f"{i // 100:02d}" / f"{i}.jpg")
    counts: list[int] = []
    scan = scan_folder(tmp_path, on_progress=counts.append)
    assert counts == [scanner.PROGRESS_EVERY, 2 * scanner.PROGRESS_EVERY]
    assert len(scan.files) == scanner.PROGRESS_EVERY * 2 + 3
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        scan_folder(tmp_path, cancel=cancel)


@needs_symlinks
def test_symlinked_root_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real"
    _touch(real / "a.jpg")
    (tmp_path / "alias").symlink_to(real)
    scan = scan_folder(tmp_path / "alias")
    assert scan.available
    assert [entry.path for entry in scan.files] == [tmp_path / "alias" / "a.jpg"]


@needs_fifo
def test_fifo_in_nested_folder_does_not_block(tmp_path: Path) -> None:
    (tmp_path / "x" / "y").mkdir(parents=True)
    os.mkfifo(tmp_path / "x" / "y" / "pipe.png")
    photo = _touch(tmp_path / "x" / "y" / "z.jpg")
    scan = _scan_with_timeout(tmp_path, timeout=5)
    assert [entry.path for entry in scan.files] == [photo]
    assert scan.skipped == [
        SkippedFile(tmp_path / "x" / "y" / "pipe.png", "not a regular file (fifo)")
    ]


def test_socket_is_reported(tmp_path: Path) -> None:
    socket = pytest.importorskip("socket")
    if not hasattr(socket, "AF_UNIX") or len(str(tmp_path)) > 90:
        pytest.skip("no short AF_UNIX path here")
    path = tmp_path / "s.jpg"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        scan = _scan_with_timeout(tmp_path)
    assert scan.skipped == [SkippedFile(path, "not a regular file (socket)")]


# --------------------------------------------------------------------------- unreadable


def _deny_scandir(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    real_scandir = os.scandir

    def fake_scandir(path: str | os.PathLike[str]) -> object:
        if Path(path) == denied:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", fake_scandir)


def test_unreadable_subfolder_is_reported_and_walk_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _touch(tmp_path / "locked" / "secret.jpg")
    after = _touch(tmp_path / "zzz" / "later.jpg")
    _deny_scandir(monkeypatch, tmp_path / "locked")
    scan = scan_folder(tmp_path)
    assert scan.available
    assert [entry.path for entry in scan.files] == [after]
    assert scan.skipped == [SkippedFile(tmp_path / "locked", "permission denied (folder)")]
    assert scan.unlisted_folders == [tmp_path / "locked"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores modes")
def test_unreadable_subfolder_with_real_permissions(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    _touch(locked / "secret.jpg")
    ok = _touch(tmp_path / "ok.jpg")
    locked.chmod(0)
    try:
        scan = scan_folder(tmp_path)
    finally:
        locked.chmod(0o755)
    assert [entry.path for entry in scan.files] == [ok]
    assert scan.skipped == [SkippedFile(locked, "permission denied (folder)")]


def test_unreadable_root_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _touch(tmp_path / "a.jpg")
    _deny_scandir(monkeypatch, tmp_path)
    scan = scan_folder(tmp_path)
    assert (scan.available, scan.reason, scan.files) == (False, "permission denied", [])


# --------------------------------------------------------------------------- availability


def test_missing_root_is_unavailable(tmp_path: Path) -> None:
    scan = scan_folder(tmp_path / "nope")
    assert scan == FolderScan(tmp_path / "nope", False, "folder not found", [], [], [])
    _touch(tmp_path / "file.jpg")
    assert scan_folder(tmp_path / "file.jpg").reason == "not a folder"
    assert scan_folder(tmp_path / "file.jpg" / "below").reason == "folder not found"


def test_empty_mount_point_on_other_device_is_unavailable(tmp_path: Path) -> None:
    other_device = device_of(tmp_path) + 1
    scan = scan_folder(tmp_path, expected_device=other_device, had_photos=True)
    assert (scan.available, scan.reason) == (False, "volume not mounted")
    _touch(tmp_path / ".DS_Store")  # only ignored entries: still looks empty
    assert not scan_folder(tmp_path, expected_device=other_device, had_photos=True).available


def test_empty_folder_is_available_when_heuristic_does_not_apply(tmp_path: Path) -> None:
    same_device = device_of(tmp_path)
    cases: list[tuple[int | None, bool]] = [
        (same_device, True),  # photos really deleted
        (same_device + 1, False),  # never had photos
        (None, True),  # no device recorded
    ]
    for expected_device, had_photos in cases:
        scan = scan_folder(tmp_path, expected_device=expected_device, had_photos=had_photos)
        assert scan.available and scan.files == [], (expected_device, had_photos)


def test_non_empty_folder_on_other_device_is_available(tmp_path: Path) -> None:
    photo = _touch(tmp_path / "a.jpg")
    scan = scan_folder(tmp_path, expected_device=device_of(tmp_path) + 1, had_photos=True)
    assert scan.available
    assert [entry.path for entry in scan.files] == [photo]


def test_device_of(tmp_path: Path) -> None:
    assert device_of(tmp_path) == tmp_path.stat().st_dev
    with pytest.raises(OSError):
        device_of(tmp_path / "missing")
