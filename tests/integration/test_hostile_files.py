"""A folder full of hostile files indexes to completion; nothing is lost or crashes."""

from __future__ import annotations

from pathlib import Path

from photoseek.core.library import Library
from photoseek.core.search.searcher import SearchOptions
from tests.conftest import run_index
from tests.hostile_corpus import make_hostile_corpus


def test_hostile_corpus_indexes_to_completion(library: Library, tmp_path: Path) -> None:
    corpus = make_hostile_corpus(tmp_path / "hostile")
    assert len(corpus.bad) >= 25
    library.add_folder(corpus.root)
    last = run_index(library)
    assert last.phase == "done"

    problems = {p.path: p.reason for p in library.problems()}
    for path, what in corpus.bad.items():
        assert path in problems, f"{what} ({path.name}) is not reported as a problem"
        assert problems[path].strip(), f"{what}: empty reason"
    for path in corpus.ignored:
        assert path not in problems, f"{path.name} should be skipped silently"
    assert set(problems) <= set(corpus.bad), "a good file was reported as a problem"

    live = library.catalog.live_ids(library.model_id)
    records = library.catalog.photos(sorted(live))
    indexed = {r.path for r in records.values()}
    assert set(corpus.good) <= indexed
    for path in corpus.good:
        hits = library.similar(path, SearchOptions(limit=3)).hits
        assert path in {h.photo.path for h in hits if h.score > 0.999}, path.name

    again = run_index(library)
    assert (again.total, again.problems) == (0, 0)  # bad files are not retried until they change
