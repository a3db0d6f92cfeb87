"""The watch service gives the image tower's memory back when idle, and loads it for new work."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from photoseek.core.library import Library
from photoseek.core.model import onnxvision
from photoseek.core.model.embedder import load_embedder
from photoseek.core.model.imagepath import remember
from photoseek.daemon import ServiceOptions, WatchService
from photoseek.paths import resolve_paths
from tests.conftest import make_photo, make_photos, tiny_settings
from tests.core.test_textpath import _weights_file
from tests.integration.test_watch import wait_for

pytestmark = pytest.mark.skipif(not onnxvision.can_run(), reason="onnxruntime needed")

IDLE = ServiceOptions(
    stable_s=0.5, folder_check_s=0.5, tick_s=0.1, reconcile_interval_s=3600, release_after_s=0.5
)


def _holds_image_model(library: Library) -> bool:
    return library._image_encoder is not None or library._embedder is not None


def test_an_idle_service_releases_the_image_tower_and_reloads_it(tmp_path: Path) -> None:
    weights = _weights_file(tmp_path)
    paths = resolve_paths(tmp_path / "data")
    remember(
        load_embedder(tiny_settings(str(weights)), paths.ensure().models_dir), paths.models_dir
    )
    photos = tmp_path / "photos"
    make_photos(photos, 3)
    with Library(paths, tiny_settings(str(weights))) as library:
        library.add_folder(photos)
        service = WatchService(library, IDLE)
        loads, ticks = [], []
        encoder, idle = library.image_encoder, service._idle_publish
        library.image_encoder = lambda *a: loads.append(1) or encoder(*a)  # type: ignore[method-assign]
        service._idle_publish = lambda: ticks.append(1) or idle()  # type: ignore[method-assign]
        stop = threading.Event()
        thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
        thread.start()
        try:
            wait_for(lambda: library.status().counts.get("indexed") == 3, what="the photos")
            wait_for(lambda: not _holds_image_model(library), what="the release")
            released_at, loaded = len(ticks), len(loads)
            wait_for(lambda: len(ticks) >= released_at + 20, what="20 idle turns of the loop")
            assert len(loads) == loaded and not _holds_image_model(library)  # stays released
            assert len(library.search("a photo").hits) == 3  # no image tower needed
            make_photo(photos / "new.jpg", 99)
            wait_for(lambda: library.status().counts.get("indexed") == 4, what="the new photo")
            wait_for(lambda: not _holds_image_model(library), what="the second release")
        finally:
            stop.set()
            thread.join(60)
