"""The CLIP model: loads open_clip weights and turns images and text into vectors.

torch and open_clip are imported only when a model is loaded, so the GUI and
``--help`` start at once. Preprocessing is open_clip's own evaluation
transform for the chosen weights; vectors are L2-normalised float32.

``arch`` is an open_clip model name, or a path to an open_clip model config
JSON (registered with ``open_clip.add_model_config``; tests use a tiny one).
``pretrained`` is a tag, a checkpoint file or folder, or ``none`` for random
weights with a fixed seed (tests and speed benchmarks: the same cost as real
weights).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoseek.core.errors import ModelUnavailableError
from photoseek.core.model.weights import RANDOM_WEIGHTS, WeightsSource, file_digest, resolve_weights
from photoseek.core.records import ModelIdentity
from photoseek.core.vectors import codec as vectorcodec

if TYPE_CHECKING:
    import torch
    from PIL import Image

log = logging.getLogger(__name__)

DEFAULT_ARCH = "ViT-B-32-256"
DEFAULT_PRETRAINED = "datacomp_s34b_b86k"
DEVICES = ("auto", "cpu", "cuda", "mps")
_TEXT_CACHE_SIZE = 256
_RANDOM_SEED = 0


@dataclass(frozen=True)
class ModelSettings:
    """Which model to run, and where."""

    arch: str = DEFAULT_ARCH
    pretrained: str = DEFAULT_PRETRAINED
    device: str = "auto"


@dataclass(frozen=True)
class TextVector:
    """An encoded text, and whether CLIP's token limit cut it."""

    vector: vectorcodec.FloatArray
    truncated: bool


def pick_device(requested: str = "auto") -> str:
    """CUDA, then MPS, then CPU for ``auto``; a forced device must exist."""
    import torch

    if requested not in DEVICES:
        raise ModelUnavailableError(f"unknown device {requested!r} (use {', '.join(DEVICES)})")
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if requested == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if (requested == "cuda" and not cuda) or (requested == "mps" and not mps):
        raise ModelUnavailableError(f"device {requested} was asked for but is not available")
    return requested


def register_arch(arch: str) -> tuple[str, str]:
    """Return (open_clip model name, identity name) for a name or a config JSON path."""
    import open_clip

    path = Path(arch).expanduser()
    if arch.endswith(".json"):
        if not path.is_file():
            raise ModelUnavailableError(f"model config not found: {path}")
        open_clip.add_model_config(path)
        config_digest = hashlib.blake2b(path.read_bytes(), digest_size=6).hexdigest()
        return path.stem, f"{path.stem}@{config_digest}"
    if arch not in open_clip.list_models():
        raise ModelUnavailableError(
            f"unknown model {arch!r}; `python -c 'import open_clip; "
            "print(open_clip.list_models())'` lists them"
        )
    return arch, arch


class Embedder:
    """A loaded CLIP model. Thread-safe: inference is serialised by a lock."""

    def __init__(
        self,
        model: Any,
        preprocess: Callable[[Image.Image], torch.Tensor],
        tokenizer: Any,
        identity: ModelIdentity,
        device: str,
        image_size: int,
    ) -> None:
        self._model = model
        self._preprocess = preprocess
        self._tokenizer = tokenizer
        self.identity = identity
        self.device = device
        self.image_size = image_size
        self._lock = threading.Lock()
        self._text_cache: OrderedDict[str, TextVector] = OrderedDict()

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """open_clip's evaluation transform for these weights (safe in worker threads)."""
        return self._preprocess(image)

    def encode_images(self, tensors: Sequence[torch.Tensor]) -> vectorcodec.FloatArray:
        """Embed preprocessed images; returns (n, dim) unit vectors."""
        import torch

        with self._lock, torch.inference_mode():
            batch = torch.stack(list(tensors)).to(self.device)
            features = self._model.encode_image(batch)
            return vectorcodec.normalize(features.float().cpu().numpy())

    def encode_image(self, image: Image.Image) -> vectorcodec.FloatArray:
        """Embed one decoded image; returns a (dim,) unit vector."""
        return vectorcodec.first_row(self.encode_images([self.preprocess(image)]))

    def encode_text(self, text: str) -> TextVector:
        """Embed a text (cached); CLIP's 77-token limit truncates and is reported."""
        import torch

        with self._lock:
            cached = self._text_cache.get(text)
            if cached is not None:
                self._text_cache.move_to_end(text)
                return cached
            with torch.inference_mode():
                tokens = self._tokenizer([text]).to(self.device)
                features = self._model.encode_text(tokens)
            vector = vectorcodec.first_row(vectorcodec.normalize(features.float().cpu().numpy()))
            result = TextVector(vector, self._truncated(text))
            self._text_cache[text] = result
            if len(self._text_cache) > _TEXT_CACHE_SIZE:
                self._text_cache.popitem(last=False)
            return result

    def _truncated(self, text: str) -> bool:
        encode = getattr(self._tokenizer, "encode", None)
        limit = int(getattr(self._tokenizer, "context_length", 77))
        if encode is None:
            return False
        return len(encode(text)) + 2 > limit  # + start and end tokens


def load_embedder(settings: ModelSettings, models_dir: Path) -> Embedder:
    """Load the model ``settings`` name (downloading weights if needed)."""
    import open_clip
    import torch

    device = pick_device(settings.device)
    arch, arch_name = register_arch(settings.arch)
    source = resolve_weights(arch, settings.pretrained, models_dir)
    cfg = open_clip.get_pretrained_cfg(arch, settings.pretrained) or {}
    torch.manual_seed(_RANDOM_SEED)
    model, _, preprocess = open_clip.create_model_and_transforms(
        arch,
        pretrained=None,
        device="cpu",
        image_mean=cfg.get("mean"),
        image_std=cfg.get("std"),
        image_interpolation=cfg.get("interpolation"),
        image_resize_mode=cfg.get("resize_mode"),
    )
    if source.file is not None:
        _load_checkpoint(model, source.file, arch)
    model = model.to(device).eval()
    image_size = _image_size(model)
    identity = ModelIdentity(
        arch=arch_name,
        pretrained=source.label,
        digest=_digest(model, source, models_dir),
        dim=_probe_dim(model, image_size),
    )
    log.info("loaded %s on %s (%s)", identity.key, device, source.file or "random weights")
    return Embedder(model, preprocess, open_clip.get_tokenizer(arch), identity, device, image_size)


def _load_checkpoint(model: Any, path: Path, arch: str) -> None:
    import open_clip

    try:
        open_clip.load_checkpoint(model, str(path), weights_only=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ModelUnavailableError(f"{path.name} does not fit model {arch}: {first}") from exc
    except Exception as exc:  # unpickling refused, corrupt file, ...
        raise ModelUnavailableError(f"cannot load checkpoint {path}: {exc}") from exc


def _digest(model: Any, source: WeightsSource, models_dir: Path) -> str:
    if source.file is not None:
        return file_digest(source.file, models_dir)
    state_hash = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        state_hash.update(name.encode())
        state_hash.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return f"{RANDOM_WEIGHTS}:{state_hash.hexdigest()[:16]}"


def _image_size(model: Any) -> int:
    size = model.visual.image_size
    return int(size[0] if isinstance(size, tuple | list) else size)


def _probe_dim(model: Any, image_size: int) -> int:
    import torch

    device = next(model.parameters()).device
    with torch.inference_mode():
        out = model.encode_image(torch.zeros(1, 3, image_size, image_size, device=device))
    return int(out.shape[-1])
