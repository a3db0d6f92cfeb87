"""Values as the catalog stores them: safe text and the sort date of a file."""

from __future__ import annotations

from datetime import datetime


def safe_text(text: str | None) -> str | None:
    """Text SQLite can store: lone surrogates (from undecodable file names) escaped."""
    if text is None:
        return None
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def mtime_date(mtime_ns: int) -> str:
    """The sort date of a file without an EXIF date: its mtime in local time."""
    try:
        return datetime.fromtimestamp(mtime_ns / 1e9).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):  # a timestamp out of the platform's range
        return ""
