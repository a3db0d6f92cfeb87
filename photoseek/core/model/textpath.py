"""The light text path: a query's vector from the text tower alone, without open_clip.

A cold text search needs the tokenizer and the text tower, not the image
tower, torchvision or the rest of open_clip. On a 2-core CPU the full model
costs 5-6 s to import and load; the text tower alone costs torch's import
(2 s), reading its 250 MB of weights and building it (0.3 s). So a search
that finds the model not loaded yet (the CLI's ``search``, the app's first
query) encodes its text this way; image queries load the full model, and
indexing the image tower alone where it is exact (:mod:`.imagepath`).

It is used only where it has been shown to be exact. Each time the full
model loads from a weights file whose text tower is a plain CLIP one
(:func:`~.textspec.plain_text_spec`), :func:`remember` builds the light
tower from that file, tokenises and encodes probe texts with both, and
records the tower's spec in ``text-towers.json`` in the models folder only
if the tokens are equal and every vector has cosine >= :data:`MIN_COSINE`
with the full model's. :func:`load_text_encoder` uses a record only for the
same identity (architecture, weights label, file digest) and the same file
(path, size, modification time); anything else, or any failure, falls back
to the full model. Random weights (``none``) have no file and no light path.

The tokenizer is open_clip's own ``SimpleTokenizer``: its module (which
imports nothing of open_clip) is loaded from open_clip's folder without
running the package's ``__init__``, which imports everything. The light
tower runs on the CPU, whatever the device setting: one query takes 20-80 ms
there, less than moving the tower to a GPU would.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from photoseek.core.model import towerrecords
from photoseek.core.model.checkpoint import SAFETENSORS_SUFFIX, read_state_dict
from photoseek.core.model.noinit import random_initialisers_skipped
from photoseek.core.model.openclipfiles import open_clip_file
from photoseek.core.model.textcache import TextVector, TextVectorCache, is_truncated
from photoseek.core.records import ModelIdentity
from photoseek.core.vectors import codec as vectorcodec

if TYPE_CHECKING:
    from collections.abc import Callable

    import torch
    from PIL import Image

    from photoseek.core.model.embedder import Embedder, ModelSettings
    from photoseek.core.model.textspec import TextTowerSpec
    from photoseek.core.model.texttower import TextTower

log = logging.getLogger(__name__)

RECORD_FILE = "text-towers.json"
MIN_COSINE = 0.99999
PROBE_TEXTS = (
    "a photo of a dog on the beach",
    "Kölner Dom bei Nacht, 東京タワー, 🙂 #42 and a very long caption " * 3,
    "",
)


class QueryEncoder(Protocol):
    """What a search needs from a model: the loaded :class:`Embedder` or a :class:`TextFirst`."""

    @property
    def identity(self) -> ModelIdentity:
        """Which weights the vectors come from."""

    @property
    def image_size(self) -> int:
        """The side of the model's input images."""

    def encode_text(self, text: str) -> TextVector:
        """A text's unit vector."""

    def encode_image(self, image: Image.Image) -> vectorcodec.FloatArray:
        """An image's unit vector."""


class LightText(Protocol):
    """A text tower without the rest of the model: :class:`TextEncoder` (torch) or
    :class:`~.onnxtext.OnnxTextEncoder` (ONNX Runtime)."""

    @property
    def identity(self) -> ModelIdentity:
        """Which weights the vectors come from."""

    def encode_text(self, text: str) -> TextVector:
        """A text's unit vector."""


class TextFirst:
    """Texts through the light tower; images (rare in a first query) load the full model."""

    def __init__(self, text: LightText, full_model: Callable[[], Embedder]) -> None:
        self._text = text
        self._full_model = full_model

    @property
    def identity(self) -> ModelIdentity:
        """The light tower's identity: the full model's."""
        return self._text.identity

    @property
    def image_size(self) -> int:
        """The full model's input size (loads it)."""
        return self._full_model().image_size

    def encode_text(self, text: str) -> TextVector:
        """A text's unit vector, from the light tower."""
        return self._text.encode_text(text)

    def encode_image(self, image: Image.Image) -> vectorcodec.FloatArray:
        """An image's unit vector, from the full model (loads it)."""
        return self._full_model().encode_image(image)


