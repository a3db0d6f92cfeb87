"""Benchmarks print tables; run them with ``python -m pytest -m benchmark -s tests/benchmarks``."""

from __future__ import annotations

import os

import pytest

from photoseek import hugepages


def pytest_configure(config: pytest.Config) -> None:
    """A benchmark run measures in a process set up as photoseek's own are: restarted with
    huge pages for malloc's large blocks (:mod:`photoseek.hugepages`), as the app, the
    watch service and every command are, so that in-process figures (knn at a million
    photos, say) are the product's. The processes the benchmarks start do not inherit the
    setting: a ``photoseek`` command restarts itself as a user's does, and pays for it."""
    wanted = config.option.markexpr
    if "benchmark" not in wanted or "not benchmark" in wanted:
        return  # the default test run collects this file too: leave it alone
    if hugepages.restarted():
        others = hugepages.without_tunable(os.environ).get("GLIBC_TUNABLES")
        os.environ.pop("GLIBC_TUNABLES", None)
        if others:
            os.environ["GLIBC_TUNABLES"] = others
    else:
        hugepages.allow_restart()  # this process is the run's own entry
        hugepages.restart()


def as_photoseek_process(env: dict[str, str]) -> dict[str, str]:
    """``env`` as a photoseek process has it after its restart (huge pages where they
    apply): for a helper process that stands in for photoseek's own (the app opening a
    library, the watch service), started without going through the command's entry."""
    return hugepages.environment(env) or env


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    """A plain aligned table on stdout."""
    cells = [header] + [[f"{c:.3g}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "benchmarks" in str(item.fspath):
            item.add_marker(pytest.mark.benchmark)
