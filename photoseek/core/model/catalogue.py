"""The supported models: what each costs, how well it is published to do, and whether it is here.

Every figure below is a published one, cited next to it; a figure that is not
published is ``None`` and says so. Nothing here imports torch or open_clip:
``photoseek models`` and the settings window list the catalogue at once.

Sources, cited by these short names in the entries:

* ``profile``: open_clip's ``docs/model_profile.csv`` (mlfoundations/open_clip,
  commit f862f86c), column ``image_gflops``: the image tower's cost per image,
  in open_clip's own counting.
* ``results``: open_clip's ``docs/openclip_results.csv`` (same commit), column
  ``ImageNet 1k``: zero-shot top-1.
* ``retrieval``: open_clip's ``docs/openclip_retrieval_results.csv`` (same
  commit), columns ``MSCOCO image retr. R@1`` (text to image) and ``MSCOCO
  text retr. R@1`` (image to text), COCO 5k test set.

Figures are rounded to one decimal from the tables' four-decimal fractions.
The download size is the weights in float32: 4 bytes per parameter, with the
parameter count of ``profile`` (``mparams``) unless said otherwise; the hub's
files are that size (SigLIP's 203.16 M parameters are its 813 MB file,
NLLB-CLIP's 507.47 M its 2.03 GB one).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from photoseek.core.model.embedder import DEFAULT_ARCH, DEFAULT_PRETRAINED
from photoseek.core.model.weights import WEIGHT_SUFFIXES, dropin_name

__all__ = [
    "CATALOGUE",
    "CatalogueModel",
    "default_model",
    "default_weights",
    "find_model",
    "is_installed",
    "not_offered_models",
    "offered_models",
]

ENGLISH = "English"


@dataclass(frozen=True)
class CatalogueModel:
    """One open_clip model (architecture + pretrained tag) with its published figures.

    Percentages are in percent (72.8, not 0.728); ``None`` means not
    published (``source`` says where each figure comes from).
    ``needs_multilingual``: its tokenizer (or text tower) needs
    ``transformers``, the ``multilingual`` extra. ``offered``: listed for
    use; a model that is not offered says why in ``reason``.
    """

    arch: str
    pretrained: str
    role: str  # what it is for, in a few words
    image_size: int  # the image tower's input side
    image_gflops: float | None  # per image, open_clip's counting
    imagenet_top1: float | None  # zero-shot ImageNet-1k top-1, %
    coco_t2i_r1: float | None  # COCO 5k text-to-image Recall@1, %
    coco_i2t_r1: float | None  # COCO 5k image-to-text Recall@1, %
    source: str  # where the figures come from
    languages: str
    download_mb: int  # float32 weights, megabytes (10**6 bytes)
    licence: str  # of the weights
    hub_repo: str  # where open_clip downloads them (Hugging Face hub repository)
    needs_multilingual: bool = False
    offered: bool = True
    reason: str = ""  # why it is not offered

    @property
    def name(self) -> str:
        """``ARCH / TAG``, as the list shows it."""
        return f"{self.arch} / {self.pretrained}"

    @property
    def download_label(self) -> str:
        """The download size in MB or GB, as people read it."""
        if self.download_mb >= 1000:
            return f"{self.download_mb / 1000:.1f} GB"
        return f"{self.download_mb} MB"


CATALOGUE: tuple[CatalogueModel, ...] = (
    CatalogueModel(
        DEFAULT_ARCH,
        DEFAULT_PRETRAINED,
        role="the default: the best accuracy for its cost on a CPU",
        image_size=256,
        image_gflops=11.5,  # profile: ViT-B-32-256, image_gflops 11.5
        imagenet_top1=72.8,  # results: ViT-B-32-256,datacomp_s34b_b86k 0.7281
        coco_t2i_r1=39.9,  # retrieval: same row, 0.3993
        coco_i2t_r1=57.9,  # retrieval: same row, 0.5792
        source="open_clip docs/model_profile.csv, openclip_results.csv, "
        "openclip_retrieval_results.csv",
        languages=ENGLISH,
        download_mb=605,  # profile: 151.29 M parameters
        licence="MIT",  # model card of laion/CLIP-ViT-B-32-256x256-DataComp-s34B-b86K
        hub_repo="laion/CLIP-ViT-B-32-256x256-DataComp-s34B-b86K",
    ),
    CatalogueModel(
        "ViT-B-32",
        "datacomp_xl_s13b_b90k",
        role="faster: 0.77x the default's image cost",
        image_size=224,
        image_gflops=8.82,  # profile: ViT-B-32, image_gflops 8.82
        imagenet_top1=69.2,  # results: ViT-B-32,datacomp_xl_s13b_b90k 0.6917
        coco_t2i_r1=37.1,  # retrieval: same row, 0.3714
        coco_i2t_r1=53.5,  # retrieval: same row, 0.5354
        source="open_clip docs/model_profile.csv, openclip_results.csv, "
        "openclip_retrieval_results.csv",
        languages=ENGLISH,
        download_mb=605,  # profile: 151.28 M parameters
        licence="MIT",  # model card of laion/CLIP-ViT-B-32-DataComp.XL-s13B-b90K
        hub_repo="laion/CLIP-ViT-B-32-DataComp.XL-s13B-b90K",
    ),
    CatalogueModel(
        "ViT-B-16",
        "datacomp_xl_s13b_b90k",
        role="more accurate: 3.1x the default's image cost",
        image_size=224,
        image_gflops=35.13,  # profile: ViT-B-16, image_gflops 35.13
        imagenet_top1=73.5,  # results: ViT-B-16,datacomp_xl_s13b_b90k 0.7349
        coco_t2i_r1=40.2,  # retrieval: same row, 0.4016
        coco_i2t_r1=57.4,  # retrieval: same row, 0.5744
        source="open_clip docs/model_profile.csv, openclip_results.csv, "
        "openclip_retrieval_results.csv",
        languages=ENGLISH,
        download_mb=599,  # profile: 149.62 M parameters
        licence="MIT",  # model card of laion/CLIP-ViT-B-16-DataComp.XL-s13B-b90K
        hub_repo="laion/CLIP-ViT-B-16-DataComp.XL-s13B-b90K",
    ),
    CatalogueModel(
        "ViT-B-16-SigLIP2",
        "webli",
        role="the quality option: 3.1x the default's image cost",
        image_size=224,
        # not in open_clip's profile; its image tower (timm vit_base_patch16_siglip_224, MAP
        # pooling) is ViT-B-16-SigLIP's, whose profile row gives 35.42 (92.88 M parameters
        # there and counted here for SigLIP 2 alike)
        image_gflops=35.42,
        # the SigLIP 2 paper (Tschannen et al. 2025, arXiv:2502.14786, Table 1) and its
        # checkpoint table (google-research/big_vision, configs/proj/image_text/
        # README_siglip2.md), row "SigLIP 2 B/16 224": INet 0-shot 78.2, COCO T->I 52.1,
        # I->T 68.9; for Google's checkpoint: open_clip's tables do not list this model
        imagenet_top1=78.2,
        coco_t2i_r1=52.1,
        coco_i2t_r1=68.9,
        source="SigLIP 2 paper (arXiv:2502.14786) Table 1 and big_vision README_siglip2.md; "
        "GFLOPs: open_clip model_profile.csv row ViT-B-16-SigLIP (the same image tower)",
        languages="multilingual (WebLI, Gemma tokenizer); figures are English benchmarks",
        download_mb=1501,  # 375.19 M parameters, counted on the architecture here
        licence="Apache-2.0",  # Google's SigLIP 2 model cards (google/siglip2-base-patch16-*)
        hub_repo="timm/ViT-B-16-SigLIP2",
        needs_multilingual=True,  # the Gemma tokenizer is a transformers one
    ),
    CatalogueModel(
        "xlm-roberta-base-ViT-B-32",
        "laion5b_s13b_b90k",
        role="multilingual search (quality unverified here)",
        image_size=224,
        image_gflops=8.82,  # profile: xlm-roberta-base-ViT-B-32, image_gflops 8.82
        imagenet_top1=62.4,  # results: xlm-roberta-base-ViT-B-32,laion5b_s13b_b90k 0.6236
        coco_t2i_r1=37.8,  # retrieval: same row, 0.3778
        coco_i2t_r1=53.5,  # retrieval: same row, 0.5354
        source="open_clip docs/model_profile.csv, openclip_results.csv, "
        "openclip_retrieval_results.csv (English benchmarks; open_clip's "
        "openclip_multilingual_retrieval_results.csv has other languages)",
        languages="multilingual (XLM-RoBERTa's 100 languages; trained on LAION-5B)",
        download_mb=1464,  # profile: 366.12 M parameters
        licence="MIT",  # model card of laion/CLIP-ViT-B-32-xlm-roberta-base-laion5B-s13B-b90k
        hub_repo="laion/CLIP-ViT-B-32-xlm-roberta-base-laion5B-s13B-b90k",
        needs_multilingual=True,  # a transformers text tower and tokenizer
    ),
    CatalogueModel(
        "ViT-L-14",
        "datacomp_xl_s13b_b90k",
        role="for a GPU: 14x the default's image cost",
        image_size=224,
        image_gflops=162.03,  # profile: ViT-L-14, image_gflops 162.03
        imagenet_top1=79.2,  # results: ViT-L-14,datacomp_xl_s13b_b90k 0.7921
        coco_t2i_r1=45.7,  # retrieval: same row, 0.4573
        coco_i2t_r1=63.3,  # retrieval: same row, 0.6330
        source="open_clip docs/model_profile.csv, openclip_results.csv, "
        "openclip_retrieval_results.csv",
        languages=ENGLISH,
        download_mb=1710,  # profile: 427.62 M parameters
        licence="MIT",  # model card of laion/CLIP-ViT-L-14-DataComp.XL-s13B-b90K
        hub_repo="laion/CLIP-ViT-L-14-DataComp.XL-s13B-b90K",
    ),
    CatalogueModel(
        "nllb-clip-base-siglip",
        "v1",
        role="multilingual, 201 languages",
        image_size=384,
        image_gflops=112.13,  # profile: nllb-clip-base-siglip, image_gflops 112.13
        imagenet_top1=39.1,  # results: nllb-clip-base-siglip,v1 0.3909
        coco_t2i_r1=43.2,  # retrieval: same row, 0.4315
        coco_i2t_r1=51.2,  # retrieval: same row, 0.5116
        source="open_clip docs/model_profile.csv, openclip_results.csv, "
        "openclip_retrieval_results.csv",
        languages="multilingual (NLLB's 201 Flores-200 languages)",
        download_mb=2030,  # profile: 507.47 M parameters (the hub's file: 2.03 GB)
        licence="CC-BY-NC-4.0",  # model card of visheratin/nllb-clip-base-siglip
        hub_repo="visheratin/nllb-clip-base-siglip",
        needs_multilingual=True,
        offered=False,
        reason="its weights are licensed CC-BY-NC-4.0: non-commercial use only",
    ),
    CatalogueModel(
        "MobileCLIP-S2",
        "datacompdr",
        role="fast mobile model",
        image_size=256,
        image_gflops=None,  # not in open_clip's model_profile.csv
        # apple/ml-mobileclip results/mobileclip_s2.jsonl: imagenet1k acc1 0.74438,
        # mscoco_2014_5k image_retrieval_recall@1 0.4537, text_retrieval_recall@1 0.6336
        imagenet_top1=74.4,
        coco_t2i_r1=45.4,
        coco_i2t_r1=63.4,
        source="apple/ml-mobileclip results/mobileclip_s2.jsonl",
        languages=ENGLISH,
        download_mb=397,  # 99.24 M parameters, counted on the architecture here
        licence="Apple Machine Learning Research Model licence (apple-amlr)",
        hub_repo="apple/MobileCLIP-S2-OpenCLIP",
        offered=False,
        reason="Apple's MobileCLIP (and MobileCLIP2) weights are licensed for research use "
        "only (apple/ml-mobileclip LICENSE_MODELS): no use in a product",
    ),
)


def offered_models() -> tuple[CatalogueModel, ...]:
    """The models offered for use, the default first."""
    return tuple(model for model in CATALOGUE if model.offered)


def not_offered_models() -> tuple[CatalogueModel, ...]:
    """Models listed for reference that are not offered (each says why)."""
    return tuple(model for model in CATALOGUE if not model.offered)


def default_model() -> CatalogueModel:
    """The default model (the catalogue's first entry)."""
    return CATALOGUE[0]


def find_model(arch: str, pretrained: str) -> CatalogueModel | None:
    """The catalogue's entry for ``arch`` + ``pretrained``, or None."""
    for model in CATALOGUE:
        if (model.arch, model.pretrained) == (arch, pretrained):
            return model
    return None


def default_weights(arch: str) -> str | None:
    """The pretrained tag the catalogue offers for ``arch`` (its first offered one), or None."""
    for model in offered_models():
        if model.arch == arch:
            return model.pretrained
    return None


def is_installed(model: CatalogueModel, models_dir: Path) -> bool:
    """Whether ``model``'s weights are on this computer (no torch, no network).

    Looks where :mod:`.weights` finds them: the drop-in file
    ``<models_dir>/<arch>-<tag>.<suffix>`` (where downloads are saved), then
    a file an older photoseek downloaded into the Hugging Face cache layout
    under ``models_dir``.
    """
    from photoseek.core.model.download import hub_file_names  # filelock: not at app start

    for suffix in WEIGHT_SUFFIXES:
        if (models_dir / dropin_name(model.arch, model.pretrained, suffix)).is_file():
            return True
    repo, names = hub_file_names(model.hub_repo + "/")
    snapshots = models_dir / f"models--{repo.replace('/', '--')}" / "snapshots"
    try:
        revisions = [entry for entry in snapshots.iterdir() if entry.is_dir()]
    except OSError:  # no such folder: never downloaded that way
        return False
    return any((revision / name).is_file() for revision in revisions for name in names)
