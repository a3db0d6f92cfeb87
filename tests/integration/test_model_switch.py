"""Switching the library's model: re-embedding in the background while search keeps answering.

Two tiny architectures (``tiny-clip.json``: 32-d vectors, ``tiny-clip-b.json``:
48-d) with random weights stand in for two real models: they go through the
very loading, indexing and search code real weights do.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import traceback
from pathlib import Path

import pytest

from photoseek.cli import main
from photoseek.core.errors import LibraryError
from photoseek.core.library import Library
from photoseek.core.library.modelchoice import ModelName, stored_choice
from photoseek.core.progress import Phase
from photoseek.core.search.searcher import SearchOptions
from photoseek.core.watch.service import ServiceOptions, WatchService
from photoseek.core.zeroshot.labels import Label, LabelSet
from photoseek.core.zeroshot.templates import template_set
from photoseek.paths import resolve_paths
from tests.conftest import REPO, TINY_MODEL, make_photos, run_index, tiny_library
from tests.integration.conftest import set_cli_env

TINY_B = REPO / "tests" / "fixtures" / "tiny-clip-b.json"
MODEL_A = ModelName(str(TINY_MODEL), "none")
MODEL_B = ModelName(str(TINY_B), "none")
PHOTOS = 24
QUERY = "a red kite on the beach"


def _indexed_library(data_dir: Path, tmp_path: Path, batch_size: int = 4) -> Library:
    """A library of PHOTOS photos indexed with model A (the library object answers with A)."""
    library = tiny_library(data_dir, batch_size=batch_size)
    make_photos(tmp_path / "pics", PHOTOS)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    return library


def _ranking(library: Library) -> list[tuple[int, float]]:
    results = library.search(QUERY, SearchOptions(limit=10))
    return [(hit.photo.id, round(hit.score, 5)) for hit in results.hits]


def _vector_counts(library: Library) -> dict[str, int]:
    return {str(name.arch): count for name, count, _size in library.stored_models()}


def _switch_all(library: Library, **run: object) -> list[Phase]:
    switcher = library.model_switcher()
    try:
        return [item.phase for item in switcher.run(**run)]  # type: ignore[arg-type]
    finally:
        switcher.close()


def test_searches_answer_from_the_current_model_while_the_switch_runs(
    data_dir: Path, tmp_path: Path
) -> None:
    library = _indexed_library(data_dir, tmp_path)
    before = _ranking(library)
    library.start_model_switch(MODEL_B)
    during: list[list[tuple[int, float]]] = []
    two_searched, stop = threading.Event(), threading.Event()

    errors: list[str] = []

    def search_meanwhile() -> None:
        while not stop.is_set():
            try:
                during.append(_ranking(library))
            except BaseException as exc:  # reported by the test, not lost in the thread
                errors.append("".join(traceback.format_exception(exc)))
                two_searched.set()
                return
            if len(during) >= 2:
                two_searched.set()

    searcher = threading.Thread(target=search_meanwhile)
    searcher.start()
    held: list[int] = []

    def after_each_batch() -> bool:
        # the first batch of B is committed: searches must run now, not after the swap
        held.append(1)
        assert two_searched.wait(120), "the searching thread made no search"
        return False

    try:
        phases = _switch_all(library, hold=after_each_batch)
    finally:
        stop.set()
        searcher.join()
    assert not errors, errors[0]
    assert held and Phase.SWITCHING_MODEL in phases and phases[-1] == Phase.DONE
    switched_at = next((i for i, ranking in enumerate(during) if ranking != before), len(during))
    assert switched_at >= 2  # the searches made during the switch answered with model A
    assert all(len(ranking) == 10 for ranking in during)
    after = _ranking(library)  # the same library object answers with B from now on
    assert after != before and len(after) == 10
    assert library.chosen_model() == MODEL_B
    assert stored_choice(library.paths.catalog) == MODEL_B
    assert library.model_switch() is None
    counts = _vector_counts(library)
    assert sorted(counts.values()) == [PHOTOS, PHOTOS]  # both models' vectors are kept
    library.close()


def test_a_fresh_process_answers_with_the_chosen_model(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    library = _indexed_library(data_dir, tmp_path)
    library.start_model_switch(MODEL_B)
    _switch_all(library)
    library.close()
    set_cli_env(monkeypatch, data_dir)
    for name in ("PHOTOSEEK_MODEL", "PHOTOSEEK_PRETRAINED"):  # the library's own model
        monkeypatch.delenv(name)
    assert main(["model", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["model"] == {"arch": str(TINY_B), "pretrained": "none"}
    assert status["switch"] is None
    assert main(["search", QUERY, "--json", "--limit", "5"]) == 0  # no flags: model B
    assert len(json.loads(capsys.readouterr().out)) == 5
    assert main(["--model", str(TINY_MODEL), "--pretrained", "none", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pending"] == 0  # flags still name model A


KILL_SCRIPT = """
import os, signal, sys
from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.library import Library
from photoseek.core.model.embedder import ModelSettings
from photoseek.paths import resolve_paths

