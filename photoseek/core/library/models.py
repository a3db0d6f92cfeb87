"""The library's model: loaded on first use, or only its light towers where they are exact.

The full CLIP model (torch, open_clip) loads only when something needs it; text
queries go to the light text tower and photos to the light image tower when
those are exact for the weights (:mod:`photoseek.core.model.textpath`,
:mod:`photoseek.core.model.imagepath`). The identity of the library's vectors,
and its catalog id, are found without loading the model where the catalog knows
the weights file.
"""

from __future__ import annotations

import logging
import threading

from photoseek.core.errors import LibraryError, ModelUnavailableError
from photoseek.core.library.state import LibraryState
from photoseek.core.memory import give_back_freed_memory
from photoseek.core.model import imagepath, textpath
from photoseek.core.model.embedder import Embedder, load_embedder
from photoseek.core.model.imagepath import (
    FP32,
    ImageEncoder,
    LightImageEncoder,
    MixedQueries,
    precision_identity,
)
from photoseek.core.model.naming import ExpectedModel, expected_model
from photoseek.core.model.textpath import LightText, QueryEncoder, TextFirst
from photoseek.core.progress import Phase, Progress, ProgressCallback
from photoseek.core.records import ModelIdentity

log = logging.getLogger("photoseek.core.library")


