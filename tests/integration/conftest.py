"""Fixtures of the integration tests: the command line in process on the tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import tiny_env


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    """``PHOTOSEEK_*`` set for the tiny model and a library in ``data_dir``; returns it."""
    set_cli_env(monkeypatch, data_dir)
    return data_dir


def set_cli_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    """Set ``PHOTOSEEK_*`` for the tiny model and the library in ``data_dir``."""
    for key, value in tiny_env(data_dir).items():
        if key.startswith("PHOTOSEEK_"):
            monkeypatch.setenv(key, value)
