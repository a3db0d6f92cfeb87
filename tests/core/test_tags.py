"""Tags: the multi-label rule, re-tagging from stored margins, new photos tagged in the
transaction that stores their vectors, tag filters, and tags per model."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from photoseek.core.catalog import tags as catalog_tags
from photoseek.core.catalog.migrations import latest_version
from photoseek.core.catalog.store import Catalog
from photoseek.core.errors import PhotoseekError, QueryError
from photoseek.core.indexing.options import IndexerOptions
from photoseek.core.library import Library
from photoseek.core.model.embedder import ModelSettings
from photoseek.core.search.searcher import SearchFilters, SearchOptions
from photoseek.core.vectors.codec import normalize
from photoseek.core.zeroshot.labels import Label, LabelSet
from photoseek.core.zeroshot.tagging import best_f1_threshold, margins, templates_of
from photoseek.core.zeroshot.templates import template_set
from photoseek.paths import resolve_paths
from tests.conftest import TINY_MODEL, make_photos, run_index

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LABELS = LabelSet("test", tuple(Label(n) for n in ("dog", "beach", "a birthday party")))


def test_the_rule_gives_zero_one_or_several_tags() -> None:
    labels = np.eye(4, dtype=np.float32)[:3]  # dog, beach, party
    neutral = normalize(np.array([0.1, 0.1, 0.1, 1], np.float32))  # "a photo."
    space = np.concatenate([labels, neutral])
    photos = normalize(
        np.array(
            [
                [1.0, 1.0, 0.0, 0.4],  # a dog on a beach: two tags
                [0.0, 0.0, 1.0, 0.5],  # a party: one
                [0.0, 0.0, 0.0, 1.0],  # a plain wall: none
            ],
            np.float32,
        )
    )
    tagged = margins(space, photos) >= 0.1
    assert tagged.tolist() == [[True, True, False], [False, False, True], [False, False, False]]


def test_best_f1_threshold_separates_a_clean_split() -> None:
    scores = np.array([[0.3, -0.1], [0.05, 0.2], [-0.2, -0.3]], np.float32)
    truth = np.array([[1, 0], [0, 1], [0, 0]], bool)
    threshold, f1 = best_f1_threshold(scores, truth)
    assert f1 == 1.0 and threshold == pytest.approx(0.2)  # the lowest true score


@pytest.fixture
def indexed(library: Library, tmp_path: Path) -> Library:
    make_photos(tmp_path / "pics", 12)
    library.add_folder(tmp_path / "pics")
    run_index(library)
    return library


def _expected_counts(library: Library, threshold: float) -> dict[str, int]:
    space = library.catalog.tag_space(library.model_id)
    _, vectors = library.catalog.stored_vectors(library.model_id, space.vectors.shape[1])
    hits = margins(space.vectors, vectors) >= threshold
    return {name: int(hits[:, i].sum()) for i, name in enumerate(space.labels) if hits[:, i].any()}


def test_tagging_stores_margins_and_a_threshold_retags_without_the_model(
    indexed: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = indexed.tag(LABELS, template_set("simple"))
    assert (summary.labels, summary.photos) == (3, 12)
    assert dict(indexed.tags()) == _expected_counts(indexed, summary.threshold)

    def no_model(*_args: object) -> None:
        raise AssertionError("re-tagging must not use the model")

    monkeypatch.setattr(indexed.embedder, "encode_texts", no_model)
    monkeypatch.setattr(indexed.embedder, "encode_images", no_model)
    assert indexed.set_tag_threshold(-2.0) == -2.0  # every margin is above: every tag
    assert dict(indexed.tags()) == {"dog": 12, "beach": 12, "a birthday party": 12}
    assert indexed.tag_threshold() == -2.0
    indexed.set_tag_threshold(2.0)  # none
    assert indexed.tags() == []
    middle = float(np.median(_margins_of(indexed)))
    indexed.set_tag_threshold(middle)
    assert dict(indexed.tags()) == _expected_counts(indexed, middle)
    assert 0 < sum(dict(indexed.tags()).values()) < 36
    assert indexed.set_tag_threshold(None) == summary.threshold  # back to the model's default
    assert indexed.tag_threshold() == summary.threshold


def _margins_of(library: Library) -> np.ndarray:
    space = library.catalog.tag_space(library.model_id)
    _, vectors = library.catalog.stored_vectors(library.model_id, space.vectors.shape[1])
    return margins(space.vectors, vectors)


def test_new_photos_are_tagged_in_the_transaction_that_stores_their_vectors(
    indexed: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexed.tag(LABELS, template_set("photo"))
    indexed.set_tag_threshold(-2.0)
    make_photos(tmp_path / "pics", 4, start=100)
    run_index(indexed)
    assert dict(indexed.tags()) == {"dog": 16, "beach": 16, "a birthday party": 16}
    scored = indexed.catalog._query("SELECT COUNT(*) FROM label_scores")[0][0]
    assert scored == 16

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk trouble while tagging")

    monkeypatch.setattr(catalog_tags, "store_scores", broken)
    monkeypatch.setattr("photoseek.core.zeroshot.batchtags.store_scores", broken)
    make_photos(tmp_path / "pics", 2, start=200)
    with pytest.raises(RuntimeError, match="disk trouble"):
        run_index(indexed)
    assert indexed.catalog.embedding_count(indexed.model_id) == 16  # the vectors rolled back too


def test_search_filters_by_tag_and_names_an_unknown_one(indexed: Library) -> None:
    with pytest.raises(QueryError, match="no tags yet"):
        indexed.search("tag:dog a photo")
    indexed.tag(LABELS, template_set("simple"))
    dogs = {h.photo.id for h in indexed.search("a photo", _tagged("dog")).hits}
    expected = {p.id for p in indexed.browse(limit=100).photos if "dog" in indexed.photo_tags(p.id)}
    assert dogs == expected
    assert {
        h.photo.id for h in indexed.search("tag:DOG a photo", SearchOptions(limit=50)).hits
    } == dogs
    indexed.set_tag_threshold(2.0)
    assert indexed.search("a photo", _tagged("dog")).hits == []
    with pytest.raises(QueryError, match="no tag 'kite'"):
        indexed.search("a photo tag:kite")
    with pytest.raises(QueryError, match="besides its tags"):
        indexed.search("tag:dog")


def _tagged(*names: str) -> SearchOptions:
    return SearchOptions(limit=50, filters=SearchFilters(tags=frozenset(names)))


def test_tags_follow_the_model(indexed: Library, tmp_path: Path) -> None:
    indexed.tag(LABELS, template_set("simple"))
    indexed.set_tag_threshold(-2.0)
    indexed.close()
    other = tmp_path / "other-tiny.json"
    config = json.loads(TINY_MODEL.read_text())
    config["embed_dim"] = 24
    other.write_text(json.dumps(config))
    paths = resolve_paths(tmp_path / "data")
    second = Library(
        paths, ModelSettings(str(other), "none", "cpu"), indexer_options=IndexerOptions()
    )
    try:
        run_index(second)
        assert second.tags() == []  # this model was never tagged
        assert second.tag(LABELS, template_set("photo")).photos == 12
        assert second.tag_threshold() != -2.0
    finally:
        second.close()
    first = Library(paths, ModelSettings(str(TINY_MODEL), "none", "cpu"))
    try:
        assert dict(first.tags()) == {"dog": 12, "beach": 12, "a birthday party": 12}
    finally:
        first.close()


def test_a_v3_catalog_gains_the_tag_tables(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    shutil.copy(FIXTURES / "catalog-v3.sqlite3", path)
    catalog = Catalog(path)
    try:
        assert catalog.embedding_count(1) == 3
        assert catalog.tag_space(1) is None
    finally:
        catalog.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version()
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"tag_spaces", "label_scores", "albums", "album_cutoffs"} <= names
    assert (tmp_path / "catalog.sqlite3.bak-v3").exists()


def test_a_short_query_can_be_embedded_as_a_label(indexed: Library) -> None:
    from photoseek.core.search.query import parse_query

    templates = template_set("simple").templates
    searcher = indexed._searcher()
    embedder = indexed.embedder
    ensemble, _ = searcher.query_vector(parse_query("red car"), templates)
    prompts = [embedder.encode_text(t.format("red car")).vector for t in templates]
    expected = normalize(np.mean(prompts, axis=0))[0]
    np.testing.assert_allclose(ensemble, expected, atol=1e-6)
    plain, _ = searcher.query_vector(parse_query("red car"))
    assert float(plain @ ensemble) < 0.9999  # the option changes the vector
    long, _ = searcher.query_vector(parse_query("a red car by the sea"), templates)
    np.testing.assert_allclose(long, embedder.encode_text("a red car by the sea").vector, atol=1e-6)
    hits = indexed.search("red car", SearchOptions(limit=3, short_query_templates=templates)).hits
    assert len(hits) == 3


def test_a_set_of_more_than_63_labels_uses_the_second_mask(indexed: Library) -> None:
    many = LabelSet("many", tuple(Label(f"thing {n}") for n in range(70)))
    indexed.tag(many, template_set("bare"))
    indexed.set_tag_threshold(-2.0)
    counts = dict(indexed.tags())
    assert len(counts) == 70 and set(counts.values()) == {12}
    photo = indexed.browse(limit=1).photos[0]
    assert indexed.photo_tags(photo.id) == [f"thing {n}" for n in range(70)]
    assert len(indexed.search("a photo", _tagged("thing 69", "thing 0")).hits) == 12
    too_many = LabelSet("too many", tuple(Label(f"x{n}") for n in range(127)))
    with pytest.raises(PhotoseekError, match="at most 126"):
        indexed.tag(too_many, template_set("bare"))


def _watch_once(library: Library) -> None:
    import threading

    from photoseek.core.watch.service import ServiceOptions, WatchService

    WatchService(library, ServiceOptions(stable_s=0.1, tick_s=0.05)).run(
        threading.Event(), once=True
    )


def test_the_watcher_retags_when_the_label_set_file_changes(indexed: Library) -> None:
    from photoseek.core.zeroshot import labelfile

    folder = indexed.paths.label_sets_dir
    labelfile.add_label(folder, "pets", Label("dog"))
    indexed.tag(labelfile.load_label_set(folder, "pets"), template_set("photo"))
    indexed.set_tag_threshold(-2.0)
    _watch_once(indexed)  # nothing changed: nothing to do
    assert dict(indexed.tags()) == {"dog": 12}
    labelfile.add_label(folder, "pets", Label("hamster"))  # the user edits the set
    _watch_once(indexed)
    assert dict(indexed.tags()) == {"dog": 12, "hamster": 12}  # the threshold kept: -2
    assert indexed.refresh_zero_shot() == []  # up to date now


def test_the_watcher_tags_a_new_model_like_the_last_one(indexed: Library, tmp_path: Path) -> None:
    indexed.tag(LABELS, template_set("photo"))
    indexed.set_content_filter(["x-rays"])
    indexed.close()
    other = tmp_path / "other-tiny.json"
    config = json.loads(TINY_MODEL.read_text())
    config["embed_dim"] = 24
    other.write_text(json.dumps(config))
    second = Library(
        resolve_paths(tmp_path / "data"),
        ModelSettings(str(other), "none", "cpu"),
        indexer_options=IndexerOptions(),
    )
    try:
        _watch_once(second)  # embeds everything with the new model, then tags it
        space = second.catalog.tag_space(second.model_id)
        assert space is not None and space.labels == ("dog", "beach", "a birthday party")
        assert templates_of(space.space) == "photo"
        assert second.content_filter() == ["x-rays"]
    finally:
        second.close()
