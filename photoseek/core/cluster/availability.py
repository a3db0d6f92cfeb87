"""Whether Ray is installed: one clear message, raised before anything slow."""

from __future__ import annotations

import importlib
from types import ModuleType

from photoseek.core.errors import MissingExtraError

CLUSTER_EXTRA_HINT = "pip install 'photoseek[cluster]'"


class ClusterUnavailableError(MissingExtraError):
    """``--cluster`` was asked for, but Ray (the ``cluster`` extra) is not installed."""


def require_ray() -> ModuleType:
    """The ``ray`` module; raises :class:`ClusterUnavailableError` when it is not installed."""
    try:
        ray = importlib.import_module("ray")
    except ImportError as exc:
        raise ClusterUnavailableError(
            f"indexing on a cluster needs Ray, which is not installed ({exc}): "
            f"install it with `{CLUSTER_EXTRA_HINT}`"
        ) from exc
    return ray
