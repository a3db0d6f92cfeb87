"""The query language: weighted text and example photos, with negative terms.

    kids on a beach                       plain text
    beach + 0.5*@holiday/kite.jpg         text plus half the weight of a photo
    "red kite" - people                   ... minus what looks like people
    @IMG_0042.jpg - 0.3*"blurry photo"    a photo minus a weighted text

Terms are separated by `` + `` or `` - `` with spaces around the sign (so
"t-shirt" stays one word; a leading ``-`` also works). A term is an optional
``WEIGHT*`` and then quoted text, an ``@path`` (quoted if it has spaces) to an
image file, or bare text. The query vector is the weighted sum of the terms'
unit vectors, normalised.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from photoseek.core.errors import QueryError

_WEIGHT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*\*\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class QueryTerm:
    """One weighted part of a query: either ``text`` or ``image`` is set."""

    weight: float
    text: str | None = None
    image: Path | None = None


def parse_query(query: str) -> list[QueryTerm]:
    """Parse a query string; raise :class:`QueryError` with what is wrong."""
    chunks = _split(query)
    terms = [_term(sign, chunk) for sign, chunk in chunks]
    if not terms:
        raise QueryError("empty query")
    if not any(t.weight > 0 for t in terms):
        raise QueryError("a query needs at least one positive term")
    return terms


def _split(query: str) -> list[tuple[int, str]]:
    """Split at top-level `` + `` / `` - ``; return (sign, chunk) pairs."""
    parts: list[tuple[int, str]] = []
    sign, start, quote = 1, 0, ""
    text = query.strip()
    if text.startswith("-"):
        sign, start = -1, 1
    i = start
    while i < len(text):
        char = text[i]
        if quote:
            quote = "" if char == quote or (quote == "\u201c" and char == "\u201d") else quote
        elif char in "\"'\u201c" and (i == 0 or not text[i - 1].isalnum()):
            quote = char
        elif char in "+-" and _is_separator(text, i):
            parts.append((sign, text[start:i]))
            sign, start = (1 if char == "+" else -1), i + 1
        i += 1
    if quote:
        raise QueryError("unbalanced quote in query")
    parts.append((sign, text[start:]))
    return [(s, c.strip()) for s, c in parts if c.strip()]


def _is_separator(text: str, i: int) -> bool:
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return before.isspace() and after.isspace()


def _term(sign: int, chunk: str) -> QueryTerm:
    weight = 1.0
    match = _WEIGHT.match(chunk)
    if match:
        weight = float(match.group(1))
        chunk = match.group(2).strip()
    if weight == 0:
        raise QueryError(f"weight 0 makes {chunk!r} do nothing")
    if chunk.startswith("@"):
        path = _unquote(chunk[1:].strip())
        if not path:
            raise QueryError("@ must be followed by an image path")
        return QueryTerm(sign * weight, image=Path(path).expanduser())
    text = _unquote(chunk)
    if not text:
        raise QueryError("empty term in query")
    return QueryTerm(sign * weight, text=text)


def _unquote(chunk: str) -> str:
    if len(chunk) >= 2:
        for opening, closing in (('"', '"'), ("'", "'"), ("\u201c", "\u201d")):
            if chunk.startswith(opening) and chunk.endswith(closing):
                return chunk[1:-1].strip()
    return chunk.strip()


def validate_terms(
    terms: list[QueryTerm], indexed: Callable[[Path], bool] = lambda path: False
) -> list[QueryTerm]:
    """Check the example photos of a query before any model is loaded.

    An ``@path`` must name an existing file, or a photo the library knows
    (``indexed``: an offline photo keeps its vector). Returns the terms with
    their paths made absolute; raises :class:`QueryError` otherwise.
    """
    checked: list[QueryTerm] = []
    for term in terms:
        if term.image is None:
            checked.append(term)
            continue
        checked.append(QueryTerm(term.weight, image=_checked_image(term.image, indexed)))
    return checked


def _checked_image(image: Path, indexed: Callable[[Path], bool]) -> Path:
    if "\x00" in str(image):
        raise QueryError("an image path in the query contains a NUL byte")
    try:
        resolved = image.expanduser().resolve()
        exists = resolved.is_file()
    except (OSError, RuntimeError, ValueError) as exc:
        raise QueryError(f"cannot use {image} as a query: {exc}") from exc
    if not exists and not indexed(resolved):
        raise QueryError(f"image not found: {image}")
    return resolved
