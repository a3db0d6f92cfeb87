"""The light image path: index photos on ONNX Runtime, without torch or open_clip.

Indexing needs the image tower and its input transform, nothing else of the
model. On a 2-core CPU, ``import torch`` and ``import open_clip`` and
building the full model cost 6-8 s and 1.3 GB before the first photo; the
light path (:mod:`.onnxvision`, :mod:`.visionspec`) costs reading the image
tower's 350 MB of weights and planning a session, about a second, and runs
the tower as fast as torch does (the side-by-side benchmark prints both).

It is used only where it has been shown to be exact, as the light text path
is (:mod:`.textpath`): each time the full model loads from a safetensors
weights file whose image tower is a plain ViT, :func:`remember` builds the
light tower from that file, prepares probe images with both transforms and
encodes them with both towers, and records the spec and the transform in
``image-towers.json`` in the models folder only if the pixels agree to
:data:`MAX_PIXEL_ERROR` and every vector has cosine >= :data:`MIN_COSINE`
with the full model's. The record also holds the least cosine to the float32
tower on the probes of both int8 graphs (:mod:`.visiongraph`): the fast mode
(``precision="int8"``) runs ``int8-full`` (every matrix int8, the fastest)
where its cosine is at least :data:`MIN_INT8_FULL_COSINE`, else ``int8``
(the MLP alone) where that one's is at least :data:`MIN_INT8_COSINE`, and is
refused otherwise. The graph chosen names the vectors' identity
(:func:`precision_tag`), so the two int8 graphs never mix either. The
stricter bar for ``int8-full`` is a margin: on the CPU where it fell short,
real photos came out below the probes (least cosine 0.984 over 363 COCO
photos).

:func:`load_image_encoder` uses a record only for the same identity and the
same unchanged file; anything else, or any failure, returns None and the
caller loads the full model. ``PHOTOSEEK_IMAGE_RUNTIME=torch`` keeps the
light path unused (to compare, or to rule it out), and so does a GPU the
model may run on (:mod:`.accelerators`): there the full model embeds.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from photoseek.core.errors import ModelUnavailableError
from photoseek.core.model import accelerators, towerrecords
from photoseek.core.model.checkpoint import SAFETENSORS_SUFFIX
from photoseek.core.model.visionspec import ImagePrep, VisionTowerSpec, is_vision_key
from photoseek.core.records import ModelIdentity
from photoseek.core.vectors import codec as vectorcodec

if TYPE_CHECKING:
    from collections.abc import Callable

    from PIL import Image

    from photoseek.core.model.embedder import Embedder, ModelSettings
    from photoseek.core.model.mappedtensors import MappedTensors
    from photoseek.core.model.onnxvision import OnnxImageTower
    from photoseek.core.model.textcache import TextVector
    from photoseek.core.model.textpath import QueryEncoder

log = logging.getLogger(__name__)

RECORD_FILE = "image-towers.json"
GRAPH_FOLDER = "image-onnx"  # the towers' graphs without weights (100 KB each)
MIN_COSINE = 0.9999
MAX_PIXEL_ERROR = 1e-4
MIN_INT8_COSINE = 0.99
MIN_INT8_FULL_COSINE = 0.995
RUNTIME_VARIABLE = "PHOTOSEEK_IMAGE_RUNTIME"
FP32, INT8, INT8_FULL = "fp32", "int8", "int8-full"
PRECISIONS = (FP32, INT8)  # what a user chooses
TAGS = (INT8, INT8_FULL)  # what names the vectors of a precision other than fp32
_PROBE_SIZES = ((300, 200), (200, 517), (256, 256), (40, 30), (1024, 683))


class ImageEncoder(Protocol):
    """What indexing needs from a model: an :class:`Embedder` or a :class:`LightImageEncoder`."""

    @property
    def identity(self) -> ModelIdentity:
        """Which weights (and precision) the vectors come from."""

    @property
    def image_size(self) -> int:
        """The side of the model's input images."""

    def preprocess(self, image: Image.Image) -> Any:
        """The model's input for one image (safe in worker threads)."""

    def encode_images(self, tensors: Sequence[Any]) -> vectorcodec.FloatArray:
        """Unit vectors of preprocessed images."""


def precision_identity(identity: ModelIdentity, precision: str) -> ModelIdentity:
    """The identity of vectors made at ``precision`` (a tag of :data:`TAGS`, or fp32, which
    keeps the model's own).

    The precision is named in the architecture, the key's first part (an
    index file's name is cut at 120 characters from the end), so that int8
    vectors never share a catalog model, an index or a tag space with float32 ones.
    """
    if precision == FP32:
        return identity
    return ModelIdentity(
        f"{identity.arch}+{precision}", identity.pretrained, identity.digest, identity.dim
    )


