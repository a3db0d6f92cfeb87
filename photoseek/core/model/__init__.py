"""The CLIP model: weights (found, downloaded, verified) and the embedder.

Offers :class:`Embedder`, :class:`ModelSettings`, :func:`load_embedder` and
:func:`available_devices` (:mod:`.embedder`); :mod:`.weights` finds the
weights, :mod:`.download` downloads them (resumable, verified) and
:mod:`.checkpoint` reads a weights file without running code from it.
Importing this package does not import torch: a model load does.
"""

from photoseek.core.model.embedder import (
    Embedder,
    ModelSettings,
    available_devices,
    load_embedder,
)

__all__ = ["Embedder", "ModelSettings", "available_devices", "load_embedder"]
