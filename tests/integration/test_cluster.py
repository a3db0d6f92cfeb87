"""Indexing through a Ray cluster (a local instance bound to 127.0.0.1) equals local indexing.

Skipped cleanly where Ray (the ``cluster`` extra) is not installed, as in CI's
default ``.[test]`` install; ``pip install 'photoseek[cluster]'`` to run them.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from photoseek.cli import main
from photoseek.core.cluster import ClusterOptions, parse_path_map
from photoseek.core.cluster import job as cluster_job
from photoseek.core.cluster import stream as cluster_stream
from photoseek.core.cluster.availability import CLUSTER_EXTRA_HINT, ClusterUnavailableError
from photoseek.core.cluster.job import ClusterIndexJob
from photoseek.core.cluster.tasks import EmbedActor, decode_batch
from photoseek.core.library import Library
from photoseek.core.library.modelchoice import ModelName
from photoseek.core.progress import Phase, Progress
from photoseek.core.watch.service import ServiceOptions, WatchService
from photoseek.paths import resolve_paths
from tests.conftest import make_photo, make_photos, tiny_env, tiny_library, tiny_settings
from tests.core.test_textpath import _weights_file

pytestmark = pytest.mark.slow

TINY_B = Path(__file__).resolve().parents[1] / "fixtures" / "tiny-clip-b.json"


KILL_MARKER_DIR = "PHOTOSEEK_TEST_KILL_MARKER_DIR"


class DiesOnceActor(EmbedActor):
    """Fault injected: the first model call of the run kills its actor's process."""

    def embed(self, batch: dict[str, Any]) -> dict[str, Any]:
        marker = Path(os.environ[KILL_MARKER_DIR]) / "killed"
        try:
            marker.touch(exist_ok=False)
        except FileExistsError:
            return super().embed(batch)
        os._exit(1)  # as a node or worker dies: no clean-up, no exception


@pytest.fixture(scope="module")
def ray_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Ray instance for the module (starting one takes seconds)."""
    ray = pytest.importorskip("ray")
    os.environ[KILL_MARKER_DIR] = str(tmp_path_factory.mktemp("kills"))  # workers inherit it
    ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False)
    yield ray
    ray.shutdown()


def _run(library: Library, cluster: ClusterOptions | None = None) -> Progress:
    seen = list(library.index(cluster=cluster))
    return seen[-1]


def _vectors(library: Library) -> dict[str, np.ndarray]:
    """Each indexed photo's vector, by file name."""
    rows = library.catalog._query("SELECT id, path FROM photos WHERE status = 'indexed'")
    ids = [int(r[0]) for r in rows]
    dim = library.image_encoder().identity.dim
    matrix = library.catalog.vectors(library.model_id, ids, dim)
    names = [Path(str(r[1])).name for r in rows]
    return {name: matrix[i] for i, name in enumerate(names)}


def _problems(library: Library) -> dict[str, str]:
    return {p.path.name: p.reason for p in library.problems()}


def _photos_with_a_corrupt_file(folder: Path) -> None:
    make_photos(folder, 12)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)


def _compare(local: Library, remote: Library) -> None:
    here, there = _vectors(local), _vectors(remote)
    assert set(here) == set(there) and len(here) == 12
    for name, vector in here.items():
        other = there[name]
        cosine = float(np.dot(vector, other) / (np.linalg.norm(vector) * np.linalg.norm(other)))
        assert cosine >= 0.999, name
    assert _problems(local) == _problems(remote)
    assert set(_problems(local)) == {"broken.jpg"}


def test_cluster_index_equals_local_index(ray_local: Any, tmp_path: Path) -> None:
    _photos_with_a_corrupt_file(tmp_path / "pics")
    local, remote = tiny_library(tmp_path / "a"), tiny_library(tmp_path / "b")
    try:
        for library in (local, remote):
            library.add_folder(tmp_path / "pics")
        _run(local)
        last = _run(remote, ClusterOptions("auto"))
        assert (last.done, last.embedded) == (13, 12)
        _compare(local, remote)
        assert remote.image_encoder().identity == local.image_encoder().identity
        again = _run(remote, ClusterOptions("auto"))
        assert again.embedded == 0
    finally:
        local.close()
        remote.close()


