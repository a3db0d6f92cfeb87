"""Jobs of the facade: scanning, reconciling, indexing, making missing thumbnails.

One job at a time writes; each holds the writer lock only while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from photoseek.core.errors import Cancelled, LibraryError
from photoseek.core.indexing.thumbnailing import rebuild_missing_thumbnails
from photoseek.core.indexkeeper import IndexKeeper
from photoseek.core.library.base import LAST_MODEL_KEY, LibraryBase
from photoseek.core.library.rawpairs import RAW_PAIRS_BOTH, raw_pairs_mode
from photoseek.core.progress import Phase, Progress, ProgressCallback, run_reporting
from photoseek.core.records import Changes
from photoseek.core.watch.reconcile import (
    ScanContext,
    ScanSummary,
    reconcile_all,
    reconcile_changes,
)
from photoseek.core.watch.scanner import exclusion_keys

if TYPE_CHECKING:
    from photoseek.core.cluster.options import ClusterOptions
    from photoseek.core.indexing.pipeline import IndexJob
    from photoseek.core.model.embedder import ModelSettings


class Jobs(LibraryBase):
    """What writes the library: scans and indexing runs."""

    def _scan_context(
        self, on_progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> ScanContext:
        def listed(count: int) -> None:
            if on_progress is not None:
                on_progress(Progress(Phase.SCANNING, count, None, unit="files"))

        both = raw_pairs_mode(self.catalog) == RAW_PAIRS_BOTH  # read at every scan
        return ScanContext(exclusion_keys(self.paths.own_dirs()), listed, cancel, both)

    def scan(
        self, on_progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> ScanSummary:
        """Reconcile the catalog with the disk without embedding anything."""
        with self.writing("scanning"):
            summary = reconcile_all(self.catalog, self._scan_context(on_progress, cancel))
            self.catalog.purge_tombstones()
            self._sync_index()
            return summary

    def reconcile(self, changes: Changes) -> ScanSummary:
        """Reconcile only what a watcher reported (no embedding); removals apply at once."""
        with self.writing("watching"):
            summary = reconcile_changes(self.catalog, changes, self._scan_context(None, None))
            self._sync_index()
            return summary

    def work_count(self) -> int:
        """Photos waiting to be embedded with the chosen model (no model load)."""
        model_id = self.known_model_id()
        return self.catalog.pending_count(model_id, self.catalog.outdated(model_id))

    def index(
        self, cancel: threading.Event | None = None, cluster: ClusterOptions | None = None
    ) -> Iterator[Progress]:
        """Scan every folder, then decode, embed and index what is new or changed.

        Yields SCANNING (files listed), then, only when there is something to
        embed, DOWNLOADING_MODEL/LOADING_MODEL, BUILDING_INDEX when the index
        must be rebuilt, INDEXING, THUMBNAILS when thumbnails were missing, and
        ends with DONE or CANCELLED. The counts of the last item include the
        problems the scan found. With ``cluster``, the pending photos are decoded
        and embedded on that Ray cluster (:mod:`photoseek.core.cluster`; raises
        ``ClusterUnavailableError`` at once when Ray is not installed).
        """
        cancel = cancel or threading.Event()
        if cluster is not None:
            from photoseek.core.cluster.availability import require_ray

            require_ray()  # before anything slow
            check_cluster_precision(self.settings)
        with self.writing("indexing"):
            try:
                yield from self._index_run(cancel, cluster)
            except Cancelled:
                yield Progress(Phase.CANCELLED)

    def _index_run(
        self, cancel: threading.Event, cluster: ClusterOptions | None = None
    ) -> Iterator[Progress]:
        yield Progress(Phase.SCANNING, 0, None, unit="files")
        summary: ScanSummary = yield from run_reporting(lambda report: self.scan(report, cancel))
        yield Progress(Phase.SCANNING, summary.listed, summary.listed, unit="files")
        final = Progress(Phase.DONE, problems=summary.problems)
        if not cancel.is_set() and self.work_count():
            final = yield from self._embed_all(cancel, summary.problems, cluster)
        if not cancel.is_set():
            yield from self.rebuild_thumbnails(cancel)
        yield replace(final, phase=Phase.CANCELLED) if cancel.is_set() else final

    def _embed_all(
        self,
        cancel: threading.Event,
        scan_problems: int,
        cluster: ClusterOptions | None = None,
    ) -> Generator[Progress, None, Progress]:
        yield from run_reporting(lambda report: self._prepare_model(report, cancel))
        if cluster is not None:
            from photoseek.core.cluster.connection import connected

            with connected(cluster.address):
                return (yield from self._run_job(self.index_job(cluster), cancel, scan_problems))
        return (yield from self._run_job(self.index_job(), cancel, scan_problems))

    def _run_job(
        self, job: IndexJob, cancel: threading.Event, scan_problems: int
    ) -> Generator[Progress, None, Progress]:
        last = job.tracker.snapshot(Phase.INDEXING)
        try:
            for last in job.run(cancel):
                yield last
        finally:
            job.close()
            self._save_index(force=True)
        return replace(last, phase=Phase.DONE, problems=last.problems + scan_problems)

    def _prepare_model(self, report: ProgressCallback, cancel: threading.Event) -> None:
        self.image_encoder(report, cancel)
        self._index_keeper(report, cancel)

    def index_job(self, cluster: ClusterOptions | None = None) -> IndexJob:
        """A long-lived indexing job for the chosen model (the watch loop runs it in slices).

        Loads the model and the index. The caller holds the writer lock while
        it runs the job, and closes the job when done. With ``cluster`` (Ray
        connected already), decoding and embedding run on that cluster.
        """
        from photoseek.core.indexing.pipeline import IndexJob  # Pillow and the decoders: now

        keeper = self._index_keeper()
        if not self._model_recorded:
            self.catalog.set_meta(LAST_MODEL_KEY, str(self.model_id))
            self._model_recorded = True
        parts = (
            self.catalog,
            self.image_encoder(),
            self.model_id,
            self.thumbnails,
            lambda: self._after_batch(keeper),
            self.indexer_options,
        )
        if cluster is None:
            return IndexJob(*parts)
        check_cluster_precision(self.settings)
        from photoseek.core.cluster.job import ClusterIndexJob

        return ClusterIndexJob(
            *parts, cluster=cluster, settings=self.settings, models_dir=str(self.paths.models_dir)
        )

    def _after_batch(self, keeper: IndexKeeper) -> None:
        keeper.sync()
        self._save_index(force=False)

    def rebuild_thumbnails(self, cancel: threading.Event | None = None) -> Iterator[Progress]:
        """Make the grid thumbnails that are missing (deleted cache); no model needed."""
        yield from rebuild_missing_thumbnails(
            self.catalog, self.thumbnails, self.indexer_options.workers, cancel
        )

    def apply_changes(
        self, changes: Changes, cancel: threading.Event | None = None
    ) -> Iterator[Progress]:
        """Reconcile what a watcher reported, then index what became pending."""
        cancel = cancel or threading.Event()
        with self.writing("watching"):
            self.reconcile(changes)
            yield Progress(Phase.SCANNING, unit="files")
            if self.work_count():
                final = yield from self._embed_all(cancel, 0)
                yield final
            else:
                yield Progress(Phase.DONE)


def check_cluster_precision(settings: ModelSettings) -> None:
    """A cluster embeds with the fp32 torch model only (raises ``LibraryError`` otherwise)."""
    if settings.precision != "fp32":
        raise LibraryError("indexing on a cluster embeds at fp32 only for now")
