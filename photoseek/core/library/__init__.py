"""``Library``: the one facade the CLI, the GUI and the service call.

It owns the catalog, and loads the model and the vector index lazily:
folders, browsing, status and problems never import torch, and ``index``
loads the model only when there is something to embed.

Threads
-------
One *job* at a time writes: :meth:`Library.index`, :meth:`Library.scan`,
:meth:`Library.apply_changes`, or an :class:`IndexJob` from
:meth:`Library.index_job` (the watch loop). Reads may run in other threads
at the same time as that job, and with each other: :meth:`search`,
:meth:`search_pages`, :meth:`similar`, :meth:`similar_to`, :meth:`browse`,
:meth:`photo`, :meth:`photos`, :meth:`thumbnail`, :meth:`changes_since`,
:meth:`status`, :meth:`folders`, :meth:`problems`. The catalog serialises its
statements, the vector index its native calls, and the model lets a text
query run while an image batch is being embedded. :meth:`add_folder` and
:meth:`remove_folder` are single small transactions, safe beside a running
job (in this process or another): a batch that finds its rows gone skips
them. :meth:`close` must not race anything.

Writing
-------
Reconciling the disk and indexing hold the writer lock (one process per
library) only for as long as the job runs; a GUI that indexed once does not
block the service afterwards. Folder edits do not need the lock.
"""

from __future__ import annotations

from photoseek.core.library.albums import Album, AlbumOps, ExportSummary
from photoseek.core.library.contentfilter import FilterOps
from photoseek.core.library.duplicateops import DuplicateOps
from photoseek.core.library.folders import FolderOps, FolderStats
from photoseek.core.library.jobs import Jobs
from photoseek.core.library.rawpairs import RawPairOps
from photoseek.core.library.reads import BrowsePage
from photoseek.core.library.switch import SwitchOps
from photoseek.core.library.tags import TagSummary
from photoseek.core.reports import LibraryStatus, ServiceStatus

__all__ = [
    "Album",
    "BrowsePage",
    "ExportSummary",
    "FolderStats",
    "Library",
    "LibraryStatus",
    "ServiceStatus",
    "TagSummary",
]


class Library(FolderOps, Jobs, AlbumOps, FilterOps, SwitchOps, DuplicateOps, RawPairOps):
    """A photo library stored under one :class:`~photoseek.paths.AppPaths`.

    ``Library(paths, settings, read_only=False, indexer_options=None)``; see
    the module docstring for what may run in which thread.
    """
