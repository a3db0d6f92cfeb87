"""The watch service with the real watchdog observer on temporary folders.

These tests run on loaded CI machines: no assertion depends on how long
something takes. Waits are upper bounds only (generous), and where a test
needs the service to be busy at a given moment it holds the model with an
event instead of hoping the work takes long enough.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from photoseek.core.library import Library
from photoseek.daemon import ServiceOptions, WatchService
from tests.conftest import make_photo, make_photos, tiny_library, tiny_settings

FAST = ServiceOptions(stable_s=0.5, folder_check_s=0.5, tick_s=0.1, reconcile_interval_s=3600)


def wait_for(check: Callable[[], bool], timeout: float = 180.0, what: str = "") -> float:
    """Poll ``check`` until true; return the seconds it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - started


class Running:
    """A WatchService in a thread, plus a count of every image the model embedded.

    ``gate``: while it is clear, the model waits before each batch (so a test
    can hold the service in the middle of its work).
    """

    def __init__(
        self,
        library: Library,
        options: ServiceOptions = FAST,
        gate: threading.Event | None = None,
    ) -> None:
        self.library = library
        self.embedded = 0
        self.batches_waiting = threading.Event()
        original = library.embedder.encode_images

        def counting(tensors):  # type: ignore[no-untyped-def]
            if gate is not None and not gate.is_set():
                self.batches_waiting.set()
                gate.wait()
            self.embedded += len(tensors)
            return original(tensors)

        library.embedder.encode_images = counting  # type: ignore[method-assign]
        self.service = WatchService(library, options)
        self.ticks: list[float] = []  # one per idle tick of the loop
        real_idle = self.service._idle_publish

        def idle() -> None:
            self.ticks.append(time.monotonic())
            real_idle()

        self.service._idle_publish = idle  # type: ignore[method-assign]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.service.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        wait_for(lambda: self.service.state.state == "watching", what="service start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "service did not stop"

    def idle(self) -> bool:
        return self.service.state.state == "watching" and self.service.watcher.pending_count() == 0


def on_disk(*roots: Path) -> set[Path]:
    return {
        p
        for root in roots
        for p in root.rglob("*")
        if p.suffix in (".jpg", ".png") and not p.name.startswith(".")
    }


def in_catalog(library: Library) -> set[Path]:
    reader = library.catalog
    ids = sorted(reader.live_ids(library.model_id))
    return {r.path for r in reader.photos(ids).values() if r.folder_available}


def converged(run: Running, *roots: Path) -> Callable[[], bool]:
    return lambda: run.idle() and in_catalog(run.library) == on_disk(*roots)


@pytest.fixture
def watched_library(data_dir: Path) -> Iterator[Library]:
    library = tiny_library(data_dir, batch_size=16)
    yield library
    library.close()


def _copy_slowly(source: Path, target: Path, chunks: int = 3) -> None:
    data = source.read_bytes()
    step = len(data) // chunks + 1
    with target.open("wb") as handle:
        for start in range(0, len(data), step):
            handle.write(data[start : start + step])
            handle.flush()
            time.sleep(0.15)