def _embedding_rows(library: Library) -> int:
    rows = library.catalog._query(
        "SELECT COUNT(*) FROM embeddings WHERE model_id = ?", (library.model_id,)
    )
    return int(rows[0][0])


def test_a_killed_model_actor_is_restarted_and_every_photo_lands_once(
    ray_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _photos_with_a_corrupt_file(tmp_path / "pics")
    monkeypatch.setattr(ClusterIndexJob, "actor_class", DiesOnceActor)
    local, remote = tiny_library(tmp_path / "a"), tiny_library(tmp_path / "b")
    try:
        for library in (local, remote):
            library.add_folder(tmp_path / "pics")
        _run(local)
        last = _run(remote, ClusterOptions("auto"))
        assert (Path(os.environ[KILL_MARKER_DIR]) / "killed").exists()  # the fault happened
        assert (last.done, last.embedded, last.problems) == (13, 12, 1)
        _compare(local, remote)
        assert _embedding_rows(remote) == 12
    finally:
        local.close()
        remote.close()


def _kill_group(pgid: int) -> None:
    """SIGKILL what is left of the killed driver's own Ray instance (orphans in its group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


AFTER_FIRST_CLUSTER_COMMIT = """
import os, signal, sys
from photoseek.cli import main
from photoseek.core.cluster.job import ClusterIndexJob

commit = ClusterIndexJob._commit

def commit_then_act(self, batch):
    commit(self, batch)
    if any(o.__class__.__name__ == "Decoded" for o in batch):
        ClusterIndexJob._commit = commit
        {action}

ClusterIndexJob._commit = commit_then_act
sys.exit(main(["index", "--cluster", "local", "--batch-size", "4"]))
"""
DIE = "os.kill(os.getpid(), signal.SIGKILL)  # the driver dies right after a cluster batch"
CTRL_C = "os.killpg(os.getpgid(0), signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group"


def _folder_added(data_dir: Path, photos: Path, count: int) -> None:
    """A library in ``data_dir`` with a folder of ``count`` photos, not indexed yet."""
    make_photos(photos, count)
    library = tiny_library(data_dir, batch_size=4)
    try:
        library.add_folder(photos)
    finally:
        library.close()


def _index_on_local_cluster(data_dir: Path, action: str) -> subprocess.Popen[bytes]:
    """``index --cluster local`` in its own process group, doing ``action`` after a commit."""
    return subprocess.Popen(
        [sys.executable, "-c", AFTER_FIRST_CLUSTER_COMMIT.format(action=action)],
        env=tiny_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own group, as a terminal's foreground job
    )


def test_a_driver_killed_mid_run_resumes_with_index(
    ray_local: Any, data_dir: Path, tmp_path: Path
) -> None:
    _folder_added(data_dir, tmp_path / "pics", 12)
    killed = _index_on_local_cluster(data_dir, DIE)
    try:
        _out, err = killed.communicate(timeout=300)
    finally:
        _kill_group(killed.pid)
    assert killed.returncode == -signal.SIGKILL, err.decode()[-2000:]
    library = tiny_library(data_dir, batch_size=4)
    try:
        assert _embedding_rows(library) == 4  # the committed batch survived
        last = _run(library, ClusterOptions("auto"))
        assert (last.embedded, last.problems) == (8, 0)
        assert _embedding_rows(library) == 12
        assert len(_vectors(library)) == 12
    finally:
        library.close()


def test_path_map_reads_the_workers_mount(ray_local: Any, tmp_path: Path) -> None:
    _photos_with_a_corrupt_file(tmp_path / "pics")
    mount = tmp_path / "mount"
    (tmp_path / "pics").rename(mount)  # the workers' view of the same files
    (tmp_path / "pics").symlink_to(mount)
    local, remote = tiny_library(tmp_path / "a"), tiny_library(tmp_path / "b")
    cluster = ClusterOptions("auto", (parse_path_map(f"{tmp_path / 'pics'}={mount}"),))
    try:
        for library in (local, remote):
            library.add_folder(tmp_path / "pics")
        _run(local)
        _run(remote, cluster)
        _compare(local, remote)
    finally:
        local.close()
        remote.close()


def test_path_map_to_an_unreadable_mount_reports_problems(ray_local: Any, tmp_path: Path) -> None:
    make_photos(tmp_path / "pics", 4)
    cluster = ClusterOptions("auto", (parse_path_map(f"{tmp_path / 'pics'}=/nonexistent/mnt"),))
    library = tiny_library(tmp_path / "data")
    try:
        library.add_folder(tmp_path / "pics")
        last = _run(library, cluster)
        assert (last.embedded, last.problems) == (0, 4)
        reasons = _problems(library)
        assert len(reasons) == 4
        assert all("the worker cannot read it at /nonexistent/mnt/" in r for r in reasons.values())
    finally:
        library.close()


def test_cli_index_on_a_cluster_says_where_photos_go(
    ray_local: Any, cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_photos(tmp_path / "pics", 6)
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert main(["index", "--cluster", "local", "--batch-size", "4"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == "done; 6 photos processed: 6 embedded, 0 reused"
    destination = [line for line in captured.err.splitlines() if "sending photos" in line]
    assert destination == [
        "sending photos to a local Ray instance on 127.0.0.1 for decoding and embedding "
        "(their bytes go through Ray's object store)"
    ]
    summary = [line for line in captured.err.splitlines() if line.startswith("cluster: ")]
    assert len(summary) == 1 and summary[0].startswith("cluster: 1 actor, no GPU, 2 CPUs: ")
    assert summary[0].endswith("/s (cpu)")


def test_cli_path_map_needs_cluster_and_a_valid_map(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["index", "--cluster", "local", "--path-map", "relative=/mnt"])
    assert "must be absolute" in capsys.readouterr().err
    assert main(["index", "--path-map", "/a=/b"]) != 0
    assert "--path-map applies to --cluster runs only" in capsys.readouterr().err


def _hide_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulate Ray absent: importing it fails, as where the extra is not installed."""
    real_import = builtins.__import__

    def no_ray(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "ray" or name.startswith("ray."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    for name in [m for m in sys.modules if m == "ray" or m.startswith("ray.")]:
        monkeypatch.delitem(sys.modules, name)


def test_cli_without_ray_says_how_to_install_it(
    cli_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _hide_ray(monkeypatch)
    make_photos(tmp_path / "pics", 2)
    assert main(["add", str(tmp_path / "pics")]) == 0
    assert main(["index", "--cluster", "local"]) != 0
    assert CLUSTER_EXTRA_HINT in capsys.readouterr().err


def test_without_ray_the_message_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hide_ray(monkeypatch)
    make_photos(tmp_path / "pics", 2)
    library = tiny_library(tmp_path / "data")
    try:
        library.add_folder(tmp_path / "pics")
        with pytest.raises(ClusterUnavailableError, match=CLUSTER_EXTRA_HINT.replace("[", r"\[")):
            next(library.index(cluster=ClusterOptions("local")))
        rows = library.catalog._query("SELECT COUNT(*) FROM photos")
        assert rows[0][0] == 0  # raised before anything slow: not even the scan ran
    finally:
        library.close()


class CountingActor(EmbedActor):
    """Notes every start of a model actor in a file (each start loads the model)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        with (Path(os.environ[KILL_MARKER_DIR]) / "starts").open("a", encoding="utf-8") as out:
            out.write(f"{os.getpid()}\n")


@pytest.fixture
def actor_starts(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """The run's model actors count their starts: call the result for how many so far."""
    starts = Path(os.environ[KILL_MARKER_DIR]) / "starts"
    starts.unlink(missing_ok=True)
    monkeypatch.setattr(ClusterIndexJob, "actor_class", CountingActor)
    return lambda: len(starts.read_text(encoding="utf-8").splitlines()) if starts.exists() else 0


def _cluster_loads(seen: list[Progress]) -> list[Any]:
    return [p.cluster for p in seen if p.cluster is not None]


def test_one_model_load_per_actor_for_a_whole_run_and_progress_per_node(
    ray_local: Any, tmp_path: Path, actor_starts: Callable[[], int]
) -> None:
    make_photos(tmp_path / "pics", 24)
    library = tiny_library(tmp_path / "data", batch_size=4)  # six batches through the cluster
    try:
        library.add_folder(tmp_path / "pics")
        seen = list(library.index(cluster=ClusterOptions("auto")))
        assert seen[-1].embedded == 24
        assert actor_starts() == 1  # not once a batch
        load = _cluster_loads(seen)[-1]
        assert (load.address, load.actors, load.gpus, load.cpus) == ("auto", 1, 0.0, 2.0)
        assert [(n.photos, n.devices, n.actors) for n in load.nodes] == [(24, "cpu", 1)]
        assert load.nodes[0].rate > 0
        assert load.summary().startswith("1 actor, no GPU, 2 CPUs: ")
    finally:
        library.close()


@pytest.mark.parametrize("shared", [False, True], ids=["sent-from-driver", "shared-storage"])
def test_weights_reach_the_workers_and_give_the_same_vectors(
    ray_local: Any, tmp_path: Path, shared: bool
) -> None:
    (tmp_path / "weights").mkdir()
    weights = _weights_file(tmp_path / "weights")
    settings = tiny_settings(str(weights))
    maps: tuple[Any, ...] = ()
    if shared:
        mount = tmp_path / "mount"
        (tmp_path / "weights").rename(mount)  # the workers' view of the same folder
        (tmp_path / "weights").symlink_to(mount)
        maps = (parse_path_map(f"{tmp_path / 'weights'}={mount}"),)
    _photos_with_a_corrupt_file(tmp_path / "pics")
    local = Library(resolve_paths(tmp_path / "a"), settings)
    remote = Library(resolve_paths(tmp_path / "b"), settings)
    try:
        for library in (local, remote):
            library.add_folder(tmp_path / "pics")
        _run(local)
        _run(remote, ClusterOptions("auto", maps))
        _compare(local, remote)
        assert remote.image_encoder().identity == local.image_encoder().identity
        assert remote.image_encoder().identity.pretrained == weights.name
    finally:
        local.close()
        remote.close()


def _alive_photoseek_actors() -> list[Any]:
    """photoseek's model actors still alive (from Ray's control store: no dashboard needed)."""
    from ray._private import state

    alive = state.actors(actor_state_name="ALIVE").values()
    return [a for a in alive if str(a.get("ActorClassName", "")).endswith("Actor")]


def test_cancel_stops_the_pipeline_leaves_the_cluster_clean_and_resumes(
    ray_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_photos(tmp_path / "pics", 24)
    cancel = threading.Event()
    commit = ClusterIndexJob._commit
    alive_while_running: list[int] = []

    def commit_then_cancel(self: ClusterIndexJob, batch: list[Any]) -> None:
        commit(self, batch)
        alive_while_running.append(len(_alive_photoseek_actors()))
        cancel.set()  # as Ctrl-C does: after the first committed batch

    monkeypatch.setattr(ClusterIndexJob, "_commit", commit_then_cancel)
    library = tiny_library(tmp_path / "data", batch_size=4)
    try:
        library.add_folder(tmp_path / "pics")
        seen = list(library.index(cancel, ClusterOptions("auto")))
        assert seen[-1].phase == Phase.CANCELLED
        assert seen[-1].embedded == 4 and _embedding_rows(library) == 4
        assert alive_while_running == [1]  # the check below sees actors when there are some
        _wait_for(lambda: not _alive_photoseek_actors(), "the run's actors to stop")
        monkeypatch.undo()
        last = _run(library, ClusterOptions("auto"))
        assert (last.embedded, _embedding_rows(library)) == (20, 24)
    finally:
        library.close()


def _wait_for(condition: Any, what: str, deadline_s: float = 300.0) -> None:
    """Poll until ``condition()``: Ray stops actors and processes asynchronously."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.5)


def _group_processes(pgid: int) -> list[int]:
    """The processes left in process group ``pgid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) == pgid and stat[0] != "Z":
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_ctrl_c_on_a_local_cluster_run_stops_cleanly_and_resumes(
    ray_local: Any, data_dir: Path, tmp_path: Path
) -> None:
    _folder_added(data_dir, tmp_path / "pics", 24)
    interrupted = _index_on_local_cluster(data_dir, CTRL_C)
    try:
        out, err = interrupted.communicate(timeout=300)
        _wait_for(lambda: not _group_processes(interrupted.pid), "its Ray processes to exit")
    finally:
        _kill_group(interrupted.pid)
    assert interrupted.returncode == 130, err.decode()[-3000:]
    assert "Traceback" not in err.decode(), err.decode()[-3000:]
    assert out.decode().splitlines()[-1].startswith("stopped; ")
    library = tiny_library(data_dir, batch_size=4)
    try:
        done = _embedding_rows(library)
        assert 4 <= done < 24
        last = _run(library, ClusterOptions("auto"))
        assert (last.embedded, _embedding_rows(library)) == (24 - done, 24)
    finally:
        library.close()


def decode_or_die(batch: dict[str, Any], min_side: int | None) -> dict[str, Any]:
    """Fault injected: a batch holding ``crash.jpg`` kills its worker, as a hostile file might."""
    if "crash.jpg" in [str(name) for name in batch["name"]]:
        os._exit(1)
    return decode_batch(batch, min_side)


def test_a_photo_that_kills_its_worker_is_one_problem_and_the_rest_land(
    ray_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_photos(tmp_path / "pics", 8)
    make_photo(tmp_path / "pics" / "crash.jpg", seed=999)
    monkeypatch.setattr(cluster_job, "decode_batch", decode_or_die)
    monkeypatch.setattr(cluster_stream, "TASK_RETRIES", 0)  # each crash costs a worker start
    library = tiny_library(tmp_path / "data", batch_size=4)
    try:
        library.add_folder(tmp_path / "pics")
        last = _run(library, ClusterOptions("auto"))
        assert (last.embedded, last.problems) == (8, 1)
        reasons = _problems(library)
        assert list(reasons) == ["crash.jpg"]
        assert reasons["crash.jpg"].startswith("the cluster failed on this photo: ")
        assert _embedding_rows(library) == 8
    finally:
        library.close()


def test_the_watch_service_catches_up_on_the_cluster(
    ray_local: Any, tmp_path: Path, actor_starts: Callable[[], int]
) -> None:
    make_photos(tmp_path / "pics", 12)
    local, remote = tiny_library(tmp_path / "a"), tiny_library(tmp_path / "b")
    try:
        for library in (local, remote):
            library.add_folder(tmp_path / "pics")
        _run(local)
        options = ServiceOptions(cluster=ClusterOptions("auto"), low_priority=False)
        WatchService(remote, options).run(threading.Event(), once=True, wait=False)
        assert actor_starts() == 1  # it ran there
        here, there = _vectors(local), _vectors(remote)
        assert set(here) == set(there) and len(there) == 12
        assert all(float(np.dot(here[n], there[n])) >= 0.999 for n in here)
    finally:
        local.close()
        remote.close()


def test_a_model_switch_re_embeds_on_the_cluster(
    ray_local: Any, tmp_path: Path, actor_starts: Callable[[], int]
) -> None:
    make_photos(tmp_path / "pics", 8)
    library = tiny_library(tmp_path / "data")
    try:
        library.add_folder(tmp_path / "pics")
        _run(library)  # indexed locally with the tiny model
        assert actor_starts() == 0
        library.start_model_switch(ModelName(str(TINY_B), "none"))
        switcher = library.model_switcher(ClusterOptions("auto"))
        try:
            phases = [p.phase for p in switcher.run()]
        finally:
            switcher.close()
        assert switcher.finished and phases[-1] == Phase.DONE
        assert actor_starts() == 1  # embedded there
        assert library.image_encoder().identity.arch.startswith("tiny-clip-b")
        assert len(_vectors(library)) == 8
    finally:
        library.close()
