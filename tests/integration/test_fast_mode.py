"""The opt-in fast mode (int8 image tower) and ``index --timings``, through the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from photoseek.cli import main
from photoseek.core.indexing.stages import STAGES
from photoseek.core.model import onnxvision
from tests.conftest import make_photos
from tests.core.test_textpath import _weights_file

pytestmark = pytest.mark.skipif(not onnxvision.can_run(), reason="onnxruntime needed")


@pytest.fixture
def weights_env(cli_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny model from a safetensors file (the light paths need a file)."""
    weights = _weights_file(tmp_path)
    monkeypatch.setenv("PHOTOSEEK_PRETRAINED", str(weights))
    monkeypatch.setenv("PHOTOSEEK_NO_WARM", "1")
    return weights


def _status(capsys: pytest.CaptureFixture[str], *precision: str) -> dict[str, object]:
    assert main([*precision, "status", "--json"]) == 0
    status: dict[str, object] = json.loads(capsys.readouterr().out)
    return status


def test_int8_vectors_are_another_model_and_never_mixed_with_fp32(
    weights_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photos(tmp_path / "pics", 6)
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert main(["--precision", "int8", "index"]) == 0  # first load: full model, then int8
    assert "6 embedded" in capsys.readouterr().out
    assert _status(capsys, "--precision", "int8")["pending"] == 0
    assert _status(capsys)["pending"] == 6  # fp32 has none of the int8 vectors
    assert main(["--precision", "int8", "search", "a photo", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 6
    assert main(["search", "a photo", "--json"]) == 1  # fp32: nothing embedded yet
    assert "no vectors for the chosen model yet" in capsys.readouterr().err
    assert main(["index"]) == 0
    assert "6 embedded" in capsys.readouterr().out
    assert _status(capsys)["pending"] == 0
    assert _status(capsys, "--precision", "int8")["pending"] == 0
    index_files = sorted(p.name for p in (weights_env.parent / "data" / "index").glob("*.hnsw"))
    assert len(index_files) == 2 and any("int8" in name for name in index_files)


def test_the_fast_mode_refuses_random_weights_with_a_clear_error(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photos(tmp_path / "pics", 2)
    assert main(["add", str(tmp_path / "pics")]) == 0
    capsys.readouterr()
    assert main(["--precision", "int8", "index"]) == 1
    error = capsys.readouterr().err
    assert "int8 mode needs" in error and "fp32" in error


def _stage_rows(report: str) -> dict[str, list[str]]:
    """``stage name -> [busy, CPU, ms/photo, times]`` from the timings table."""
    rows = re.findall(r"^  (\S.*?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)$", report, re.M)
    return {name: list(figures) for name, *figures in rows}


def test_index_timings_name_every_stage(
    weights_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photos(tmp_path / "pics", 5)
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert main(["index", "--timings", "--batch-size", "2"]) == 0
    report = capsys.readouterr().err
    assert "timings:" in report and "loading model" in report and "indexing" in report
    rows = _stage_rows(report)
    assert set(STAGES) <= set(rows), report
    # Seconds may round to 0.00 for the tiny model on a fast machine; the counts may not.
    assert int(rows["model"][3]) >= 1, report
    assert int(rows["decode"][3]) == 5, report
    assert int(rows["model load"][3]) == 0, report  # the full model loaded before the phase


def test_index_timings_count_the_light_towers_load(
    weights_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photos(tmp_path / "pics", 3)
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert main(["index"]) == 0  # the full model, which records the light image path
    make_photos(tmp_path / "more", 3, start=50)
    assert main(["add", str(tmp_path / "more")]) == 0
    capsys.readouterr()
    assert main(["index", "--timings", "--batch-size", "2"]) == 0
    rows = _stage_rows(capsys.readouterr().err)
    assert int(rows["model load"][3]) == 1 and int(rows["model"][3]) == 2, rows