@pytest.mark.slow
def test_copy_rename_move_delete_end_equal_to_disk(
    watched_library: Library, tmp_path: Path
) -> None:
    library = watched_library
    first, second, staging = tmp_path / "first", tmp_path / "second", tmp_path / "staging"
    first.mkdir()
    second.mkdir()
    library.add_folder(first)
    library.add_folder(second)
    sources = make_photos(staging, 200)
    with Running(library) as run:
        (first / "trip").mkdir()
        for i, source in enumerate(sources):
            target = (first / "trip" if i < 100 else first) / source.name
            if i % 40 == 0:
                _copy_slowly(source, target)  # arrives in chunks, slowly
            else:
                shutil.copy(source, target)
        wait_for(converged(run, first, second), what="200 copied photos")
        assert run.embedded == 200
        ids = {r.path.name: r.id for r in _records(library)}

        (first / "trip").rename(first / "holiday 2026")  # rename a folder of 100
        wait_for(converged(run, first, second), what="renamed folder")
        shutil.move(first / "holiday 2026", second / "holiday 2026")  # across watched folders
        wait_for(converged(run, first, second), what="tree moved between folders")
        assert run.embedded == 200, "a rename or move embedded photos again"
        assert {r.path.name: r.id for r in _records(library)} == ids, "ids changed"

        for path in sorted(first.glob("*.jpg"))[:30]:
            path.unlink()
        wait_for(converged(run, first, second), what="deleted files")
        assert len(in_catalog(library)) == 170

        third = tmp_path / "third"
        make_photos(third, 5, start=500)
        with Library(library.paths, tiny_settings()) as other:  # `photoseek add` elsewhere
            other.add_folder(third)
        wait_for(converged(run, first, second, third), what="a new top folder")
        with Library(library.paths, tiny_settings()) as other:
            other.remove_folder(first)
        wait_for(converged(run, second, third), what="a removed top folder")

        shutil.rmtree(third)  # a watched top folder vanishes: unavailable, entries kept
        wait_for(lambda: _status(library, third) == "unavailable", what="folder unavailable")
        assert len([r for r in _records(library) if r.path.is_relative_to(third)]) == 5
        assert run.embedded == 205


def _records(library: Library):  # type: ignore[no-untyped-def]
    ids = sorted(library.catalog.live_ids(library.model_id))
    return list(library.catalog.photos(ids).values())


def _status(library: Library, folder: Path) -> str:
    return next(f.status for f in library.folders() if f.path == folder)


