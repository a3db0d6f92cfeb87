"""Smart albums: saved queries that pick up photos indexed later, cut-offs per model,
export as links or copies, all through the command line and the facade."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from photoseek.cli import main
from photoseek.core.errors import QueryError
from photoseek.core.library import Library
from tests.conftest import make_photos


def _show(name: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["album", "show", name, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_an_album_picks_up_photos_the_watcher_indexes_later(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photos(tmp_path / "pics", 6)
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert main(["index"]) == 0
    assert main(["album", "add", "everything", "a photo", "--min-score", "-1"]) == 0
    assert main(["album", "add", "best three", "a colourful picture"]) == 0
    capsys.readouterr()
    assert len(_show("everything", capsys)) == 6
    later = make_photos(tmp_path / "pics", 3, start=50)
    assert main(["watch", "--once"]) == 0  # the watcher's catch-up
    capsys.readouterr()
    shown = {row["path"] for row in _show("Everything", capsys)}  # names ignore case
    assert len(shown) == 9 and {str(p) for p in later} <= shown
    assert main(["album", "show", "best three", "--limit", "3", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert main(["album", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(a["name"], a["min_score"]) for a in listed] == [
        ("best three", None),
        ("everything", -1.0),
    ]


def test_export_links_or_copies_and_never_touches_the_photos(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = make_photos(tmp_path / "pics", 4)
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert main(["index"]) == 0
    assert main(["album", "add", "all", "a photo", "--min-score", "-1"]) == 0
    out = tmp_path / "out"
    (out).mkdir()
    (out / photos[0].name).write_text("already here")  # a name taken: the export picks another
    assert main(["album", "export", "all", str(out)]) == 0
    assert "4 photos exported as links" in capsys.readouterr().out
    links = sorted(p for p in out.iterdir() if p.is_symlink())
    assert len(links) == 4 and {p.resolve() for p in links} == {p.resolve() for p in photos}
    assert (out / photos[0].name).read_text() == "already here"
    assert main(["album", "export", "all", str(tmp_path / "copies"), "--copy"]) == 0
    copies = list((tmp_path / "copies").iterdir())
    assert len(copies) == 4 and not any(p.is_symlink() for p in copies)
    assert main(["album", "remove", "all"]) == 0
    assert all(p.exists() for p in photos)
    assert main(["album", "show", "all"]) == 1
    assert "no album called 'all'" in capsys.readouterr().err


def test_an_album_is_checked_when_saved(library: Library, tmp_path: Path) -> None:
    make_photos(tmp_path / "pics", 2)
    library.add_folder(tmp_path / "pics")
    for _ in library.index():
        pass
    with pytest.raises(QueryError, match="not found"):
        library.save_album("x", "beach + @missing.jpg")
    with pytest.raises(QueryError, match="no tags yet"):
        library.save_album("x", "beach tag:dog")
    with pytest.raises(QueryError, match="needs a name"):
        library.save_album("  ", "beach")
    assert library.albums() == []
