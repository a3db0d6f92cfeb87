"""``classify``, ``labels`` and ``eval`` through the real command line (tiny random model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from photoseek.cli import main
from tests.conftest import make_photos


def test_classify_prints_each_label_probability_and_the_templates(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = make_photos(tmp_path / "pics", 2)
    labels = "cat, dog, a birthday party"
    assert main(["classify", *map(str, photos), "--labels", labels, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in results] == [str(p) for p in photos]
    for result in results:
        assert result["templates"] == "simple" and result["rule"] == "softmax"
        assert {x["label"] for x in result["labels"]} == {"cat", "dog", "a birthday party"}
        assert sum(x["probability"] for x in result["labels"]) == pytest.approx(1.0, abs=1e-4)
    assert main(["classify", str(photos[0]), "--top", "3", "--templates", "openai"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "labels: personal (62 labels), templates: openai (80), softmax over the set"
    assert out[1] == str(photos[0]) and len(out) == 5  # three labels shown
    assert not any((cli_env).glob("catalog*"))  # no library was made


def test_classify_reports_an_unreadable_image_and_exits_1(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (photo,) = make_photos(tmp_path / "pics", 1)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\x00" * 100)
    assert main(["classify", str(photo), str(junk), "--labels", "cat, dog"]) == 1
    out = capsys.readouterr().out
    assert "skipped: cannot read" in out and "cat" in out


def test_labels_add_list_remove_and_use(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["labels", "add", "kite", "--synonyms", "kites", "--prompt", "a kite in the sky."])
        == 0
    )
    assert main(["labels", "add", "sandcastle"]) == 0
    assert main(["labels", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[-3:-1] == ["personal  (62 labels)", "mine  (2 labels)"]
    assert listing[-1].startswith("templates: openai (80), simple (7), personal (8)")
    assert (cli_env / "labels" / "mine.txt").read_text().splitlines()[1:] == [
        "kite = kites | a kite in the sky.",
        "sandcastle",
    ]
    assert main(["labels", "remove", "sandcastle"]) == 0
    assert main(["labels", "list", "--set", "mine"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "kite = kites | a kite in the sky."
    (photo,) = make_photos(tmp_path / "pics", 1)
    assert main(["classify", str(photo), "--label-set", "mine", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["labels"] == [
        {"label": "kite", "probability": 1.0}
    ]
    assert main(["labels", "add", "kite", "--set", "personal"]) == 1
    assert "cannot be changed" in capsys.readouterr().err
    assert main(["classify", str(photo), "--label-set", "nope"]) == 1
    assert "no label set called 'nope'" in capsys.readouterr().err


def test_eval_prints_a_table_and_json(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = make_photos(tmp_path / "pics", 6)
    captions = tmp_path / "captions.tsv"
    captions.write_text("".join(f"pics/{p.name}\tphoto number {n}\n" for n, p in enumerate(photos)))
    assert main(["eval", "retrieval", str(captions)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "6 images, 6 captions" in out[0]
    assert out[1].split() == ["direction", "Recall@1", "Recall@5", "Recall@10"]
    assert [line.split()[0] for line in out[2:4]] == ["text_to_image", "image_to_text"]
    assert all(0.0 <= float(x) <= 1.0 for x in out[2].split()[1:])
    assert float(out[2].split()[3]) == 1.0  # 10 >= 6 images: every image is in the top 10
    labels = tmp_path / "labels.tsv"
    labels.write_text(
        "".join(f"pics/{p.name}\t{'cat' if n % 2 else 'dog'}\n" for n, p in enumerate(photos))
    )
    assert main(["eval", "zeroshot", str(labels), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "zeroshot" and report["images"] == 6 and report["texts"] == 2
    assert list(report["scores"]) == ["bare", "photo", "simple", "openai"]
    assert all(
        row["@5"] == 1.0 for row in report["scores"].values()
    )  # two classes: top 5 holds both


def test_tag_tags_and_search_by_tag(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photos(tmp_path / "pics", 8)
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert main(["index"]) == 0
    assert main(["tags"]) == 0
    assert "no tags yet" in capsys.readouterr().out
    assert main(["tag", "--labels", "cat, dog", "--templates", "photo"]) == 0
    assert "tagged 8 photos with ad hoc (2 labels, templates photo)" in capsys.readouterr().out
    assert main(["tags", "--threshold", "-2", "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{") :])
    assert report == {"threshold": -2.0, "tags": {"cat": 8, "dog": 8}}
    assert main(["tags", "cat", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 8
    assert main(["search", "a photo", "--tag", "dog", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 8
    assert main(["tags", "--threshold", "2"]) == 0
    capsys.readouterr()
    assert main(["search", "tag:dog a photo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["search", "a photo", "--tag", "kite"]) == 1
    assert "no tag 'kite'" in capsys.readouterr().err


def test_the_content_filter_from_the_command_line(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photos(tmp_path / "pics", 5)
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert main(["index"]) == 0
    assert main(["filter", "list"]) == 0
    assert "off" in capsys.readouterr().out
    assert main(["filter", "add", "screenshots of chats"]) == 0
    assert main(["filter", "threshold", "-2"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "content filter: 5 photos hidden"
    assert main(["search", "a photo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["search", "a photo", "--json", "--show-hidden"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 5
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hidden"] == 5
    assert main(["filter", "remove", "nudity"]) == 1
    assert "has no 'nudity'" in capsys.readouterr().err
    assert main(["filter", "off"]) == 0
    capsys.readouterr()
    assert main(["search", "a photo", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 5
