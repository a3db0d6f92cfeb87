"""A camera RAW and its JPEG (or HEIF): one rule for the scanner, the duplicates and originals."""

from __future__ import annotations

from pathlib import Path

import pytest

from photoseek.core.duplicates.siblings import photo_units
from photoseek.core.imaging.pairs import pair_key, raw_originals, raws_with_developed_sibling
from photoseek.core.watch.excludes import excluder
from photoseek.core.watch.scanner import scan_directory, scan_folder


def _touch(folder: Path, *names: str) -> list[Path]:
    paths = []
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- the rule


def test_pair_key_by_extension_and_stem() -> None:
    assert pair_key("/p/IMG_0042.CR2") == ("/p/", "img_0042", True)
    assert pair_key("/p/img_0042.jpg") == ("/p/", "img_0042", False)
    assert pair_key(b"/p/IMG_0042.HEIC") == ("/p/", "img_0042", False)
    assert pair_key("/p/IMG_0042.png") is None  # a conversion, not what a camera writes
    assert pair_key("/p/.dng") is None and pair_key("/p/noext") is None
    assert pair_key("/p.d/file") is None  # the dot of a folder is no extension


def test_raws_with_a_developed_sibling() -> None:
    names = ["IMG_1.CR2", "IMG_1.JPG", "IMG_2.NEF", "img_3.dng", "IMG_3.HEIC", "IMG_4.JPG",
             "IMG_5.ARW", "IMG_5.DNG", "IMG_5.jpeg", "IMG_6.png", "IMG_6.orf"]  # fmt: skip
    assert raws_with_developed_sibling(names) == {"IMG_1.CR2", "img_3.dng", "IMG_5.ARW",
                                                   "IMG_5.DNG"}  # fmt: skip


def test_raw_originals_lists_each_folder_once(tmp_path: Path) -> None:
    jpg, heic, lone, _, _, _ = _touch(
        tmp_path, "a/IMG_1.JPG", "b/IMG_2.heic", "a/IMG_3.jpg", "a/IMG_1.CR2", "b/img_2.DNG",
        "a/IMG_3.png",
    )  # fmt: skip
    (tmp_path / "a" / "IMG_3.NEF").mkdir()  # a folder named like a RAW is no RAW
    found = raw_originals([jpg, heic, lone, tmp_path / "a" / "IMG_1.CR2"])
    assert found == {jpg: tmp_path / "a" / "IMG_1.CR2", heic: tmp_path / "b" / "img_2.DNG"}
    assert raw_originals([tmp_path / "gone" / "IMG_9.JPG"]) == {}  # no folder: no original


def test_duplicates_use_the_same_rule() -> None:
    paths = [b"/p/IMG_1.CR2", b"/p/IMG_1.JPG", b"/q/IMG_1.JPG", b"/p/IMG_2.jpg", b"/p/IMG_2.png"]
    assert photo_units(paths).tolist() == [0, 0, 2, 3, 4]


# --------------------------------------------------------------------------- the scanner


def _listed(scan_files: list[Path], root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in scan_files)


def test_scan_leaves_a_raw_out_when_its_jpeg_stands_for_it(tmp_path: Path) -> None:
    _touch(tmp_path, "IMG_1.CR2", "IMG_1.JPG", "IMG_2.NEF", "img_3.dng", "IMG_3.HEIC",
           "sub/IMG_4.ARW", "IMG_4.JPG", "notes.txt")  # fmt: skip
    scan = scan_folder(tmp_path)
    assert _listed([f.path for f in scan.files], tmp_path) == [
        "IMG_1.JPG",
        "IMG_2.NEF",
        "IMG_3.HEIC",
        "IMG_4.JPG",
        "notes.txt",
        "sub/IMG_4.ARW",
    ]  # a RAW pairs only with a JPEG in its own folder
    assert _listed(scan.paired, tmp_path) == ["IMG_1.CR2", "img_3.dng"]
    both = scan_folder(tmp_path, keep_paired_raw=True)
    assert len(both.files) == 8 and both.paired == []


def test_only_listed_files_pair(tmp_path: Path) -> None:
    _touch(tmp_path, "IMG_1.CR2", "drafts/IMG_1.JPG", "IMG_2.NEF", "IMG_2.JPG/inside.png")
    (tmp_path / "IMG_3.DNG").write_bytes(b"x")
    (tmp_path / ".IMG_3.JPG").write_bytes(b"x")  # hidden: stands for nothing
    _touch(tmp_path, "IMG_5.ORF", "IMG_5.jpg")
    skip = excluder(tmp_path, ("IMG_5.jpg",))  # excluded by the folder's pattern
    scan = scan_folder(tmp_path, skip=skip)
    names = {f.path.name for f in scan.files}
    assert {"IMG_1.CR2", "IMG_2.NEF", "IMG_3.DNG", "IMG_5.ORF"} <= names
    assert scan.paired == []


@pytest.mark.parametrize("recursive", [False, True])
def test_directory_scans_follow_the_rule(tmp_path: Path, recursive: bool) -> None:
    _touch(tmp_path, "IMG_1.CR2", "IMG_1.JPG", "IMG_2.RAF")
    scan = scan_directory(tmp_path, recursive=recursive)
    assert sorted(f.path.name for f in scan.files) == ["IMG_1.JPG", "IMG_2.RAF"]
    kept = scan_directory(tmp_path, recursive=recursive, keep_paired_raw=True)
    assert len(kept.files) == 3
