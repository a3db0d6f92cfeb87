"""Watching: scan folders, reconcile the catalog with the disk, follow changes.

Offers :func:`scan_folder` (:mod:`.scanner`), :func:`reconcile_all` and
:func:`reconcile_changes` (:mod:`.reconcile`), the :class:`FolderWatcher`
(:mod:`.watcher`) and volume kinds (:mod:`.volumes`). The names are imported
when first used: the app's window imports :mod:`.excludes` before it shows,
and watchdog (about 30 ms) is not needed until the folders are followed.
"""

from typing import TYPE_CHECKING

from photoseek.core.lazyimport import lazy_attributes

if TYPE_CHECKING:
    from photoseek.core.watch.reconcile import ScanSummary, reconcile_all, reconcile_changes
    from photoseek.core.watch.scanner import scan_folder
    from photoseek.core.watch.watcher import FolderWatcher

__all__ = ["FolderWatcher", "ScanSummary", "reconcile_all", "reconcile_changes", "scan_folder"]

__getattr__ = lazy_attributes(
    {
        "FolderWatcher": "photoseek.core.watch.watcher",
        "ScanSummary": "photoseek.core.watch.reconcile",
        "reconcile_all": "photoseek.core.watch.reconcile",
        "reconcile_changes": "photoseek.core.watch.reconcile",
        "scan_folder": "photoseek.core.watch.scanner",
    }
)
