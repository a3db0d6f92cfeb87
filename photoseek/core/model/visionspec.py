"""A plain CLIP image tower's hyperparameters and input transform, as data (no torch).

Apart from :mod:`.visiongraph` and :mod:`.onnxvision` (the tower's graph, and
its session) so that a recorded spec is read, and an image prepared,
without importing torch: the light image path (:mod:`.imagepath`) indexes
with neither torch nor open_clip.

*Plain* means open_clip's ``VisionTransformer`` as CLIP and most of its
successors use it: a patch convolution without bias, a class token, learned
positions, a LayerNorm before the blocks, pre-norm blocks of multi-head
attention and a GELU (or QuickGELU) MLP, the class token's LayerNorm and a
projection. Anything else (timm towers, attentional pooling, layer scale,
other norms or pooling) is not plain and runs on the full model only.

The transform is open_clip's evaluation one: resize (the shortest side to
the input size, then a centre crop; or a squash to the square), 8-bit RGB to
[0, 1], then the mean and standard deviation per channel.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from photoseek.core.lazyimport import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from PIL import Image
else:
    np = lazy_module("numpy")

VISION_PREFIX = "visual."
_PLAIN_VISION_KEYS = {"layers", "width", "head_width", "mlp_ratio", "patch_size", "image_size"}
_IGNORED_MODEL_KEYS = {"embed_dim", "vision_cfg", "text_cfg", "quick_gelu", "init_logit_scale"}
_INTERPOLATIONS = ("bicubic", "bilinear")
RESIZE_MODES = ("shortest", "squash")


@dataclass(frozen=True)
class VisionTowerSpec:
    """The hyperparameters of a plain CLIP ViT image tower."""

    image_size: int
    patch_size: int
    width: int
    layers: int
    heads: int
    mlp_ratio: float
    embed_dim: int
    quick_gelu: bool

    @property
    def grid(self) -> int:
        """Patches along a side."""
        return self.image_size // self.patch_size

    def to_json(self) -> dict[str, Any]:
        """The spec as JSON data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VisionTowerSpec:
        """A spec from :meth:`to_json`'s data (raises KeyError, TypeError or ValueError)."""
        return cls(
            image_size=int(data["image_size"]),
            patch_size=int(data["patch_size"]),
            width=int(data["width"]),
            layers=int(data["layers"]),
            heads=int(data["heads"]),
            mlp_ratio=float(data["mlp_ratio"]),
            embed_dim=int(data["embed_dim"]),
            quick_gelu=bool(data["quick_gelu"]),
        )


def plain_vision_spec(config: dict[str, Any], *, quick_gelu: bool) -> VisionTowerSpec | None:
    """The spec of an open_clip model config's image tower, or None if it is not a plain ViT."""
    vision = config.get("vision_cfg")
    if not isinstance(vision, dict) or set(config) - _IGNORED_MODEL_KEYS:
        return None
    if set(vision) - _PLAIN_VISION_KEYS or not isinstance(vision.get("layers", 12), int):
        return None  # ResNets (layers is a tuple), timm towers, pooling or norm variants ...
    try:
        width = int(vision.get("width", 768))
        head_width = int(vision.get("head_width", 64))
        image_size, patch_size = vision.get("image_size", 224), int(vision.get("patch_size", 16))
        if not isinstance(image_size, int) or image_size % patch_size or width % head_width:
            return None
        return VisionTowerSpec(
            image_size=image_size,
            patch_size=patch_size,
            width=width,
            layers=int(vision.get("layers", 12)),
            heads=width // head_width,
            mlp_ratio=float(vision.get("mlp_ratio", 4.0)),
            embed_dim=int(config["embed_dim"]),
            quick_gelu=quick_gelu or bool(config.get("quick_gelu", False)),
        )
    except (KeyError, TypeError, ValueError):
        return None


def is_vision_key(name: str) -> bool:
    """Whether a checkpoint tensor belongs to the image tower."""
    return name.startswith(VISION_PREFIX)


