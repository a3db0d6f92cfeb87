"""The CLIP model: loads open_clip weights and turns images and text into vectors.

torch and open_clip are imported only when a model is loaded, so the GUI and
``--help`` start at once. Preprocessing is open_clip's own evaluation
transform for the chosen weights; vectors are L2-normalised float32.

``arch`` is an open_clip model name, or a path to an open_clip model config
JSON (registered with ``open_clip.add_model_config``; tests use a tiny one).
``pretrained`` is a tag, a checkpoint file or folder, or ``none`` for random
weights with a fixed seed (tests and speed benchmarks: the same cost as real
weights). Checkpoint files are read as data only (:mod:`.checkpoint`); a tag's
weights are downloaded with resume, byte progress and cancel (:mod:`.download`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoseek.core.errors import Cancelled, ModelUnavailableError
from photoseek.core.model.checkpoint import load_weights_into
from photoseek.core.model.extras import check_model_extras
from photoseek.core.model.noinit import random_initialisers_skipped
from photoseek.core.model.textcache import TextVector, TextVectorCache, is_truncated
from photoseek.core.model.weights import RANDOM_WEIGHTS, WeightsSource, file_digest, resolve_weights
from photoseek.core.progress import Phase, Progress, ProgressCallback
from photoseek.core.records import ModelIdentity
from photoseek.core.vectors import codec as vectorcodec

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from photoseek.core.model.textspec import TextTowerSpec
    from photoseek.core.model.visionspec import VisionTowerSpec

log = logging.getLogger(__name__)

DEFAULT_ARCH = "ViT-B-32-256"
DEFAULT_PRETRAINED = "datacomp_s34b_b86k"
DEVICES = ("auto", "cpu", "cuda", "mps")
_RANDOM_SEED = 0


@dataclass(frozen=True)
class ModelSettings:
    """Which model to run, and where; ``precision`` is the image tower's (see :mod:`.imagepath`).

    ``int8`` (the fast mode) embeds photos with the int8 image tower on ONNX
    Runtime: its vectors are another model identity, never mixed with
    ``fp32`` ones, so switching re-embeds the library.
    """

    arch: str = DEFAULT_ARCH
    pretrained: str = DEFAULT_PRETRAINED
    device: str = "auto"
    precision: str = "fp32"


def available_devices() -> list[str]:
    """The devices this machine can run the model on, in ``auto``'s order of preference."""
    import torch

    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return [*found, "cpu"]


def pick_device(requested: str = "auto") -> str:
    """CUDA, then MPS, then CPU for ``auto``; a forced device must exist.

    Raises :class:`ModelUnavailableError` naming the requested device and the
    devices this machine has.
    """
    if requested not in DEVICES:
        raise ModelUnavailableError(f"unknown device {requested!r} (use {', '.join(DEVICES)})")
    available = available_devices()
    if requested == "auto":
        return available[0]
    if requested not in available:
        raise ModelUnavailableError(
            f"device {requested} was asked for but is not available "
            f"(this machine has: {', '.join(available)})"
        )
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


