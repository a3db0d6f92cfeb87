"""CLIP's byte-pair tokenizer without torch: token ids for the ONNX text tower.

open_clip's ``SimpleTokenizer`` returns torch tensors, so its module imports
torch (about 2 s here), which a cold ``photoseek search`` on ONNX Runtime
must not pay. This is the same algorithm on the same vocabulary file (open
_clip's ``bpe_simple_vocab_16e6.txt.gz``, found without importing open_clip),
returning numpy arrays; ``tests/core/test_bpe.py`` checks it against
open_clip's tokenizer, id for id, on a varied set of texts.

The steps, as CLIP defines them: fix the text (ftfy, HTML entities twice),
collapse whitespace, lower-case; split it into words, apostrophe suffixes,
single digits and runs of other symbols; map each word's UTF-8 bytes to
printable characters; merge adjacent symbols by the vocabulary's merge rank
until no ranked pair is left; look the pieces up. A sequence is the start
token, the ids, the end token, cut to the context length (the end token
kept last) and padded with zeros.
"""

from __future__ import annotations

import gzip
import html
import importlib.util
import itertools
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from photoseek.core.lazyimport import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:
    np = lazy_module("numpy")

__all__ = ["ClipTokenizer", "vocabulary_file"]

VOCABULARY_NAME = "bpe_simple_vocab_16e6.txt.gz"
MERGES = 49152 - 256 - 2  # the merge rules CLIP uses (the file holds more)
START, END = "<start_of_text>", "<end_of_text>"
_WORDS = (  # the special tokens, apostrophe suffixes, letter runs, digits, other symbols
    r"<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
)


_PLAIN = re.compile(r"[ -%'-~]*")  # printable ASCII but "&"


def vocabulary_file() -> Path:
    """open_clip's vocabulary file, located without importing open_clip."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("open_clip is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / VOCABULARY_NAME


def _printable_bytes() -> list[int]:
    """The byte values that stand for themselves: printable Latin-1 but the soft hyphen."""
    return [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), 256)]


def _byte_order() -> list[int]:
    """Byte values in the order the vocabulary lists their symbols: printable ones first."""
    printable = _printable_bytes()
    kept = set(printable)
    return printable + [byte for byte in range(256) if byte not in kept]


@lru_cache(maxsize=1)
def _byte_symbols() -> tuple[str, ...]:
    """The printable character that stands for each byte value (CLIP's reversible map).

    A printable byte is its own character; every other byte, in order, takes
    the next code point from 256 up.
    """
    printable = len(_printable_bytes())
    symbols = [""] * 256
    for position, byte in enumerate(_byte_order()):
        symbols[byte] = chr(byte) if position < printable else chr(256 + position - printable)
    return tuple(symbols)


class ClipTokenizer:
    """Texts to CLIP token ids (int64, ``context_length`` per text); thread-safe."""

    def __init__(self, context_length: int = 77, vocabulary: Path | None = None) -> None:
        import regex  # open_clip's own dependency: \\p{L} classes

        self.context_length = context_length
        symbols = _byte_symbols()
        self._byte_symbol = symbols
        # one decompression, and merge rules kept as their "left right" lines: building the
        # tables is half of a cold search's tokenizer cost, and splitting 48,894 lines into
        # pairs was most of it
        packed = (vocabulary or vocabulary_file()).read_bytes()
        merges = gzip.decompress(packed).decode("utf-8").split("\n")[1 : MERGES + 1]
        singles = [symbols[byte] for byte in _byte_order()]
        vocab = singles + [symbol + "</w>" for symbol in singles]
        vocab += [merge.replace(" ", "") for merge in merges] + [START, END]
        self._ids = {piece: number for number, piece in enumerate(vocab)}
        self._rank = {merge: rank for rank, merge in enumerate(merges)}
        self.start_id, self.end_id = self._ids[START], self._ids[END]
        self._words = regex.compile(_WORDS, regex.IGNORECASE)
        self._pieces: dict[str, tuple[str, ...]] = {START: (START,), END: (END,)}
        self._lock = threading.Lock()

    def encode(self, text: str) -> list[int]:
        """The ids of ``text`` (no start or end token, no length limit)."""
        ids: list[int] = []
        for word in self._words.findall(_clean(text)):
            mapped = "".join(self._byte_symbol[byte] for byte in word.encode("utf-8"))
            ids.extend(self._ids[piece] for piece in self._merged(mapped))
        return ids

    def __call__(self, texts: list[str]) -> npt.NDArray[np.int64]:
        """One row of ``context_length`` ids per text: start, ids, end, zeros."""
        rows = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for number, text in enumerate(texts):
            ids = [self.start_id, *self.encode(text), self.end_id]
            if len(ids) > self.context_length:
                ids = ids[: self.context_length]
                ids[-1] = self.end_id
            rows[number, : len(ids)] = ids
        return rows

    def _merged(self, word: str) -> tuple[str, ...]:
        """``word``'s pieces after every ranked merge (the last one marked end-of-word)."""
        with self._lock:
            known = self._pieces.get(word)
        if known is not None:
            return known
        parts = [*word[:-1], word[-1] + "</w>"]
        while len(parts) > 1:
            ranks = self._rank
            ranked = [ranks.get(f"{left} {right}") for left, right in itertools.pairwise(parts)]
            present = [rank for rank in ranked if rank is not None]
            if not present:
                break
            parts = _merge_all(parts, ranked, min(present))
        pieces = tuple(parts)
        with self._lock:
            self._pieces[word] = pieces
        return pieces


def _merge_all(parts: list[str], ranked: list[int | None], best: int) -> list[str]:
    """``parts`` with every left-to-right occurrence of the pair ranked ``best`` joined.

    ``ranked[i]`` is the rank of the pair (parts[i], parts[i + 1]).
    """
    merged: list[str] = []
    index = 0
    while index < len(parts):
        if index + 1 < len(parts) and ranked[index] == best:
            merged.append(parts[index] + parts[index + 1])
            index += 2
        else:
            merged.append(parts[index])
            index += 1
    return merged


def _clean(text: str) -> str:
    """CLIP's cleaning: ftfy's fixes, HTML entities (twice), collapsed whitespace, lower case.

    Printable ASCII without ``&`` is left as it is by ftfy (it repairs
    mis-decoded Unicode, curly quotes, control and width characters, HTML
    entities), so such a text, most queries, skips importing it (80 ms).
    """
    if _PLAIN.fullmatch(text) is None:
        import ftfy

        text = ftfy.fix_text(text)
    fixed = html.unescape(html.unescape(text)).strip()
    return " ".join(fixed.split()).lower()
