"""SIGKILL the indexer at random points; the library must survive every time."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from photoseek.core.library import Library
from photoseek.paths import resolve_paths
from tests.conftest import make_photos, run_index, tiny_env, tiny_settings

PHOTOS = 400
KILLS = 4


def _indexed(catalog: Path) -> int:
    try:
        conn = sqlite3.connect(f"{catalog.as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return int(
                conn.execute("SELECT COUNT(*) FROM photos WHERE status='indexed'").fetchone()[0]
            )
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _index_until_killed(env: dict[str, str], catalog: Path, target: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "photoseek", "index", "--batch-size", "8"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if _indexed(catalog) >= target:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing_committed(data_dir: Path, tmp_path: Path) -> None:
    rng = random.Random(1234)
    make_photos(tmp_path / "pics", PHOTOS)
    env = tiny_env(data_dir)
    subprocess.run(
        [sys.executable, "-m", "photoseek", "add", str(tmp_path / "pics")],
        env=env,
        check=True,
        capture_output=True,
    )
    catalog = resolve_paths(data_dir).catalog
    committed = 0
    for kill in range(KILLS):
        target = committed + rng.randrange(1, PHOTOS // (KILLS + 1))
        _index_until_killed(env, catalog, target)
        now = _indexed(catalog)
        assert now >= committed, f"kill {kill}: committed photos were lost"
        committed = now
    assert 0 < committed < PHOTOS, "the kills should land mid-run"

    with Library(resolve_paths(data_dir), tiny_settings()) as library:
        assert library.catalog.integrity_check() == "ok"
        model = library.model_id
        live = library.catalog.live_ids(model)
        assert len(live) == committed  # every committed photo has its vector
        assert len(library.vector_index) == committed  # the index caught up from the catalog
        last = run_index(library)
        assert last.phase == "done" and last.problems == 0
        assert len(library.catalog.live_ids(model)) == PHOTOS
        assert library.catalog.embedding_count(model) == PHOTOS
        assert library.vector_index.labels() == library.catalog.live_ids(model)
