"""Zero-shot: prompt ensembles, probabilities by model family, cached label vectors,
label-set files, and the evaluation harness, mostly with an embedder whose vectors
are constructed so that the right answer is known."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoseek.core.errors import PhotoseekError
from photoseek.core.model.embedder import load_embedder
from photoseek.core.records import ModelIdentity
from photoseek.core.vectors.codec import normalize
from photoseek.core.zeroshot import labelfile
from photoseek.core.zeroshot.classify import Scoring, label_prompts, label_vectors
from photoseek.core.zeroshot.evalrun import evaluate_retrieval, evaluate_zeroshot
from photoseek.core.zeroshot.evaluation import Pair, read_pairs, retrieval_recall
from photoseek.core.zeroshot.labels import Label, LabelSet, builtin_label_set
from photoseek.core.zeroshot.service import ZeroShot
from photoseek.core.zeroshot.templates import TemplateSet, template_set, template_set_names
from tests.conftest import tiny_settings

DIM = 8
COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


class ColourEmbedder:
    """Images embed as their mean colour; any text naming a colour embeds near that colour."""

    identity = ModelIdentity("colour", "constructed", "0", DIM)
    image_size = 32
    logit_scale = 100.0
    logit_bias = None

    def __init__(self) -> None:
        self.texts_encoded = 0

    @staticmethod
    def _axis(colour: str) -> np.ndarray:
        vector = np.zeros(DIM, np.float32)
        vector[list(COLOURS).index(colour)] = 1.0
        return vector

    def encode_texts(self, texts):
        self.texts_encoded += len(texts)
        rows = []
        for text in texts:
            colour = next((c for c in COLOURS if c in text), None)
            noise = np.random.default_rng(zlib.crc32(text.encode())).normal(0, 0.05, DIM)
            axis = self._axis(colour) if colour else np.eye(DIM, dtype=np.float32)[3]  # "a photo."
            rows.append(axis + noise)
        return normalize(np.array(rows))

    def preprocess(self, image: Image.Image) -> np.ndarray:
        return np.asarray(image.convert("RGB").resize((4, 4)), np.float32).mean(axis=(0, 1))

    def encode_images(self, tensors):
        rows = []
        for mean in tensors:
            vector = np.zeros(DIM, np.float32)
            vector[:3] = mean
            rows.append(vector)
        return normalize(np.array(rows))

    def encode_image(self, image: Image.Image) -> np.ndarray:
        return self.encode_images([self.preprocess(image)])[0]


def _photo(path: Path, colour: str) -> Path:
    Image.new("RGB", (64, 48), COLOURS[colour]).save(path)
    return path


@pytest.fixture(scope="module")
def tiny():
    return load_embedder(tiny_settings(), Path("/nonexistent-models"))


# -- ensembles ----------------------------------------------------------------------------


def test_a_label_vector_is_the_normalised_mean_of_its_normalised_prompts() -> None:
    rng = np.random.default_rng(1)
    table: dict[str, np.ndarray] = {}

    def encode(texts):  # unnormalised on purpose: the ensemble must normalise each prompt
        return np.array(
            [table.setdefault(t, rng.normal(size=DIM) * rng.uniform(1, 9)) for t in texts]
        )

    templates = TemplateSet("two", ("a photo of a {}.", "a drawing of a {}."))
    labels = LabelSet("s", (Label("dog", ("puppy",), ("my dog asleep.",)), Label("cat")))
    vectors = label_vectors(encode, labels, templates)
    dog_prompts = label_prompts(labels.labels[0], templates)
    assert dog_prompts == [
        "a photo of a dog.",
        "a drawing of a dog.",
        "a photo of a puppy.",
        "a drawing of a puppy.",
        "my dog asleep.",
    ]
    expected = normalize(normalize(np.array([table[p] for p in dog_prompts])).mean(axis=0))[0]
    np.testing.assert_allclose(vectors[0], expected, atol=1e-6)
    assert vectors.shape == (2, DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_label_vectors_match_open_clips_zero_shot_classifier(tiny) -> None:
    import open_clip
    from open_clip.zero_shot_classifier import build_zero_shot_classifier

    names = ["dog", "a birthday party", "receipt"]
    labels = LabelSet("s", tuple(Label(n) for n in names))
    templates = template_set("simple")
    ours = label_vectors(tiny.encode_texts, labels, templates)
    theirs = build_zero_shot_classifier(
        tiny._model,
        open_clip.get_tokenizer("ViT-B-32"),
        names,
        templates.templates,
        num_classes_per_batch=2,
        device="cpu",
    )
    theirs = theirs.T.numpy()
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() > 0.9999, cosines


def test_template_sets() -> None:
    assert len(template_set("openai").templates) == 80
    assert len(template_set("simple").templates) == 7
    for name in ("openai", "simple", "personal", "photo", "bare"):
        assert all("{}" in t for t in template_set(name).templates)
    assert template_set("photo").fill("cat") == ["a photo of a cat."]
    with pytest.raises(PhotoseekError, match="no template set"):
        template_set("fancy")


def test_the_builtin_set_covers_personal_photos() -> None:
    labels = builtin_label_set()
    assert 55 <= len(labels.labels) <= 70
    for name in ("dog", "cat", "beach", "receipt", "screenshot", "wedding", "birthday", "snow"):
        assert labels.find(name) is not None
    assert len({n.casefold() for n in labels.names}) == len(labels.names)


# -- probabilities --------------------------------------------------------------------------


def test_clip_models_take_a_softmax_over_the_set_and_siglip_a_sigmoid_per_label() -> None:
    images = normalize(np.array([[1.0, 0.2, 0.0], [0.0, 1.0, 0.1]]))
    labels = normalize(np.eye(3))
    clip = Scoring(100.0).probabilities(images, labels)
    np.testing.assert_allclose(clip.sum(axis=1), 1.0, atol=1e-5)
    assert clip[0].argmax() == 0 and clip[1].argmax() == 1
    siglip = Scoring(10.0, -5.0)
    alone = siglip.probabilities(images, labels[:1])
    together = siglip.probabilities(images, labels)
    np.testing.assert_allclose(alone[:, 0], together[:, 0])  # other labels change nothing
    expected = 1 / (1 + np.exp(-(10.0 * images @ labels.T - 5.0)))
    np.testing.assert_allclose(together, expected, rtol=1e-5)
    assert Scoring(100.0).family == "clip" and siglip.family == "siglip"


def test_the_tiny_clip_model_is_scored_as_clip(tiny) -> None:
    assert tiny.logit_bias is None
    assert tiny.logit_scale > 0


# -- classifying files, the label-vector cache --------------------------------------------------


def test_classify_any_image_file_and_skip_an_unreadable_one(tmp_path: Path) -> None:
    zeroshot = ZeroShot(ColourEmbedder(), tmp_path / "cache")
    labels = LabelSet("colours", tuple(Label(c) for c in COLOURS))
    red, blue = _photo(tmp_path / "r.png", "red"), _photo(tmp_path / "b.jpg", "blue")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really")
    results = zeroshot.classify(
        [red, blue, broken, tmp_path / "gone.jpg"], labels, template_set("simple")
    )
    assert [r.scores[0][0] for r in results[:2]] == ["red", "blue"]
    assert sum(p for _, p in results[0].scores) == pytest.approx(1.0, abs=1e-5)
    assert results[2].scores == [] and "cannot read" in results[2].error
    assert results[3].scores == [] and "not found" in results[3].error


def test_label_vectors_are_cached_per_model_set_and_templates(tmp_path: Path) -> None:
    labels = LabelSet("colours", tuple(Label(c) for c in COLOURS))
    first = ColourEmbedder()
    built = ZeroShot(first, tmp_path).label_vectors(labels, template_set("simple"))
    assert first.texts_encoded == 21
    second = ColourEmbedder()
    again = ZeroShot(second, tmp_path).label_vectors(labels, template_set("simple"))
    assert second.texts_encoded == 0  # from the file
    np.testing.assert_array_equal(built, again)
    ZeroShot(second, tmp_path).label_vectors(labels, template_set("photo"))
    assert second.texts_encoded == 3  # other templates: other vectors
    changed = LabelSet("colours", (*labels.labels[:2], Label("blue", ("navy blue",))))
    ZeroShot(second, tmp_path).label_vectors(changed, template_set("photo"))
    assert second.texts_encoded == 3 + 4  # the set changed: built again
    for cached in (tmp_path / "labels").rglob("*.npy"):
        cached.write_bytes(b"garbage")
    third = ColourEmbedder()
    rebuilt = ZeroShot(third, tmp_path).label_vectors(labels, template_set("simple"))
    assert third.texts_encoded == 21
    np.testing.assert_allclose(rebuilt, built, atol=1e-6)


# -- label-set files --------------------------------------------------------------------------


def test_a_label_file_round_trips_and_errors_name_their_line(tmp_path: Path) -> None:
    text = (
        "# mine\n\nbeach = the seaside, the coast\n"
        "receipt = an invoice | a photo of a shopping receipt. | a scanned bill.\n"
        "grandma's garden\n"
    )
    labels = labelfile.parse_label_set("mine", text)
    assert labels.names == ["beach", "receipt", "grandma's garden"]
    assert labels.labels[0].synonyms == ("the seaside", "the coast")
    assert labels.labels[1].prompts == ("a photo of a shopping receipt.", "a scanned bill.")
    assert labelfile.parse_label_set("mine", labelfile.format_label_set(labels)) == labels
    with pytest.raises(PhotoseekError, match="line 2"):
        labelfile.parse_label_set("bad", "dog\n= puppy\n")
    with pytest.raises(PhotoseekError, match="twice"):
        labelfile.parse_label_set("bad", "Dog\ndog\n")


def test_labels_add_and_remove_in_a_users_set(tmp_path: Path) -> None:
    folder = tmp_path / "labels"
    assert labelfile.label_set_names(folder) == ["personal"]
    labelfile.add_label(folder, "pets", Label("dog", ("puppy",)))
    labelfile.add_label(folder, "pets", Label("cat"))
    labelfile.add_label(folder, "pets", Label("Dog", ("hound",)))  # replaces, keeps one
    pets = labelfile.load_label_set(folder, "pets")
    assert pets.names == ["cat", "Dog"] and pets.labels[1].synonyms == ("hound",)
    assert labelfile.label_set_names(folder) == ["personal", "pets"]
    assert labelfile.remove_label(folder, "pets", "cat").names == ["Dog"]
    with pytest.raises(PhotoseekError, match="no label"):
        labelfile.remove_label(folder, "pets", "cat")
    with pytest.raises(PhotoseekError, match="cannot be changed"):
        labelfile.add_label(folder, "personal", Label("kite"))
    with pytest.raises(PhotoseekError, match="no label set called 'nope'"):
        labelfile.load_label_set(folder, "nope")
    with pytest.raises(PhotoseekError, match="name is letters"):
        labelfile.add_label(folder, "../escape", Label("x"))
    assert labelfile.ad_hoc_label_set("cat, dog , a birthday party").names == [
        "cat",
        "dog",
        "a birthday party",
    ]


# -- the evaluation harness ---------------------------------------------------------------------


def test_recall_is_one_for_a_perfect_embedder_and_chance_for_a_shuffled_one() -> None:
    rng = np.random.default_rng(7)
    images = normalize(rng.normal(size=(200, 64)))
    image_of_text = [i for i in range(200) for _ in range(2)]  # two captions each
    captions = normalize(images[image_of_text] + rng.normal(0, 0.01, (400, 64)))
    perfect = retrieval_recall(images, captions, image_of_text)
    assert perfect["text_to_image"] == {1: 1.0, 5: 1.0, 10: 1.0}
    assert perfect["image_to_text"] == {1: 1.0, 5: 1.0, 10: 1.0}
    shuffled = list(rng.permutation(image_of_text))
    chance = retrieval_recall(images, captions, shuffled)
    assert chance["text_to_image"][1] < 0.03  # chance: 1/200
    assert 0.01 < chance["text_to_image"][10] < 0.12  # chance: 10/200


def test_the_harness_on_files_with_a_constructed_embedder(tmp_path: Path) -> None:
    lines = []
    for n, colour in enumerate(list(COLOURS) * 2):
        _photo(tmp_path / f"{n}.png", colour)
        lines.append(f"{n}.png\t{colour}")
    (tmp_path / "broken.png").write_bytes(b"nope")
    lines.append("broken.png\tred")
    (tmp_path / "labels.tsv").write_text("\n".join(lines) + "\n")
    pairs = read_pairs(tmp_path / "labels.tsv")
    assert pairs[0] == Pair((tmp_path / "0.png").resolve(), "red")
    zeroshot = ZeroShot(ColourEmbedder(), tmp_path / "cache")
    report = evaluate_zeroshot(zeroshot, pairs)
    assert report.images == 6 and report.texts == 3
    assert [path.name for path, _ in report.skipped] == ["broken.png"]
    for mode in ("bare", "photo", "simple", "openai"):
        assert report.scores[mode][1] == 1.0
    threshold, f1 = report.calibration
    assert f1 == 1.0 and threshold > 0  # a pure colour is far above the neutral prompts
    captions = [Pair(p.image, f"a {p.text} thing") for p in pairs[:3]]
    retrieval = evaluate_retrieval(zeroshot, captions)
    assert retrieval.scores["text_to_image"][1] == 1.0
    with pytest.raises(PhotoseekError, match="line 1"):
        (tmp_path / "bad.tsv").write_text("no tab here\n")
        read_pairs(tmp_path / "bad.tsv")


def test_a_users_template_file(tmp_path: Path) -> None:
    folder = tmp_path / "labels"
    folder.mkdir()
    (folder / "holidays.templates").write_text("# mine\n\na photo of {} on holiday.\n{}, blurry.\n")
    templates = template_set("holidays", folder)
    assert templates.templates == ("a photo of {} on holiday.", "{}, blurry.")
    assert templates.fill("a kite") == ["a photo of a kite on holiday.", "a kite, blurry."]
    before = templates.key
    (folder / "holidays.templates").write_text("a photo of {} on holiday.\n")
    assert template_set("holidays", folder).key != before  # an edit: new vectors, new tags
    (folder / "bad.templates").write_text("no slot here\n")
    with pytest.raises(PhotoseekError, match="line 1: a template has exactly one"):
        template_set("bad", folder)
    with pytest.raises(PhotoseekError, match="no template set called 'gone'"):
        template_set("gone", folder)
    assert template_set_names(folder)[-2:] == ["bad", "holidays"]
    labels = LabelSet("c", tuple(Label(c) for c in COLOURS))
    zeroshot = ZeroShot(ColourEmbedder(), tmp_path / "cache")
    assert zeroshot.label_vectors(labels, templates).shape == (3, DIM)
