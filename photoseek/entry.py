"""The ``photoseek`` command's entry point: a warm search first, else the full command line.

A ``search`` that a running watch service or desktop app can answer
(:mod:`photoseek.warm`) is answered before the command-line modules load:
they import the library facade, 0.15 s of a warm answer's budget.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``photoseek`` console script and of ``python -m photoseek``.

    As a process's entry (``argv`` None), it lets a long-lived command (the
    app, ``watch``) restart once with huge pages for its large allocations
    (:mod:`photoseek.hugepages`)."""
    words = list(sys.argv[1:] if argv is None else argv)
    from photoseek import hugepages

    restarted = argv is None and hugepages.restarted()
    if not restarted:  # a restart's parent asked already
        from photoseek.warm.client import ask

        answer = ask(words)
        if answer is not None:
            sys.stdout.write(answer.stdout)
            sys.stderr.write(answer.stderr)
            sys.stdout.flush()
            return answer.code
    if argv is None:
        hugepages.allow_restart()
    from photoseek.cli import main as full_main

    return full_main(words)
