"""Camera pairs: a RAW file and the JPEG (or HEIF) the camera wrote beside it.

Cameras set to RAW+JPEG write ``IMG_0042.CR2`` and ``IMG_0042.JPG`` side by
side; phones write ``.DNG`` beside ``.HEIC``. Files of one folder whose
names differ only in the extension (compared case-insensitively) are one
photo when one of them is a RAW: the JPEG or HEIF is the picture the camera
developed, the RAW its *original*. The extension decides, as a
photographer's tools do (a ``.dng`` is a RAW though its content is a TIFF).

Two parts of photoseek use the rule, and this module is its one home:

* the scanner (:mod:`photoseek.core.watch.scanner`) leaves such a RAW out of
  the library by default, so the photo is indexed once, as its JPEG or HEIF
  (:func:`raws_with_developed_sibling`); a library setting indexes both
  (``photoseek raw-pairs both``);
* the near-duplicate finder (:mod:`photoseek.core.duplicates.siblings`)
  never offers the two files of a pair as duplicates of each other
  (:func:`pair_key`).

:func:`raw_originals` finds the RAW beside a developed file, listing each
folder once, for the front ends that show it (``search --json``'s
``original``, the app's preview pane). The pair lives on the disk, so the
disk is asked, not the catalog: what the scanner leaves out is never
recorded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import Final

__all__ = [
    "DEVELOPED_EXTENSIONS",
    "RAW_EXTENSIONS",
    "extension",
    "is_developed",
    "is_raw",
    "pair_key",
    "raw_originals",
    "raws_with_developed_sibling",
]

log = logging.getLogger(__name__)

RAW_EXTENSIONS: Final = frozenset(
    {
        ".3fr",  # Hasselblad
        ".ari",  # ARRI
        ".arw",  # Sony
        ".bay",  # Casio
        ".cr2",  # Canon
        ".cr3",
        ".crw",
        ".dcr",  # Kodak
        ".dng",  # Adobe, Leica, Pentax, phones
        ".erf",  # Epson
        ".fff",  # Hasselblad
        ".iiq",  # Phase One
        ".k25",  # Kodak
        ".kdc",
        ".mef",  # Mamiya
        ".mos",  # Leaf
        ".mrw",  # Minolta
        ".nef",  # Nikon
        ".nrw",
        ".orf",  # Olympus / OM System
        ".pef",  # Pentax
        ".raf",  # Fujifilm
        ".raw",  # Panasonic, Leica
        ".rw2",  # Panasonic
        ".rwl",  # Leica
        ".sr2",  # Sony
        ".srf",
        ".srw",  # Samsung
        ".x3f",  # Sigma
    }
)
"""Extensions of camera RAW files (lower case, with the dot)."""

DEVELOPED_EXTENSIONS: Final = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".heic", ".heif", ".hif"}
)
"""What a camera writes beside (or instead of) a RAW: JPEG and HEIF."""


def extension(path: bytes | str | os.PathLike[str]) -> str:
    """The lower-case extension of ``path`` (``".jpg"``), or ``""``."""
    return PurePath(os.fsdecode(path)).suffix.lower()


def is_raw(path: bytes | str | os.PathLike[str]) -> bool:
    """Whether the file's extension is a camera RAW's."""
    return extension(path) in RAW_EXTENSIONS


def is_developed(path: bytes | str | os.PathLike[str]) -> bool:
    """Whether the file's extension is a JPEG's or a HEIF's."""
    return extension(path) in DEVELOPED_EXTENSIONS


def pair_key(path: bytes | str | os.PathLike[str]) -> tuple[str, str, bool] | None:
    """``(folder, lower-case stem, is a RAW)`` of a RAW or developed file, else ``None``.

    Two files are of one pair when their keys' first two items are equal and
    one of them is a RAW. String operations only: the duplicate finder calls
    this for every photo of the library.
    """
    text = os.fsdecode(path)
    cut = max(text.rfind("/"), text.rfind(os.sep))
    dot = text.rfind(".")
    if dot <= cut + 1:  # no dot in the name, or only a leading one
        return None
    ext = text[dot:].lower()
    raw = ext in RAW_EXTENSIONS
    if not raw and ext not in DEVELOPED_EXTENSIONS:
        return None
    return text[: cut + 1], text[cut + 1 : dot].lower(), raw


def raws_with_developed_sibling(names: Iterable[str]) -> set[str]:
    """The RAW names (of files in one folder) that a JPEG or HEIF of the same stem stands for.

    ``names`` are the file names the scanner lists in one folder; the names
    returned are among them.
    """
    raws: dict[str, list[str]] = {}
    developed: set[str] = set()
    for name in names:
        key = pair_key(name)
        if key is None:
            continue
        _, stem, raw = key
        if raw:
            raws.setdefault(stem, []).append(name)
        else:
            developed.add(stem)
    return {name for stem, found in raws.items() if stem in developed for name in found}


def raw_originals(paths: Iterable[Path]) -> dict[Path, Path]:
    """The RAW original of each JPEG or HEIF in ``paths`` that has one beside it.

    Lists each folder once (a folder that cannot be listed gives none);
    when several RAWs share the stem, the first by name is the original.
    Other paths, and paths without a RAW sibling, are not in the result.
    """
    wanted: dict[Path, list[Path]] = {}
    for path in paths:
        key = pair_key(path)
        if key is not None and not key[2]:
            wanted.setdefault(path.parent, []).append(path)
    found: dict[Path, Path] = {}
    for folder, developed in wanted.items():
        raws = _raws_by_stem(folder)
        for path in developed:
            key = pair_key(path)
            original = raws.get(key[1]) if key is not None else None
            if original is not None:
                found[path] = folder / original
    return found


def _raws_by_stem(folder: Path) -> dict[str, str]:
    """Lower-case stem -> the first RAW file name of that stem in ``folder``."""
    try:
        with os.scandir(folder) as entries:
            names = sorted(
                entry.name
                for entry in entries
                if not entry.name.startswith(".") and entry.is_file()
            )
    except (OSError, ValueError) as exc:
        log.debug("cannot list %s for RAW originals: %s", folder, exc)
        return {}
    raws: dict[str, str] = {}
    for name in names:
        key = pair_key(name)
        if key is not None and key[2]:
            raws.setdefault(key[1], name)
    return raws
