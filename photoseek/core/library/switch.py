"""Switching the library to another model without losing search.

``photoseek model use`` (or the app's model setting) calls
:meth:`SwitchOps.start_model_switch`, which only records the switch
(:mod:`~photoseek.core.library.modelchoice`). A :class:`ModelSwitcher` then
embeds, in slices, every photo that has no vector of the target model yet:
it runs the ordinary indexing job of a second library object opened on the
same files for the target model, which shares the writer role of the first.
Meanwhile the chosen model keeps answering searches (its vectors and index
are untouched), new photos are still indexed for it, and the switch's
progress is published in the record every few seconds, so any process can
show it with an ETA.

The switch can be paused, resumed (also after a restart: the record and
every committed batch survive a killed process) and cancelled. Once no
photo lacks a target vector, the target is tagged with the label set and
templates the library used (and the content filter applied), and one
transaction makes it the chosen model and forgets the switch; the library
object that ran it answers with the target from then on
(:meth:`~photoseek.core.library.state.LibraryState.switch_to`). Both models'
vectors stay in the catalog until ``photoseek model drop``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from photoseek.core.errors import LibraryError
from photoseek.core.library.base import LibraryBase
from photoseek.core.library.modelchoice import (
    CHOSEN_MODEL_KEY,
    SWITCH_KEY,
    ModelName,
    SwitchRecord,
    choice_json,
    read_switch,
    write_switch,
)
from photoseek.core.model.embedder import ModelSettings
from photoseek.core.model.naming import expected_model
from photoseek.core.progress import Phase, Progress

if TYPE_CHECKING:
    from photoseek.core.cluster.options import ClusterOptions
    from photoseek.core.indexing.pipeline import IndexJob
    from photoseek.core.library import Library

log = logging.getLogger("photoseek.core.library")

__all__ = ["DroppedModel", "ModelSwitcher", "SwitchOps"]

PUBLISH_EVERY_S = 3.0  # how often a running switch writes its progress into its record


@dataclass(frozen=True)
class DroppedModel:
    """What ``model drop`` removed."""

    name: ModelName
    vectors: int
    bytes_freed: int


class SwitchOps(LibraryBase):
    """The library's model: which one answers, and switching to another."""

    def chosen_model(self) -> ModelName:
        """The model this library object answers with."""
        return ModelName(self.settings.arch, self.settings.pretrained)

    def model_switch(self) -> SwitchRecord | None:
        """The switch in progress (running or paused), if any."""
        return read_switch(self.catalog)

    def start_model_switch(self, target: ModelName) -> SwitchRecord:
        """Record a switch to ``target`` (running); a paused one to the same target resumes.

        A switch to another target replaces the one in progress (the vectors
        it made stay until ``model drop``). Raises :class:`LibraryError` when
        ``target`` already answers.
        """
        if target == self.chosen_model():
            raise LibraryError(f"{target} is already the library's model")
        existing = self.model_switch()
        if existing is not None and existing.target == target:
            record = replace(existing, state="running")
        else:
            if existing is not None:
                log.info("the switch to %s is replaced by one to %s", existing.target, target)
            record = SwitchRecord(target, self.chosen_model(), "running", time.time())
        write_switch(self.catalog, record)
        return record

    def pause_model_switch(self) -> SwitchRecord:
        """Stop the switch after the batch in progress; it keeps what it embedded."""
        return self._set_switch_state("paused")

    def resume_model_switch(self) -> SwitchRecord:
        """Let a paused switch run again."""
        return self._set_switch_state("running")

    def cancel_model_switch(self) -> SwitchRecord:
        """Forget the switch; the chosen model stays (the target's vectors too, until dropped)."""
        record = self._switch_or_error()
        write_switch(self.catalog, None)
        return record

    def _set_switch_state(self, state: str) -> SwitchRecord:
        record = self._switch_or_error()
        record = replace(record, state="paused" if state == "paused" else "running")
        write_switch(self.catalog, record)
        return record

    def _switch_or_error(self) -> SwitchRecord:
        record = self.model_switch()
        if record is None:
            raise LibraryError("no model switch is in progress")
        return record

    def model_switcher(self, cluster: ClusterOptions | None = None) -> ModelSwitcher:
        """Whatever runs the recorded switch (raises when there is none).

        With ``cluster`` (Ray connected by the caller), the re-embedding runs there.
        """
        return ModelSwitcher(self, self._switch_or_error(), cluster)  # type: ignore[arg-type]

    def drop_model(self, name: ModelName) -> DroppedModel:
        """Delete every vector, tag and index file of ``name`` (all its weights files).

        Refuses the model that answers and the target of a switch in
        progress. Returns how much catalog space and index files it freed
        (the catalog file shrinks at its next vacuum; the pages are reused
        at once).
        """
        if name == self.chosen_model():
            raise LibraryError(f"{name} is the library's model; switch to another one first")
        record = self.model_switch()
        if record is not None and record.target == name:
            raise LibraryError(f"{name} is the target of the switch in progress: cancel it first")
        with self.writing("dropping a model"):
            ids = self._model_rows(name)
            if not ids:
                raise LibraryError(f"the library has no vectors of {name}")
            index_bytes = self._drop_index_files(ids)
            vectors, catalog_bytes = self._drop_rows(ids)
        return DroppedModel(name, vectors, catalog_bytes + index_bytes)

    def stored_models(self) -> list[tuple[ModelName, int, int]]:
        """Each model with vectors in the library: (name, vectors, bytes its vectors take)."""
        rows = self.catalog._query(
            "SELECT m.arch, m.pretrained, COUNT(e.id), COALESCE(SUM(LENGTH(e.vector)), 0) "
            "FROM models m JOIN embeddings e ON e.model_id = m.id "
            "GROUP BY m.arch, m.pretrained ORDER BY MIN(m.id)"
        )
        return [(_stored_name(str(r[0]), str(r[1])), int(r[2]), int(r[3])) for r in rows]

    def _model_rows(self, name: ModelName) -> list[int]:
        expected = expected_model(name.arch, name.pretrained, self.paths.models_dir)
        rows = self.catalog._query(
            "SELECT id FROM models WHERE (arch = ? OR arch LIKE ?) AND pretrained = ?",
            (expected.arch, f"{expected.arch}+%", expected.pretrained),
        )
        return [int(r[0]) for r in rows]

    def _drop_index_files(self, ids: list[int]) -> int:
        freed = 0
        for model_id in ids:
            identity = self.catalog.model_identity(model_id)
            if identity is None:
                continue
            for path in self.paths.index_dir.glob(f"{self._index_file(identity).name}*"):
                freed += path.stat().st_size
                path.unlink()
        return freed

    def _drop_rows(self, ids: list[int]) -> tuple[int, int]:
        marks = ", ".join("?" * len(ids))
        with self.catalog.transaction() as tx:
            vectors, size = tx.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(vector)), 0) FROM embeddings "
                f"WHERE model_id IN ({marks})",
                ids,
            ).fetchone()
            scores = tx.execute(
                "SELECT COALESCE(SUM(LENGTH(scores)), 0) + 24 * COUNT(*) FROM label_scores "
                f"WHERE model_id IN ({marks})",
                ids,
            ).fetchone()[0]
            for table in ("label_scores", "tag_spaces", "album_cutoffs", "embeddings"):
                tx.execute(f"DELETE FROM {table} WHERE model_id IN ({marks})", ids)
            tx.execute(f"DELETE FROM models WHERE id IN ({marks})", ids)
        return int(vectors), int(size) + int(scores)


