"""RAW files in a library: indexed once with their JPEG by default, both on request, and the
RAW files an older photoseek recorded as "not supported yet" embedded by the next index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from photoseek.cli import main
from photoseek.core.catalog.pathcodec import to_db
from photoseek.core.imaging import decoders
from photoseek.core.library import Library
from photoseek.core.records import Changes, PhotoRecord
from tests.conftest import make_photo, run_index
from tests.rawsamples import corner_picture, jpeg_bytes, make_dng, stored_for

OLD_RAW_TAG = "raw/0;prep/1"  # what photoseek wrote for RAW files before it could decode them


def _dng(path: Path, seed: int) -> Path:
    """A small DNG (no preview: decoded at half size) whose picture depends on ``seed``."""
    picture = corner_picture((128 + 32 * seed, 96))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(make_dng(stored_for(6, picture), orientation=6))
    return path


def _recorded(library: Library) -> dict[Path, str]:
    """Every path the catalog knows (tombstones left out), with its status."""
    return {
        path: state.status
        for folder in library.folders()
        for path, state in library.catalog.photo_states(folder.id).items()
    }


def _live(library: Library) -> dict[Path, PhotoRecord]:
    """The photos that are in the library (indexed, with a vector), by path."""
    records = library.catalog.photos(sorted(library.catalog.live_ids(library.model_id)))
    return {record.path: record for record in records.values()}


@pytest.fixture
def shoot(tmp_path: Path) -> Path:
    """A camera card: IMG_0001 as RAW + JPEG, IMG_0002 as RAW only."""
    folder = tmp_path / "card"
    _dng(folder / "IMG_0001.DNG", 1)
    make_photo(folder / "IMG_0001.JPG", 1)
    _dng(folder / "IMG_0002.DNG", 2)
    return folder


def test_pair_is_indexed_once_as_its_jpeg(library: Library, shoot: Path) -> None:
    library.add_folder(shoot)
    run_index(library)
    live = _live(library)
    assert set(live) == {shoot / "IMG_0001.JPG", shoot / "IMG_0002.DNG"}
    assert shoot / "IMG_0001.DNG" not in _recorded(library)  # never recorded
    assert library.problems() == []
    assert live[shoot / "IMG_0002.DNG"].format == "raw"
    assert (live[shoot / "IMG_0002.DNG"].width, live[shoot / "IMG_0002.DNG"].height) == (192, 96)
    jpeg = live[shoot / "IMG_0001.JPG"]
    assert library.raw_original(jpeg.id) == shoot / "IMG_0001.DNG"
    assert library.raw_original(live[shoot / "IMG_0002.DNG"].id) is None


def test_raw_whose_jpeg_goes_is_indexed_at_the_next_scan(library: Library, shoot: Path) -> None:
    library.add_folder(shoot)
    run_index(library)
    (shoot / "IMG_0001.JPG").unlink()
    last = run_index(library)
    assert set(_live(library)) == {shoot / "IMG_0001.DNG", shoot / "IMG_0002.DNG"}
    assert getattr(last, "problems", None) == 0


def test_jpeg_added_beside_an_indexed_raw_takes_its_place(library: Library, shoot: Path) -> None:
    library.add_folder(shoot)
    run_index(library)
    make_photo(shoot / "IMG_0002.jpg", 2)  # the camera's JPEG copied in later
    run_index(library)
    assert set(_live(library)) == {shoot / "IMG_0001.JPG", shoot / "IMG_0002.jpg"}
    assert shoot / "IMG_0002.DNG" not in _recorded(library)  # a tombstone now


def test_watched_changes_follow_the_rule(library: Library, shoot: Path) -> None:
    """What the watcher reports is reconciled one folder at a time, with the same rule."""
    library.add_folder(shoot)
    run_index(library)
    (shoot / "IMG_0001.JPG").unlink()
    library.reconcile(Changes(dirs={shoot}))
    assert _recorded(library)[shoot / "IMG_0001.DNG"] == "pending"
    make_photo(shoot / "IMG_0001.jpeg", 11)  # another picture: not the old JPEG moved back
    library.reconcile(Changes(dirs={shoot}))
    recorded = _recorded(library)
    assert shoot / "IMG_0001.DNG" not in recorded and recorded[shoot / "IMG_0001.jpeg"] == "pending"


def test_setting_both_indexes_the_raw_too_and_back(library: Library, shoot: Path) -> None:
    library.add_folder(shoot)
    assert library.raw_pairs() == "one" and library.status().raw_pairs == "one"
    library.set_raw_pairs("both")
    run_index(library)
    assert library.status().raw_pairs == "both"
    assert set(_live(library)) == {shoot / n for n in ("IMG_0001.JPG", "IMG_0001.DNG",
                                                        "IMG_0002.DNG")}  # fmt: skip
    library.set_raw_pairs("one")
    run_index(library)
    assert set(_live(library)) == {shoot / "IMG_0001.JPG", shoot / "IMG_0002.DNG"}
    with pytest.raises(Exception, match="'one' or 'both'"):
        library.set_raw_pairs("all")


def test_duplicates_never_pair_a_raw_with_its_jpeg(library: Library, tmp_path: Path) -> None:
    """Index both files of a pair whose pictures are alike: still one photo, no duplicate."""
    folder = tmp_path / "card"
    picture = corner_picture((160, 120))
    folder.mkdir()
    (folder / "IMG_0007.DNG").write_bytes(make_dng(picture))
    (folder / "IMG_0007.JPG").write_bytes(jpeg_bytes(picture.resize((128, 96))))
    library.set_raw_pairs("both")
    library.add_folder(folder)
    run_index(library)
    assert len(_live(library)) == 2
    assert library.duplicates(phash_distance=64).groups == []  # even at any pHash distance


def test_raw_recorded_as_not_supported_is_embedded_by_the_next_index(
    library: Library, shoot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library from before the RAW decoder: its RAW files are problems tagged ``raw/0``."""
    library.add_folder(shoot)
    library.scan()
    raw = shoot / "IMG_0002.DNG"
    with library.catalog.transaction() as tx:
        tx.execute(
            "UPDATE photos SET status = 'error', error = ?, decoder = ? WHERE path = ?",
            ("camera RAW (DNG) is not supported yet", OLD_RAW_TAG, to_db(raw)),
        )
    assert [p.path for p in library.problems()] == [raw]
    with monkeypatch.context() as old:  # with the old decoder versions it is no work at all
        old.setitem(decoders.DECODER_VERSIONS, "raw", decoders.UNSUPPORTED)
        assert library.catalog.outdated(None).problems == ()
    assert library.catalog.outdated(None).problems == (OLD_RAW_TAG,)
    run_index(library)
    assert library.problems() == []
    assert raw in _live(library) and _live(library)[raw].format == "raw"


