"""How an indexing run uses a Ray cluster: where it is, and where the photos are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath

LOCAL_ADDRESS = "local"
"""Start a Ray instance on this machine for this run, bound to the loopback address."""


@dataclass(frozen=True)
class PathMap:
    """``LOCAL=REMOTE``: a file under ``local`` is ``remote`` + the rest on the workers."""

    local: PurePath
    remote: PurePosixPath

    def remote_path(self, path: PurePath) -> str | None:
        """Where the workers find ``path``, or None when it is not under ``local``."""
        try:
            rest = path.relative_to(self.local)
        except ValueError:
            return None
        return str(self.remote.joinpath(*rest.parts))


def parse_path_map(text: str) -> PathMap:
    """Parse ``LOCAL=REMOTE`` (both absolute); raises ``ValueError`` with what is wrong."""
    local, sep, remote = text.partition("=")
    if not sep or not local or not remote:
        raise ValueError(f"a path map is LOCAL=REMOTE, not {text!r}")
    local_path, remote_path = PurePath(local), PurePosixPath(remote)
    if not local_path.is_absolute() or not remote_path.is_absolute():
        raise ValueError(f"both sides of a path map must be absolute paths: {text!r}")
    return PathMap(local_path, remote_path)


@dataclass(frozen=True)
class ClusterOptions:
    """A cluster run: Ray ``address`` (``auto``, ``ray://HOST:PORT`` or ``local``).

    ``path_maps`` empty: the driver sends each photo's bytes through Ray's
    object store; else photos under a mapped folder are read by the workers
    from their own mount (the others are still sent). ``actors`` model actors
    with ``gpus_per_actor`` GPUs each; ``batch_size`` None picks one by device.
    """

    address: str
    path_maps: tuple[PathMap, ...] = ()
    actors: int = 1
    gpus_per_actor: float = 0.0
    batch_size: int | None = None

    def model_batch_size(self, local_default: int) -> int:
        """Photos per model call on an actor: larger on a GPU, the local size on a CPU."""
        if self.batch_size is not None:
            return self.batch_size
        return max(local_default, 128) if self.gpus_per_actor > 0 else local_default

    def remote_path(self, path: PurePath) -> str | None:
        """Where the workers read ``path`` themselves, or None to send its bytes."""
        for mapping in self.path_maps:
            mapped = mapping.remote_path(path)
            if mapped is not None:
                return mapped
        return None

    def destination(self) -> str:
        """One line for stderr: where the photos go."""
        where = (
            "a local Ray instance on 127.0.0.1"
            if self.address == LOCAL_ADDRESS
            else f"the Ray cluster at {self.address}"
        )
        how = (
            "workers read mapped folders from their own mounts; other photos' bytes are sent"
            if self.path_maps
            else "their bytes go through Ray's object store"
        )
        return f"sending photos to {where} for decoding and embedding ({how})"
