"""What kind of volume a folder lives on: native change events or polling.

Network file systems (NFS, SMB/CIFS, SSHFS and other FUSE mounts, 9p,
virtual-machine shares) do not deliver change events for changes made by
other machines, and removable FAT/exFAT/NTFS media often deliver them
unreliably; photoseek polls those instead.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

NETWORK_FS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb2",
        "smb3",
        "smbfs",
        "afpfs",
        "webdav",
        "davfs",
        "ncpfs",
        "9p",
        "vboxsf",
        "vmhgfs",
        "prl_fs",
        "sshfs",
        "ceph",
        "glusterfs",
        "lustre",
    }
)
REMOVABLE_FS = frozenset({"vfat", "msdos", "exfat", "fat", "fat32", "ntfs", "fuseblk", "hfs"})


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, fs type, options) of every mounted volume."""
    import psutil

    try:
        return [(p.mountpoint, p.fstype.lower(), p.opts) for p in psutil.disk_partitions(all=True)]
    except (OSError, RuntimeError) as exc:  # never fatal: fall back to native events
        log.debug("cannot list mounts: %s", exc)
        return []


Mount = tuple[str, str, str]  # (mount point, fs type, options)


def volume_of(path: Path, mounts: list[Mount] | None = None) -> Mount:
    """The mount holding ``path`` (the longest matching mount point); ("", "", "") if none."""
    target = os.path.realpath(path)
    best: Mount = ("", "", "")
    for mount in mounts if mounts is not None else _mounts():
        point = mount[0]
        inside = target == point or target.startswith(point.rstrip(os.sep) + os.sep)
        if inside and len(point) > len(best[0]):
            best = mount
    return best


def polling_reason(path: Path, mounts: list[Mount] | None = None) -> str | None:
    """Why ``path`` must be polled (e.g. ``"network volume (nfs4)"``), or None for native events."""
    _, fstype, options = volume_of(path, mounts)
    flags = options.split(",")
    if fstype in NETWORK_FS or fstype.startswith("fuse.") or "remote" in flags:
        return f"network volume ({fstype or 'remote'})"
    if fstype in REMOVABLE_FS or "removable" in flags:
        return f"removable volume ({fstype or 'removable'})"
    return None
