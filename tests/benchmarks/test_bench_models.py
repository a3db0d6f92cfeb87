"""Each offered catalogue model's speed on this CPU: image-tower images/s and text-query ms.

    python -m pytest -m benchmark -s tests/benchmarks/test_bench_models.py

For every offered model of :mod:`photoseek.core.model.catalogue`, the real
architecture with random weights (the same cost as the real weights) is
loaded on the CPU through the product's own ``load_embedder``, and:

* **images/s**: the image tower alone (``Embedder.encode_images``), torch
  float32, batches of ``BATCH`` random images at the model's input size
  (decoding and preprocessing excluded), after one untimed warm-up batch;
  the fastest of ``ROUNDS`` batches (``ROUNDS_LARGE`` for ViT-L-14, to keep
  it affordable);
* **query ms**: one text query through the text tower photoseek uses once the
  model is loaded (for the plain CLIP text towers, the shared tower that stops
  at the end of the text), the fastest of ``QUERIES`` after two warm-ups.

The fastest run, not the median, because the development machines are shared
with other work (a second process on one of two cores more than doubles a
two-thread torch call): the fastest is the run least disturbed. The medians
go into each model's note, with the load average at the start.

The model hub cannot be reached here, and open_clip fetches some text-side
files from it even for random weights: XLM-RoBERTa's ``transformers`` config
and the Hugging Face tokenizers (XLM-RoBERTa's, SigLIP 2's Gemma one). So
XLM-RoBERTa's config is built locally from its published sizes (checked
against the text tower's parameter count in open_clip's model_profile.csv),
and those models' tokenizers are replaced by synthetic token ids of a short
query padded to the context length, which cost the towers what real ids cost
(the towers run every position). Search *quality* of the multilingual models
is not measured and is unverified here.

Models whose text side needs ``transformers`` are measured only where the
``multilingual`` extra is installed (elsewhere they are skipped and reported).
When every offered model was measured (and ``PHOTOSEEK_BENCH_MODELS`` does not
pick a subset), the results go to ``photoseek/core/model/measured_speeds.json``
with the machine, which ``photoseek models`` shows. The machine may be shared
with other work: the load average at the start is recorded with the figures.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from photoseek.core.model.catalogue import CatalogueModel, offered_models
from photoseek.core.model.embedder import Embedder, ModelSettings, load_embedder
from photoseek.core.model.extras import missing_multilingual_modules
from photoseek.core.model.measuredspeeds import (
    SPEEDS_FILE,
    MeasuredSpeed,
    write_measured_speeds,
)
from tests.benchmarks.conftest import print_table

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(3600)]

BATCH = 8
ROUNDS = int(os.environ.get("PHOTOSEEK_BENCH_ROUNDS", "8"))
ROUNDS_LARGE = 3  # ViT-L-14: 14x the default's image cost
QUERIES = 20
QUERY = "a photo of a dog on the beach"
SYNTHETIC_QUERY_TOKENS = 9  # about what QUERY costs in a subword vocabulary
CHOSEN = [a for a in os.environ.get("PHOTOSEEK_BENCH_MODELS", "").split(",") if a]
# open_clip's model_profile.csv (mlfoundations/open_clip docs, text_mparams): the check that
# the locally built transformers config is the published architecture
PUBLISHED_TEXT_MPARAMS = {"xlm-roberta-base-ViT-B-32": 278.27}


def _xlm_roberta_base_config() -> Any:
    """xlm-roberta-base's published sizes (its hub config.json; Conneau et al. 2020, Table 7).

    12 layers, hidden 768, 12 heads, MLP 3072, a 250,002-token vocabulary,
    514 positions, one token type; RoBERTa's special ids (bos 0, pad 1, eos 2).
    """
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(
        vocab_size=250002,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        hidden_act="gelu",
        max_position_embeddings=514,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )


LOCAL_HF_CONFIGS: dict[str, Callable[[], Any]] = {"xlm-roberta-base": _xlm_roberta_base_config}


class _LocalConfigs:
    """Stands in for ``transformers.AutoConfig`` inside open_clip: configs built here."""

    @staticmethod
    def from_pretrained(name: str, *args: object, **kwargs: object) -> Any:
        if name not in LOCAL_HF_CONFIGS:
            raise RuntimeError(f"no local transformers config for {name} (the hub is offline)")
        return LOCAL_HF_CONFIGS[name]()


class SyntheticTokenizer:
    """Token ids of a short query, padded to the context length: what a real tokenizer gives.

    The text is ignored: the towers' cost depends on the ids' shape only.
    """

    def __init__(self, context_length: int, vocab_size: int, specials: tuple[int, int, int]):
        self.context_length = context_length
        self.vocab_size = vocab_size
        self.bos, self.eos, self.pad = specials

    def __call__(self, texts: str | Sequence[str], context_length: int | None = None) -> Any:
        import torch

        count = 1 if isinstance(texts, str) else len(texts)
        length = context_length or self.context_length
        generator = torch.Generator().manual_seed(0)
        ids = torch.full((count, length), self.pad, dtype=torch.long)
        shape = (count, SYNTHETIC_QUERY_TOKENS)
        words = torch.randint(10, self.vocab_size, shape, generator=generator)
        ids[:, 0] = self.bos
        ids[:, 1 : 1 + SYNTHETIC_QUERY_TOKENS] = words
        ids[:, 1 + SYNTHETIC_QUERY_TOKENS] = self.eos
        return ids


def _hf_tokenizer_stand_in(arch: str) -> SyntheticTokenizer | None:
    """A synthetic tokenizer for a model whose tokenizer comes from the hub; None otherwise."""
    import open_clip

    text = (open_clip.get_model_config(arch) or {}).get("text_cfg", {})
    if not text.get("hf_tokenizer_name"):
        return None
    if text.get("hf_model_name"):  # a transformers tower: its config gives the sizes
        config = _LocalConfigs.from_pretrained(text["hf_model_name"])
        specials = (config.bos_token_id, config.eos_token_id, config.pad_token_id)
        return SyntheticTokenizer(int(text.get("context_length", 77)), config.vocab_size, specials)
    # open_clip's own tower with a hub tokenizer (SigLIP 2's Gemma: bos 2, eos 1, pad 0)
    return SyntheticTokenizer(int(text["context_length"]), int(text["vocab_size"]), (2, 1, 0))


def _load(
    model: CatalogueModel, monkeypatch: pytest.MonkeyPatch, models_dir: Path
) -> tuple[Embedder, str]:
    """The model with random weights through ``load_embedder``; and how its text is tokenised."""
    import open_clip
    import open_clip.hf_model

    monkeypatch.setattr(open_clip.hf_model, "AutoConfig", _LocalConfigs)
    stand_in = _hf_tokenizer_stand_in(model.arch)
    real_get_tokenizer = open_clip.get_tokenizer
    if stand_in is not None:

        def get_tokenizer(name: str, *args: Any, **kwargs: Any) -> Any:
            return stand_in if name == model.arch else real_get_tokenizer(name, *args, **kwargs)

        monkeypatch.setattr(open_clip, "get_tokenizer", get_tokenizer)
    embedder = load_embedder(ModelSettings(model.arch, "none", "cpu"), models_dir)
    tokens = "synthetic ids (hub tokenizer)" if stand_in is not None else "open_clip's tokenizer"
    return embedder, tokens


def _images_per_s(embedder: Embedder, rounds: int) -> tuple[float, float]:
    """(best, median) images a second of the image tower."""
    import torch

    size = embedder.image_size
    generator = torch.Generator().manual_seed(0)
    batch = [torch.randn(3, size, size, generator=generator) for _ in range(BATCH)]
    embedder.encode_images(batch)  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        embedder.encode_images(batch)
        times.append(time.perf_counter() - start)
    return BATCH / min(times), BATCH / statistics.median(times)


def _query_ms(embedder: Embedder) -> tuple[float, float]:
    """(best, median) milliseconds of one text query."""
    for _ in range(2):
        embedder.text_vector_uncached(QUERY)
    times = []
    for _ in range(QUERIES):
        start = time.perf_counter()
        embedder.text_vector_uncached(QUERY)
        times.append(time.perf_counter() - start)
    return 1000 * min(times), 1000 * statistics.median(times)


def _text_mparams(embedder: Embedder) -> float:
    text = getattr(embedder._model, "text", None)
    return sum(p.numel() for p in text.parameters()) / 1e6 if text is not None else 0.0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _machine() -> dict[str, Any]:
    import open_clip
    import torch

    machine: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "open_clip": open_clip.__version__,
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        import transformers

        machine["transformers"] = transformers.__version__
    except ImportError:
        pass
    return machine


METHOD = (
    "tests/benchmarks/test_bench_models.py: random weights of each real architecture (the same "
    "cost as real ones) loaded by load_embedder on the CPU; images/s: the image tower alone, "
    f"torch float32, batches of {BATCH} random images at the input size, the fastest of "
    f"{ROUNDS} batches ({ROUNDS_LARGE} for ViT-L-14) after a warm-up; query ms: one text "
    f"through the text tower photoseek uses, the fastest of {QUERIES} (medians in each note; "
    "the machine is shared with other work); hub-only configs built "
    "locally from published sizes and hub tokenizers replaced by synthetic token ids; "
    "multilingual search quality unverified"
)


def test_model_speeds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    machine = _machine()
    extra_missing = missing_multilingual_modules()
    chosen = [m for m in offered_models() if not CHOSEN or m.arch in CHOSEN]
    speeds: dict[tuple[str, str], MeasuredSpeed] = {}
    rows: list[list[object]] = []
    skipped: list[str] = []
    for model in chosen:
        if model.needs_multilingual and extra_missing:
            skipped.append(f"{model.name} (the multilingual extra is not installed)")
            continue
        with monkeypatch.context() as patch:
            embedder, tokens = _load(model, patch, tmp_path / "models")
            published = PUBLISHED_TEXT_MPARAMS.get(model.arch)
            if published is not None:  # the local config builds the published architecture
                assert _text_mparams(embedder) == pytest.approx(published, abs=0.01)
            rounds = ROUNDS_LARGE if model.image_gflops and model.image_gflops > 100 else ROUNDS
            per_s, per_s_median = _images_per_s(embedder, rounds)
            query, query_median = _query_ms(embedder)
        note = (
            f"medians: {per_s_median:.2f} images/s over {rounds} batches, {query_median:.1f} ms "
            f"over {QUERIES} queries; query tokens: {tokens}"
        )
        speeds[(model.arch, model.pretrained)] = MeasuredSpeed(per_s, query, note)
        gflops = model.image_gflops or "-"
        rows.append([model.name, gflops, per_s, per_s_median, query, query_median, tokens])
        del embedder
    print_table(
        f"Image tower and text query on {machine['cpu']} ({machine['cores']} cores, "
        f"torch {machine['torch']}, {machine['torch_threads']} threads, load average at start "
        f"{machine['load_average_at_start']})",
        ["model", "GFLOPs", "images/s", "(median)", "query ms", "(median)", "query tokens"],
        rows,
    )
    print("multilingual search quality is unverified here: speeds only")
    for line in skipped:
        print(f"not measured: {line}")
    complete = not CHOSEN and not skipped
    if complete:
        write_measured_speeds(SPEEDS_FILE, machine, METHOD, speeds)
        print(f"written: {SPEEDS_FILE}")
    else:
        print(f"not written ({SPEEDS_FILE.name} keeps only complete runs)")
    assert speeds, "no model was measured"
