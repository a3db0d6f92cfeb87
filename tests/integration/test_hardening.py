"""The core tried as an attacker and a new user would: one bad file never stops a run.

Each test here was written against a defect seen in the field (issue 6) and
failed before its fix.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoseek.core.errors import QueryError
from photoseek.core.imaging import decoders
from photoseek.core.indexing import pipeline, reading
from photoseek.core.library import Library
from photoseek.core.progress import Phase
from photoseek.core.search.searcher import SearchFilters, SearchOptions
from tests.conftest import make_photo, make_photos, run_index, tiny_library

LATIN1 = os.fsdecode(b"caf\xe9")  # a name that is not UTF-8: a lone surrogate in Python


def _indexed_paths(library: Library) -> set[Path]:
    ids = sorted(library.catalog.live_ids(library.model_id))
    return {record.path for record in library.catalog.photos(ids).values()}


def test_names_that_are_not_utf8_are_indexed_found_and_kept(
    library: Library, tmp_path: Path
) -> None:
    root = tmp_path / LATIN1
    odd = [
        make_photo(root / f"{LATIN1}.jpg", 1),
        make_photo(root / "new\nline.jpg", 2),
        make_photo(root / "tab\there.jpg", 3),
        make_photo(root / "-leading dash.jpg", 4),
        make_photo(root / ("x" * 250 + ".jpg"), 5),
        make_photo(root / os.fsdecode(b"\xff\xfe sub") / "inside.jpg", 6),
    ]
    library.add_folder(root)
    last = run_index(library)
    assert (last.phase, last.embedded, last.problems) == (Phase.DONE, len(odd), 0)
    assert _indexed_paths(library) == set(odd)
    for path in odd:
        assert library.similar(path, SearchOptions(limit=1)).hits[0].photo.path == path
        assert Path(os.fsdecode(os.fsencode(path))).exists()  # the stored path opens the file
    again = run_index(library)
    assert again.done == 0  # stored exactly: nothing looks new the second time


class _Boom(Exception):
    """Not an OSError, not an ImageError: something no one expected."""


@pytest.mark.parametrize(
    ("stage", "target"),
    [
        ("read", (reading, "fingerprint_bytes")),
        ("decode", (pipeline, "decode_image_data")),
        ("fit", (pipeline, "fit_for_model")),
        ("reuse check", ("catalog", "reusable_decoder")),
    ],
)
def test_any_exception_on_one_file_becomes_its_problem(
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
    target: tuple[object, str],
) -> None:
    photos = make_photos(tmp_path / "pics", 12)
    victim = photos[5]
    owner, name = target
    if owner == "catalog":
        owner = library.catalog
    real = getattr(owner, name)

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        if victim.name.encode() in repr(args).encode() + repr(kwargs).encode() or (
            args and isinstance(args[0], bytes) and args[0] == victim.read_bytes()
        ):
            raise _Boom(f"injected at {stage}")
        if args and isinstance(args[0], Image.Image) and getattr(args[0], "_victim", False):
            raise _Boom(f"injected at {stage}")
        return real(*args, **kwargs)

    if stage == "fit":  # the image carries no name: mark the victim's decoded image
        real_decode = pipeline.decode_image_data

        def marking(data, **kwargs):  # type: ignore[no-untyped-def]
            decoded = real_decode(data, **kwargs)
            if data == victim.read_bytes():
                decoded.image._victim = True  # type: ignore[attr-defined]
            return decoded

        monkeypatch.setattr(pipeline, "decode_image_data", marking)
    if stage == "reuse check":
        victim_fp = reading.fingerprint_bytes(victim.read_bytes())

        def flaky_reuse(model_id: int, fingerprint: str):  # type: ignore[no-untyped-def]
            if fingerprint == victim_fp:
                raise _Boom("injected at reuse check")
            return real(model_id, fingerprint)

        monkeypatch.setattr(owner, name, flaky_reuse)
    else:
        monkeypatch.setattr(owner, name, flaky)
    library.add_folder(tmp_path / "pics")
    last = run_index(library)
    assert last.phase == Phase.DONE
    problems = {p.path: p.reason for p in library.problems()}
    assert set(problems) == {victim}
    assert "_Boom" in problems[victim] and stage in problems[victim]
    assert _indexed_paths(library) == set(photos) - {victim}


def test_a_thumbnail_that_cannot_be_saved_is_no_problem(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_photos(tmp_path / "pics", 4)

    def full(*args: object, **kwargs: object) -> None:
        raise RecursionError("the encoder went too deep")

    monkeypatch.setattr(library.thumbnails, "save", full)
    library.add_folder(tmp_path / "pics")
    last = run_index(library)
    assert (last.embedded, last.problems) == (4, 0)


def test_one_photo_the_model_fails_on_is_one_problem(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = make_photos(tmp_path / "pics", 6)
    embedder = library.embedder
    real = embedder.encode_images
    poisoned: list[object] = []
    real_preprocess = embedder.preprocess

    def preprocess(image):  # type: ignore[no-untyped-def]
        tensor = real_preprocess(image)
        if not poisoned:
            poisoned.append(tensor)
        return tensor

    def encode(tensors):  # type: ignore[no-untyped-def]
        if any(t is poisoned[0] for t in tensors):
            raise RuntimeError("CUDA error: an illegal memory access")
        return real(tensors)

    monkeypatch.setattr(embedder, "preprocess", preprocess)
    monkeypatch.setattr(embedder, "encode_images", encode)
    library.add_folder(tmp_path / "pics")
    last = run_index(library)
    assert (last.embedded, last.problems) == (5, 1)
    (problem,) = library.problems()
    assert problem.path in photos and "the model failed on this photo" in problem.reason


def test_deleted_thumbnails_come_back_with_index_and_on_demand(
    library: Library, tmp_path: Path
) -> None:
    import shutil

    make_photos(tmp_path / "pics", 5)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    ids = sorted(library.catalog.live_ids(library.model_id))
    shutil.rmtree(library.paths.thumbnails_dir)
    fresh = library.thumbnail(ids[0], 128)  # on demand, any size
    assert fresh is not None and max(Image.open(fresh).size) == 128
    last = run_index(library)
    assert last.embedded == 0  # nothing embedded again
    for photo_id in ids:
        path = library.thumbnails.path_for(library.photo(photo_id).fingerprint)  # type: ignore[union-attr]
        assert path.is_file()


def test_the_writer_lock_is_released_when_a_job_ends(data_dir: Path, tmp_path: Path) -> None:
    make_photos(tmp_path / "pics", 3)
    first, second = tiny_library(data_dir), tiny_library(data_dir)
    try:
        first.add_folder(tmp_path / "pics")
        run_index(first)
        second.acquire_writer("watch service")  # a service started after the app indexed
        second.release_writer()
        first.scan()
        assert first.writer_lock.holder() is None
    finally:
        first.close()
        second.close()


def test_folder_edits_beside_a_running_job_are_safe(library: Library, tmp_path: Path) -> None:
    make_photos(tmp_path / "a", 40)
    make_photos(tmp_path / "b", 40, start=100)
    library.add_folder(tmp_path / "a")
    library.add_folder(tmp_path / "b")
    other = Library(library.paths, library.settings)  # `photoseek remove` in another process
    gate, started = threading.Event(), threading.Event()
    real = library.embedder.encode_images

    def held(tensors):  # type: ignore[no-untyped-def]
        started.set()
        gate.wait(60)
        return real(tensors)

    library.embedder.encode_images = held  # type: ignore[method-assign]
    worker = threading.Thread(target=lambda: run_index(library))
    worker.start()
    assert started.wait(60)
    other.remove_folder(tmp_path / "b")  # while a batch of b's photos may be in flight
    other.close()
    gate.set()
    worker.join(120)
    assert not worker.is_alive()
    assert {p.parent for p in _indexed_paths(library)} == {tmp_path / "a"}
    assert library.vector_index.labels() == library.catalog.live_ids(library.model_id)


def test_searches_answer_while_another_thread_indexes(library: Library, tmp_path: Path) -> None:
    make_photos(tmp_path / "first", 20)
    library.add_folder(tmp_path / "first")
    run_index(library)
    make_photos(tmp_path / "first" / "more", 200, start=1000)
    answered: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def search() -> None:
        try:
            while not done.is_set():
                hits = library.search("a photo of a dog", SearchOptions(limit=500)).hits
                answered.append(len(hits))
        except BaseException as exc:  # a failure in the thread fails the test
            errors.append(exc)

    searcher = threading.Thread(target=search)
    searcher.start()
    try:
        run_index(library)
    finally:
        done.set()
        searcher.join(60)
    assert not errors and len(answered) > 1
    assert answered == sorted(answered)  # results only grow while photos are committed
    assert answered[-1] <= 220 and answered[0] >= 20


def test_a_follower_reads_only_what_changed(data_dir: Path, tmp_path: Path) -> None:
    make_photos(tmp_path / "pics", 30)
    writer = tiny_library(data_dir)
    writer.add_folder(tmp_path / "pics")
    run_index(writer)
    reader = Library(writer.paths, writer.settings, read_only=True)
    try:
        assert len(reader.search("x", SearchOptions(limit=100)).hits) == 30
        calls: list[int] = []
        real = reader.catalog.live_among

        def counting(model_id: int, ids):  # type: ignore[no-untyped-def]
            calls.append(len(ids))
            return real(model_id, ids)

        reader.catalog.live_ids = lambda model_id: pytest.fail("a full read")  # type: ignore[method-assign]
        reader.catalog.live_among = counting  # type: ignore[method-assign]
        make_photos(tmp_path / "pics", 3, start=500)
        (tmp_path / "pics" / "photo_00000.jpg").unlink()
        run_index(writer)
        assert len(reader.search("x", SearchOptions(limit=100)).hits) == 32
        assert sum(calls) == 4  # three new photos and one removed, nothing else
    finally:
        reader.close()
        writer.close()


def test_a_better_decoder_redoes_its_vectors_and_keeps_ids(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = make_photos(tmp_path / "pics", 4)
    Image.new("RGB", (40, 30), (9, 9, 9)).save(tmp_path / "pics" / "flat.png")
    library.add_folder(tmp_path / "pics")
    run_index(library)
    ids = {
        r.path: r.id
        for r in library.catalog.photos(sorted(library.catalog.live_ids(library.model_id))).values()
    }
    monkeypatch.setitem(decoders.DECODER_VERSIONS, "jpeg", decoders.DECODER_VERSIONS["jpeg"] + 1)
    last = run_index(library)
    assert (last.done, last.embedded) == (len(photos), len(photos))  # the JPEGs, not the PNG
    again = {
        r.path: r.id
        for r in library.catalog.photos(sorted(library.catalog.live_ids(library.model_id))).values()
    }
    assert again == ids
    assert run_index(library).done == 0


def test_similar_to_a_photo_leaves_it_out_and_its_vector_is_its_embedding(
    library: Library, tmp_path: Path
) -> None:
    photos = make_photos(tmp_path / "pics", 10)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    record = library.catalog.photo_at(photos[3])
    assert record is not None and library.photo(record.id) == record
    hits = library.similar_to(record.id, SearchOptions(limit=5)).hits
    assert len(hits) == 5 and record.id not in {h.photo.id for h in hits}
    stored = library.catalog.vectors(library.model_id, [record.id], library.embedder.identity.dim)[
        0
    ]
    from photoseek.core.imaging.decode import decode_image

    fresh = library.embedder.encode_image(decode_image(photos[3], min_side=64).image)
    assert float(np.dot(stored, fresh)) > 0.999  # the catalog holds this file's embedding
    with pytest.raises(QueryError, match="not indexed"):
        library.similar_to(10_000)


def test_browse_search_pages_and_changes(library: Library, tmp_path: Path) -> None:
    make_photos(tmp_path / "pics" / "a", 7)
    make_photos(tmp_path / "pics" / "b", 5, start=100)
    library.add_folder(tmp_path / "pics")
    version = library.version
    run_index(library)
    seen, cursor = [], None
    while True:
        page = library.browse(limit=4, cursor=cursor)
        seen += page.photos
        if page.cursor is None:
            break
        cursor = page.cursor
    assert len(seen) == 12 and len({p.id for p in seen}) == 12
    dates = [p.sort_date for p in seen]
    assert dates == sorted(dates, reverse=True)
    assert len(library.browse(tmp_path / "pics" / "b").photos) == 5
    pages = list(library.search_pages("red", SearchOptions(limit=10), page_size=4))
    assert [len(p.hits) for p in pages] == [4, 4, 2]
    whole = library.search("red", SearchOptions(limit=10)).hits
    assert [h.photo.id for p in pages for h in p.hits] == [h.photo.id for h in whole]
    changes = library.changes_since(version)
    assert sorted(changes.new) == sorted(p.id for p in seen) and not changes.removed
    (tmp_path / "pics" / "a" / "photo_00000.jpg").unlink()
    run_index(library)
    later = library.changes_since(changes.version)
    assert len(later.removed) == 1 and not later.new


def test_filters_are_checked_before_the_model_loads(library: Library, tmp_path: Path) -> None:
    make_photos(tmp_path / "pics", 2)
    library.add_folder(tmp_path / "pics")
    outside = SearchOptions(filters=SearchFilters(folder=tmp_path / "elsewhere"))
    with pytest.raises(QueryError, match="not in the library"):
        library.search("x", outside)
    with pytest.raises(QueryError, match="must be a number"):
        library.search("x", SearchOptions(min_score=float("nan")))
    with pytest.raises(QueryError, match="NUL byte"):
        library.search("beach + @bad\x00name.jpg")
    with pytest.raises(QueryError, match="image not found"):
        library.similar(tmp_path / "missing.jpg")
    assert library._embedder is None  # no model was loaded for any of these


def test_index_with_nothing_to_do_never_loads_the_model(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_photos(tmp_path / "pics", 3)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    fresh = Library(library.paths, library.settings)
    try:
        import photoseek.core.library.models as library_module

        monkeypatch.setattr(
            library_module,
            "load_embedder",
            lambda *a, **k: pytest.fail("the model was loaded with nothing to do"),
        )
        phases = [p.phase for p in fresh.index()]
        assert phases[0] == Phase.SCANNING and phases[-1] == Phase.DONE
        assert Phase.LOADING_MODEL not in phases
        assert fresh.status().pending == 0 and fresh.status().model_used
    finally:
        fresh.close()


def test_status_reports_the_chosen_model(library: Library, tmp_path: Path) -> None:
    from photoseek.core.model.embedder import ModelSettings

    make_photos(tmp_path / "pics", 3)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    other = Library(library.paths, ModelSettings("ViT-B-32", "laion2b_s34b_b79k", "cpu"))
    try:
        status = other.status()
        assert status.model == "ViT-B-32 / laion2b_s34b_b79k" and not status.model_used
        assert status.pending == 3  # every photo still needs this model
        assert status.last_model is not None and "tiny-clip" in status.last_model
    finally:
        other.close()


def test_a_rebuild_reports_its_progress(library: Library, tmp_path: Path) -> None:
    make_photos(tmp_path / "pics", 6)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    library.close()
    library.index_path.unlink()
    again = Library(library.paths, library.settings)
    try:
        (tmp_path / "pics" / "photo_00001.jpg").unlink()
        make_photo(tmp_path / "pics" / "new.jpg", 77)
        phases = [(p.phase, p.done, p.total) for p in again.index()]
        assert (Phase.BUILDING_INDEX, 5, 5) in phases
    finally:
        again.close()


def test_stat_numbers_sqlite_cannot_hold_are_stored_and_compared_exactly(
    library: Library, tmp_path: Path
) -> None:
    from photoseek.core.catalog.values import as_int64

    photos = make_photos(tmp_path / "pics", 3)
    far = 400 * 365 * 24 * 3600 * 10**9  # the year 2370 in ns: above SQLite's INTEGER range
    os.utime(photos[0], ns=(far, far))
    library.add_folder(tmp_path / "pics")
    last = run_index(library)
    assert (last.embedded, last.problems) == (3, 0)
    assert run_index(library).done == 0  # compared exactly: not "changed" on every scan
    assert as_int64(2**64 - 5) == -5 and as_int64(2**63 - 1) == 2**63 - 1
    folder = library.folders()[0]
    library.catalog.record_scan(
        folder.id, [(tmp_path / "x.jpg", 1, 1, as_int64(2**63 + 7))], [], [], []
    )