def test_cli_shows_the_original_and_the_setting(
    cli_env: Path, shoot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["add", str(shoot)]) == 0
    assert main(["index"]) == 0
    capsys.readouterr()
    assert main(["search", "a picture", "--json"]) == 0
    hits = {Path(hit["path"]).name: hit for hit in json.loads(capsys.readouterr().out)}
    assert set(hits) == {"IMG_0001.JPG", "IMG_0002.DNG"}
    assert hits["IMG_0001.JPG"]["original"] == str(shoot / "IMG_0001.DNG")
    assert hits["IMG_0002.DNG"]["original"] is None and hits["IMG_0002.DNG"]["format"] == "raw"

    assert main(["raw-pairs"]) == 0
    assert "indexed once, as the JPEG" in capsys.readouterr().out
    assert main(["raw-pairs", "both"]) == 0
    assert "both files" in capsys.readouterr().out
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["raw_pairs"] == "both"
    assert main(["status"]) == 0
    assert "raw+jpeg: both files" in capsys.readouterr().out


def test_raw_preview_and_thumbnail_through_the_library(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "card"
    folder.mkdir()
    picture = corner_picture((256, 192))
    preview = jpeg_bytes(stored_for(8, picture.resize((160, 120))))
    (folder / "IMG_0009.dng").write_bytes(make_dng(stored_for(8, picture), orientation=8,
                                                   preview=preview))  # fmt: skip
    library.add_folder(folder)
    run_index(library)
    (record,) = _live(library).values()
    thumb = library.thumbnail(record.id, 128)
    assert thumb is not None
    with Image.open(thumb) as image:
        assert image.size == (128, 96)  # from the preview, upright
