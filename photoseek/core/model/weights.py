"""Finding model weights: a local file or folder, the download cache, or the hub.

Order for a pretrained *tag*: a file the user dropped into the models folder
(``<models_dir>/<arch>-<tag>.safetensors``, ``.bin``, ``.pt``, ...), then the
Hugging Face cache layout of older downloads under the models folder, then a
download (:mod:`.download`), which saves under the drop-in name so that the
next start finds it first. Offline, the user gets one
:class:`ModelUnavailableError` saying where to put the file, after a
3-second reachability check instead of a minute of retries.

Only safe formats are ever read: safetensors, or torch files loaded with
``weights_only=True`` (see :mod:`photoseek.core.model.checkpoint`). Nothing
else is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoseek.core.atomicfile import write_json_atomically
from photoseek.core.errors import Cancelled, ModelUnavailableError
from photoseek.core.progress import ProgressCallback

log = logging.getLogger(__name__)

RANDOM_WEIGHTS = "none"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")
FOLDER_CANDIDATES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
_OFFLINE_VALUES = ("1", "true", "yes", "on")
_DIGEST_CACHE = "digests.json"


@dataclass(frozen=True)
class WeightsSource:
    """Where the weights come from: ``file`` None means random initialisation."""

    file: Path | None
    label: str


def looks_like_path(value: str) -> bool:
    """Whether ``--pretrained`` names a file or folder rather than a tag."""
    return (
        os.sep in value
        or "/" in value
        or value.startswith((".", "~"))
        or value.lower().endswith(WEIGHT_SUFFIXES)
    )


def resolve_weights(
    arch: str,
    pretrained: str,
    models_dir: Path,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> WeightsSource:
    """Locate (downloading if needed) the weights for ``arch`` + ``pretrained``.

    A download reports byte progress to ``on_progress`` and stops with
    :class:`Cancelled` when ``cancel`` is set (see :mod:`.download`).
    """
    if pretrained.lower() == RANDOM_WEIGHTS:
        return WeightsSource(None, RANDOM_WEIGHTS)
    if looks_like_path(pretrained):
        file = local_weights_file(Path(pretrained).expanduser())
        return WeightsSource(file, file.name)
    file = _tag_weights(arch, pretrained, models_dir, on_progress, cancel)
    return WeightsSource(file, pretrained)


def local_weights_file(path: Path) -> Path:
    """Validate a user-given checkpoint file, or find one inside a folder."""
    if path.is_dir():
        for name in FOLDER_CANDIDATES:
            if (path / name).is_file():
                return (path / name).resolve()
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in WEIGHT_SUFFIXES)
        if len(found) == 1:
            return found[0].resolve()
        raise ModelUnavailableError(f"no single checkpoint file found in folder {path}")
    if not path.is_file():
        raise ModelUnavailableError(f"checkpoint file not found: {path}")
    if path.suffix.lower() not in WEIGHT_SUFFIXES:
        raise ModelUnavailableError(
            f"{path.name}: unsupported checkpoint type (use {', '.join(WEIGHT_SUFFIXES)})"
        )
    return path.resolve()


def dropin_name(arch: str, tag: str, suffix: str = ".safetensors") -> str:
    """File name under which an offline user may place (and a download saves) the weights."""
    return f"{arch}-{tag}{suffix}"


def _tag_weights(
    arch: str,
    tag: str,
    models_dir: Path,
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> Path:
    import open_clip

    from photoseek.core.model import download  # imported when needed (start-up time)

    cfg: dict[str, Any] = open_clip.get_pretrained_cfg(arch, tag)
    if not cfg:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(arch)) or "none"
        raise ModelUnavailableError(
            f"unknown pretrained tag {tag!r} for {arch} (known: {tags}); "
            "or pass --pretrained /path/to/checkpoint"
        )
    found = _dropped_file(arch, tag, models_dir) or _cached_hub_file(cfg, models_dir)
    if found is not None:
        return found
    remotes = download.remote_files(cfg)
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in _OFFLINE_VALUES
    if not remotes or offline or not download.reachable(remotes[0].url):
        raise ModelUnavailableError(_offline_message(arch, tag, cfg, models_dir))
    log.info("downloading %s/%s weights into %s", arch, tag, models_dir)
    try:
        return download.download_weights(
            cfg, models_dir, dropin_name(arch, tag, ""), on_progress=on_progress, cancel=cancel
        )
    except Cancelled:
        raise
    except Exception as exc:  # any network/hub failure ends in the same advice
        reason = str(exc).rstrip(".") or type(exc).__name__
        raise ModelUnavailableError(
            f"download of {arch}/{tag} failed ({reason}); "
            + _manual_advice(arch, tag, cfg, models_dir)
        ) from exc


def _dropped_file(arch: str, tag: str, models_dir: Path) -> Path | None:
    for suffix in WEIGHT_SUFFIXES:
        dropped = models_dir / dropin_name(arch, tag, suffix)
        if dropped.is_file():
            return dropped
    return None


def _hub_repo_and_files(cfg: dict[str, Any]) -> tuple[str, list[str]]:
    from photoseek.core.model import download  # imported when needed (start-up time)

    return download.hub_file_names(str(cfg.get("hf_hub") or ""))


def _cached_hub_file(cfg: dict[str, Any], models_dir: Path) -> Path | None:
    """A file an older photoseek downloaded into the Hugging Face cache layout."""
    repo, names = _hub_repo_and_files(cfg)
    if not repo:
        return None
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        return None
    for name in names:
        try:
            return Path(
                hf_hub_download(repo, name, cache_dir=str(models_dir), local_files_only=True)
            )
        except Exception:  # not in the cache
            continue
    return None


def hub_reachable(timeout: float | None = None) -> bool:
    """Whether the model hub answers a TCP connection within ``timeout`` seconds."""
    from photoseek.core.model import download  # imported when needed (start-up time)

    return bool(download.reachable(download.HUB_BASE_URL, timeout or download.REACHABLE_TIMEOUT_S))


def _offline_message(arch: str, tag: str, cfg: dict[str, Any], models_dir: Path) -> str:
    return (
        f"model weights for {arch}/{tag} are not on this computer and cannot be downloaded "
        "(no network); " + _manual_advice(arch, tag, cfg, models_dir)
    )


def _manual_advice(arch: str, tag: str, cfg: dict[str, Any], models_dir: Path) -> str:
    from photoseek.core.model import download  # imported when needed (start-up time)

    remotes = download.remote_files(cfg)
    where = remotes[0].url if remotes else "the weights file"
    suffix = remotes[0].suffix if remotes else ".safetensors"
    return (
        f"download {where} on another computer and save it as "
        f"{models_dir / dropin_name(arch, tag, suffix)}, "
        "or run with --pretrained /path/to/checkpoint"
    )


def file_digest(path: Path, cache_dir: Path) -> str:
    """SHA-256 of a weights file, remembered by (path, size, mtime) in ``cache_dir``."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = cache_dir / _DIGEST_CACHE
    cache = _read_json(cache_file)
    if key in cache:
        return str(cache[key])
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            sha.update(block)
    digest = f"sha256:{sha.hexdigest()[:16]}"
    cache[key] = digest
    _write_json(cache_file, cache)
    return digest


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(path, data, durable=False)  # only a cache of digests
    except OSError as exc:  # recomputed next time
        log.debug("could not write %s: %s", path, exc)
