"""How much a built bundle weighs: the total and its biggest parts.

    python packaging/bundlesize.py packaging/dist/photoseek [--top 15]

A "part" is a top-level entry of the bundle's ``_internal`` folder, except
that a few big packages are split one level further (``torch/lib``,
``PySide6/Qt``) so the table shows what a cut would save.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

SPLIT = ("torch", "torch/lib", "PySide6", "PySide6/Qt", "PySide6/Qt/lib", "PySide6/Qt/plugins")
MB = 1_000_000


def tree_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (links not followed, each file counted once)."""
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            total += (Path(root) / name).lstat().st_size
    return total


def parts(internal: Path, split: tuple[str, ...] = SPLIT) -> Iterator[tuple[str, int]]:
    """(relative name, bytes) of each part of ``internal`` (see the module's docstring)."""
    pending = [internal]
    while pending:
        folder = pending.pop()
        for entry in sorted(folder.iterdir()):
            name = entry.relative_to(internal).as_posix()
            if entry.is_dir() and not entry.is_symlink() and name in split:
                pending.append(entry)
            else:
                yield name, tree_bytes(entry)


def internal_dir(bundle: Path) -> Path:
    """The folder holding the bundle's libraries (``_internal``, or ``Contents/Frameworks``)."""
    for candidate in (bundle / "_internal", bundle / "Contents" / "Frameworks"):
        if candidate.is_dir():
            return candidate
    return bundle


def report(bundle: Path, top: int = 15) -> str:
    """A plain-text table: the total, then the ``top`` biggest parts."""
    total = tree_bytes(bundle)
    files = sum(len(names) for _root, _dirs, names in os.walk(bundle))
    rows = sorted(parts(internal_dir(bundle)), key=lambda row: -row[1])[:top]
    lines = [f"bundle {bundle}: {total / MB:,.0f} MB in {files:,} files"]
    lines += [f"  {size / MB:9,.1f} MB  {name}" for name, size in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    print(report(args.bundle, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
