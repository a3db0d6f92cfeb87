"""The cluster stream's own logic without Ray: order, splitting a failed batch, per-node load.

A small stand-in for the few Ray calls the stream makes runs every task at
once in this process, so these run everywhere (CI installs no Ray); the
Ray-backed tests in ``tests/integration/test_cluster.py`` cover the real thing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from photoseek.core.cluster import ClusterOptions
from photoseek.core.cluster.stream import ClusterError, ClusterStream, NodeMeter


class FakeRayError(Exception):
    """Ray's base error."""


class FakeActorDied(FakeRayError):
    """Ray's ActorDiedError."""


@dataclass
class Ref:
    """An object ref whose task already ran: its value, or the error it raised."""

    value: Any = None
    error: BaseException | None = None


def _call(fn: Any, args: tuple[Any, ...]) -> Ref:
    resolved = tuple(a.value if isinstance(a, Ref) else a for a in args)
    failed = [a.error for a in args if isinstance(a, Ref) and a.error is not None]
    if failed:
        return Ref(error=failed[0])
    try:
        return Ref(fn(*resolved))
    except BaseException as exc:
        return Ref(error=exc)


class Remote:
    """What ``ray.remote(x).options(...)`` gives: ``.remote(...)`` runs now."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def options(self, **_: Any) -> Remote:
        return self

    def remote(self, *args: Any) -> Any:
        if isinstance(self.target, type):
            instance = self.target(*args)
            return SimpleNamespace(embed=Remote(instance.embed))
        return _call(self.target, args)


class FakeRay:
    """The Ray calls :class:`ClusterStream` makes."""

    exceptions = SimpleNamespace(RayError=FakeRayError, ActorDiedError=FakeActorDied)

    def __init__(self) -> None:
        self.killed: list[Any] = []
        self.cancelled: list[Ref] = []

    def remote(self, target: Any) -> Remote:
        return Remote(target)

    def wait(self, refs: list[Ref], timeout: float) -> tuple[list[Ref], list[Ref]]:
        return refs, []

    def get(self, ref: Ref) -> Any:
        if ref.error is not None:
            raise ref.error
        return ref.value

    def cancel(self, ref: Ref, force: bool) -> None:
        self.cancelled.append(ref)

    def kill(self, actor: Any, no_restart: bool) -> None:
        self.killed.append(actor)

    def cluster_resources(self) -> dict[str, float]:
        return {"CPU": 16.0, "GPU": 2.0}


def decode(columns: dict[str, list[Any]], min_side: int | None) -> dict[str, list[Any]]:
    """Stands in for decode_batch; a photo named ``crash`` kills its worker."""
    if "crash" in columns["name"]:
        raise FakeRayError("the worker died")
    return columns


class Actor:
    """Stands in for EmbedActor: one vector per photo, and where it ran."""

    def __init__(self, dies: bool = False) -> None:
        self.dies = dies

    def embed(self, batch: dict[str, list[Any]]) -> dict[str, Any]:
        if self.dies:
            raise FakeActorDied("gone")
        count = len(batch["key"])
        return {
            **batch,
            "ok": [True] * count,
            "vector": batch["key"],
            "node": "n1",
            "device": "cpu",
        }


def _rows(*names: str) -> list[dict[str, Any]]:
    return [{"key": i, "name": name} for i, name in enumerate(names)]


def _stream(ray: FakeRay, actor_args: tuple[Any, ...] = ()) -> ClusterStream:
    return ClusterStream(ray, ClusterOptions("auto", actors=2), Actor, actor_args, decode, None)


def test_batches_come_back_in_the_order_sent_and_the_load_is_counted() -> None:
    ray = FakeRay()
    stream = _stream(ray)
    assert stream.depth == 4 and stream.idle()
    stream.send(_rows("a", "b"), ["A", "B"])
    stream.send(_rows("c"), ["C"])
    assert stream.photos_in_flight() == 3 and not stream.busy()
    cancel = threading.Event()
    first, second = stream.receive(cancel), stream.receive(cancel)
    assert first is not None and first[0] == ["A", "B"] and first[1]["name"] == ["a", "b"]
    assert second is not None and second[0] == ["C"]
    assert stream.receive(cancel) is None and stream.idle()
    load = stream.load()
    assert (load.actors, load.cpus) == (2, 16.0)
    assert [(n.node, n.photos, n.devices, n.actors) for n in load.nodes] == [("n1", 3, "cpu", 2)]


def test_a_failed_batch_is_split_and_only_the_guilty_photo_fails() -> None:
    stream = _stream(FakeRay())
    stream.send(_rows("a", "crash", "c"), ["A", "CRASH", "C"])
    got = [stream.receive(threading.Event()) for _ in range(3)]
    assert [g[0] for g in got if g is not None] == [["A"], ["CRASH"], ["C"]]
    crashed = got[1]
    assert crashed is not None and crashed[1]["ok"] == [False]
    assert crashed[1]["reason"] == ["the cluster failed on this photo: the worker died"]
    assert all(g is not None and g[1]["ok"] == [True] for g in (got[0], got[2]))


def test_an_actor_dead_for_good_stops_the_run() -> None:
    stream = _stream(FakeRay(), actor_args=(True,))
    stream.send(_rows("a"), ["A"])
    with pytest.raises(ClusterError, match="died for good"):
        stream.receive(threading.Event())


def test_cancel_returns_nothing_and_close_cancels_what_is_in_flight() -> None:
    ray = FakeRay()
    stream = _stream(ray)
    stream.send(_rows("a"), ["A"])
    cancel = threading.Event()
    cancel.set()
    assert stream.receive(cancel) is None
    stream.close()
    assert len(ray.cancelled) == 1 and len(ray.killed) == 2 and stream.idle()


def test_the_node_meter_lists_the_busiest_node_first() -> None:
    meter = NodeMeter()
    meter.record("small", "cuda:0", 0, 5)
    meter.record("big", "cpu", 1, 40)
    meter.record("big", "cuda:1", 2, 10)
    nodes = meter.nodes()
    assert [(n.node, n.photos, n.devices, n.actors) for n in nodes] == [
        ("big", 50, "cpu,cuda", 2),
        ("small", 5, "cuda", 1),
    ]
    assert all(n.rate > 0 for n in nodes)
