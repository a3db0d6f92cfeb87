"""Where indexing time goes (the stage clock), and how many threads decode."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.indexing.pipeline import _decode_workers
from photoseek.core.indexing.stages import STAGES, NoClock, StageClock


def test_stages_sum_busy_and_cpu_time_over_threads() -> None:
    clock = StageClock()

    def work() -> None:
        with clock.stage("decode"):
            time.sleep(0.05)  # busy, not CPU
        with clock.stage("model"):
            end = time.thread_time() + 0.02
            while time.thread_time() < end:  # CPU in this thread
                pass

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    totals = {t.name: t for t in clock.totals()}
    assert [t.name for t in clock.totals()] == list(STAGES)
    assert totals["decode"].count == 3 and totals["decode"].busy_s >= 0.15
    assert totals["decode"].cpu_s < totals["decode"].busy_s
    assert totals["model"].cpu_s >= 0.06 and totals["read"].count == 0


def test_an_untimed_clock_records_nothing() -> None:
    clock = NoClock()
    with clock.stage("read"):
        pass
    assert all(t.count == 0 for t in clock.totals())


def test_a_gpu_model_gets_every_core_to_decode_for_it() -> None:
    options = IndexerOptions(workers=2)
    cpu = SimpleNamespace(device="cpu")
    assert _decode_workers(cpu, options) == 2  # type: ignore[arg-type]
    cuda = SimpleNamespace(device="cuda")
    assert _decode_workers(cuda, options) >= 2  # type: ignore[arg-type]
    light = SimpleNamespace()  # the light image path runs on the CPU, no device attribute
    assert _decode_workers(light, options) == 2  # type: ignore[arg-type]
