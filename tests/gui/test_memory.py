"""Objects alive once the model is ready are left out of later full collections."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from photoseek.gui.context import AppContext
from photoseek.gui.workers.appworkers import AppWorkers


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test session collects as before


def test_the_model_being_ready_freezes_what_is_alive(unfrozen: None, context: AppContext) -> None:
    workers = AppWorkers(context)
    survivor = [object() for _ in range(10)]
    assert gc.get_freeze_count() == 0
    context.model.ready.emit()
    assert gc.get_freeze_count() > len(survivor)
    gc.collect()
    assert gc.get_freeze_count() > len(survivor)  # a full collection leaves them alone
    workers.shutdown()
