"""Values as the catalog stores them: safe text and the sort date of a file."""

from __future__ import annotations

from datetime import datetime


def safe_text(text: str | None) -> str | None:
    """Text SQLite can store: lone surrogates (from undecodable file names) escaped."""
    if text is None:
        return None
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


_INT64 = 2**64


def as_int64(value: int) -> int:
    """``value`` as SQLite can store it: wrapped into the signed 64-bit range.

    ``stat`` numbers can exceed it: an mtime after the year 2262 in
    nanoseconds (a camera with a bad clock), inode numbers of overlay and
    network file systems. They are only compared for equality, which the
    wrap keeps; a wrapped mtime sorts among the oldest photos.
    """
    return (value + 2**63) % _INT64 - 2**63


def mtime_date(mtime_ns: int) -> str:
    """The sort date of a file without an EXIF date: its mtime in local time."""
    try:
        return datetime.fromtimestamp(mtime_ns / 1e9).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):  # a timestamp out of the platform's range
        return ""