library = Library(resolve_paths(sys.argv[1]), ModelSettings(sys.argv[2], "none", "cpu"),
                  indexer_options=IndexerOptions(batch_size=4))
batches = []

def killed_after_two_batches():
    batches.append(1)
    if len(batches) == 2:  # two batches committed, the next ones decoding: a hard kill
        os.kill(os.getpid(), signal.SIGKILL)
    return False

for _ in library.model_switcher().run(hold=killed_after_two_batches):
    pass
"""


def test_a_switch_killed_midway_resumes_and_swaps(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    library = _indexed_library(data_dir, tmp_path)
    library.start_model_switch(MODEL_B)
    library.close()
    killed = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(data_dir), str(TINY_MODEL)],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr.decode()
    with tiny_library(data_dir) as reopened:  # the library opens, the switch is still recorded
        record = reopened.model_switch()
        assert record is not None and record.target == MODEL_B and record.state == "running"
        counts = _vector_counts(reopened)
        partial = [n for arch, n in counts.items() if arch.startswith("tiny-clip-b@")]
        assert partial == [8]  # the two committed batches, nothing of the batch in flight
        assert len(_ranking(reopened)) == 10  # model A still answers
    set_cli_env(monkeypatch, data_dir)
    assert main(["model", "resume"]) == 0
    assert "answers with" in capsys.readouterr().out
    with Library(resolve_paths(data_dir)) as done:
        assert stored_choice(done.paths.catalog) == MODEL_B and done.model_switch() is None
        counts = _vector_counts(done)
        assert sorted(counts.values()) == [PHOTOS, PHOTOS]  # each photo embedded once by B


def test_tags_follow_the_new_model(data_dir: Path, tmp_path: Path) -> None:
    library = _indexed_library(data_dir, tmp_path)
    labels = LabelSet("mine", (Label("kite"), Label("beach"), Label("dog")))
    library.tag(labels, template_set("bare"))
    old_space = library.catalog.tag_space(library.model_id)
    assert old_space is not None
    library.start_model_switch(MODEL_B)
    _switch_all(library)
    new_space = library.catalog.tag_space(library.model_id)
    assert new_space is not None and new_space.model_id != old_space.model_id
    assert new_space.labels == old_space.labels and new_space.space == old_space.space
    rows = library.catalog._query(
        "SELECT COUNT(*) FROM label_scores WHERE model_id = ?", (new_space.model_id,)
    )
    assert int(rows[0][0]) == PHOTOS  # every photo scored by the new model
    library.close()


def test_pause_resume_and_cancel(data_dir: Path, tmp_path: Path) -> None:
    library = _indexed_library(data_dir, tmp_path)
    with pytest.raises(LibraryError, match="no model switch"):
        library.pause_model_switch()
    with pytest.raises(LibraryError, match="already the library's model"):
        library.start_model_switch(MODEL_A)
    library.start_model_switch(MODEL_B)
    pauses = []

    def pause_after_first_batch() -> bool:
        if not pauses:
            pauses.append(library.pause_model_switch())  # as `model pause` from elsewhere
        return False

    phases = _switch_all(library, hold=pause_after_first_batch)
    assert Phase.DONE not in phases
    record = library.model_switch()
    assert record is not None and record.state == "paused" and 0 < record.done < PHOTOS
    assert library.chosen_model() == MODEL_A
    assert _switch_all(library) == []  # a paused switch does not run: nothing at all
    library.resume_model_switch()
    assert _switch_all(library)[-1] == Phase.DONE
    library.start_model_switch(MODEL_A)  # and back: A's vectors are all there already
    assert _switch_all(library)[-1] == Phase.DONE and library.chosen_model() == MODEL_A
    library.start_model_switch(MODEL_B)
    cancelled = library.cancel_model_switch()
    assert cancelled.target == MODEL_B and library.model_switch() is None
    library.close()


def test_drop_frees_the_old_models_space_and_refuses_the_current_one(
    data_dir: Path, tmp_path: Path
) -> None:
    library = _indexed_library(data_dir, tmp_path)
    library.start_model_switch(MODEL_B)
    _switch_all(library)
    index_files = sorted(p.name for p in library.paths.index_dir.iterdir())
    assert any(name.startswith("tiny-clip_") for name in index_files), index_files
    with pytest.raises(LibraryError, match="is the library's model"):
        library.drop_model(MODEL_B)
    dropped = library.drop_model(MODEL_A)
    assert dropped.vectors == PHOTOS and dropped.bytes_freed >= PHOTOS * 32 * 2
    assert list(_vector_counts(library).values()) == [PHOTOS]
    assert not any(p.name.startswith("tiny-clip_") for p in library.paths.index_dir.iterdir())
    with pytest.raises(LibraryError, match="no vectors"):
        library.drop_model(MODEL_A)
    assert len(_ranking(library)) == 10  # B answers as before
    library.close()


def test_the_watch_service_carries_out_a_recorded_switch(data_dir: Path, tmp_path: Path) -> None:
    library = _indexed_library(data_dir, tmp_path)
    library.start_model_switch(MODEL_B)  # as `model use --background` records it
    make_photos(tmp_path / "pics", 4, start=PHOTOS)  # new photos arrive meanwhile
    reported: list[Phase] = []
    service = WatchService(
        library, ServiceOptions(low_priority=False), on_progress=lambda p: reported.append(p.phase)
    )
    service.run(threading.Event(), once=True, wait=False)
    assert Phase.SWITCHING_MODEL in reported
    assert library.chosen_model() == MODEL_B and library.model_switch() is None
    assert sorted(_vector_counts(library).values()) == [PHOTOS + 4, PHOTOS + 4]
    library.close()


def test_a_target_that_cannot_load_is_not_left_recorded(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photos(tmp_path / "pics", 2)
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert main(["index"]) == 0
    capsys.readouterr()
    assert main(["model", "use", "no-such-architecture", "none"]) == 1
    assert "no-such-architecture" in capsys.readouterr().err
    assert main(["model", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["switch"] is None
    assert main(["model", "use"]) == 1
    assert "needs a model" in capsys.readouterr().err


def test_a_process_that_follows_the_library_swaps_when_another_one_switches(
    data_dir: Path, tmp_path: Path
) -> None:
    app = _indexed_library(data_dir, tmp_path)  # as the app, reading while a service writes
    app.follows_choice = True
    before = _ranking(app)
    with tiny_library(data_dir) as service:
        service.start_model_switch(MODEL_B)
        assert _switch_all(service)[-1] == Phase.DONE
    after = _ranking(app)  # its next search follows the catalog: model B answers
    assert app.chosen_model() == MODEL_B and after != before and len(after) == 10
    app.close()


def test_status_shows_a_switch_in_progress(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    library = _indexed_library(data_dir, tmp_path)
    library.start_model_switch(MODEL_B)
    _switch_all(library, hold=lambda: True)  # one batch, then it stops (still recorded)
    library.close()
    set_cli_env(monkeypatch, data_dir)
    assert main(["status", "--json"]) == 0
    switch = json.loads(capsys.readouterr().out)["model_switch"]
    assert switch["target"] == {"arch": str(TINY_B), "pretrained": "none"}
    assert switch["state"] == "running" and switch["done"] == 4 and switch["total"] == PHOTOS
    assert main(["status"]) == 0
    assert f"switch:   to {TINY_B} / none, running, 4/{PHOTOS} photos" in capsys.readouterr().out
