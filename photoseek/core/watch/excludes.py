"""Exclude patterns of a top folder: what its scans leave out.

A pattern without a ``/`` names files or folders anywhere below the top
folder (``*.tmp``, ``Screenshots``, ``.*`` is already skipped); a pattern
with a ``/`` names a path relative to the top folder (``2019/private``,
``*/drafts/*``). Matching is case-insensitive (photos move between file
systems that disagree about case) and uses ``fnmatch`` wildcards. A matched
folder leaves out everything below it. Excluded files are skipped silently;
photos already in the library under a new exclusion leave it at the next
scan (their vectors are kept for a week, like any vanished photo's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from photoseek.core.errors import LibraryError

Excluder = Callable[[Path], bool]


def check_patterns(patterns: Sequence[str]) -> list[str]:
    """The patterns cleaned up (stripped, no empties); LibraryError for unusable ones."""
    cleaned = []
    for pattern in patterns:
        text = pattern.strip().strip("/")
        if not text:
            continue
        if "\x00" in text or text in ("*", "**"):
            raise LibraryError(f"exclude pattern {pattern!r} would leave out everything")
        cleaned.append(text)
    return cleaned


def excluder(root: Path, patterns: Sequence[str]) -> Excluder | None:
    """A test for paths below ``root`` (None when there are no patterns)."""
    if not patterns:
        return None
    names = [p.lower() for p in patterns if "/" not in p]
    paths = [p.lower() for p in patterns if "/" in p]

    def excluded(path: Path) -> bool:
        try:
            parts = [part.lower() for part in path.relative_to(root).parts]
        except ValueError:
            return False
        if any(fnmatchcase(part, name) for part in parts for name in names):
            return True
        return any(
            fnmatchcase("/".join(parts[:end]), pattern)
            for pattern in paths
            for end in range(1, len(parts) + 1)
        )

    return excluded
