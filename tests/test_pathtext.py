"""pathtext: paths shown on one line, pasteable into bash, and serialised to JSON losslessly."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from photoseek.pathtext import (
    PathTextError,
    display_path,
    escape_undecodable,
    is_exact_text,
    path_from_json,
    path_to_json,
)

LATIN1 = os.fsdecode(b"/photos/caf\xe9.jpg")  # 'é' as one Latin-1 byte: not UTF-8
ODD_NAMES = [
    LATIN1,
    os.fsdecode(b"/photos/\xff\xfe two bytes/\xe9t\xe9"),
    "/photos/line\nbreak.jpg",
    "/photos/tab\there.jpg",
    '/photos/it\'s "quoted"\n.jpg',
    "/photos/back\\slash\n.jpg",
    "/photos/bell\x07 and del\x7f.jpg",
    "/photos/zero\u200bwidth.jpg",
    "/photos/emoji 🏖️\tand tab.jpg",
]

bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def bash_bytes(shown: str) -> bytes:
    """The bytes bash makes of a word pasted into a command line."""
    result = subprocess.run(
        ["bash", "-c", f"printf %s {shown}"], capture_output=True, check=True, timeout=30
    )
    return result.stdout


@pytest.mark.parametrize(
    "path",
    [
        "/home/ann/Pictures/beach 2019/IMG_0042.jpg",
        "/photos/émoji 🏖️ café.jpg",
        'C:\\Users\\Zoë\\My Photos\\100% "best"\\x.jpg',
        'relative/it\'s "fine" $HOME.jpg',
        "",
    ],
)
def test_printable_valid_paths_are_shown_as_they_are(path):
    assert display_path(path) == path
    assert display_path(Path(path)) == str(Path(path))


def test_latin1_byte_is_shown_as_hex_escape():
    assert display_path(LATIN1) == "$'/photos/caf\\xe9.jpg'"
    assert display_path(Path(LATIN1)) == "$'/photos/caf\\xe9.jpg'"


def test_named_escapes_and_control_characters():
    assert display_path("/a\nb") == "$'/a\\nb'"
    assert display_path("/a\tb") == "$'/a\\tb'"
    assert display_path("/it's\n") == "$'/it\\'s\\n'"
    assert display_path("/back\\slash\r") == "$'/back\\\\slash\\x0d'"
    assert display_path("/x\x1b[31m") == "$'/x\\x1b[31m'"
    assert display_path("/zero\u200bwidth") == "$'/zero\\xe2\\x80\\x8bwidth'"


@pytest.mark.parametrize("path", ODD_NAMES)
def test_odd_paths_show_on_one_printable_line(path):
    shown = display_path(path)
    assert shown.startswith("$'") and shown.endswith("'")
    assert shown.isprintable() and is_exact_text(shown)
    shown.encode("ascii" if path.isascii() else "utf-8")  # never raises


@bash
@pytest.mark.parametrize("path", ODD_NAMES)
def test_shown_path_pasted_into_bash_gives_the_exact_bytes(path):
    assert bash_bytes(display_path(path)) == os.fsencode(path)


@bash
def test_shown_path_opens_the_real_file(tmp_path):
    name = os.fsdecode(b"caf\xe9 \n'it'.jpg")
    (tmp_path / name).write_bytes(b"photo")
    shown = display_path(tmp_path / name)
    result = subprocess.run(
        ["bash", "-c", f"cat {shown}"], capture_output=True, check=True, timeout=30
    )
    assert result.stdout == b"photo"


def test_json_of_an_exact_path_has_only_path():
    assert path_to_json("/photos/café 🏖️.jpg") == {"path": "/photos/café 🏖️.jpg"}
    assert path_to_json(Path("C:\\Users\\Zoë\\x.jpg")) == {"path": "C:\\Users\\Zoë\\x.jpg"}
    assert path_to_json("/a\nb") == {"path": "/a\nb"}  # JSON escapes a newline itself


def test_json_of_an_undecodable_path_adds_its_bytes():
    obj = path_to_json(LATIN1)
    assert obj == {
        "path": "/photos/caf\ufffd.jpg",
        "path_bytes": base64.b64encode(b"/photos/caf\xe9.jpg").decode("ascii"),
    }
    text = json.dumps(obj, ensure_ascii=False)
    text.encode("utf-8")  # valid Unicode: a strict encoder accepts it


@pytest.mark.parametrize("path", [*ODD_NAMES, "/photos/plain.jpg", "C:\\Users\\Zoë\\x.jpg"])
def test_json_round_trip_is_lossless(path):
    wire = json.dumps(path_to_json(path), ensure_ascii=False).encode("utf-8")
    back = path_from_json(json.loads(wire.decode("utf-8")))
    assert back == Path(path)
    assert os.fsencode(back) == os.fsencode(Path(path))


@pytest.mark.parametrize(
    "obj",
    [{}, {"path": 3}, {"path": "x", "path_bytes": "not base64!"}, {"path_bytes": 5}],
)
def test_malformed_json_is_refused(obj):
    with pytest.raises(PathTextError):
        path_from_json(obj)


def test_escape_undecodable_makes_messages_valid_unicode():
    message = f"cannot read {LATIN1}: permission denied"
    assert escape_undecodable(message) == "cannot read /photos/caf\\xe9.jpg: permission denied"
    assert escape_undecodable("plain é") == "plain é"
    assert escape_undecodable("\ud800") == "\\ud800"
