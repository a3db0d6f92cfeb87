"""The catalog: the SQLite source of truth (schema, migrations, reads, batch writes).

Offers :class:`Catalog` (typed access to one catalog file) and
:class:`MoveCandidate`; :mod:`.migrations` orders the schema steps,
:mod:`.reads` holds the queries behind search, :mod:`.batchwrites` the writes
done inside one indexing batch's transaction.
"""

from photoseek.core.catalog.store import Catalog, MoveCandidate

__all__ = ["Catalog", "MoveCandidate"]
