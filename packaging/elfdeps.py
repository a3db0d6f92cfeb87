"""Which shared libraries a Linux bundle holds only for the files it cut.

PyInstaller adds every library a collected binary links to (DT_NEEDED),
before the spec's rules cut some binaries. A library that only the cut
binaries needed (the GTK 3 theme plugin's cairo, pango, gdk-pixbuf ...) is
then an orphan: :func:`orphans` finds them, so the spec cuts them too. A
library nothing in the bundle links to (one loaded by name with ``dlopen``
or ctypes) is never an orphan: only libraries that lost all their users are.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

ELF_MAGIC = b"\x7fELF"
SHT_DYNAMIC = 6
DT_NULL, DT_NEEDED = 0, 1

TocEntry = tuple[str, str, str]  # PyInstaller's (destination, source, type code)


def needed(path: Path) -> list[str]:
    """The DT_NEEDED names of the ELF file ``path`` ([] for anything else)."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    if data[:4] != ELF_MAGIC or data[4] != 2 or data[5] != 1:  # 64-bit little-endian only
        return []
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)
    ]
    names: list[str] = []
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if kind != SHT_DYNAMIC or not entsize:
            continue
        strtab_offset = sections[link][4]
        for at in range(offset, offset + size, entsize):
            tag, value = struct.unpack_from("<qQ", data, at)
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED:
                end = data.index(b"\0", strtab_offset + value)
                names.append(data[strtab_offset + value : end].decode("ascii", "replace"))
    return names


def orphans(collected: Iterable[TocEntry], cut: set[str]) -> set[str]:
    """Top-level libraries (destination without a folder) that only ``cut`` entries need.

    ``collected``: the binaries before the cut; ``cut``: the destinations cut.
    """
    entries = [entry for entry in collected if entry[2] != "SYMLINK"]
    users: dict[str, set[str]] = {}
    for dest, source, _kind in entries:
        for name in needed(Path(source)):
            users.setdefault(name, set()).add(dest)
    gone = set(cut)
    while True:
        more = {
            dest
            for dest, _source, _kind in entries
            if dest not in gone
            and len(PurePosixPath(dest).parts) == 1
            and users.get(PurePosixPath(dest).name)
            and users[PurePosixPath(dest).name] <= gone
        }
        if not more:
            return gone - set(cut)
        gone |= more
