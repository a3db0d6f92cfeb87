"""Photos whose file or folder name matches the words of a query.

The search box also finds photos by name: "kite 2019" finds
``Holidays/2019 Kite festival/IMG_0042.jpg``. Every word (case-insensitive,
at least two characters; query syntax such as weights and ``@photo`` terms
is ignored) must appear in the part of the path a user sees: the top
folder's own name and the path below it (not ``/home/alice``). Front ends
show these as their own group beside the results by content (the desktop
app shows them above the grid); they are newest first. The paths are
matched in memory (:class:`~photoseek.core.search.nameindex.NameIndex`).
"""

from __future__ import annotations

import re
from pathlib import Path

from photoseek.core.catalog.store import Catalog
from photoseek.core.records import PhotoRecord
from photoseek.core.search.nameindex import NameIndex

_WORD = re.compile(r"[^\W_]{2,}|\d+", re.UNICODE)


def name_words(text: str) -> list[str]:
    """The words of a query that names are matched on (no operators, weights or @paths)."""
    kept = " ".join(part for part in text.split() if not part.startswith("@"))
    kept = re.sub(r"\d+(\.\d*)?\*", " ", kept)
    return sorted({w.lower() for w in _WORD.findall(kept)}, key=lambda w: (-len(w), w))


def name_matches(
    catalog: Catalog,
    names: NameIndex,
    text: str,
    *,
    folder: Path | None = None,
    limit: int = 200,
) -> list[PhotoRecord]:
    """Indexed photos (below ``folder``, if given) whose visible path holds every word."""
    words = name_words(text)
    if not words:
        return []
    ids = names.matching(words, folder, limit)
    records = catalog.photos(ids)
    return [records[i] for i in ids if i in records]