def _stored_name(arch: str, pretrained: str) -> ModelName:
    """A catalog model row's name as a user gives it (its precision tag left off)."""
    return ModelName(arch.split("+", 1)[0], pretrained)


class ModelSwitcher:
    """Runs a recorded model switch in slices, for the command, the service or the app.

    One per running switch; :meth:`close` when done or stopping. The caller
    runs :meth:`run` in the thread that may write the library.
    """

    def __init__(
        self, library: Library, record: SwitchRecord, cluster: ClusterOptions | None = None
    ) -> None:
        self.library = library
        self.record = record
        self.cluster = cluster
        self._target: Library | None = None
        self._job: IndexJob | None = None
        self._base = 0  # photos that had a target vector when the job started
        self._published = 0.0
        self.finished = False

    @property
    def target_settings(self) -> ModelSettings:
        """The target model with the library's device and precision."""
        settings = self.library.settings
        return replace(
            settings, arch=self.record.target.arch, pretrained=self.record.target.pretrained
        )

    def target_library(self) -> Library:
        """The library opened for the target model (sharing the writer role)."""
        if self._target is None:
            from photoseek.core.library import Library

            library = self.library
            self._target = Library(
                library.paths,
                self.target_settings,
                read_only=library.read_only,
                indexer_options=library.indexer_options,
                writer_lock=library.writer_lock,
            )
        return self._target

    def remaining(self) -> int:
        """Photos still without a target vector (no model load)."""
        return self.target_library().work_count()

    def run(
        self,
        cancel: threading.Event | None = None,
        *,
        until: float | None = None,
        hold: Callable[[], bool] | None = None,
    ) -> Iterator[Progress]:
        """Embed for the target until done, ``cancel``, ``until`` or ``hold()``; then swap.

        Yields LOADING_MODEL/BUILDING_INDEX while the target loads, then
        SWITCHING_MODEL progress over the whole library (photos that already
        have a target vector count as done), and DONE when the library
        answers with the target. A record paused or cancelled by another
        process stops the run after the batch in progress.
        """
        cancel = cancel or threading.Event()
        if not self._still_wanted():  # paused or cancelled: nothing to do
            return
        target = self.target_library()
        with self.library.writing("switching the model"):
            if self._job is None:
                yield from self._start(target, cancel)
            job = self._job
            assert job is not None
            last: Progress | None = None
            for item in job.run(cancel, until=until, hold=lambda: self._held(hold)):
                last = self._publish(item)
                yield last
            if last is not None:  # where this slice stopped, for every process to see
                self._store(last)
            if job.finished and not cancel.is_set() and self._still_wanted():
                if target.work_count() == 0:
                    yield from self._finish(target)
                else:  # photos added meanwhile are part of the switch too: the next run
                    job.refresh()

    def _start(self, target: Library, cancel: threading.Event) -> Iterator[Progress]:
        from photoseek.core.progress import run_reporting

        yield from run_reporting(lambda report: target._prepare_model(report, cancel))
        pending = target.work_count()
        self._base = max(self._library_total() - pending, 0)
        self._job = target.index_job(self.cluster)

    def _library_total(self) -> int:
        rows = self.library.catalog._query(
            "SELECT COUNT(*) FROM photos p JOIN folders f ON f.id = p.folder_id "
            "AND f.status = 'ok' WHERE p.status IN ('indexed', 'pending')"
        )
        return int(rows[0][0])

    def _held(self, hold: Callable[[], bool] | None) -> bool:
        if hold is not None and hold():
            return True
        return not self._still_wanted()

    def _still_wanted(self) -> bool:
        """Whether the record still asks for this switch to run (not paused or cancelled)."""
        record = read_switch(self.library.catalog)
        return (
            record is not None
            and record.target == self.record.target
            and (record.state == "running")
        )

    def _publish(self, item: Progress) -> Progress:
        """The job's progress as the whole switch's; stored every few seconds."""
        total = self._base + (item.total or 0)
        progress = replace(
            item, phase=Phase.SWITCHING_MODEL, done=self._base + item.done, total=total
        )
        if time.monotonic() - self._published >= PUBLISH_EVERY_S:
            self._store(progress)
        return progress

    def _store(self, progress: Progress) -> None:
        self._published = time.monotonic()
        record = read_switch(self.library.catalog)
        if record is not None and record.target == self.record.target:
            record = record.with_progress(progress.done, progress.total or 0, progress.rate)
            write_switch(self.library.catalog, record)

    def _finish(self, target: Library) -> Iterator[Progress]:
        for done in target.refresh_zero_shot():  # tags and the content filter follow
            log.info("model switch: %s", done)
        settings = self.target_settings
        with self.library.catalog.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (CHOSEN_MODEL_KEY, choice_json(self.record.target)),
            )
            tx.execute("DELETE FROM meta WHERE key = ?", (SWITCH_KEY,))
        target._save_index(force=True)
        self.close()
        self.library.switch_to(settings)
        self.finished = True
        log.info("the library answers with %s from now on", self.record.target)
        yield Progress(Phase.DONE)

    def close(self) -> None:
        """Stop the job (work not committed is dropped) and close the target library."""
        if self._job is not None:
            self._job.close()
            self._job = None
        if self._target is not None:
            self._target.close()
            self._target = None
