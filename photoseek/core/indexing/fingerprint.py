"""Content identity of a file: its size plus a BLAKE2b hash of its bytes.

Identity is content, not path: a moved, renamed or byte-identical copy of a
photo has the same fingerprint and reuses its embedding. Files up to
``FULL_HASH_LIMIT`` are hashed whole (the indexer reads them whole anyway,
once, and decodes the very bytes it hashed). Larger files (big TIFFs,
panoramas) hash their head, tail and evenly spaced samples: an edit that
keeps the size and touches none of those bytes is the accepted risk.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import IO

FULL_HASH_LIMIT = 64 * 1024 * 1024
_BLOCK = 1024 * 1024
_EDGE = 4 * 1024 * 1024
_SAMPLES = 16
_SAMPLE = 64 * 1024


def fingerprint(path: Path) -> str:
    """Return ``"<size hex>-<blake2b-128 hex>"`` of the file's content.

    Raises ``OSError`` if the file cannot be read.
    """
    with path.open("rb") as handle:
        return fingerprint_handle(handle)


def fingerprint_handle(handle: IO[bytes]) -> str:
    """:func:`fingerprint` of an open file (read from its start)."""
    size = os.fstat(handle.fileno()).st_size
    digest = hashlib.blake2b(digest_size=16)
    if size <= FULL_HASH_LIMIT:
        handle.seek(0)
        while block := handle.read(_BLOCK):
            digest.update(block)
    else:
        for offset, length in _sample_ranges(size):
            handle.seek(offset)
            digest.update(handle.read(length))
    return f"{size:x}-{digest.hexdigest()}"


def fingerprint_bytes(data: bytes) -> str:
    """:func:`fingerprint` of a whole file's content held in memory (at most the limit)."""
    if len(data) > FULL_HASH_LIMIT:
        raise ValueError("files above FULL_HASH_LIMIT are fingerprinted by sampling their handle")
    return f"{len(data):x}-{hashlib.blake2b(data, digest_size=16).hexdigest()}"


def _sample_ranges(size: int) -> list[tuple[int, int]]:
    ranges = [(0, _EDGE)]
    step = (size - 2 * _EDGE) // (_SAMPLES + 1)
    ranges += [(_EDGE + step * (i + 1), _SAMPLE) for i in range(_SAMPLES)]
    ranges.append((size - _EDGE, _EDGE))
    return ranges
