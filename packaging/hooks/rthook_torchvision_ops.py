"""Runtime hook, only in a bundle whose torchvision cannot load its C++ ops (see build.py).

torchvision 0.28 from PyPI is a CUDA build: beside a CPU-only torch its
``_C`` library does not load, and ``import torchvision`` then fails with
``operator torchvision::nms does not exist`` (its ``_meta_registrations``
registers fake kernels for ``nms`` and ``qnms`` without checking that the
ops exist). photoseek uses torchvision only through open_clip's image
transforms, never its detection ops, so declaring the two ops' schemas
(with no kernel: calling them still fails) lets torchvision import.

The declaration happens when ``torchvision._meta_registrations`` is looked
for, that is after torch and ``torchvision.extension`` are imported, so a
start that never imports torchvision pays nothing. A release built against
the CPU index (matching torchvision+cpu) does not include this hook.
"""

from __future__ import annotations

import importlib.abc
import sys
from typing import Any

_TRIGGER = "torchvision._meta_registrations"
_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_keep: list[Any] = []  # a torch.library.Library drops its definitions when collected


class _DeclareMissingOps(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name != _TRIGGER:
            return None
        sys.meta_path.remove(self)
        extension = sys.modules.get("torchvision.extension")
        if extension is None or extension._has_ops():
            return None
        import torch

        library = torch.library.Library("torchvision", "DEF")  # type: ignore[no-untyped-call]
        for schema in _SCHEMAS.values():
            library.define(schema)  # type: ignore[no-untyped-call]
        _keep.append(library)
        return None  # the regular finders load the module


sys.meta_path.insert(0, _DeclareMissingOps())
