"""Build a model without drawing random weights that a checkpoint will overwrite.

open_clip builds every model with random weights and only then loads the
checkpoint over them. Drawing those 150 million random numbers took 1.5 s of
the 1.9 s a ``ViT-B-32-256`` build takes on a 2-core CPU, for nothing: a
strict ``load_state_dict`` replaces every parameter and persistent buffer
(and fails if the file lacks one), and the non-persistent buffers (the text
tower's causal mask) are computed, not drawn. So while such a model is built,
torch's initialisers (``torch.nn.init.*_``, which every ``nn.Module`` resets
its parameters through) leave the freshly allocated tensors as they are; this
is how Hugging Face ``transformers`` loads pretrained weights too.

Some torch modules import initialisers by name (``MultiheadAttention``
calls its own ``xavier_uniform_``), so those names are swapped in the
``torch.nn.modules`` that hold them as well. The swap is process-wide, so it
is held under a lock and undone on exit; nothing else in photoseek builds
torch modules while a model loads.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOCK = threading.Lock()


def _leave_as_is(tensor: Any, *_args: object, **_kwargs: object) -> Any:
    return tensor


@contextmanager
def random_initialisers_skipped() -> Iterator[None]:
    """Within the block, ``torch.nn.init``'s in-place initialisers do nothing."""
    import torch.nn.init as init

    with _LOCK:
        functions = {
            id(getattr(init, n)) for n in dir(init) if n.endswith("_") and not n.startswith("_")
        }
        holders = [init] + [
            module
            for name, module in list(sys.modules.items())
            if name.startswith("torch.nn.modules.") and module is not None
        ]
        saved = [
            (holder, name, value)
            for holder in holders
            for name, value in vars(holder).items()
            if id(value) in functions
        ]
        for holder, name, _value in saved:
            setattr(holder, name, _leave_as_is)
        try:
            yield
        finally:
            for holder, name, value in saved:
                setattr(holder, name, value)