class TextEncoder:
    """A query's text to a unit vector, with the light tower (thread-safe)."""

    def __init__(self, tower: TextTower, tokenizer: Any, identity: ModelIdentity) -> None:
        self.identity = identity
        self._tower = tower
        self._tokenizer = tokenizer
        self._lock = threading.Lock()
        self._cache = TextVectorCache()

    def encode_text(self, text: str) -> TextVector:
        """Embed a text (cached); CLIP's token limit truncates and is reported."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        with self._lock:
            result = TextVector(self.raw_vector(text), is_truncated(self._tokenizer, text))
        self._cache.put(text, result)
        return result

    @property
    def tower(self) -> TextTower:
        """The torch text tower."""
        return self._tower

    def tokens(self, text: str) -> torch.Tensor:
        """The token ids the tower reads for ``text``."""
        tokens: torch.Tensor = self._tokenizer([text])
        return tokens

    def raw_vector(self, text: str) -> vectorcodec.FloatArray:
        """The unit vector of ``text``, uncached."""
        import torch

        with torch.inference_mode():
            features = self._tower(self.tokens(text))
        return vectorcodec.first_row(vectorcodec.normalize(features.float().numpy()))


def load_text_encoder(settings: ModelSettings, models_dir: Path) -> LightText | None:
    """The light text encoder of ``settings``' model, or None where there is no exact one.

    The exported tower on ONNX Runtime where one was recorded and the runtime
    is installed, else the torch tower. Never downloads and never raises:
    None sends the caller to the full model.
    """
    try:
        found = _recorded(settings, models_dir)
        if found is None:
            return None
        file, spec, identity, record = found
        onnx = _onnx_encoder(record, spec, identity, models_dir)
        if onnx is not None:
            return onnx
        encoder = _build(file, spec, identity)
    except Exception:  # anything wrong here costs only the full model's load
        log.warning("the light text path failed; loading the full model", exc_info=True)
        return None
    log.info("text tower of %s loaded alone", identity.key)
    return encoder


def remember(embedder: Embedder, models_dir: Path) -> bool:
    """Record the light path for ``embedder``'s weights if it is exact; True when recorded."""
    file, spec = embedder.weights_file, embedder.text_spec
    if file is None or spec is None:
        return False
    records = towerrecords.read_records(models_dir / RECORD_FILE)
    known = records.get(embedder.identity.key)
    exported = isinstance(known, dict) and "onnx" in known
    if towerrecords.usable_file(known, file) is not None and (exported or not _can_export()):
        return True
    try:
        light = _build(file, spec, embedder.identity)
        exact = _agrees(light, embedder)
    except Exception:  # the light path is an optimisation: never fail the load
        log.warning("the text tower of %s cannot be run alone", file.name, exc_info=True)
        return False
    if not exact:
        log.warning("the text tower of %s alone differs from the full model: not used", file.name)
        return False
    record: dict[str, Any] = {
        **towerrecords.file_record(file),
        "dim": embedder.identity.dim,
        "spec": spec.to_json(),
    }
    if _can_export():
        # a failed export is recorded too, so that it is not tried again (5-10 s) at every
        # load of the same file; another weights file, or a later install of the runtime
        # (no entry yet), tries again
        record["onnx"] = _export_onnx(light, embedder, models_dir) or {"unusable": True}
    records[embedder.identity.key] = record
    try:
        towerrecords.write_records(models_dir / RECORD_FILE, records)
    except OSError as exc:
        log.warning("the light text path is not recorded: %s", exc)
        return False
    _drop_unrecorded_exports(records, models_dir)
    return True


