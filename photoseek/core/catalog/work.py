"""What indexing still has to do, read in pages.

Work for a model is every photo in an available folder that is pending
(new or changed on disk), indexed but without a vector of this model, or
whose vector (or failure) came from a decoder that has improved since
(:mod:`photoseek.core.imaging.decoders`). Pages are read by id (keyset
pagination), so a long run, or a watch service that indexes a slice at a
time, never re-reads the whole list.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from photoseek.core.catalog.base import CatalogBase, marks
from photoseek.core.catalog.pathcodec import from_db
from photoseek.core.imaging.decoders import is_current
from photoseek.core.records import WorkItem

SCAN_PROBLEM_TAG = "scan"
"""The decoder tag of problems the scanner found (FIFOs, broken links): never re-read."""


@dataclass(frozen=True)
class Outdated:
    """Decoder tags in the catalog that today's decoders would not produce."""

    vectors: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


class WorkReads(CatalogBase):
    """Reads of the indexing work."""

    def outdated(self, model_id: int | None) -> Outdated:
        """The decoder tags of this model's vectors and of problems that are not current."""
        vectors: tuple[str, ...] = ()
        if model_id is not None:
            rows = self._query(
                "SELECT DISTINCT COALESCE(decoder, '') FROM embeddings WHERE model_id = ?",
                (model_id,),
            )
            vectors = tuple(str(r[0]) for r in rows if not is_current(str(r[0])))
        rows = self._query(
            "SELECT DISTINCT COALESCE(decoder, '') FROM photos WHERE status = 'error'"
        )
        problems = tuple(
            str(r[0]) for r in rows if str(r[0]) != SCAN_PROBLEM_TAG and not is_current(str(r[0]))
        )
        return Outdated(vectors, problems)

    def pending_page(
        self,
        model_id: int | None,
        outdated: Outdated,
        *,
        after_id: int = 0,
        limit: int = 256,
        skip: Collection[int] = (),
    ) -> list[WorkItem]:
        """Up to ``limit`` work items with ids above ``after_id``, by id (``skip``: in flight)."""
        where, params = _work_condition(outdated)
        rows = self._query(
            "SELECT p.id, p.path, p.size, p.mtime_ns, p.fingerprint FROM photos p "
            "JOIN folders f ON f.id = p.folder_id AND f.status = 'ok' "
            "LEFT JOIN embeddings e ON e.fingerprint = p.fingerprint AND e.model_id = ? "
            f"WHERE p.id > ? AND ({where}) ORDER BY p.id LIMIT ?",
            (model_id if model_id is not None else -1, after_id, *params, limit + len(skip)),
        )
        items = [
            WorkItem(int(r[0]), from_db(r[1]), int(r[2]), int(r[3]), r[4])
            for r in rows
            if int(r[0]) not in skip
        ]
        return items[:limit]

    def pending_count(self, model_id: int | None, outdated: Outdated) -> int:
        """How many work items there are for this model."""
        where, params = _work_condition(outdated)
        rows = self._query(
            "SELECT COUNT(*) FROM photos p JOIN folders f ON f.id = p.folder_id "
            "AND f.status = 'ok' LEFT JOIN embeddings e ON e.fingerprint = p.fingerprint "
            f"AND e.model_id = ? WHERE ({where})",
            (model_id if model_id is not None else -1, *params),
        )
        return int(rows[0][0])

    def pending_work(self, model_id: int | None) -> list[WorkItem]:
        """Every work item for this model (small libraries and tests; indexing pages)."""
        outdated = self.outdated(model_id)
        items: list[WorkItem] = []
        while page := self.pending_page(model_id, outdated, after_id=items[-1].id if items else 0):
            items += page
        return items


def _work_condition(outdated: Outdated) -> tuple[str, list[object]]:
    """The WHERE condition (over ``p`` and the model's ``e``) that selects work."""
    vectors = f" OR COALESCE(e.decoder, '') IN ({marks(len(outdated.vectors))})"
    problems = (
        f" OR (p.status = 'error' AND COALESCE(p.decoder, '') IN ({marks(len(outdated.problems))}))"
    )
    condition = (
        "p.status = 'pending' OR (p.status = 'indexed' AND (e.id IS NULL"
        + (vectors if outdated.vectors else "")
        + "))"
        + (problems if outdated.problems else "")
    )
    return condition, [*outdated.vectors, *outdated.problems]
