"""Connecting to the Ray cluster for one run, and leaving it clean afterwards."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING

from photoseek.core.cluster.availability import require_ray
from photoseek.core.cluster.options import LOCAL_ADDRESS

if TYPE_CHECKING:
    from photoseek.core.cluster.options import ClusterOptions

log = logging.getLogger(__name__)


@contextmanager
def connected(address: str) -> Iterator[None]:
    """Ray initialised for ``address`` while the block runs (shut down after it).

    ``local`` starts a Ray instance for this run bound to 127.0.0.1 with two
    CPUs and no dashboard; any other address keeps Ray's meaning (``auto``
    joins a running cluster, ``ray://HOST:PORT`` a remote one). A Ray already
    initialised by the caller is used as it is, and left running.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield
        return
    if address == LOCAL_ADDRESS:
        ray.init(
            num_cpus=2,
            _node_ip_address="127.0.0.1",
            include_dashboard=False,
            log_to_driver=False,
        )
    else:
        ray.init(address=address, log_to_driver=False)
    log.info("connected to Ray (%s): %s", address, ray.cluster_resources())
    try:
        yield
    finally:
        ray.shutdown()


def connected_if(cluster: ClusterOptions | None) -> AbstractContextManager[None]:
    """:func:`connected` to ``cluster``'s address, or nothing when it is None."""
    return nullcontext() if cluster is None else connected(cluster.address)
