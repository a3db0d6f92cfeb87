"""The watch service as a real process: readers beside it, SIGTERM, SIGKILL."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from photoseek.core.library import Library
from photoseek.core.search.searcher import SearchOptions
from photoseek.paths import resolve_paths
from tests.conftest import make_photos, tiny_env, tiny_settings
from tests.integration.test_crash import _indexed
from tests.integration.test_watch import wait_for

PHOTOSEEK = [sys.executable, "-m", "photoseek"]


def _start_service(env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*PHOTOSEEK, "watch", "--batch-size", "8", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _status(env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    out = subprocess.run(
        [*PHOTOSEEK, "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.mark.slow
def test_reader_beside_the_service_sees_new_photos(data_dir: Path, tmp_path: Path) -> None:
    folder, staging = tmp_path / "pics", tmp_path / "staging"
    make_photos(folder, 40)
    news = make_photos(staging, 5, start=1000)
    env = tiny_env(data_dir)
    subprocess.run([*PHOTOSEEK, "add", str(folder)], env=env, check=True, capture_output=True)
    service = _start_service(env)
    try:
        wait_for(lambda: _indexed(resolve_paths(data_dir).catalog) == 40, what="first pass")
        wait_for(lambda: _status(env)["service"].get("state") == "watching", what="watching")
        status = _status(env)
        assert status["service"]["running"] and status["pending"] == 0
        with Library(resolve_paths(data_dir), tiny_settings(), read_only=True) as reader:
            assert len(reader.search("x", SearchOptions(limit=100)).hits) == 40
            for source in news:
                shutil.copy(source, folder / source.name)
            landed = time.monotonic()
            seen: set[Path] = set()

            def all_new_found() -> bool:
                hits = reader.search("x", SearchOptions(limit=100)).hits  # repeated searches
                seen.update(h.photo.path for h in hits)
                return {folder / p.name for p in news} <= seen

            wait_for(all_new_found, timeout=10, what="new photos visible to the reader")
            print(
                f"\nnew photos searchable by another process after {time.monotonic() - landed:.1f}s"
            )
            assert reader.catalog.integrity_check() == "ok"
        busy = subprocess.run([*PHOTOSEEK, "index"], env=env, capture_output=True, text=True)
        assert busy.returncode == 1 and "watch service" in busy.stderr  # one writer at a time
        cli = subprocess.run(
            [*PHOTOSEEK, "search", "x", "--json", "--limit", "100"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert len(json.loads(cli.stdout)) == 45
        started = time.monotonic()
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=15) == 0
        print(f"clean stop took {time.monotonic() - started:.1f}s")
    finally:
        if service.poll() is None:
            service.kill()
    assert _status(env)["service"] == {"running": False}


@pytest.mark.slow
def test_sigkill_mid_batch_then_restart_completes(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    make_photos(folder, 300)
    env = tiny_env(data_dir)
    subprocess.run([*PHOTOSEEK, "add", str(folder)], env=env, check=True, capture_output=True)
    catalog = resolve_paths(data_dir).catalog
    service = _start_service(env)
    wait_for(lambda: _indexed(catalog) >= 60 or service.poll() is not None, what="mid-run")
    service.send_signal(signal.SIGKILL)
    service.wait()
    committed = _indexed(catalog)
    assert 0 < committed < 300
    again = subprocess.run(
        [*PHOTOSEEK, "watch", "--once"], env=env, capture_output=True, text=True, timeout=300
    )  # the stale lock must not block this
    assert again.returncode == 0, again.stderr
    with Library(resolve_paths(data_dir), tiny_settings()) as library:
        assert library.catalog.integrity_check() == "ok"
        live = library.catalog.live_ids(library.model_id)
        assert len(live) == 300 and library.catalog.embedding_count(library.model_id) == 300
        assert library.vector_index.labels() == live
