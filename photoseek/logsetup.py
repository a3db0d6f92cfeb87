"""Logging: a rotating file in the platform log dir; the console stays quiet.

The console shows warnings and errors only, INFO with ``-v`` and DEBUG with
``-vv``. The file always records INFO and above (DEBUG with ``-vv``).
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FILE = "photoseek.log"
_MAX_BYTES = 2 * 1024 * 1024
_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"


class _DropOpenClipRandomInit(logging.Filter):
    """open_clip warns about random init even though photoseek loads the weights itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("No pretrained weights loaded for model")


def configure_logging(log_dir: Path, verbosity: int = 0) -> Path | None:
    """Install the handlers; return the log file path (None if it cannot be written)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
    console = logging.StreamHandler()
    console.setLevel({0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG))
    console.setFormatter(logging.Formatter("photoseek: %(levelname)s: %(message)s"))
    console.addFilter(_DropOpenClipRandomInit())
    root.addHandler(console)
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / LOG_FILE
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot write log file in %s: %s", log_dir, exc)
        return None
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    file_handler.addFilter(_DropOpenClipRandomInit())
    root.addHandler(file_handler)
    return path