class ModelOps(LibraryState):
    """The model, its light towers, and the identity and catalog id of its vectors."""

    def load_model(
        self, on_progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> Embedder:
        """The CLIP model, loaded (and downloaded) on first use; thread-safe.

        Loading holds only the model's own lock (seconds): the index may load
        meanwhile (:meth:`preload_index`), and searches may begin.
        """
        if self._embedder is not None:
            return self._embedder
        with self._model_lock:
            if self._embedder is None:
                embedder = load_embedder(
                    self.settings, self.paths.models_dir, on_progress=on_progress, cancel=cancel
                )
                self._adopt(embedder)
                if not self.read_only:  # once per weights file
                    textpath.remember(embedder, self.paths.models_dir)
                    imagepath.remember(embedder, self.paths.models_dir)
            assert self._embedder is not None
            return self._embedder

    def _adopt(self, embedder: Embedder) -> None:
        """Make ``embedder`` the model; drop an index preloaded for another identity."""
        with self._lock:
            keeper = self._keeper
            if keeper is not None and keeper.identity != self._own(embedder.identity):
                log.warning(
                    "the model loaded as %s, not %s as the catalog expected: "
                    "its vector index is opened again",
                    self._own(embedder.identity).key,
                    keeper.identity.key,
                )
                self._keeper, self._model_id = None, None
                self._generation += 1
            self._embedder = embedder
            self._text_encoder = None  # the full model encodes texts from now on

    def query_encoder(self) -> QueryEncoder:
        """What turns a query into a vector: the model, or its text tower alone until it loads.

        Before the full model is loaded (and while it loads in another
        thread), texts are encoded by the light text path when it is exact
        for these weights (:mod:`~photoseek.core.model.textpath`): a cold
        search then costs torch's import and the text tower, not open_clip's
        import and the whole model. Image queries load the full model.
        """
        if self.settings.precision != FP32:
            return MixedQueries(self._text_queries(), self.image_encoder, self._precision_tag())
        return self._text_queries()

    def _text_queries(self) -> QueryEncoder:
        """The model, or the light text tower (images then load the model)."""
        if self._embedder is not None:
            return self._embedder
        text = self._light_text_encoder()
        if text is None:
            return self.embedder
        return TextFirst(text, self.load_model)

    def load_text_encoder(self) -> bool:
        """Load the light text encoder now, if there is an exact one; True when loaded.

        The app calls this first in its model loader, so that the first query
        is answered before the full model is (the full model loads after it).
        """
        return self._light_text_encoder() is not None

    def _light_text_encoder(self) -> LightText | None:
        with self._text_lock:
            if self._embedder is None and self._text_encoder is None and not self._text_tried:
                self._text_tried = True
                self._text_encoder = textpath.load_text_encoder(
                    self.settings, self.paths.models_dir
                )
            return self._text_encoder

    def image_encoder(
        self, on_progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> ImageEncoder:
        """What embeds photos: the image tower alone where it is exact, else the full model.

        The light image path (:mod:`~photoseek.core.model.imagepath`) indexes
        without torch or open_clip; it is used unless the full model is
        loaded already (the app, after an image query), which then embeds.
        """
        fp32 = self.settings.precision == FP32
        if self._embedder is not None and fp32:
            return self._embedder
        light = self._light_image_encoder()
        if light is not None:
            if on_progress is not None:  # the tower loads beside the first decodes
                on_progress(Progress(Phase.LOADING_MODEL, done=1, total=1, unit="steps"))
            return light
        embedder = self.load_model(on_progress, cancel)  # records the light path, if exact
        if fp32:
            return embedder
        light = self._light_image_encoder()
        if light is None:
            raise ModelUnavailableError(
                f"the {self.settings.precision} mode needs a plain ViT model from a safetensors "
                "weights file, and onnxruntime; index at fp32 instead"
            )
        return light

    def _light_image_encoder(self) -> LightImageEncoder | None:
        with self._model_lock:
            if self._image_encoder is None:
                self._image_encoder = imagepath.load_image_encoder(
                    self.settings, self.paths.models_dir, self.settings.precision
                )
            return self._image_encoder

    def release_image_model(self) -> bool:
        """Drop the light image tower, and the full model where the light paths stand in
        for it (an idle service gives back their memory).

        Text queries then go to the light text path; the next embedding or
        image query loads what it needs again (a second on the light path).
        Without a light path (random weights, other towers) the full model
        stays. True if anything was dropped.
        """
        light = imagepath.has_light_path(self.settings, self.paths.models_dir)
        with self._model_lock:
            dropped = self._image_encoder is not None or (light and self._embedder is not None)
            self._image_encoder = None
            if light:
                self._embedder = None
        if light:
            with self._text_lock:
                self._text_tried = False
        if dropped:
            give_back_freed_memory()
        return dropped

    def _loaded_identity(self) -> ModelIdentity | None:
        """The library's identity, from whatever model part is loaded (None: none yet)."""
        light = self._image_encoder
        if light is not None:
            return light.identity
        return self._own(self._embedder.identity) if self._embedder is not None else None

    def _own(self, identity: ModelIdentity) -> ModelIdentity:
        """The identity of this library's vectors for the model's ``identity`` (its precision)."""
        return precision_identity(identity, self._precision_tag())

    def _precision_tag(self) -> str:
        """What names this library's vectors: fp32, or the int8 graph the record allows."""
        return imagepath.precision_tag(self.settings, self.paths.models_dir)

    def _expected(self) -> ExpectedModel:
        """The catalog name of the chosen model at the chosen precision, as far as known."""
        settings = self.settings
        expected = expected_model(settings.arch, settings.pretrained, self.paths.models_dir)
        tag = self._precision_tag()
        if tag == FP32:
            return expected
        return ExpectedModel(f"{expected.arch}+{tag}", expected.pretrained, expected.digest)

    @property
    def embedder(self) -> Embedder:
        """The CLIP model, loaded on first use."""
        return self.load_model()

    @property
    def model_id(self) -> int:
        """The catalog id of the chosen model's identity (known without loading it, or loaded)."""
        if self._model_id is None and self._loaded_identity() is None:
            known = self._known_identity()
            if known is not None:
                with self._lock:
                    if self._model_id is None:
                        self._model_id = known[0]
                return self._model_id
        if self._model_id is None:
            # loaded outside _lock: it takes seconds
            identity = self._loaded_identity() or self._own(self.embedder.identity)
            with self._lock:
                if self._model_id is None:
                    model_id = self.catalog.model_id(identity, create=not self.read_only)
                    if model_id is None:
                        raise LibraryError("this library has no vectors for the chosen model yet")
                    self._model_id = model_id
        return self._model_id

    def _known_identity(self) -> tuple[int, ModelIdentity] | None:
        """The catalog id and identity of the chosen model, when known without loading it."""
        loaded = self._loaded_identity()
        if loaded is not None:
            return self.model_id, loaded
        expected = self._expected()
        if expected.digest is None:  # random weights, or a download not made yet
            return None
        model_id = self.catalog.find_model(expected.arch, expected.pretrained, expected.digest)
        identity = self.catalog.model_identity(model_id) if model_id is not None else None
        return (model_id, identity) if model_id is not None and identity is not None else None

    def known_model_id(self) -> int | None:
        """The catalog id of the chosen model, found without loading it (None: never used)."""
        if self._model_id is not None:
            return self._model_id
        expected = self._expected()
        return self.catalog.find_model(expected.arch, expected.pretrained, expected.digest)
