"""What runs on the cluster's workers: read + decode tasks, and the model actor.

Both are plain functions and classes of photoseek, importable on every
worker (photoseek must be installed there). They exchange numpy batches:
no photoseek object is pickled by photoseek itself; Ray moves the batches.
Every failure of one photo becomes that photo's row with ``ok`` False and a
reason, never an exception that stops the run.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from photoseek.core.cluster.weights import (
    WorkerWeights,
    private_folder,
    remove_folder,
    worker_settings,
)
from photoseek.core.duplicates.phash import phash_image
from photoseek.core.errors import ImageError
from photoseek.core.imaging.decode import decode_image_data
from photoseek.core.imaging.decoders import decoder_tag
from photoseek.core.imaging.pixels import fit_for_model
from photoseek.core.indexing.fingerprint import FULL_HASH_LIMIT, fingerprint, fingerprint_bytes
from photoseek.core.model.embedder import ModelSettings, load_embedder

log = logging.getLogger(__name__)

Batch = dict[str, Any]
UNIDENTIFIED = decoder_tag("sniff")
_EMPTY = np.zeros((1, 1, 3), dtype=np.uint8)


def decode_batch(batch: Batch, min_side: int | None) -> Batch:
    """CPU task: read (sent bytes, or the worker's own mount) and decode each photo."""
    rows = [_decode_one(batch, i, min_side) for i in range(len(batch["key"]))]
    return {name: _column([row[name] for row in rows], name) for name in rows[0]}


def _decode_one(batch: Batch, i: int, min_side: int | None) -> dict[str, Any]:
    key, fingerprint = int(batch["key"][i]), str(batch["fingerprint"][i])
    row: dict[str, Any] = {"key": key, "ok": False, "reason": "", "decoder": "", "pixels": _EMPTY}
    row.update({"format": "", "width": 0, "height": 0, "taken": "", "phash": ""})
    data = batch["data"][i]
    remote = str(batch["remote"][i])
    try:
        if remote:
            data = Path(remote).read_bytes()
            if _fingerprint(Path(remote), data) != fingerprint:
                row["reason"] = f"the worker's copy at {remote} is not the file on this computer"
                return row
        image = decode_image_data(bytes(data), name=str(batch["name"][i]), min_side=min_side)
    except OSError as exc:
        row["reason"] = f"the worker cannot read it at {remote}: {exc.strerror or exc}"
        return row
    except ImageError as exc:
        row.update(reason=exc.reason, decoder=exc.decoder or UNIDENTIFIED)
        return row
    except Exception as exc:  # any failure of one file is that file's problem
        log.warning("unexpected error while decoding %s", batch["name"][i], exc_info=True)
        row["reason"] = f"unexpected error: {type(exc).__name__}: {exc}"
        return row
    try:
        phash = str(phash_image(image.image))
    except Exception:  # the duplicate finder makes it later; not a photo problem
        phash = ""
    taken = image.taken_at.isoformat(timespec="seconds") if image.taken_at else ""
    row.update(ok=True, decoder=image.decoder, format=image.format or "")
    row.update(width=image.width, height=image.height, taken=taken, phash=phash)
    row["pixels"] = np.asarray(fit_for_model(image.image).convert("RGB"), dtype=np.uint8)
    return row


class EmbedActor:
    """A model actor: gets the weights once, loads them through the same safe loader as local runs.

    It lives for the whole run (Ray restarts one that dies and re-runs its
    calls); ``embed`` takes a batch :func:`decode_batch` made on any worker.
    """

    def __init__(
        self,
        settings: ModelSettings,
        weights: WorkerWeights,
        data: bytes | None,
        identity_key: str,
    ) -> None:
        folder = private_folder()
        try:
            local_settings, models_dir = worker_settings(settings, weights, data, folder)
            self.embedder = load_embedder(local_settings, models_dir)
        finally:
            remove_folder(folder)  # the weights are in memory now
        if self.embedder.identity.key != identity_key:
            raise RuntimeError(
                f"the worker loaded {self.embedder.identity.key}, not the library's "
                f"{identity_key}: give the workers the same weights"
            )
        self.where = {"node": socket.gethostname(), "device": str(self.embedder.device)}

    def embed(self, batch: Batch) -> Batch:
        """The batch's vectors, ``ok`` and ``reason`` per photo, and where it ran."""
        return {**self(batch), **self.where}

    def __call__(self, batch: Batch) -> Batch:
        """Embed the decoded rows; a photo the model fails on becomes a failed row."""
        count = len(batch["key"])
        ok = [bool(v) for v in batch["ok"]]
        reasons = [str(r) for r in batch["reason"]]
        vectors = np.zeros((count, self.embedder.identity.dim), dtype=np.float32)
        todo = [i for i in range(count) if ok[i]]
        tensors: dict[int, Any] = {}
        for i in todo:
            try:
                tensors[i] = self.embedder.preprocess(Image.fromarray(batch["pixels"][i]))
            except Exception as exc:
                ok[i], reasons[i] = False, f"cannot prepare it for the model: {exc}"
        todo = [i for i in todo if ok[i]]
        try:
            if todo:
                vectors[todo] = self.embedder.encode_images([tensors[i] for i in todo])
        except Exception as exc:
            log.warning("the model failed on a batch (%s); embedding one by one", exc)
            for i in todo:
                try:
                    vectors[i] = self.embedder.encode_images([tensors[i]])[0]
                except Exception as one:
                    ok[i], reasons[i] = False, f"the model failed on this photo: {one}"
        out = {name: batch[name] for name in batch if name != "pixels"}
        out.update(ok=np.array(ok), reason=np.array(reasons, dtype=object), vector=vectors)
        return out


def _fingerprint(path: Path, data: bytes) -> str:
    """The fingerprint the driver computed: of the bytes, or sampled above the full-hash limit."""
    return fingerprint_bytes(data) if len(data) <= FULL_HASH_LIMIT else fingerprint(path)


def _column(values: list[Any], name: str) -> Any:
    if name == "pixels":
        column = np.empty(len(values), dtype=object)
        column[:] = values
        return column
    return np.array(values, dtype=object if isinstance(values[0], str) else None)
