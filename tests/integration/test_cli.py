"""The command line, in process (fast) and as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from photoseek.cli import main
from tests.conftest import TINY_MODEL, make_photos, tiny_env


def test_full_command_cycle(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = make_photos(tmp_path / "pics", 12)
    (tmp_path / "pics" / "notes.txt").write_text("not a photo")
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert main(["index", "--batch-size", "4"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == (
        "done; 13 photos processed: 12 embedded, 0 reused; 1 new problem "
        "(1 problem in all: `photoseek problems`)"
    )

    assert main(["search", "a colourful picture", "--limit", "5", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 5 and {"path", "score"} <= hits[0].keys()

    assert main(["similar", str(photos[2]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["path"] == str(photos[2])

    assert main(["similar", str(photos[2])]) == 0
    assert str(photos[2]) in capsys.readouterr().out.splitlines()[0]

    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["photos"] == {"indexed": 12, "error": 1} and status["pending"] == 0

    assert main(["problems", "--json"]) == 0
    (problem,) = json.loads(capsys.readouterr().out)
    assert problem["path"].endswith("notes.txt") and "not an image" in problem["reason"]

    assert main(["folders"]) == 0
    assert "12" in capsys.readouterr().out

    assert main(["doctor"]) == 0
    report = capsys.readouterr().out
    assert "[ok] index: 12 vectors, 12 in catalog, in sync" in report

    assert main(["remove", str(tmp_path / "pics")]) == 0
    capsys.readouterr()
    assert main(["search", "anything", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_user_errors_exit_1_with_one_line(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["similar", "/no/such/photo.jpg"]) == 1
    assert main(["add", "/no/such/folder"]) == 1
    assert main(["search", "- only negative"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("photoseek: error: ") for line in err)


def test_usage_errors_exit_2(cli_env: Path) -> None:
    for argv in (
        ["search"],
        ["nonsense"],
        ["search", "x", "--limit", "0"],
        ["--device", "tpu", "status"],
    ):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland platforms")
def test_no_command_opens_the_app_which_needs_a_display(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``photoseek`` alone opens the desktop app; without a display it says what works instead."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert main([]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "no display" in err[0]
    assert "photoseek --help" in err[0] and "photoseek watch" in err[0]


def test_offline_model_error_is_one_line(data_dir: Path, tmp_path: Path) -> None:
    env = tiny_env(data_dir)
    env.update(
        PHOTOSEEK_MODEL="ViT-B-32-256",
        PHOTOSEEK_PRETRAINED="datacomp_s34b_b86k",
        HF_HUB_OFFLINE="1",
    )
    make_photos(tmp_path / "pics", 1)
    run = [sys.executable, "-m", "photoseek"]
    subprocess.run([*run, "add", str(tmp_path / "pics")], env=env, check=True, capture_output=True)
    out = subprocess.run([*run, "index"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if line.startswith("photoseek: error:")]
    assert len(errors) == 1 and "cannot be downloaded" in errors[0]
    assert "Traceback" not in out.stderr


def test_module_entry_point_and_checkpoint_file(data_dir: Path, tmp_path: Path) -> None:
    """`python -m photoseek` with --model/--pretrained FILE, as a user would run it."""
    import torch

    from photoseek.core.model.embedder import load_embedder
    from tests.conftest import tiny_settings

    model = load_embedder(tiny_settings(), tmp_path / "m")._model
    checkpoint = tmp_path / "weights.pt"
    torch.save(
        {k: v * 1.02 if v.is_floating_point() else v for k, v in model.state_dict().items()},
        checkpoint,
    )
    photos = make_photos(tmp_path / "pics", 4)
    env = tiny_env(data_dir)
    for key in ("PHOTOSEEK_MODEL", "PHOTOSEEK_PRETRAINED"):
        env.pop(key)
    run = [
        sys.executable,
        "-m",
        "photoseek",
        "--model",
        str(TINY_MODEL),
        "--pretrained",
        str(checkpoint),
    ]
    for argv in (["add", str(tmp_path / "pics")], ["index"]):
        subprocess.run([*run, *argv], env=env, check=True, capture_output=True, timeout=120)
    out = subprocess.run(
        [*run, "similar", str(photos[1]), "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(out.stdout)[0]["path"] == str(photos[1])
    doctor = subprocess.run([*run, "doctor"], env=env, capture_output=True, text=True, timeout=120)
    assert "weights.pt" in doctor.stdout and "sha256:" in doctor.stdout


def test_watch_once_catches_up_and_status_reports_no_service(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photos(tmp_path / "pics", 6)
    (tmp_path / "pics" / "notes.txt").write_text("not a photo")
    (tmp_path / "pics" / "broken.jpg").symlink_to(tmp_path / "nowhere.jpg")  # a scan problem
    assert main(["add", str(tmp_path / "pics")]) == 0
    capsys.readouterr()
    assert main(["watch", "--once"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "caught up: 6 photos indexed, 0 waiting, 2 problems"
    )
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["photos"] == {"indexed": 6, "error": 2}
    assert status["service"] == {"running": False}
    assert main(["status"]) == 0
    assert "service:  not running" in capsys.readouterr().out


def test_service_install_writes_a_unit_for_this_library(
    cli_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import subprocess as sp

    import photoseek.autostart as autostart

    calls: list[list[str]] = []

    def runner(argv: list[str]) -> sp.CompletedProcess[str]:
        calls.append(argv)
        return sp.CompletedProcess(argv, 0, "active\n", "")

    real = autostart.for_platform
    monkeypatch.setattr(
        autostart, "for_platform", lambda *a, **k: real("linux", home=tmp_path, runner=runner)
    )
    assert main(["service", "install"]) == 0
    unit = (tmp_path / ".config/systemd/user/photoseek.service").read_text()
    assert "watch" in unit and str(cli_env) in unit and str(TINY_MODEL) in unit
    assert any("enable" in call for call in calls)
    assert main(["service", "status"]) == 0
    assert "running" in capsys.readouterr().out
    assert main(["service", "uninstall"]) == 0
    assert not (tmp_path / ".config/systemd/user/photoseek.service").exists()


def test_names_that_are_not_utf8_through_the_command_line(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64
    import os

    from tests.conftest import make_photo

    root = tmp_path / os.fsdecode(b"Fotos caf\xe9")
    odd = make_photo(root / os.fsdecode(b"\xe9t\xe9\n2001.jpg"), 7)
    make_photos(root, 3)
    assert main(["add", str(root)]) == 0
    assert capsys.readouterr().out.startswith("added $'")
    assert main(["watch", "--once"]) == 0
    assert "caught up: 4 photos indexed, 0 waiting, 0 problems" in capsys.readouterr().out
    assert main(["similar", str(odd), "--json", "--limit", "1"]) == 0
    (hit,) = json.loads(capsys.readouterr().out)  # valid JSON
    assert Path(os.fsdecode(base64.b64decode(hit["path_bytes"]))) == odd
    assert "\ufffd" in hit["path"]
    assert main(["search", "-0.5*people + a photo", "--limit", "10"]) == 0  # a leading minus
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and any("$'" in line and "\\n2001.jpg'" in line for line in lines)
    assert main(["folders"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"       4  $'{tmp_path}/Fotos caf\\xe9'"]


def test_what_a_new_user_is_told(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photos(tmp_path / "pics" / "inner", 2)
    assert main(["index"]) == 0
    assert "no folders yet" in capsys.readouterr().out
    assert main(["add", str(tmp_path / "pics" / "inner")]) == 0
    assert main(["add", str(tmp_path / "pics")]) == 0
    out = capsys.readouterr().out
    assert f"it includes {tmp_path}/pics/inner, already in the library" in out
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert capsys.readouterr().out.strip() == f"already in the library: {tmp_path}/pics"
    assert main(["add", "/"]) == 1
    assert "refusing to add the whole file system" in capsys.readouterr().err
    assert main(["index"]) == 0
    assert main(["index"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "nothing to index: every photo is up to date"
    for argv, message in (
        (["search", "x", "--type", "jpg"], None),
        (["search", "x", "--folder", str(tmp_path)], "is not in the library"),
        (["search", ""], "empty query"),
        (["search", "beach + 2*"], "empty term"),
    ):
        code = main(argv)
        err = capsys.readouterr().err
        if message is None:
            assert code == 0, err
        else:
            assert code == 1 and message in err, err
    for argv in (["search", "x", "--type", "bogus"], ["search", "x", "--min-score", "nan"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    assert "unknown format 'bogus'; use one of" in capsys.readouterr().err


def test_mistakes_are_reported_before_any_model_loads(
    cli_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    make_photos(tmp_path / "pics", 2)
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert main(["index"]) == 0
    monkeypatch.setenv("PHOTOSEEK_MODEL", "no-such-model")  # loading it would fail
    capsys.readouterr()
    for argv, message in (
        (["similar", str(tmp_path / "missing.jpg")], "image not found"),
        (["search", "a + @/no/such.jpg"], "image not found"),
        (["search", "  "], "empty query"),
        (["search", "- only negative"], "positive term"),
    ):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert message in err and "no-such-model" not in err, err