@dataclass(frozen=True)
class ImagePrep:
    """open_clip's evaluation transform for a model, without torchvision."""

    size: int
    resize: str  # one of RESIZE_MODES
    interpolation: str  # "bicubic" or "bilinear"
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def to_json(self) -> dict[str, Any]:
        """The transform as JSON data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImagePrep:
        """A transform from :meth:`to_json`'s data (raises KeyError, TypeError or ValueError)."""
        prep = cls(
            size=int(data["size"]),
            resize=str(data["resize"]),
            interpolation=str(data["interpolation"]),
            mean=_triple(data["mean"]),
            std=_triple(data["std"]),
        )
        if prep.resize not in RESIZE_MODES or prep.interpolation not in _INTERPOLATIONS:
            raise ValueError(f"unknown transform {prep}")
        return prep

    def __call__(self, image: Image.Image) -> npt.NDArray[np.float32]:
        """The model's (3, size, size) float32 input for an image (safe in worker threads)."""
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        fitted = self._crop(rgb.resize(self._resized_size(rgb.size), self._filter()))
        planes = np.asarray(fitted).transpose(2, 0, 1)  # bytes, channels first: a view
        scale, shift = self._affine()
        out: npt.NDArray[np.float32] = np.empty(planes.shape, np.float32)  # C-ordered
        np.multiply(planes, scale, out=out)
        out += shift  # (x / 255 - mean) / std in two passes, not five (0.2 against 0.85 ms)
        return out

    def _affine(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Per channel ``(scale, shift)`` with ``x * scale + shift == (x / 255 - mean) / std``."""
        std = np.asarray(self.std, np.float32).reshape(3, 1, 1)
        mean = np.asarray(self.mean, np.float32).reshape(3, 1, 1)
        return 1.0 / (std * 255.0), -mean / std

    def _filter(self) -> Image.Resampling:
        from PIL import Image

        return Image.Resampling[self.interpolation.upper()]

    def _resized_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """(width, height) after the resize, computed as torchvision computes it."""
        if self.resize == "squash":
            return self.size, self.size
        width, height = size
        short, long = (width, height) if width <= height else (height, width)
        new_long = int(self.size * long / short)
        return (self.size, new_long) if width <= height else (new_long, self.size)

    def _crop(self, image: Image.Image) -> Image.Image:
        """torchvision's centre crop (the resize leaves every side >= the input size)."""
        width, height = image.size
        if (width, height) == (self.size, self.size):
            return image
        top = round((height - self.size) / 2.0)
        left = round((width - self.size) / 2.0)
        return image.crop((left, top, left + self.size, top + self.size))


def prep_of_transform(transform: Any, spec: VisionTowerSpec) -> ImagePrep | None:
    """The :class:`ImagePrep` equal to an open_clip evaluation ``Compose``, or None.

    Read from the transform the model was loaded with (names and attributes,
    so torchvision is not imported here); an unknown shape gives None.
    """
    steps = list(getattr(transform, "transforms", []))
    names = [type(step).__name__ for step in steps]
    if names[-3:] != ["MaybeConvertMode", "MaybeToTensor", "Normalize"]:
        return None
    resize = steps[0] if names[:1] == ["Resize"] else None
    if resize is None or getattr(resize, "max_size", None) is not None:
        return None
    size, interpolation = resize.size, str(getattr(resize.interpolation, "value", ""))
    if names[1:-3] == ["CenterCrop"] and _is_int_size(size, spec.image_size):
        mode = "shortest"
        if list(steps[1].size) != [spec.image_size] * 2:
            return None
    elif names[1:-3] == [] and list(size) == [spec.image_size] * 2:
        mode = "squash"
    else:
        return None
    normalize = steps[-1]
    try:
        return ImagePrep.from_json(
            {
                "size": spec.image_size,
                "resize": mode,
                "interpolation": interpolation,
                "mean": list(normalize.mean),
                "std": list(normalize.std),
            }
        )
    except (KeyError, TypeError, ValueError):
        return None


def _is_int_size(size: object, expected: int) -> bool:
    if isinstance(size, int):
        return size == expected
    return isinstance(size, list | tuple) and list(size) == [expected]


def _triple(values: Any) -> tuple[float, float, float]:
    first, second, third = (float(v) for v in values)
    return first, second, third
