"""Run a multi-statement SQL script inside the caller's transaction.

``sqlite3.Connection.executescript`` would COMMIT the transaction a
migration runs in, so scripts are split into complete statements (trigger
bodies hold semicolons of their own) and executed one by one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator


def statements(script: str) -> Iterator[str]:
    """The complete SQL statements of ``script``, in order."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                yield pending.strip()
            pending = ""
    if pending.strip(" \n\t;"):
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:60]!r}")


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Execute every statement of ``script`` without committing."""
    for statement in statements(script):
        conn.execute(statement)
