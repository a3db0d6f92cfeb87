"""The model loader: the first query's needs (text tower, vector index) before the full model."""

from __future__ import annotations

import threading

from photoseek.gui.context import ModelState
from photoseek.gui.workers.modelloader import ModelLoader


class _Library:
    """Records the loader's calls; the index load holds until the test releases it."""

    def __init__(self, light: bool) -> None:
        self.light = light
        self.calls: list[str] = []
        self.index_may_finish = threading.Event()
        self.model_loaded = threading.Event()

    def load_text_encoder(self) -> bool:
        self.calls.append("text")
        return self.light

    def preload_index(self) -> bool:
        self.calls.append("index started")
        assert self.index_may_finish.wait(30)
        self.calls.append("index done")
        return True

    def load_model(self, report: object = None, cancel: object = None) -> object:
        self.calls.append("model")
        self.model_loaded.set()
        return object()


def _loader(qtbot, library: _Library) -> tuple[ModelLoader, ModelState]:
    state = ModelState()
    loader = ModelLoader(library, state)  # type: ignore[arg-type]
    return loader, state


def test_with_the_light_path_the_full_model_waits_for_the_index(qtbot) -> None:
    library = _Library(light=True)
    loader, state = _loader(qtbot, library)
    with qtbot.waitSignal(state.ready, timeout=30_000):
        loader.start()
        qtbot.waitUntil(lambda: "index started" in library.calls and "text" in library.calls)
        assert not library.model_loaded.wait(0.3)  # held back while the index loads
        library.index_may_finish.set()
    assert library.calls.index("index done") < library.calls.index("model")


def test_without_the_light_path_the_model_loads_beside_the_index(qtbot) -> None:
    library = _Library(light=False)
    loader, state = _loader(qtbot, library)
    with qtbot.waitSignal(state.ready, timeout=30_000):
        loader.start()
        assert library.model_loaded.wait(30)  # the first query needs it: no waiting
        assert "index done" not in library.calls
        library.index_may_finish.set()
