"""Schema v4: zero-shot tags and smart albums.

* ``tag_spaces``: per model, each label space it was tagged with (a label
  set's digest and a template set: ``space``), its label names in score
  order, the label vectors plus the neutral vector last (float32, so a new
  photo is tagged in its own transaction without the prompts being embedded
  again), the user's threshold (NULL: the model's default) and whether it is
  the model's active space of its ``kind``: ``tags``, or ``hide`` (the
  content filter's descriptions, whose "tags" hide a photo).
* ``label_scores``: per model, space and stored vector (``embeddings.id``:
  a content, so a moved photo keeps its tags), one float16 margin per label
  (the label's cosine minus the neutral prompt's): one blob per photo, not a
  row per pair, so re-tagging 100,000 photos writes 100,000 rows.
  Beside the margins, the tags they give at the threshold (``margin >=
  threshold``) as two 63-bit masks (``tags0``: labels 0-62, ``tags1``: 63-125;
  a label set has at most 126 labels), so a tag filter is a bit test in SQL
  and a new threshold rewrites two integers per photo. A row per (photo,
  tag) pair cost 1.1 s to write for 300,000 tags; the masks ride in the score rows.
  No foreign key on ``embedding``: checking it cost another second per
  100,000 rows, and the rows of a vector that is replaced are replaced too.
* ``albums``: saved queries (the query syntax: text, ``@photos``, weights),
  their filters as JSON; ``album_cutoffs``: each album's relevance cut-off
  per model, so a model change never silently changes what an album holds.

Frozen with the release that introduced it.
"""

from __future__ import annotations

import sqlite3

from photoseek.core.catalog.sqlscript import run_script

_SCRIPT = """
CREATE TABLE tag_spaces (
    model_id  INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    space     TEXT NOT NULL,
    label_set TEXT NOT NULL,
    labels    TEXT NOT NULL,
    vectors   BLOB NOT NULL,
    threshold REAL,
    active    INTEGER NOT NULL DEFAULT 0,
    kind      TEXT NOT NULL DEFAULT 'tags' CHECK (kind IN ('tags', 'hide')),
    PRIMARY KEY (model_id, space)
);
CREATE TABLE label_scores (
    model_id  INTEGER NOT NULL,
    space     TEXT NOT NULL,
    embedding INTEGER NOT NULL,
    scores    BLOB NOT NULL,
    tags0     INTEGER NOT NULL DEFAULT 0,
    tags1     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (model_id, space, embedding)
) WITHOUT ROWID;
CREATE INDEX label_scores_by_embedding ON label_scores (embedding);
CREATE TABLE albums (
    name       TEXT PRIMARY KEY COLLATE NOCASE,
    query      TEXT NOT NULL,
    filters    TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE album_cutoffs (
    album     TEXT NOT NULL COLLATE NOCASE REFERENCES albums(name)
              ON DELETE CASCADE ON UPDATE CASCADE,
    model_id  INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    min_score REAL NOT NULL,
    PRIMARY KEY (album, model_id)
);
"""


def upgrade(conn: sqlite3.Connection) -> None:
    """Move a version-3 catalog to version 4 (inside the caller's transaction)."""
    run_script(conn, _SCRIPT)
