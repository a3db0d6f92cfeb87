"""User label sets: one plain-text file per set, ``<label sets dir>/<name>.txt``.

The format, one label per line (blank lines and lines starting with ``#``
are ignored)::

    # NAME [= SYNONYM, SYNONYM ...] [| PROMPT | PROMPT ...]
    beach = the seaside, the coast
    receipt = an invoice | a photo of a shopping receipt.
    grandma's garden

A name is also the word the templates are filled with ("a photo of a
beach."); synonyms are more words for the same thing, averaged in; a prompt
is a whole sentence used as it is. A name may not contain ``=`` ``|`` or
``,``; a synonym neither ``|`` nor ``,``; a prompt not ``|``. Names are
unique, case-insensitively. The set's name is the file's name; a user set
may not take the built-in set's name. Files are UTF-8 and written
atomically; a file that does not parse is an error naming its line.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from photoseek.core.atomicfile import write_text_atomically
from photoseek.core.errors import PhotoseekError
from photoseek.core.zeroshot.labels import BUILTIN_SET, Label, LabelSet, builtin_label_set

__all__ = [
    "AD_HOC",
    "ad_hoc_label_set",
    "add_label",
    "current_label_set",
    "format_label_set",
    "label_set_names",
    "load_label_set",
    "parse_label_set",
    "remove_label",
]

log = logging.getLogger(__name__)

SUFFIX = ".txt"
AD_HOC = "ad hoc"  # the set of a --labels option (a name no file can have)
_SET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HEADER = "# photoseek label set: NAME [= SYNONYM, ...] [| PROMPT | ...], one label per line\n"


def parse_label_set(name: str, text: str) -> LabelSet:
    """The label set written in ``text`` (the format above)."""
    labels: list[Label] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            labels.append(_parse_line(stripped))
        except ValueError as exc:
            raise PhotoseekError(f"label set {name!r}, line {number}: {exc}") from None
    return _checked(LabelSet(name, tuple(labels)))


def _parse_line(line: str) -> Label:
    head, *prompts = (part.strip() for part in line.split("|"))
    name, _, synonym_text = (part.strip() for part in head.partition("="))
    if not name:
        raise ValueError("a label needs a name before '=' or '|'")
    if "," in name:
        raise ValueError(f"a name may not contain ',': {name!r} (synonyms go after '=')")
    synonyms = tuple(s.strip() for s in synonym_text.split(",") if s.strip())
    if any(not p for p in prompts):
        raise ValueError("an empty prompt between '|'")
    return Label(name, synonyms, tuple(prompts))


def format_label_set(labels: LabelSet) -> str:
    """``labels`` in the file format (what :func:`parse_label_set` reads back)."""
    lines = [_HEADER]
    for label in labels.labels:
        line = label.name
        if label.synonyms:
            line += " = " + ", ".join(label.synonyms)
        for prompt in label.prompts:
            line += " | " + prompt
        lines.append(line + "\n")
    return "".join(lines)


def ad_hoc_label_set(text: str) -> LabelSet:
    """The set a ``--labels "cat, dog, a birthday party"`` option names."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise PhotoseekError("--labels needs at least one label, separated by commas")
    return _checked(LabelSet(AD_HOC, tuple(Label(name) for name in names)))


def label_set_names(folder: Path) -> list[str]:
    """The built-in set, then the user's sets in ``folder``, by name."""
    user = sorted(p.stem for p in folder.glob(f"*{SUFFIX}") if _SET_NAME.match(p.stem))
    return [BUILTIN_SET, *(name for name in user if name != BUILTIN_SET)]


def current_label_set(folder: Path, name: str, stored: tuple[str, ...]) -> LabelSet:
    """The set called ``name`` as it is now; a set that is gone (or ad hoc) as ``stored``."""
    if name != AD_HOC:
        try:
            return load_label_set(folder, name)
        except PhotoseekError as exc:
            log.info("label set %r: %s; its stored labels are kept", name, exc)
    return LabelSet(name, tuple(Label(label) for label in stored))


def load_label_set(folder: Path, name: str) -> LabelSet:
    """The set called ``name``: the built-in one, or the user's file in ``folder``."""
    if name == BUILTIN_SET:
        return builtin_label_set()
    path = _path(folder, name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = ", ".join(label_set_names(folder))
        raise PhotoseekError(f"no label set called {name!r} (there are: {known})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PhotoseekError(f"cannot read the label set {path}: {exc}") from exc
    return parse_label_set(name, text)


def add_label(folder: Path, set_name: str, label: Label) -> LabelSet:
    """Add ``label`` to the user's set (created if missing); a label of that name is replaced."""
    current = _user_set(folder, set_name, must_exist=False)
    kept = tuple(lab for lab in current.labels if lab.name.casefold() != label.name.casefold())
    updated = _checked(LabelSet(set_name, (*kept, label)))
    _save(folder, updated)
    return updated


def remove_label(folder: Path, set_name: str, name: str) -> LabelSet:
    """Remove the label called ``name`` from the user's set."""
    current = _user_set(folder, set_name, must_exist=True)
    if current.find(name) is None:
        raise PhotoseekError(f"label set {set_name!r} has no label {name!r}")
    kept = tuple(lab for lab in current.labels if lab.name.casefold() != name.casefold())
    updated = LabelSet(set_name, kept)
    _save(folder, updated)
    return updated


def _user_set(folder: Path, name: str, *, must_exist: bool) -> LabelSet:
    if name == BUILTIN_SET:
        raise PhotoseekError(
            f"the built-in label set {BUILTIN_SET!r} cannot be changed: "
            "add labels to a set of your own (--set NAME)"
        )
    if not must_exist and not _path(folder, name).exists():
        return LabelSet(name)
    return load_label_set(folder, name)


def _save(folder: Path, labels: LabelSet) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_text_atomically(_path(folder, labels.name), format_label_set(labels))


def _path(folder: Path, name: str) -> Path:
    if not _SET_NAME.match(name):
        raise PhotoseekError(
            f"a label set's name is letters, digits, '-', '_' and '.' (up to 64): {name!r}"
        )
    return folder / f"{name}{SUFFIX}"


def _checked(labels: LabelSet) -> LabelSet:
    seen: set[str] = set()
    for label in labels.labels:
        for text in (label.name, *label.synonyms):
            if any(mark in text for mark in "=|"):
                raise PhotoseekError(f"label {label.name!r}: '=' and '|' cannot be in {text!r}")
        key = label.name.casefold()
        if key in seen:
            raise PhotoseekError(f"label set {labels.name!r} names {label.name!r} twice")
        seen.add(key)
    return labels
