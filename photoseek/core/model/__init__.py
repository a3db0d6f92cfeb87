"""The CLIP model: weights (found, downloaded, verified) and the embedder.

Offers :class:`Embedder`, :class:`ModelSettings` and :func:`load_embedder`
(:mod:`.embedder`); :mod:`.weights` finds the weights. Importing this package
does not import torch: a model load does.
"""

from photoseek.core.model.embedder import Embedder, ModelSettings, load_embedder

__all__ = ["Embedder", "ModelSettings", "load_embedder"]
