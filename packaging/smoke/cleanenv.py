"""A clean environment for running the bundle: what a fresh user account would have.

No virtual environment on ``PATH``, no ``PYTHONPATH``/``PYTHONHOME``, a fresh
``HOME`` (so photoseek's platformdirs locations, the XDG folders and the
model cache are all empty), nothing else inherited (``env -i`` style).
"""

from __future__ import annotations

import os
from pathlib import Path

SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def clean_env(home: Path, *, extra_path: Path | None = None, **values: str) -> dict[str, str]:
    """The environment of a user whose home is ``home`` (created), plus ``values``.

    ``extra_path`` goes first on ``PATH`` (where an install put ``photoseek``).
    """
    home.mkdir(parents=True, exist_ok=True)
    path = SYSTEM_PATH if extra_path is None else f"{extra_path}{os.pathsep}{SYSTEM_PATH}"
    env = {
        "HOME": str(home),
        "USER": os.environ.get("USER", "smoke"),
        "PATH": path,
        "LANG": "C.UTF-8",
        "TMPDIR": str(home / "tmp"),
    }
    (home / "tmp").mkdir(exist_ok=True)
    env.update(values)
    return env
