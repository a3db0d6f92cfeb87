"""What every text encoder shares: the result type, its small cache, the token limit."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from photoseek.core.vectors import codec as vectorcodec

TEXT_CACHE_SIZE = 256


@dataclass(frozen=True)
class TextVector:
    """An encoded text, and whether CLIP's token limit cut it."""

    vector: vectorcodec.FloatArray
    truncated: bool


class TextVectorCache:
    """The most recently used texts' vectors (thread-safe LRU)."""

    def __init__(self, size: int = TEXT_CACHE_SIZE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[str, TextVector] = OrderedDict()

    def get(self, text: str) -> TextVector | None:
        """The cached vector of ``text``, if any."""
        with self._lock:
            found = self._items.get(text)
            if found is not None:
                self._items.move_to_end(text)
            return found

    def put(self, text: str, vector: TextVector) -> None:
        """Remember ``vector`` for ``text``."""
        with self._lock:
            self._items[text] = vector
            if len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every vector."""
        with self._lock:
            self._items.clear()


def is_truncated(tokenizer: Any, text: str) -> bool:
    """Whether ``text`` is longer than the tokenizer's context (start and end tokens included)."""
    encode = getattr(tokenizer, "encode", None)
    limit = int(getattr(tokenizer, "context_length", 77))
    if encode is None:
        return False
    return len(encode(text)) + 2 > limit
