"""The torch-free CLIP tokenizer gives open_clip's token ids, id for id."""

from __future__ import annotations

import random

import pytest

from photoseek.core.model.bpe import ClipTokenizer
from photoseek.core.model.openclipfiles import open_clip_file
from photoseek.core.model.textpath import PROBE_TEXTS

TEXTS = [
    *PROBE_TEXTS,
    "A red kite over the beach",
    "  two   spaces\tand a tab\nand a newline  ",
    "it's, they're, we've, I'm, you'll, he'd: don't!",
    "IMG_2041.JPG at 12:30 on 2024-07-14, 3.5 km",
    "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, na\u00efve fa\u00e7ade, \u00fcber",
    "&amp;lt;b&amp;gt; bold &quot;quoted&quot; &#39;single&#39;",
    "mojibake: caf\u00c3\u00a9",  # ftfy repairs it
    "\u4e00\u4e2a\u6d77\u6ee9\u4e0a\u7684\u98ce\u7b5d",
    "\u0441\u043e\u0431\u0430\u043a\u0430 \u05db\u05dc\u05d1",
    "emoji \U0001f431\U0001f436\U0001f3d6\ufe0f and \u00ad soft hyphen and \u200b zero width",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "<start_of_text> inside <end_of_text> the text",
    "word " * 100,  # longer than the context: cut, the end token kept
]


@pytest.fixture(scope="module")
def theirs() -> object:
    return open_clip_file("tokenizer").SimpleTokenizer(context_length=77)


@pytest.fixture(scope="module")
def ours() -> ClipTokenizer:
    return ClipTokenizer(context_length=77)


def _random_texts(count: int) -> list[str]:
    rng = random.Random(7)
    alphabet = (
        "abcdefghijklmnopqrstuvwxyz ABCXYZ 0123456789 .,;:!?'\"()[]{}-_/\\@#$%^&*+=<>|~`"
        "\u00e9\u00e8\u00fc\u00df\u00f1\u4e00\u4e8c\u0434\u0436\u03b1\u03b2\U0001f600\t\n"
    )
    return [_text(rng, alphabet, 90) for _ in range(count)]


def _text(rng: random.Random, alphabet: str, longest: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, longest)))


@pytest.mark.parametrize("text", TEXTS)
def test_the_ids_equal_open_clips(theirs, ours: ClipTokenizer, text: str) -> None:
    assert ours([text]).tolist() == theirs([text]).tolist()
    assert ours.encode(text) == theirs.encode(text)


def test_random_texts_tokenise_as_open_clip_does(theirs, ours: ClipTokenizer) -> None:
    texts = _random_texts(300)
    assert ours(texts).tolist() == theirs(texts).tolist()


def test_plain_ascii_texts_skip_ftfy_and_still_tokenise_as_open_clip_does(theirs, ours) -> None:
    rng = random.Random(11)
    printable = "".join(chr(c) for c in range(32, 127))
    texts = [_text(rng, printable, 60) for _ in range(400)]
    texts += ["Don''t stop", "x &amp; y", "`quoted` ~tilde~ {braces}", "   ", "A  B   C"]
    assert ours(texts).tolist() == theirs(texts).tolist()


def test_rows_are_int64_with_start_end_and_padding(ours: ClipTokenizer) -> None:
    rows = ours(["a dog", "word " * 100])
    assert rows.dtype.name == "int64" and rows.shape == (2, 77)
    first = rows[0].tolist()
    assert first[0] == ours.start_id and first[first.index(ours.end_id) + 1 :] == [0] * 73
    assert rows[1, -1] == ours.end_id  # cut at the context, the end token last
