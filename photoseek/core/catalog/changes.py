"""The change log: what happened to which photo, in commit order.

Triggers (:mod:`.schema_v2`) append a row per photo for every insert,
delete, move, content change (including a new vector for its content),
status change and metadata change. A follower remembers the last sequence
number it applied and asks for what came after: the cost is what changed,
never the size of the library. The writer trims the oldest rows
(:meth:`ScanWrites.purge_tombstones`); a follower that asks for trimmed
numbers is told to reload in full.
"""

from __future__ import annotations

from collections.abc import Sequence

from photoseek.core.catalog.base import CatalogBase, chunks, marks
from photoseek.core.records import ChangeSet

TRIMMED_KEY = "changes_trimmed_to"

#: Kinds of change that can make a photo enter or leave a model's vector index.
INDEX_KINDS = frozenset({"added", "removed", "content", "state"})


class ChangeLog(CatalogBase):
    """Reads of the ``changes`` table."""

    def change_seq(self) -> int:
        """The newest sequence number (0 for an empty log): the library's version."""
        rows = self._query("SELECT COALESCE(MAX(seq), 0) FROM changes")
        return int(rows[0][0])

    def changes_after(self, seq: int) -> tuple[int, dict[int, set[str]]] | None:
        """(newest seq, photo id -> kinds) of every change after ``seq``.

        None when rows after ``seq`` were trimmed: the caller must reload.
        """
        trimmed = self._query("SELECT value FROM meta WHERE key = ?", (TRIMMED_KEY,))
        if trimmed and seq < int(trimmed[0][0]):
            return None
        rows = self._query("SELECT seq, photo_id, kind FROM changes WHERE seq > ?", (seq,))
        touched: dict[int, set[str]] = {}
        newest = seq
        for row_seq, photo_id, kind in rows:
            touched.setdefault(int(photo_id), set()).add(str(kind))
            newest = max(newest, int(row_seq))
        return newest, touched

    def live_among(self, model_id: int, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` belong in this model's vector index now."""
        live: set[int] = set()
        for chunk in chunks(list(ids)):
            rows = self._query(
                f"SELECT p.id FROM photos p CROSS JOIN embeddings e "  # photos first, by id
                f"ON e.fingerprint = p.fingerprint "
                f"AND e.model_id = ? WHERE p.status = 'indexed' AND p.id IN ({marks(len(chunk))})",
                (model_id, *chunk),
            )
            live.update(int(r[0]) for r in rows)
        return live

    def library_changes(self, since: int) -> ChangeSet:
        """What changed among the library's (indexed) photos after version ``since``."""
        found = self.changes_after(since)
        if found is None:
            return ChangeSet(version=self.change_seq(), complete=False)
        newest, touched = found
        visible = self._indexed_among(sorted(touched))
        changes = ChangeSet(version=newest)
        for photo_id in sorted(touched):
            kinds = touched[photo_id]
            if photo_id not in visible:
                changes.removed.append(photo_id)
                continue
            (changes.new if "added" in kinds else changes.changed).append(photo_id)
            if "moved" in kinds:
                changes.moved.append(photo_id)
        return changes

    def _indexed_among(self, ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for chunk in chunks(list(ids)):
            rows = self._query(
                f"SELECT id FROM photos WHERE status = 'indexed' AND id IN ({marks(len(chunk))})",
                tuple(chunk),
            )
            found.update(int(r[0]) for r in rows)
        return found
