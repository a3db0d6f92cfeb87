"""Where an indexing job takes its work from: the catalog, a page at a time.

Items are handed out by id (keyset pages) and stay *in flight* until their
batch commits, so a page read again (after :meth:`WorkSource.refresh`, or on
the one wrap-around that catches rows that became pending behind the
cursor) never hands out the same photo twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from photoseek.core.catalog.store import Catalog
from photoseek.core.catalog.work import Outdated
from photoseek.core.records import WorkItem

PAGE = 256


class WorkSource:
    """Pending work of one model, read in pages."""

    def __init__(self, catalog: Catalog, model_id: int) -> None:
        self.catalog = catalog
        self.model_id = model_id
        self._outdated: Outdated = catalog.outdated(model_id)
        self._after = 0
        self._wrapped = False
        self.exhausted = False
        self.in_flight: set[int] = set()

    def take(self, count: int) -> list[WorkItem]:
        """Up to ``count`` items not yet handed out."""
        items: list[WorkItem] = []
        while len(items) < count and not self.exhausted:
            page = self.catalog.pending_page(
                self.model_id,
                self._outdated,
                after_id=self._after,
                limit=min(PAGE, count - len(items)),
                skip=self.in_flight,
            )
            if page:
                self._after = page[-1].id
                items += page
                self.in_flight.update(item.id for item in page)
            elif not self._wrapped:  # rows with lower ids may have become pending meanwhile
                self._after, self._wrapped = 0, True
            else:
                self.exhausted = True
        return items

    def release(self, ids: Iterable[int]) -> None:
        """These items were committed (or dropped): they may be handed out again."""
        self.in_flight.difference_update(ids)

    def refresh(self) -> None:
        """A scan ran: read the decoder tags again and look for work once more."""
        self._outdated = self.catalog.outdated(self.model_id)
        self._wrapped = False
        self.exhausted = False

    def count(self) -> int:
        """How many items are waiting (those in flight not included)."""
        return max(
            self.catalog.pending_count(self.model_id, self._outdated) - len(self.in_flight), 0
        )
