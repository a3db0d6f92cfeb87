"""Schema v4: zero-shot tags.

* ``tag_spaces``: per model, each label space it was tagged with (a label
  set's digest and a template set: ``space``), its label names in score
  order, the label vectors plus the neutral vector last (float32, so a new
  photo is tagged in its own transaction without the prompts being embedded
  again), the user's threshold (NULL: the model's default) and whether it is
  the model's active space.
* ``label_scores``: per model, space and content, one float16 margin per
  label (the label's cosine minus the neutral prompt's): one blob per photo,
  not a row per pair, so re-tagging 100,000 photos is 100,000 rows.
* ``photo_tags``: the tags of the active space, materialised from the scores
  and the threshold (``margin >= threshold``), for filters and counts in SQL.

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
    PRIMARY KEY (model_id, space)
);
CREATE TABLE label_scores (
    model_id    INTEGER NOT NULL,
    space       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    scores      BLOB NOT NULL,
    PRIMARY KEY (model_id, space, fingerprint)
) WITHOUT ROWID;
CREATE TABLE photo_tags (
    model_id    INTEGER NOT NULL,
    tag         TEXT NOT NULL COLLATE NOCASE,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (model_id, tag, fingerprint)
) WITHOUT ROWID;
CREATE INDEX photo_tags_by_content ON photo_tags (model_id, fingerprint);
"""


def upgrade(conn: sqlite3.Connection) -> None:
    """Move a version-3 catalog to version 4 (inside the caller's transaction)."""
    run_script(conn, _SCRIPT)
