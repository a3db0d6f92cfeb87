"""Watching: scan folders, reconcile the catalog with the disk, follow changes.

Offers :func:`scan_folder` (:mod:`.scanner`), :func:`reconcile_all` and
:func:`reconcile_changes` (:mod:`.reconcile`), the :class:`FolderWatcher`
(:mod:`.watcher`) and volume kinds (:mod:`.volumes`).
"""

from photoseek.core.watch.reconcile import ScanSummary, reconcile_all, reconcile_changes
from photoseek.core.watch.scanner import scan_folder
from photoseek.core.watch.watcher import FolderWatcher

__all__ = ["FolderWatcher", "ScanSummary", "reconcile_all", "reconcile_changes", "scan_folder"]