class _TextFirst:
    """Lets a text encode overtake an image batch.

    Forward pre-hooks on the image tower's blocks and their layers call
    :meth:`wait_for_texts`, which parks the image batch while any text
    encode is running; the batch resumes where it stopped.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._texts = 0
        self.parked = 0  # image forwards waiting right now (for tests and diagnostics)

    @contextlib.contextmanager
    def text_running(self) -> Iterator[None]:
        """Mark a text encode as running for the duration of the block."""
        with self._cond:
            self._texts += 1
        try:
            yield
        finally:
            with self._cond:
                self._texts -= 1
                if not self._texts:
                    self._cond.notify_all()

    def wait_for_texts(self, *_hook_args: object) -> None:
        """Block while a text encode runs (a forward pre-hook: returns None)."""
        if not self._texts:  # the common case, without taking the lock
            return
        with self._cond:
            self.parked += 1
            try:
                self._cond.wait_for(lambda: not self._texts)
            finally:
                self.parked -= 1


class Embedder:
    """A loaded CLIP model that turns images and texts into unit vectors.

    Thread safety: every method may be called from any thread, and
    :meth:`encode_text` and :meth:`encode_images` (or :meth:`encode_image`)
    may run at the same time from different threads. Image encodes run one
    at a time (an image lock), text encodes run one at a time (a text lock),
    and neither waits for the other's lock: a text encode starts at once,
    and a running image batch pauses before its next layer (forward
    pre-hooks in the image tower's blocks) until no text encode is running,
    so a query typed while indexing is answered without waiting for the
    batch; the paused batch then resumes with unchanged results. The text
    cache has its own small lock; :meth:`preprocess` takes no lock and is
    safe in decoding workers. The model must not be trained or changed
    while the embedder is in use.
    """

    def __init__(
        self,
        model: Any,
        preprocess: Callable[[Image.Image], torch.Tensor],
        tokenizer: Any,
        identity: ModelIdentity,
        device: str,
        image_size: int,
        *,
        weights_file: Path | None = None,
        text_spec: TextTowerSpec | None = None,
        vision_spec: VisionTowerSpec | None = None,
    ) -> None:
        self._model = model
        self.weights_file = weights_file  # None: random weights
        self.text_spec = text_spec  # a plain CLIP text tower's spec (the light text path)
        self.vision_spec = vision_spec  # a plain ViT image tower's spec (the light image path)
        self._preprocess = preprocess
        self._tokenizer = tokenizer
        self.identity = identity
        self.device = device
        self.image_size = image_size
        self._image_lock = threading.Lock()
        self._text_lock = threading.Lock()
        self._text_cache = TextVectorCache()
        self._text_tower: Any = None  # None: open_clip's encode_text
        self._text_first = _TextFirst()
        self._yield_points = _install_yield_points(model, self._text_first.wait_for_texts)

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """open_clip's evaluation transform for these weights (safe in worker threads)."""
        return self._preprocess(image)

    @property
    def transform(self) -> Callable[[Image.Image], torch.Tensor]:
        """The evaluation transform itself (its steps are read by the light image path)."""
        return self._preprocess

    def encode_images(self, tensors: Sequence[torch.Tensor]) -> vectorcodec.FloatArray:
        """Embed preprocessed images; returns (n, dim) unit vectors."""
        import torch

        with self._image_lock, torch.inference_mode():
            batch = torch.stack(list(tensors)).to(self.device)
            features = self._model.encode_image(batch)
            return vectorcodec.normalize(features.float().cpu().numpy())

    def encode_image(self, image: Image.Image) -> vectorcodec.FloatArray:
        """Embed one decoded image; returns a (dim,) unit vector."""
        return vectorcodec.first_row(self.encode_images([self.preprocess(image)]))

    def encode_text(self, text: str) -> TextVector:
        """Embed a text (cached); CLIP's 77-token limit truncates and is reported.

        Starts at once even while an image batch is being encoded.
        """
        cached = self._text_cache.get(text)
        if cached is not None:
            return cached
        with self._text_lock, self._text_first.text_running():
            cached = self._text_cache.get(text)  # another thread may have just encoded it
            if cached is not None:
                return cached
            result = TextVector(self._encode_text(text), is_truncated(self._tokenizer, text))
        self._text_cache.put(text, result)
        return result

    def text_tokens(self, text: str) -> torch.Tensor:
        """The token ids the model reads for ``text``."""
        tokens: torch.Tensor = self._tokenizer([text])
        return tokens

    def reference_text_vector(self, text: str) -> vectorcodec.FloatArray:
        """The unit vector of ``text`` from open_clip's own ``encode_text`` (uncached)."""
        import torch

        with self._text_lock, self._text_first.text_running(), torch.inference_mode():
            features = self._model.encode_text(self.text_tokens(text).to(self.device))
        return vectorcodec.first_row(vectorcodec.normalize(features.float().cpu().numpy()))

    def text_vector_uncached(self, text: str) -> vectorcodec.FloatArray:
        """The unit vector :meth:`encode_text` gives ``text``, computed anew."""
        with self._text_lock, self._text_first.text_running():
            return self._encode_text(text)

    def encode_texts(self, texts: Sequence[str], batch_size: int = 64) -> vectorcodec.FloatArray:
        """Embed many texts (uncached, in batches); returns (n, dim) unit vectors.

        For prompt ensembles: thousands of prompts, each encoded once.
        """
        import numpy as np

        rows = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            with self._text_lock, self._text_first.text_running():
                rows.append(self._encode_tokens(self._tokenizer(batch)))
        return np.concatenate(rows) if rows else np.zeros((0, self.identity.dim), np.float32)

    @property
    def logit_scale(self) -> float:
        """The learned temperature (exp of the model's ``logit_scale``): CLIP's is 100."""
        scale = getattr(self._model, "logit_scale", None)
        return 100.0 if scale is None else float(scale.detach().exp())

    @property
    def logit_bias(self) -> float | None:
        """SigLIP's learned bias; None for CLIP-trained models (softmax, not sigmoid)."""
        bias = getattr(self._model, "logit_bias", None)
        return None if bias is None else float(bias.detach())

    def use_text_tower(self, tower: Any) -> None:
        """Encode texts with ``tower`` (a :class:`~.texttower.TextTower` shown to match)."""
        self._text_tower = tower

    def _encode_text(self, text: str) -> vectorcodec.FloatArray:
        return vectorcodec.first_row(self._encode_tokens(self.text_tokens(text)))

    def _encode_tokens(self, tokens: torch.Tensor) -> vectorcodec.FloatArray:
        import torch

        encode = self._model.encode_text if self._text_tower is None else self._text_tower
        with torch.inference_mode():
            features = encode(tokens.to(self.device))
        return vectorcodec.normalize(features.float().cpu().numpy())


def image_blocks(model: Any) -> list[Any]:
    """The image tower's sequence of blocks, where an image batch can pause.

    open_clip's VisionTransformer has ``visual.transformer.resblocks``; for
    other towers (timm, ResNet), the first ModuleList or Sequential of two or
    more non-leaf blocks; an empty list when there is none.
    """
    import torch

    visual = getattr(model, "visual", None)
    if not isinstance(visual, torch.nn.Module):
        return []
    resblocks = getattr(getattr(visual, "transformer", None), "resblocks", None)
    if isinstance(resblocks, torch.nn.ModuleList) and len(resblocks):
        return list(resblocks)
    for module in visual.modules():
        if isinstance(module, torch.nn.ModuleList | torch.nn.Sequential):
            blocks = list(module.children())
            if len(blocks) >= 2 and all(any(True for _ in b.children()) for b in blocks):
                return blocks
    return []


def _install_yield_points(model: Any, hook: Callable[..., None]) -> int:
    """Register ``hook`` as a forward pre-hook in the image blocks; returns how many.

    Each block and every module inside it (attention, MLP layers, norms) gets
    the hook, so a text encode waits at most for one layer of the batch.
    """
    points = [module for block in image_blocks(model) for module in block.modules()]
    for module in points:
        module.register_forward_pre_hook(hook)
    if not points:
        log.info("no image blocks found: text encodes wait for the running image batch")
    return len(points)


def load_embedder(
    settings: ModelSettings,
    models_dir: Path,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Embedder:
    """Load the model ``settings`` names (downloading weights if needed).

    ``on_progress`` gets :attr:`Phase.DOWNLOADING_MODEL` byte progress while
    weights download, then ``Progress(Phase.LOADING_MODEL, done=0, total=1,
    unit="steps")`` before the model is built and ``done=1`` when it is
    ready. ``cancel`` is checked between steps (and between download chunks)
    and raises :class:`Cancelled`. Raises :class:`ModelUnavailableError` for
    anything the user must fix (:class:`MissingExtraError`, before anything slow, when the
    model needs an optional extra that is not installed).
    """
    check_model_extras(settings.arch)
    import open_clip

    _check_cancel(cancel)
    device = pick_device(settings.device)
    arch, arch_name = register_arch(settings.arch)
    source = resolve_weights(
        arch, settings.pretrained, models_dir, on_progress=on_progress, cancel=cancel
    )
    _check_cancel(cancel)
    _report_loading(on_progress, 0)
    model, preprocess = _build_model(arch, settings.pretrained, drawn=source.file is None)
    _check_cancel(cancel)
    if source.file is not None:
        load_weights_into(model, source.file, arch)
        _check_cancel(cancel)
    model = model.to(device).eval()
    image_size = _image_size(model)
    text_spec, vision_spec = _tower_specs(arch, settings.pretrained)
    identity = ModelIdentity(
        arch=arch_name,
        pretrained=source.label,
        digest=_digest(model, source, models_dir),
        dim=_probe_dim(model, image_size),
    )
    embedder = Embedder(
        model,
        preprocess,
        open_clip.get_tokenizer(arch),
        identity,
        device,
        image_size,
        weights_file=source.file,
        text_spec=text_spec,
        vision_spec=vision_spec,
    )
    if embedder.text_spec is not None:
        _use_shared_text_tower(embedder, model, embedder.text_spec)
    log.info("loaded %s on %s (%s)", identity.key, device, source.file or "random weights")
    _report_loading(on_progress, 1)
    return embedder


def _build_model(arch: str, pretrained: str, *, drawn: bool) -> tuple[Any, Any]:
    """The open_clip model on the CPU, and its eval transform.

    ``drawn``: its weights are drawn from the fixed seed (random weights);
    otherwise they are left undrawn for a weights file to fill (:mod:`.noinit`).
    """
    import open_clip
    import torch

    cfg = open_clip.get_pretrained_cfg(arch, pretrained) or {}
    torch.manual_seed(_RANDOM_SEED)
    building = contextlib.nullcontext() if drawn else random_initialisers_skipped()
    with building:
        model, _, preprocess = open_clip.create_model_and_transforms(
            arch,
            pretrained=None,
            device="cpu",
            force_quick_gelu=bool(cfg.get("quick_gelu", False)),  # as open_clip does for the tag
            image_mean=cfg.get("mean"),
            image_std=cfg.get("std"),
            image_interpolation=cfg.get("interpolation"),
            image_resize_mode=cfg.get("resize_mode"),
            pretrained_hf=False,  # a transformers text tower gets our weights, not the hub's
        )
    return model, preprocess


def _use_shared_text_tower(embedder: Embedder, model: Any, spec: TextTowerSpec) -> None:
    """Encode texts with a tower over the model's own text tensors, if it matches the model.

    The tower (:mod:`.texttower`) runs only the positions up to the end of
    the text, where open_clip's ``encode_text`` runs all 77: a short query
    costs a fraction. It must give cosine >= ``MIN_COSINE`` with open_clip's
    own vectors on the probe texts, else open_clip's path stays.
    """
    from photoseek.core.model.textpath import MIN_COSINE, PROBE_TEXTS
    from photoseek.core.model.texttower import tower_sharing

    try:
        tower = tower_sharing(model, spec).to(embedder.device)
        before = [embedder.reference_text_vector(text) for text in PROBE_TEXTS]
        embedder.use_text_tower(tower)
        after = [embedder.text_vector_uncached(text) for text in PROBE_TEXTS]
    except Exception:  # an optimisation: open_clip's path is always there
        log.warning("texts are encoded by open_clip's path", exc_info=True)
        embedder.use_text_tower(None)
        return
    if min(float(a @ b) for a, b in zip(before, after, strict=True)) < MIN_COSINE:
        log.warning("the text tower differs from open_clip's encode_text: not used")
        embedder.use_text_tower(None)


def _tower_specs(arch: str, pretrained: str) -> tuple[TextTowerSpec | None, VisionTowerSpec | None]:
    """The model's text and image tower specs where each is a plain CLIP one (else None)."""
    import open_clip

    from photoseek.core.model.textspec import plain_text_spec
    from photoseek.core.model.visionspec import plain_vision_spec

    config = open_clip.get_model_config(arch) or {}
    quick_gelu = bool((open_clip.get_pretrained_cfg(arch, pretrained) or {}).get("quick_gelu"))
    return (
        plain_text_spec(config, quick_gelu=quick_gelu),
        plain_vision_spec(config, quick_gelu=quick_gelu),
    )


def _report_loading(on_progress: ProgressCallback | None, done: int) -> None:
    if on_progress is not None:
        on_progress(Progress(Phase.LOADING_MODEL, done=done, total=1, unit="steps"))


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("loading the model was cancelled")


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
