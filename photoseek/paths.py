"""Where photoseek keeps its files.

By default the platform's locations (platformdirs): the catalog and the vector
index in the user data dir, thumbnails and model weights in the user cache dir,
logs in the user log dir. One override moves everything under a single folder:
``--data-dir DIR`` or the ``PHOTOSEEK_DATA_DIR`` environment variable (the
command-line option wins). That is also what tests and portable installs use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "photoseek"
DATA_DIR_ENV = "PHOTOSEEK_DATA_DIR"


@dataclass(frozen=True)
class AppPaths:
    """The folders photoseek uses; created on demand by :meth:`ensure`."""

    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def catalog(self) -> Path:
        """The SQLite catalog: the one source of truth."""
        return self.data_dir / "catalog.sqlite3"

    @property
    def index_dir(self) -> Path:
        """Vector index files (a rebuildable cache, one per model)."""
        return self.data_dir / "index"

    @property
    def thumbnails_dir(self) -> Path:
        """Thumbnail cache, keyed by content fingerprint."""
        return self.cache_dir / "thumbnails"

    @property
    def models_dir(self) -> Path:
        """Downloaded model weights."""
        return self.cache_dir / "models"

    @property
    def lock_file(self) -> Path:
        """Held by the one process that writes the library."""
        return self.data_dir / "writer.lock"

    def ensure(self) -> AppPaths:
        """Create every folder; return self."""
        for folder in (self.data_dir, self.cache_dir, self.log_dir, self.index_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """Pick the folders: explicit ``data_dir``, else the env var, else platformdirs."""
    override = data_dir or os.environ.get(DATA_DIR_ENV) or None
    if override:
        root = Path(override).expanduser().resolve()
        return AppPaths(data_dir=root, cache_dir=root / "cache", log_dir=root / "logs")
    return AppPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
