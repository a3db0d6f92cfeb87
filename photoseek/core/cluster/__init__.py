"""Decoding and embedding the pending photos on a Ray cluster (``index --cluster``).

The local writer still scans, fingerprints, reuses known vectors and commits
exactly as in local indexing (:class:`~photoseek.core.indexing.pipeline.IndexJob`);
only the decoding and embedding of the photos that need a vector run on Ray,
as one streaming pipeline for the whole run (:mod:`.stream`): CPU tasks read
and decode, long-lived model actors (on GPUs where the cluster has them)
embed, and the results stream back and are committed one transaction per
batch, with the cluster's load per node in the run's progress.

Security: photoseek itself unpickles nothing. Ray pickles tasks and their
data between the machines of the user's own cluster; secure the cluster with
Ray's TLS and authentication settings (see the README) before sending photos
to it. Nothing is sent unless ``--cluster`` is given on that command.

Ray is an optional extra (``pip install 'photoseek[cluster]'``); nothing here
imports it at module load.
"""

from photoseek.core.cluster.availability import CLUSTER_EXTRA_HINT, require_ray
from photoseek.core.cluster.options import ClusterOptions, PathMap, parse_path_map

__all__ = ["CLUSTER_EXTRA_HINT", "ClusterOptions", "PathMap", "parse_path_map", "require_ray"]