def base_arch(arch: str) -> str:
    """An architecture name without its precision (``ViT-B-32+int8`` -> ``ViT-B-32``)."""
    name, _, precision = arch.rpartition("+")
    return name if name and precision in TAGS else arch


def fast_graph(record: dict[str, Any]) -> str | None:
    """The int8 graph a record allows (``int8-full`` before ``int8``), or None: neither."""
    if float(record.get("int8_full_cosine", 0.0)) >= MIN_INT8_FULL_COSINE:
        return INT8_FULL
    if float(record.get("int8_cosine", 0.0)) >= MIN_INT8_COSINE:
        return INT8
    return None


def precision_tag(settings: ModelSettings, models_dir: Path) -> str:
    """What names ``settings``' vectors: fp32, or the int8 graph its record allows.

    Before a record exists (the first full-model load makes it) or where it
    allows neither graph, the fast mode is tagged ``int8``: nothing is
    embedded under it then, as :func:`load_image_encoder` refuses.
    """
    if settings.precision == FP32:
        return FP32
    found = _recorded(settings, models_dir)
    graph = fast_graph(found[1]) if found is not None else None
    return graph or INT8


class LightImageEncoder:
    """Images to unit vectors with the image tower alone, on ONNX Runtime (thread-safe).

    The tower loads in a thread of its own from the start (reading the
    weights and planning the session, about a second), while the caller
    decodes the first photos: only the first :meth:`encode_images` waits for
    it. A tower that fails to load raises :class:`ModelUnavailableError`
    there, and its record is dropped so that the next start loads the full
    model instead.
    """

    def __init__(
        self,
        load: Callable[[], OnnxImageTower],
        spec: VisionTowerSpec,
        prep: ImagePrep,
        identity: ModelIdentity,
        precision: str = FP32,
        on_failure: Callable[[], None] | None = None,
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.identity = identity
        self.image_size = spec.image_size
        self.precision = precision
        self._prep = prep
        self._on_failure = on_failure
        self._load_times: tuple[float, float] | None = None
        loader = ThreadPoolExecutor(1, "image-tower")
        self._tower = loader.submit(self._timed, load)
        loader.shutdown(wait=False)  # its one thread ends with the load

    def _timed(self, load: Callable[[], OnnxImageTower]) -> OnnxImageTower:
        wall, cpu = time.perf_counter(), time.thread_time()
        tower = load()
        self._load_times = (time.perf_counter() - wall, time.thread_time() - cpu)
        return tower

    def load_times(self) -> tuple[float, float] | None:
        """``(wall, CPU)`` seconds the tower's load took, once it has loaded (the session
        is planned on the loading thread, so its CPU time is the load's)."""
        return self._load_times

    def tower(self) -> OnnxImageTower:
        """The loaded tower (waits for the load)."""
        try:
            return self._tower.result()
        except Exception as exc:
            if self._on_failure is not None:
                self._on_failure()
            raise ModelUnavailableError(
                f"the image tower could not be loaded on ONNX Runtime ({exc}); the next start "
                f"loads the full model (or set {RUNTIME_VARIABLE}=torch)"
            ) from exc

    def cpu_seconds(self) -> float:
        """CPU seconds the tower has spent encoding so far (every thread that ran it)."""
        return self.tower().cpu_seconds()

    def preprocess(self, image: Image.Image) -> Any:
        """The (3, S, S) float32 input (open_clip's transform, without torchvision)."""
        return self._prep(image)

    def encode_images(self, tensors: Sequence[Any]) -> vectorcodec.FloatArray:
        """Unit vectors (n, dim) of prepared images."""
        import numpy as np

        return self.tower().encode(np.stack(list(tensors)))

    def encode_image(self, image: Image.Image) -> vectorcodec.FloatArray:
        """One decoded image's unit vector."""
        return vectorcodec.first_row(self.encode_images([self.preprocess(image)]))


class MixedQueries:
    """The fast mode's queries: texts through the float32 text path, images through the
    int8 image tower, under the int8 identity (the text tower is the same in both)."""

    def __init__(
        self, text: QueryEncoder, image: Callable[[], ImageEncoder], precision: str
    ) -> None:
        self._text = text
        self._image = image
        self.identity = precision_identity(text.identity, precision)

    @property
    def image_size(self) -> int:
        """The image tower's input size (loads it)."""
        return self._image().image_size

    def encode_text(self, text: str) -> TextVector:
        """A text's unit vector."""
        return self._text.encode_text(text)

    def encode_image(self, image: Image.Image) -> vectorcodec.FloatArray:
        """An image's unit vector, from the int8 tower (loads it)."""
        encoder = self._image()
        return vectorcodec.first_row(encoder.encode_images([encoder.preprocess(image)]))


def runtime_available() -> bool:
    """Whether ONNX Runtime is installed and not switched off."""
    if os.environ.get(RUNTIME_VARIABLE, "").strip().lower() == "torch":
        return False
    from photoseek.core.model import onnxvision

    return onnxvision.can_run()


def load_image_encoder(
    settings: ModelSettings, models_dir: Path, precision: str = FP32
) -> LightImageEncoder | None:
    """The light image encoder of ``settings``' model, or None where there is no exact one.

    Never downloads. Raises :class:`ModelUnavailableError` only for an int8
    request the record refuses (its probes' cosine below
    :data:`MIN_INT8_COSINE`); any other problem returns None, sending the
    caller to the full model.
    """
    if precision not in PRECISIONS:
        raise ModelUnavailableError(f"unknown precision {precision!r} (use fp32 or int8)")
    if precision == FP32 and not accelerators.runs_on_cpu(settings.device):
        return None  # a GPU embeds faster: the full model runs there
    if precision != FP32 and settings.device in ("cuda", "mps"):
        raise ModelUnavailableError(
            f"the {precision} fast mode runs on the CPU; on {settings.device} index at fp32 "
            "(or pass --device cpu)"
        )
    found = _recorded(settings, models_dir)
    if found is None or not runtime_available():
        return None
    file, record, identity = found
    graph = FP32 if precision == FP32 else fast_graph(record)
    if graph is None:
        raise ModelUnavailableError(
            f"the int8 image tower of {file.name} is not close enough to float32 on this "
            f"computer (cosine {float(record.get('int8_cosine', 0.0)):.4f} < {MIN_INT8_COSINE}); "
            "index at fp32"
        )
    try:
        spec = VisionTowerSpec.from_json(record["spec"])
        prep = ImagePrep.from_json(record["prep"])
    except (KeyError, TypeError, ValueError):  # a damaged record costs only the full model
        log.warning("the light image path's record is damaged; loading the full model")
        return None

    def load() -> OnnxImageTower:
        tower = _build_tower(spec, vision_tensors(file), graph, models_dir)
        log.info("image tower of %s loaded alone on ONNX Runtime (%s)", identity.key, graph)
        return tower

    return LightImageEncoder(
        load,
        spec,
        prep,
        precision_identity(identity, graph),
        graph,
        on_failure=lambda: forget(identity.key, models_dir),
    )


def forget(key: str, models_dir: Path) -> None:
    """Drop the record of ``key`` (its tower failed to load: the full model stands in)."""
    records = read_records(models_dir)
    if records.pop(key, None) is not None:
        try:
            towerrecords.write_records(models_dir / RECORD_FILE, records)
        except OSError as exc:
            log.warning("the failed light image path stays recorded: %s", exc)


def has_light_path(settings: ModelSettings, models_dir: Path) -> bool:
    """Whether these weights' image tower has been recorded exact and runs alone here (on the
    CPU: where a GPU may take the model, indexing loads the full model)."""
    on_cpu = settings.precision != FP32 or accelerators.runs_on_cpu(settings.device)
    return on_cpu and _recorded(settings, models_dir) is not None and runtime_available()


def remember(embedder: Embedder, models_dir: Path) -> bool:
    """Record the light image path for ``embedder``'s weights if it is exact; True when recorded."""
    file = embedder.weights_file
    if file is None or file.suffix.lower() != SAFETENSORS_SUFFIX or not runtime_available():
        return False
    records = read_records(models_dir)
    known = records.get(embedder.identity.key)
    if towerrecords.usable_file(known, file) is not None and _current(known):
        return True
    try:
        record = _checked_record(embedder, file, models_dir)
    except Exception:  # an optimisation: never fail the load
        log.warning("the image tower of %s cannot run alone", file.name, exc_info=True)
        return False
    if record is None:
        return False
    records[embedder.identity.key] = record
    try:
        towerrecords.write_records(models_dir / RECORD_FILE, records)
    except OSError as exc:
        log.warning("the light image path is not recorded: %s", exc)
        return False
    log.info("light image path recorded for %s", embedder.identity.key)
    return True


def _checked_record(embedder: Embedder, file: Path, models_dir: Path) -> dict[str, Any] | None:
    """The record of ``embedder``'s light image path, or None where it is not exact."""
    from photoseek.core.model.visiongraph import GRAPH_VERSION
    from photoseek.core.model.visionspec import prep_of_transform

    spec = embedder.vision_spec
    prep = prep_of_transform(embedder.transform, spec) if spec is not None else None
    if spec is None or prep is None:
        log.info("the image tower of %s is not a plain ViT: no light image path", file.name)
        return None
    images = probe_images()
    weights = vision_tensors(file)
    full = [embedder.preprocess(image).numpy() for image in images]
    light = [prep(image) for image in images]
    error = max(float(abs(a - b).max()) for a, b in zip(full, light, strict=True))
    reference = embedder.encode_images([embedder.preprocess(image) for image in images])
    fp32 = _encode(_build_tower(spec, weights, FP32, models_dir), light)
    cosine = _least_cosine(reference, fp32)
    int8 = _least_cosine(fp32, _encode(_build_tower(spec, weights, INT8, models_dir), light))
    int8_full = _least_cosine(
        fp32, _encode(_build_tower(spec, weights, INT8_FULL, models_dir), light)
    )
    if error > MAX_PIXEL_ERROR or cosine < MIN_COSINE:
        log.warning(
            "the light image path of %s differs (pixels %.2g, cosine %.6f): not used",
            file.name,
            error,
            cosine,
        )
        return None
    return {
        **towerrecords.file_record(file),
        "dim": embedder.identity.dim,
        "spec": spec.to_json(),
        "prep": prep.to_json(),
        "cosine": round(cosine, 7),
        "int8_cosine": round(int8, 5),
        "int8_full_cosine": round(int8_full, 5),
        "graph": GRAPH_VERSION,
    }


def probe_images() -> list[Image.Image]:
    """Deterministic test pictures of several shapes: gradients, edges and noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    images = []
    for width, height in _PROBE_SIZES:
        y, x = np.mgrid[0:height, 0:width]
        base = np.stack([x * 255 / width, y * 255 / height, (x + y) % 64 * 4], axis=-1)
        noisy = base + rng.normal(0, 24, base.shape)
        images.append(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB"))
    return images


def vision_tensors(file: Path) -> MappedTensors:
    """The image tower's tensors of a safetensors file, mapped read-only (see
    :mod:`.mappedtensors`), named without a ``module.`` prefix."""
    from photoseek.core.model.mappedtensors import MappedTensors

    return MappedTensors(
        file,
        wanted=lambda name: is_vision_key(name.removeprefix("module.")),
        rename=lambda name: name.removeprefix("module."),
    )


def _build_tower(
    spec: VisionTowerSpec, weights: Mapping[str, Any], precision: str, models_dir: Path
) -> OnnxImageTower:
    from photoseek.core.model.onnxvision import OnnxImageTower

    return OnnxImageTower(spec, weights, precision, graph_cache=models_dir / GRAPH_FOLDER)


def _encode(tower: OnnxImageTower, pixels: list[Any]) -> vectorcodec.FloatArray:
    import numpy as np

    return tower.encode(np.stack(pixels))


def _least_cosine(a: vectorcodec.FloatArray, b: vectorcodec.FloatArray) -> float:
    return float((a * b).sum(axis=1).min())


def _recorded(
    settings: ModelSettings, models_dir: Path
) -> tuple[Path, dict[str, Any], ModelIdentity] | None:
    found = towerrecords.recorded_for(settings, models_dir, models_dir / RECORD_FILE)
    if found is None:
        return None
    file, record, (arch, pretrained, digest) = found
    if not _current(record):
        return None
    try:
        identity = ModelIdentity(arch, pretrained, digest, int(record["dim"]))
    except (KeyError, TypeError, ValueError):
        return None
    return file, record, identity


def _current(record: object) -> bool:
    """Whether a record vouches for the graphs this version builds: one made for another
    :data:`~.visiongraph.GRAPH_VERSION` (or before int8-full existed) is checked again at the
    next full-model load (once, after an upgrade), as if absent."""
    from photoseek.core.model.visiongraph import GRAPH_VERSION

    return (
        isinstance(record, dict)
        and "int8_full_cosine" in record
        and record.get("graph") == GRAPH_VERSION
    )


def read_records(models_dir: Path) -> dict[str, Any]:
    """Every recorded light image path in ``models_dir`` (by identity key)."""
    return towerrecords.read_records(models_dir / RECORD_FILE)
