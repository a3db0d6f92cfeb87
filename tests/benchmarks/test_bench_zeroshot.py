"""Zero-shot at 100,000 photos: label vectors, tagging, re-tagging and classify.

Run: ``python -m pytest -m benchmark -s tests/benchmarks/test_bench_zeroshot.py``.

On a working copy of the cached 100,000-photo library (:mod:`.biglibrary`,
the ``ViT-B-32-256`` architecture with random weights from a file: the same
cost as real ones), the model loaded first (untimed):

* **label vectors**: the built-in set (62 labels, their synonyms and own
  prompts) with the 7 and with the 80 templates: every prompt embedded (the
  label-vector cache is empty), the means taken.
* **tag 100,000 photos**: ``Library.tag`` once the label vectors are cached:
  reading every stored vector, the matrix product, and writing 100,000 score
  blobs and the tags in one transaction (the threshold set so that about 3
  tags per photo are written, as a real library might have).
* **re-tag at a new threshold**: from the stored scores alone.
* **classify one image**: in this process with the model loaded and the label
  vectors cached (decode, embed, score); and ``photoseek classify IMAGE`` as a
  user runs it, the whole process (imports, the model load, the cached label
  vectors), median of 3 after one untimed run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from photoseek.core.library import Library
from photoseek.core.model.embedder import DEFAULT_ARCH, ModelSettings
from photoseek.core.zeroshot.labels import builtin_label_set
from photoseek.core.zeroshot.service import ZeroShot
from photoseek.core.zeroshot.tagging import margins
from photoseek.core.zeroshot.templates import template_set
from photoseek.paths import resolve_paths
from tests.benchmarks.biglibrary import big_library
from tests.benchmarks.conftest import print_table
from tests.benchmarks.weightsfile import random_weights_file
from tests.conftest import SHARED_PHOTOS, make_photo

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(3600)]

PHOTOS = int(os.environ.get("PHOTOSEEK_BENCH_PHOTOS", "100000"))
SETTINGS = ModelSettings(DEFAULT_ARCH, str(random_weights_file(DEFAULT_ARCH)), "cpu")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def copy() -> Iterator[Path]:
    source = big_library(PHOTOS, SETTINGS)
    target = Path(tempfile.mkdtemp(prefix="photoseek-zeroshot-bench-"))
    for name in ("catalog.sqlite3", "catalog.sqlite3-wal"):
        if (source / name).exists():
            shutil.copy2(source / name, target / name)
    shutil.copytree(source / "index", target / "index")
    yield target
    shutil.rmtree(target, ignore_errors=True)


def _image(tmp: Path) -> Path:
    real = sorted((SHARED_PHOTOS / "coco" / "images").glob("*.jpg"))
    return real[0] if real else make_photo(tmp / "one.jpg", 1, size=(640, 480))


def test_zeroshot_costs(copy: Path, tmp_path: Path) -> None:
    rows: list[list[object]] = []
    library = Library(resolve_paths(copy), SETTINGS)
    try:
        library.load_model()
        labels = builtin_label_set()
        for name in ("simple", "openai"):
            templates = template_set(name)
            fresh = ZeroShot(library.embedder, tmp_path / f"empty-{name}")
            started = time.perf_counter()
            fresh.label_vectors(labels, templates)
            prompts = sum(
                len(lab.terms) * len(templates.templates) + len(lab.prompts)
                for lab in labels.labels
            )
            rows.append(
                [
                    f"label vectors, {len(labels.labels)} labels x "
                    f"{len(templates.templates)} templates",
                    f"{time.perf_counter() - started:.1f} s",
                    "",
                    f"{prompts:,} prompts embedded (synonyms, own prompts), cache empty",
                ]
            )
        library.zeroshot().label_vectors(labels, template_set("simple"))  # cached, untimed
        library.tag(labels, template_set("simple"))  # untimed: the space exists
        space = library.catalog.tag_space(library.model_id)
        _, vectors = library.catalog.stored_vectors(library.model_id, space.vectors.shape[1])
        all_margins = margins(space.vectors, vectors)
        three_per_photo = float(np.quantile(all_margins, 1 - 3 / len(labels.labels)))
        library.set_tag_threshold(three_per_photo)
        started = time.perf_counter()
        summary = library.tag(labels, template_set("simple"))
        tag_s = time.perf_counter() - started
        tags_written = sum(count for _, count in library.tags())
        rows.append(
            [
                f"tag {summary.photos:,} photos x {summary.labels} labels",
                f"{tag_s:.2f} s",
                "<= 2 s",
                f"read vectors, matrix product, {summary.photos:,} score blobs + "
                f"{tags_written:,} tags (as bit masks) written, one transaction",
            ]
        )
        started = time.perf_counter()
        library.set_tag_threshold(three_per_photo + 0.01)
        rows.append(
            [
                "re-tag at a new threshold",
                f"{time.perf_counter() - started:.2f} s",
                "",
                f"from the stored scores; {sum(c for _, c in library.tags()):,} tags now",
            ]
        )
        image = _image(tmp_path)
        zeroshot = library.zeroshot()
        zeroshot.classify([image], labels, template_set("simple"))
        times = []
        for _ in range(5):
            started = time.perf_counter()
            zeroshot.classify([image], labels, template_set("simple"))
            times.append(time.perf_counter() - started)
        rows.append(
            [
                "classify one image, model loaded",
                f"{statistics.median(times) * 1000:.0f} ms",
                "",
                "decode, embed, 62 labels scored (median of 5)",
            ]
        )
    finally:
        library.close()
    rows.append(_cli_classify(copy, image))
    print_table(
        f"zero-shot, {PHOTOS:,} photos, {DEFAULT_ARCH} random weights from a file, "
        f"{os.cpu_count()} cores",
        ["measure", "figure", "target", "includes"],
        rows,
    )


def _cli_classify(data_dir: Path, image: Path) -> list[object]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [
        sys.executable, "-m", "photoseek", "--data-dir", str(data_dir), "--model", DEFAULT_ARCH,
        "--pretrained", SETTINGS.pretrained, "--device", "cpu", "classify", str(image),
    ]  # fmt: skip
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
        times.append(time.perf_counter() - started)
    return [
        "photoseek classify IMAGE",
        f"{statistics.median(times):.1f} s",
        "",
        "the whole process: imports, model load, cached label vectors (median of 3)",
    ]
