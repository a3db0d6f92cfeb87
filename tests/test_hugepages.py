"""Huge pages for the long-lived processes' large allocations: when the restart applies,
that it happens once, keeps the command, and gives huge pages where the kernel offers them;
and that only the app and ``watch`` ask for it, and only as a process's own entry."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from photoseek import cli, cli_commands, entry, hugepages
from photoseek.doctor import iter_checks
from photoseek.paths import resolve_paths
from tests.conftest import REPO, tiny_settings

applies = hugepages.environment({}) is not None
needs_it = pytest.mark.skipif(not applies, reason="Linux with glibc 2.35+ and huge pages only")


def test_the_tunable_is_added_once_and_kept_beside_the_users_own() -> None:
    if not applies:
        assert hugepages.environment({"PATH": "/bin"}) is None
        return
    added = hugepages.environment({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"})
    assert added is not None
    assert added["GLIBC_TUNABLES"] == f"glibc.malloc.arena_max=2:{hugepages.TUNABLE}"
    assert hugepages.environment(added) is None  # set already: no second restart
    assert hugepages.environment({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}) is None  # theirs
    assert hugepages.environment({hugepages.OPT_OUT: "1"}) is None
    assert hugepages.without_tunable(added) == {"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}


def test_the_doctor_says_whether_and_why() -> None:
    assert hugepages.state({hugepages.OPT_OUT: "1"}) == (
        False,
        f"off: {hugepages.OPT_OUT} is set" if sys.platform == "linux" else "off: Linux only",
    )
    on, why = hugepages.state({})
    assert on == applies and (why.startswith("on for the app") if on else why.startswith("off"))
    if applies:
        assert hugepages.state({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"})[0] is False
        assert hugepages.state({"GLIBC_TUNABLES": hugepages.TUNABLE})[0] is True
    checks = {c.name: c for c in iter_checks(resolve_paths(Path("/nonexistent")), tiny_settings())}
    assert checks["huge pages"].ok and checks["huge pages"].detail == hugepages.state(os.environ)[1]


def _run(code: str, env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.splitlines()


RESTARTING = """
    import os, sys
    from photoseek import hugepages
    print(sys.argv[1:], os.environ.get("GLIBC_TUNABLES"), hugepages.restarted(), flush=True)
    hugepages.restart()  # not allowed: nothing happens
    hugepages.allow_restart()
    hugepages.restart()
    import numpy as np
    block = np.ones(64 << 20, np.uint8)  # 64 MB through malloc's own mapping, touched
    rollup = open("/proc/self/smaps_rollup").read().split("\\n")
    huge = [line.split()[1] for line in rollup if line.startswith("AnonHugePages")]
    print("huge kB", huge[0], flush=True)
"""


@needs_it
def test_a_command_restarts_once_in_place_with_huge_pages() -> None:
    env = hugepages.without_tunable(os.environ)
    env.pop(hugepages.OPT_OUT, None)
    lines = _run(RESTARTING, env)
    first, again, huge = lines  # the first process printed once, then became the second
    assert "hugetlb" not in first and first.endswith(" False"), lines
    assert again.endswith("glibc.malloc.hugetlb=1 True"), lines
    assert int(huge.split()[-1]) >= 32 << 10, lines  # most of the block in 2 MB pages


@needs_it
def test_the_opt_out_runs_the_command_without_a_restart() -> None:
    env = {**hugepages.without_tunable(os.environ), hugepages.OPT_OUT: "1"}
    lines = _run(RESTARTING, env)
    assert len(lines) == 2 and "True" not in lines[0], lines


@pytest.mark.parametrize(
    ("words", "restarts"),
    [
        (["--data-dir", "x"], True),  # no command: the desktop app
        (["watch"], True),
        (["--device", "cpu", "watch", "--batch-size", "4"], True),
        (["watch", "--once"], False),  # catches up and exits
        (["search", "a dog"], False),
        (["index"], False),
        (["status"], False),
    ],
)
def test_only_the_app_and_the_watch_service_restart_as_a_process(
    monkeypatch: pytest.MonkeyPatch, words: list[str], restarts: bool
) -> None:
    calls: list[str] = []

    def restart() -> None:
        calls.append(f"restart, allowed: {hugepages._allowed}")
        raise SystemExit(0)  # stands in for execve: the command does not go on here

    monkeypatch.setattr(hugepages, "restart", restart)
    monkeypatch.setattr(hugepages, "_allowed", False)
    monkeypatch.setattr("photoseek.warm.client.ask", lambda words: None)
    monkeypatch.setattr("photoseek.gui.app.main", lambda args: calls.append("app") or 0)
    for name in ("watch", "search", "index", "status"):
        monkeypatch.setitem(cli_commands.COMMANDS, name, lambda args: calls.append("ran") or 0)
    monkeypatch.setattr(sys, "argv", ["photoseek", *words])
    monkeypatch.delenv(hugepages.RESTARTED, raising=False)
    if restarts:
        with pytest.raises(SystemExit):
            entry.main()
        assert calls == ["restart, allowed: True"]
    else:
        assert entry.main() == 0 and calls == ["ran"]


def test_a_call_from_python_code_never_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hugepages, "_allowed", False)
    monkeypatch.setattr(os, "execve", lambda *args: pytest.fail("restarted"))
    monkeypatch.setattr("photoseek.gui.app.main", lambda args: 0)
    assert cli.main(["--data-dir", "x"]) == 0  # the app's branch, called in process
    assert entry.main(["--data-dir", "x"]) == 0
    assert not hugepages._allowed


def test_a_restarted_process_asks_no_service_again_and_its_children_start_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[list[str]] = []
    monkeypatch.setattr("photoseek.warm.client.ask", lambda words: asked.append(words))
    monkeypatch.setitem(cli_commands.COMMANDS, "status", lambda args: 0)
    monkeypatch.setattr(sys, "argv", ["photoseek", "status"])
    monkeypatch.setenv(hugepages.RESTARTED, "1")
    assert entry.main() == 0 and asked == []
    assert hugepages.RESTARTED not in os.environ