@pytest.mark.slow
@pytest.mark.timeout(900)  # 77-98 s idle; with both cores busy it outlasted the default 300 s
def test_event_storm_and_lost_events_converge(watched_library: Library, tmp_path: Path) -> None:
    from PIL import Image

    library = watched_library
    folder = tmp_path / "storm"
    folder.mkdir()
    library.add_folder(folder)
    with Running(library) as run:
        for i in range(10_000):  # a burst of 10,000 distinct files (PNG: lossless, so distinct)
            Image.new("RGB", (8, 8), (i % 256, (i // 256) % 256, 7)).save(folder / f"{i:05d}.png")
        wait_for(converged(run, folder), timeout=600, what="10,000 files")
        assert run.embedded == 10_000

        dropped = run.service.watcher.note_event
        run.service.watcher.note_event = lambda event: None  # type: ignore[method-assign]
        for path in sorted(folder.glob("*.png"))[:500]:
            path.unlink()  # these events are lost
        make_photos(folder / "unseen", 20, start=20_000)
        time.sleep(1.0)
        assert len(in_catalog(library)) == 10_000  # nobody told the service
        run.service.watcher.note_event = dropped  # type: ignore[method-assign]
        run.service.watcher.mark_overflow()  # what an inotify queue overflow reports
        wait_for(converged(run, folder), timeout=120, what="reconcile after lost events")
        assert len(in_catalog(library)) == 9_520
        assert run.embedded == 10_020  # only the 20 new files were embedded


def test_file_is_not_read_before_it_is_stable(watched_library: Library, tmp_path: Path) -> None:
    library = watched_library
    folder = tmp_path / "pics"
    folder.mkdir()
    library.add_folder(folder)
    source = make_photo(tmp_path / "src.jpg", 3, size=(400, 300))
    # gaps of 0.3 s against a 4 s stability wait: a margin a loaded machine cannot eat
    with Running(library, ServiceOptions(stable_s=4.0, folder_check_s=0.5, tick_s=0.1)) as run:
        target = folder / "slow.jpg"
        data = source.read_bytes()
        with target.open("wb") as handle:
            for start in range(0, len(data), len(data) // 4 + 1):
                handle.write(data[start : start + len(data) // 4 + 1])
                handle.flush()
                time.sleep(0.3)
                assert library.problems() == [], "a half-written file was decoded"
        wait_for(converged(run, folder), what="slow copy")
        assert run.embedded == 1 and library.problems() == []


def test_a_file_judged_stable_too_early_is_embedded_once(
    watched_library: Library, tmp_path: Path
) -> None:
    """A loaded machine can stretch a copy's pauses past the stability wait.

    The half-written file is then read; it must never be embedded as it is,
    and the whole file must be embedded exactly once when it is complete.
    """
    library = watched_library
    folder = tmp_path / "pics"
    folder.mkdir()
    library.add_folder(folder)
    source = make_photo(tmp_path / "src.jpg", 4, size=(400, 300))
    data = source.read_bytes()
    with Running(library, ServiceOptions(stable_s=0.2, folder_check_s=0.5, tick_s=0.05)) as run:
        target = folder / "copied.jpg"
        with target.open("wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            wait_for(
                lambda: target in {p.path for p in library.problems()} or run.embedded,
                what="the half file to be looked at",
            )
            handle.write(data[len(data) // 2 :])
        wait_for(converged(run, folder), what="the complete file")
        assert run.embedded == 1
        assert library.problems() == []


def test_changes_during_the_catch_up_pass_are_not_lost(
    watched_library: Library, tmp_path: Path
) -> None:
    library = watched_library
    folder = tmp_path / "pics"
    make_photos(folder, 40)
    library.add_folder(folder)
    gate = threading.Event()
    run = Running(library, gate=gate)
    run.thread.start()
    try:
        assert run.batches_waiting.wait(180), "the catch-up never reached the model"
        late = make_photo(folder / "arrived during catch-up.jpg", 9999)
        assert run.service.state.state == "indexing"  # held at the model by the gate
        gate.set()
        wait_for(converged(run, folder), what="the late photo")  # no periodic rescan is due
        assert late in in_catalog(library)
    finally:
        gate.set()
        run.__exit__()


def test_watch_saves_the_index_on_stop_not_on_every_change(
    watched_library: Library, tmp_path: Path
) -> None:
    from photoseek.core.vectors.index import VectorIndex

    library = watched_library
    folder = tmp_path / "pics"
    make_photos(folder, 3)
    library.add_folder(folder)
    with Running(library) as run:
        saved_at = library.index_path.stat().st_mtime_ns  # the catch-up pass saved it
        make_photos(folder, 4, start=100)
        wait_for(converged(run, folder), what="new photos")
        assert library.index_path.stat().st_mtime_ns == saved_at  # put off, not per change
    identity = library.embedder.identity
    saved = VectorIndex.load(library.index_path, dim=identity.dim, model_key=identity.key)
    assert saved.labels() == library.catalog.live_ids(library.model_id)  # flushed on stop
    assert len(saved) == 7


def test_an_idle_service_neither_loads_the_model_nor_recounts_work(
    data_dir: Path, tmp_path: Path
) -> None:
    library = tiny_library(data_dir, batch_size=16)
    folder = tmp_path / "pics"
    make_photos(folder, 3)
    library.add_folder(folder)
    for _ in library.index():
        pass
    library.close()
    library = tiny_library(data_dir, batch_size=16)  # a service started with nothing to do
    counted, ticks = [], []
    real_count = library.work_count
    library.work_count = lambda: counted.append(1) or real_count()  # type: ignore[method-assign]
    service = WatchService(library, FAST)
    real_idle = service._idle_publish
    service._idle_publish = lambda: (ticks.append(1), real_idle())  # type: ignore[method-assign]
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(ticks) >= 30, what="30 idle ticks")
        assert len(counted) == 1  # counted after the catch-up scan, not on every tick
        assert library._embedder is None  # nothing to embed: torch and the model never loaded
    finally:
        stop.set()
        thread.join(30)
        library.close()


def test_pause_stops_embedding_but_not_following_the_disk(
    watched_library: Library, tmp_path: Path
) -> None:
    library = watched_library
    folder = tmp_path / "pics"
    folder.mkdir()
    library.add_folder(folder)
    with Running(library) as run:
        run.service.pause()
        wait_for(lambda: run.service.state.state == "paused", what="paused")
        make_photos(folder, 12)
        wait_for(lambda: library.catalog.status_counts().get("pending", 0) == 12, what="scanned")
        assert run.embedded == 0 and run.service.state.state == "paused"
        run.service.resume()
        wait_for(converged(run, folder), what="embedded after resume")
        assert run.embedded == 12


def test_embedding_yields_to_a_search_in_the_same_process(
    watched_library: Library, tmp_path: Path
) -> None:
    library = watched_library
    folder = tmp_path / "pics"
    make_photos(folder, 5)
    library.add_folder(folder)
    with Running(library) as run:
        make_photos(folder, 60, start=100)
        wait_for(lambda: run.embedded > 5, what="the new photos being embedded")
        with library.searching():
            wait_for(lambda: run.service.state.state == "yielding to a search", what="the yield")
            held_at = run.embedded
            ticks = len(run.ticks)
            wait_for(lambda: len(run.ticks) >= ticks + 10, what="ten idle ticks")
            assert run.embedded == held_at  # no batch started while the search ran
        wait_for(converged(run, folder), what="the rest after the search")


def test_the_writer_hands_over_to_a_process_that_waits(
    watched_library: Library, tmp_path: Path
) -> None:
    from photoseek.core.writerlock import WriterLock

    library = watched_library
    folder = tmp_path / "pics"
    make_photos(folder, 3)
    library.add_folder(folder)
    options = ServiceOptions(
        stable_s=0.5, folder_check_s=0.2, tick_s=0.1, reconcile_interval_s=3600, hand_over=True
    )
    waiter = (
        "import sys, threading\n"
        "from pathlib import Path\n"
        "from photoseek.core.writerlock import WriterLock\n"
        "lock = WriterLock(Path(sys.argv[1]))\n"
        "lock.acquire('watch service', wait=threading.Event())\n"
        "print('acquired', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    with Running(library, options) as run:
        other = subprocess.Popen(  # a service started at login, in another process
            [sys.executable, "-c", waiter, str(library.paths.lock_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert other.stdout is not None and other.stdout.readline().strip() == "acquired"
            wait_for(lambda: not run.thread.is_alive(), what="the app's loop to end")
            assert run.service.handed_over and not library.writer_lock.held
            assert WriterLock(library.paths.lock_file).waiting() is None  # it writes now
        finally:
            other.communicate("\n", timeout=60)


def test_the_loop_runs_at_low_priority_without_slowing_other_threads() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("thread priorities are read back on Linux only")
    # A fresh process; it inherits the niceness of the thread that starts it (an
    # earlier in-process `photoseek watch` may have lowered pytest's), so the
    # assertions are relative to the niceness it started with.
    script = (
        "import os, threading\n"
        "from photoseek.core.watch.priority import lower_thread_priority\n"
        "me = threading.get_native_id()\n"
        "before = os.getpriority(os.PRIO_PROCESS, me)\n"
        "seen = {}\n"
        "def worker():\n"
        "    seen['ok'] = lower_thread_priority()\n"
        "    seen['nice'] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())\n"
        "t = threading.Thread(target=worker); t.start(); t.join()\n"
        "print(seen['ok'], before, seen['nice'], os.getpriority(os.PRIO_PROCESS, me))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    ok, before, worker, main = (
        int(word) if word.lstrip("-").isdigit() else word for word in out.stdout.split()
    )
    assert ok == "True" and worker >= max(before, 10)
    assert main == before  # the thread that started it keeps its priority
    if before < 10:
        assert worker > main
