"""Zero-shot: categories named in words, recognised with no training.

A *label* ("beach", "a birthday party") becomes a text vector: every prompt
of the label (each template of a :mod:`~.templates` set filled with the label
and each of its synonyms, plus the label's own prompts) is embedded and
normalised, the prompts are averaged, and the mean is normalised again; this
is what open_clip's ``build_zero_shot_classifier`` computes (tested).
:mod:`.classify` scores images against a set of labels; :mod:`.evaluation`
measures a checkpoint on a captioned or labelled set of images.
"""
