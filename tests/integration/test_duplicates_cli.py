"""``photoseek duplicates`` through the real command line (tiny random model, in process)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from photoseek.cli import main
from tests.conftest import make_photos

OFF = ["--threshold", "1.01"]  # the embedding test off: random weights mean nothing here


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


@pytest.fixture
def pics(cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    folder = tmp_path / "pics"
    make_photos(folder, 5)
    shutil.copy(folder / "photo_00000.jpg", folder / "copy.jpg")
    made = (folder / "photo_00000.jpg").stat().st_mtime_ns
    os.utime(folder / "copy.jpg", ns=(made + 10**10, made + 10**10))  # the copy came later
    with Image.open(folder / "photo_00003.jpg") as photo:
        photo.resize((80, 60)).save(folder / "small 3.jpg", quality=60)
        photo.save(folder / "photo_00003.png")
    assert main(["add", str(folder)]) == 0
    assert main(["index"]) == 0
    capsys.readouterr()
    return folder


def test_duplicates_lists_groups_with_the_photo_to_keep_first_and_touches_nothing(
    pics: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(pics)
    assert main(["duplicates", *OFF]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == (
        "2 groups of near-duplicates among 8 photos (embedding test off; "
        "pHash distance <= 6 of 64 bits)"
    )
    first = out.index("group 1: 3 photos")
    block = out[first:].splitlines()
    assert "keep" in block[1] and block[1].endswith("photo_00003.jpg")  # JPEG before its PNG
    assert "160x120  png" in block[2] and "[pHash 0/64, cosine 1.000, like #1]" in block[2]
    assert "80x60  jpeg" in block[3] and "pHash" in block[3]
    second = out[out.index("group 2: 2 photos") :].splitlines()
    assert "keep" in second[1] and second[1].endswith("photo_00000.jpg")  # same size: older
    assert "copy.jpg" in second[2] and second[2].endswith("[same content as #1]")
    assert _snapshot(pics) == before  # nothing moved, deleted or rewritten


def test_duplicates_json_and_limit(pics: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["duplicates", *OFF, "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)
    assert [len(g["photos"]) for g in groups] == [3, 2]
    for group in groups:
        photos = group["photos"]
        assert group["keep"] == photos[0]["id"] and photos[0]["keep"]
        assert not any(p["keep"] for p in photos[1:])
        assert {"path", "width", "height", "format", "date", "reason", "like", "cosine"} <= set(
            photos[0]
        )
    assert groups[1]["photos"][1]["reason"] == "same content"
    assert main(["duplicates", *OFF, "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "group 2" not in out and "... and 1 more group (--limit)" in out
    assert main(["duplicates", *OFF, "--phash-distance", "0", "--json"]) == 0
    exact = json.loads(capsys.readouterr().out)
    assert [len(g["photos"]) for g in exact] == [2, 2]  # the PNG has the JPEG's very hash


def test_duplicates_refuses_bad_thresholds(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in (["--threshold", "nan"], ["--threshold", "7"], ["--phash-distance", "65"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["duplicates", *bad])
        assert exit_info.value.code == 2
    assert main(["duplicates"]) == 1
    assert "no library" in capsys.readouterr().err
