"""A large synthetic library for benchmarks: 100,000 indexed photos in a few seconds of I/O.

Real photos at that scale do not fit here, and indexing them would take
hours; what a search, a browse or a scroll costs depends on the catalog, the
vectors and the index, not on where the vectors came from. So the library is
written directly: ``FOLDERS`` top folders of photos with distinct paths,
sizes and dates, one vector each drawn from clustered 512-d directions (like
real CLIP embeddings, whose neighbourhoods HNSW is built for), the vector
index built from them and saved, and thumbnails: hard links to a few hundred
small JPEGs, one per photo's fingerprint, so the grid has pictures to load.

The library is built once per (size, model) under the system's temp folder
and reused by later runs (delete ``photoseek-bench`` there to rebuild).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from photoseek.core.catalog.pathcodec import to_db
from photoseek.core.imaging.thumbnails import DEFAULT_SIZE, ThumbnailCache
from photoseek.core.library import Library
from photoseek.core.model.embedder import ModelSettings
from photoseek.core.vectors import codec
from photoseek.paths import resolve_paths

log = logging.getLogger(__name__)

FOLDERS = 20
CLUSTERS = 400
DISTINCT_PICTURES = 300
_DONE = "built.txt"


def big_library(size: int, settings: ModelSettings) -> Path:
    """The data dir of a library of ``size`` indexed photos for ``settings``' model (cached)."""
    weights = Path(settings.pretrained).stem  # "none", or the weights file's name
    name = f"{size}-{Path(settings.arch).stem}-{weights}"
    root = Path(tempfile.gettempdir()) / "photoseek-bench" / name
    if (root / _DONE).is_file():
        return root
    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    library = Library(resolve_paths(root), settings)
    try:
        identity = library.embedder.identity
        model_id = library.model_id
        _write_catalog(library, size, model_id, identity.dim)
        _write_thumbnails(library, root, size)
        _ = library.vector_index  # build the HNSW index from the catalog
        library.flush()
    finally:
        library.close()
    (root / _DONE).write_text(f"{size} photos, built in {time.perf_counter() - started:.0f} s\n")
    return root


def _write_catalog(library: Library, size: int, model_id: int, dim: int) -> None:
    rng = np.random.default_rng(7)
    centres = codec.normalize(rng.standard_normal((CLUSTERS, dim)))
    with library.catalog.transaction() as tx:
        for f in range(FOLDERS):
            tx.execute(
                "INSERT INTO folders (id, path, added_at) VALUES (?, ?, 0)",
                (f + 1, to_db(Path(f"/bench/photos/folder{f:02d}"))),
            )
        for start in range(0, size, 10_000):
            count = min(10_000, size - start)
            near = centres[rng.integers(0, CLUSTERS, count)]
            vectors = codec.normalize(near + 0.35 * rng.standard_normal((count, dim)) / dim**0.5)
            tx.executemany(
                "INSERT INTO photos (folder_id, path, size, mtime_ns, fingerprint, format, "
                "width, height, sort_date, status, added_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, 'jpeg', 4000, 3000, ?, 'indexed', 0, 0)",
                [_photo_row(start + i) for i in range(count)],
            )
            tx.executemany(
                "INSERT INTO embeddings (model_id, fingerprint, vector, decoder) "
                "VALUES (?, ?, ?, 'jpeg/1;prep/1')",
                [
                    (model_id, _fingerprint(start + i), codec.encode(vectors[i]))
                    for i in range(count)
                ],
            )


def _photo_row(i: int) -> tuple[object, ...]:
    folder = i % FOLDERS
    day = f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00"
    path = Path(f"/bench/photos/folder{folder:02d}/{i // 1000:03d}/IMG_{i:06d}.jpg")
    return (folder + 1, to_db(path), 1_000_000 + i, i, _fingerprint(i), day)


def _fingerprint(i: int) -> str:
    return f"{1_000_000 + i:x}-bench{i:027d}"


def _write_thumbnails(library: Library, root: Path, size: int) -> None:
    """One thumbnail per photo: hard links to a few hundred distinct little pictures."""
    sources = root / "pictures"
    sources.mkdir(exist_ok=True)
    rng = np.random.default_rng(3)
    pictures = []
    for n in range(DISTINCT_PICTURES):
        picture = sources / f"{n}.jpg"
        if not picture.exists():
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            Image.new("RGB", (DEFAULT_SIZE, DEFAULT_SIZE * 3 // 4), colour).save(picture)
        pictures.append(picture)
    cache = ThumbnailCache(library.paths.thumbnails_dir)
    for i in range(size):
        target = cache.path_for(_fingerprint(i), DEFAULT_SIZE)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.link(pictures[i % DISTINCT_PICTURES], target)