def _drop_unrecorded_exports(records: dict[str, Any], models_dir: Path) -> None:
    """Delete exported towers no record names (weights replaced: 250 MB each for the default)."""
    from photoseek.core.model import onnxtext

    named = {
        str(record["onnx"].get("graph"))
        for record in records.values()
        if isinstance(record, dict) and isinstance(record.get("onnx"), dict)
    }
    onnxtext.drop_exports_except(models_dir, named)


def clip_tokenizer(context_length: int) -> Any:
    """open_clip's ``SimpleTokenizer``, without importing the rest of open_clip."""
    return open_clip_file("tokenizer").SimpleTokenizer(context_length=context_length)


def _recorded(
    settings: ModelSettings, models_dir: Path
) -> tuple[Path, TextTowerSpec, ModelIdentity, dict[str, Any]] | None:
    from photoseek.core.model.textspec import TextTowerSpec

    found = towerrecords.recorded_for(settings, models_dir, models_dir / RECORD_FILE)
    if found is None:
        return None
    file, record, (arch, pretrained, digest) = found
    identity = ModelIdentity(arch, pretrained, digest, int(record["dim"]))
    return file, TextTowerSpec.from_json(record["spec"]), identity, record


def _build(file: Path, spec: TextTowerSpec, identity: ModelIdentity) -> TextEncoder:
    from photoseek.core.model.texttower import TextTower

    with random_initialisers_skipped():  # every tensor comes from the file
        tower = TextTower(spec)
    tower.load_state_dict(_text_tensors(file), strict=True)
    tower.eval()
    return TextEncoder(tower, clip_tokenizer(spec.context_length), identity)


def _text_tensors(file: Path) -> dict[str, torch.Tensor]:
    from photoseek.core.model.textspec import is_text_key

    if file.suffix.lower() == SAFETENSORS_SUFFIX:  # read only the text tower's tensors
        from safetensors import safe_open

        with safe_open(str(file), framework="pt") as handle:
            names = [n for n in handle.keys() if is_text_key(n.removeprefix("module."))]  # noqa: SIM118
            return {n.removeprefix("module."): handle.get_tensor(n) for n in names}
    state = read_state_dict(file)  # the safe path: data only
    return {name: tensor for name, tensor in state.items() if is_text_key(name)}


def _agrees(light: TextEncoder, embedder: Embedder) -> bool:
    """Equal tokens and cosine >= MIN_COSINE with the full model on every probe text."""
    import torch

    for text in PROBE_TEXTS:
        if not torch.equal(light.tokens(text), embedder.text_tokens(text)):
            return False
        cosine = float(light.raw_vector(text) @ embedder.reference_text_vector(text))
        if cosine < MIN_COSINE:
            log.info("light text tower cosine %.7f on %r", cosine, text[:30])
            return False
    return True


def _can_export() -> bool:
    from photoseek.core.model import onnxtext

    return onnxtext.can_export()


def _export_onnx(light: TextEncoder, embedder: Embedder, models_dir: Path) -> dict[str, Any] | None:
    """The record entry of ``light``'s tower exported to ONNX and checked; None where not."""
    from photoseek.core.model import onnxtext

    try:
        return onnxtext.export_checked(
            light.tower,
            models_dir,
            embedder.identity,
            PROBE_TEXTS,
            lambda text: embedder.text_tokens(text)[0].tolist(),
            embedder.reference_text_vector,
        )
    except Exception:  # an optimisation: the torch tower stays
        log.warning("the text tower cannot be exported to ONNX", exc_info=True)
        return None


def _onnx_encoder(
    record: dict[str, Any], spec: TextTowerSpec, identity: ModelIdentity, models_dir: Path
) -> LightText | None:
    from photoseek.core.model import onnxtext

    try:
        return onnxtext.recorded_encoder(
            record.get("onnx"), spec.context_length, identity, models_dir
        )
    except Exception:  # a broken export costs only torch's import
        log.warning("the exported text tower failed; using the torch one", exc_info=True)
        return None
