"""Downloading model weights: resumable, verified, with byte progress and cancel.

Only the standard library's :mod:`urllib` is used. A file is fetched into
``<target>.part`` next to its final name; an interrupted download (a cut
connection, a cancel, a crash) keeps the ``.part`` and the next attempt asks
the server for the rest with an HTTP ``Range`` request. A server that cannot
resume (it answers ``200`` to a ``Range``) is read again from the start.
Within one call a cut connection that had made progress is resumed at once,
a few times.

When the SHA-256 of the file is known (the model hub sends it as the
``X-Linked-ETag`` of its redirect, or as the ``ETag``; OpenAI's URLs in
open_clip's configs carry it in their path), the finished ``.part`` is
checked against it; a mismatch deletes the ``.part`` and raises. The file is
then ``fsync``-ed and renamed to its final name atomically, so the final name
only ever holds a whole, verified file.

Progress goes to an optional callback as
``Progress(Phase.DOWNLOADING_MODEL, done=bytes, total=bytes or None, unit="bytes")``,
at most every :data:`PROGRESS_INTERVAL_S` plus the first and the last; ``done``
starts at what an earlier attempt left, and goes back to 0 when a server
cannot resume. An optional ``threading.Event`` cancels between chunks with
:class:`~photoseek.core.errors.Cancelled`, keeping the ``.part`` for later.
Two processes never write the same ``.part``: the second waits for the first
(a lock file next to it) and then finds the finished file.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any

import filelock

from photoseek.core.atomicfile import fsync_dir, fsync_file
from photoseek.core.errors import Cancelled, ModelUnavailableError
from photoseek.core.progress import Phase, Progress, ProgressCallback

__all__ = [
    "HUB_BASE_URL",
    "RemoteFile",
    "download_file",
    "download_weights",
    "hub_file_names",
    "hub_url",
    "part_path",
    "reachable",
    "remote_files",
]

log = logging.getLogger(__name__)

HUB_BASE_URL = "https://huggingface.co"
"""Where ``hf_hub`` weights come from (tests point it at a local server)."""
HF_SAFE_WEIGHTS_NAME = "open_clip_model.safetensors"
HF_WEIGHTS_NAME = "open_clip_pytorch_model.bin"
TIMEOUT_S = 30.0
"""Socket timeout for connecting and for each read of a download."""
REACHABLE_TIMEOUT_S = 3.0
CHUNK_BYTES = 1 << 20
PROGRESS_INTERVAL_S = 0.25
PART_SUFFIX = ".part"
MAX_ATTEMPTS = 3
_LOCK_POLL_S = 0.5
_USER_AGENT = "photoseek (urllib)"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHA256_PREFIX = re.compile(r"[0-9a-f]{8,64}")


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable weights file: its URL, its file name and, if known, its SHA-256.

    ``sha256`` may be a prefix of the digest (some published URLs carry only one).
    """

    url: str
    name: str
    sha256: str | None = None

    @property
    def suffix(self) -> str:
        """The file type, as its name ends (``.safetensors``, ``.bin``, ``.pt``)."""
        return Path(self.name).suffix.lower()


def hub_file_names(hf_hub: str) -> tuple[str, list[str]]:
    """(repo, file names to try) for an open_clip ``hf_hub`` value, safetensors first.

    open_clip writes ``"org/repo/"`` for its default file names and
    ``"org/repo/file"`` for a given one; a ``.bin`` or ``.pth`` file may also
    exist as ``.safetensors``, which is preferred.
    """
    repo, filename = os.path.split(hf_hub)
    if not filename or filename == HF_WEIGHTS_NAME:
        return repo, [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME]
    name = Path(filename)
    if name.suffix.lower() in (".bin", ".pth"):
        return repo, [f"{name.stem}.safetensors", filename]
    return repo, [filename]


def hub_url(repo: str, name: str) -> str:
    """The hub's download URL of ``name`` in ``repo`` (main branch)."""
    return f"{HUB_BASE_URL.rstrip('/')}/{repo}/resolve/main/{urllib.parse.quote(name)}"


def remote_files(cfg: dict[str, Any]) -> list[RemoteFile]:
    """Candidate files for an open_clip pretrained ``cfg``, the preferred first.

    As open_clip does, the hub is preferred and the ``url`` is used only
    when the cfg names no hub repo.
    """
    hf_hub = str(cfg.get("hf_hub") or "")
    if hf_hub:
        repo, names = hub_file_names(hf_hub)
        return [RemoteFile(hub_url(repo, name), name) for name in names]
    url = str(cfg.get("url") or "")
    if not url:
        return []
    name = Path(urllib.parse.urlparse(url).path).name
    return [RemoteFile(url, name, _sha256_in_url(url))]


def reachable(url: str, timeout: float = REACHABLE_TIMEOUT_S) -> bool:
    """Whether the host of ``url`` accepts a TCP connection within ``timeout`` seconds."""
    parts = urllib.parse.urlparse(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def part_path(target: Path) -> Path:
    """Where the download of ``target`` is written until it is whole."""
    return target.with_name(target.name + PART_SUFFIX)


def download_weights(
    cfg: dict[str, Any],
    models_dir: Path,
    stem: str,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Download the weights of ``cfg`` as ``models_dir/<stem><suffix>``; returns the file.

    The suffix is that of the file downloaded. Candidates the server does
    not have (404) are skipped; raises :class:`ModelUnavailableError` when
    none exists or a download fails, :class:`Cancelled` when cancelled.
    """
    candidates = remote_files(cfg)
    for remote in candidates:
        target = models_dir / f"{stem}{remote.suffix}"
        try:
            return download_file(
                remote.url,
                target,
                expected_sha256=remote.sha256,
                on_progress=on_progress,
                cancel=cancel,
            )
        except _NotFoundError:
            log.debug("%s is not on the server", remote.url)
    tried = ", ".join(remote.url for remote in candidates) or "no download address"
    raise ModelUnavailableError(f"the weights are not on the server (tried {tried})")


def download_file(
    url: str,
    target: Path,
    *,
    expected_sha256: str | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Download ``url`` to ``target`` (resuming a ``.part``, verified, atomic); returns it.

    ``expected_sha256`` is the digest, or a prefix of it, when the caller
    knows it; a digest the server sends is checked as well.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(target, cancel):
        if target.is_file():  # another process finished it while we waited
            return target
        part = part_path(target)
        meter = _Meter(on_progress, target.name)
        server_sha = _fetch_with_retries(url, part, meter, cancel)
        _verify(part, target.name, [expected_sha256, server_sha])
        fsync_file(part)
        os.replace(part, target)
        fsync_dir(target.parent)
    log.info("downloaded %s (%d bytes)", target, target.stat().st_size)
    return target


class _NotFoundError(Exception):
    """The server has no such file (HTTP 404)."""


class _InterruptedError(Exception):
    """The transfer stopped early; ``restart`` when the .part was discarded."""

    def __init__(self, reason: str, *, restart: bool = False) -> None:
        super().__init__(reason)
        self.restart = restart


class _Meter:
    """Turns byte counts into throttled :class:`Progress` reports."""

    def __init__(self, callback: ProgressCallback | None, name: str) -> None:
        self._callback = callback
        self._name = name
        self._started = time.monotonic()
        self._last_report = float("-inf")
        self.received = 0  # bytes transferred by this call (not an earlier attempt's)

    def report(self, done: int, total: int | None, *, force: bool = False) -> None:
        now = time.monotonic()
        if self._callback is None or (not force and now - self._last_report < PROGRESS_INTERVAL_S):
            return
        self._last_report = now
        elapsed = now - self._started
        rate = self.received / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if total is not None and rate > 0 else None
        self._callback(
            Progress(
                Phase.DOWNLOADING_MODEL,
                done=done,
                total=total,
                unit="bytes",
                rate=rate,
                eta_s=eta,
                current=self._name,
            )
        )


class _HeaderRecorder(urllib.request.HTTPRedirectHandler):
    """Follows redirects, remembering the hub's ``X-Linked-ETag`` (the file's SHA-256)."""

    def __init__(self) -> None:
        super().__init__()
        self.linked_etag: str | None = None

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        self.linked_etag = headers.get("X-Linked-ETag") or self.linked_etag
        return super().redirect_request(req, fp, code, msg, headers, newurl)

    def sha256(self, headers: Any) -> str | None:
        """The SHA-256 the server states, from a redirect or from the final headers."""
        for value in (self.linked_etag, headers.get("X-Linked-ETag"), headers.get("ETag")):
            digest = _sha256_in_etag(value)
            if digest:
                return digest
        return None


def _fetch_with_retries(
    url: str, part: Path, meter: _Meter, cancel: threading.Event | None
) -> str | None:
    """Complete ``part``; a cut that made progress is resumed at once, a few times."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        _check(cancel)
        before = _size(part)
        try:
            return _fetch(url, part, meter, cancel)
        except _InterruptedError as exc:
            progressed = exc.restart or _size(part) > before
            if attempt == MAX_ATTEMPTS or not progressed:
                raise ModelUnavailableError(
                    f"the download of {part.name.removesuffix(PART_SUFFIX)} stopped after "
                    f"{_megabytes(_size(part))} ({exc}); run again to resume it"
                ) from exc
            log.info("download of %s interrupted (%s); resuming", url, exc)
    raise AssertionError("unreachable")  # pragma: no cover


def _fetch(url: str, part: Path, meter: _Meter, cancel: threading.Event | None) -> str | None:
    """One request that brings ``part`` up to the whole file; the server's SHA-256 if sent."""
    offset = _size(part)
    recorder = _HeaderRecorder()
    try:
        response = urllib.request.build_opener(recorder).open(
            _request(url, offset), timeout=TIMEOUT_S
        )
    except urllib.error.HTTPError as exc:
        try:
            return _refused(exc, url, part, offset, meter, recorder)
        finally:
            exc.close()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _InterruptedError(_reason(exc)) from exc
    with response:
        start, total = _span(response, offset, url)
        _receive(response, part, start, total, meter, cancel)
        return recorder.sha256(response.headers)


def _request(url: str, offset: int) -> urllib.request.Request:
    request = urllib.request.Request(
        url, headers={"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    )
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    return request


def _refused(
    exc: urllib.error.HTTPError,
    url: str,
    part: Path,
    offset: int,
    meter: _Meter,
    recorder: _HeaderRecorder,
) -> str | None:
    """An HTTP error answer: a .part that is already whole (416), 404, or a refusal."""
    if exc.code == HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE and offset:
        if _range_total(exc.headers.get("Content-Range")) == offset:
            meter.report(offset, offset, force=True)  # an earlier attempt got it all
            return recorder.sha256(exc.headers)
        part.unlink(missing_ok=True)
        raise _InterruptedError("the partial download does not match the file", restart=True)
    if exc.code == HTTPStatus.NOT_FOUND:
        raise _NotFoundError(url)
    if exc.code >= HTTPStatus.INTERNAL_SERVER_ERROR:
        raise _InterruptedError(f"HTTP {exc.code} {exc.reason}")
    raise ModelUnavailableError(
        f"{urllib.parse.urlparse(url).hostname} refused the download of {url} "
        f"(HTTP {exc.code} {exc.reason})"
    )


def _span(response: Any, offset: int, url: str) -> tuple[int, int | None]:
    """(where this response's body starts in the file, the file's size if known)."""
    if response.status == HTTPStatus.PARTIAL_CONTENT:
        start, total = _content_range(response.headers.get("Content-Range"))
        if start == offset:
            return start, total
        raise _InterruptedError("the server resumed at another offset", restart=True)
    if offset:
        log.info("%s cannot resume downloads; starting over", urllib.parse.urlparse(url).hostname)
    length = response.headers.get("Content-Length")
    return 0, int(length) if length and length.isdigit() else None


def _receive(
    response: Any,
    part: Path,
    start: int,
    total: int | None,
    meter: _Meter,
    cancel: threading.Event | None,
) -> None:
    """Append the body to ``part`` (from ``start``), reporting and honouring cancel."""
    done = start
    meter.report(done, total, force=True)
    with part.open("ab" if start else "wb") as out:
        while True:
            try:
                chunk = response.read1(CHUNK_BYTES)
            except (OSError, http.client.HTTPException) as exc:
                raise _InterruptedError(_reason(exc)) from exc
            if not chunk:
                break
            out.write(chunk)
            done += len(chunk)
            meter.received += len(chunk)
            meter.report(done, total)
            _check(cancel)
    if total is not None and done < total:
        raise _InterruptedError(f"the connection closed after {done} of {total} bytes")
    if total is not None and done > total:
        part.unlink(missing_ok=True)
        raise ModelUnavailableError(f"the server sent more than the {total} bytes it announced")
    meter.report(done, done if total is None else total, force=True)


def _verify(part: Path, name: str, digests: list[str | None]) -> None:
    """Check the finished ``part`` against every known digest; delete it on a mismatch."""
    known = [d.lower() for d in digests if d]
    if not known:
        log.info("no checksum is published for %s; not verified", name)
        return
    actual = _sha256_of(part)
    if all(actual.startswith(digest) for digest in known):
        return
    part.unlink(missing_ok=True)
    raise ModelUnavailableError(
        f"the downloaded {name} does not match its published SHA-256 checksum, "
        "so it was deleted; try again"
    )


@contextlib.contextmanager
def _exclusive(target: Path, cancel: threading.Event | None) -> Iterator[None]:
    """Hold a lock file next to ``target`` so one process downloads it; waits, cancellable."""
    lock = filelock.FileLock(str(target.with_name(target.name + ".lock")))
    waiting = False
    while True:
        try:
            lock.acquire(timeout=_LOCK_POLL_S)
            break
        except filelock.Timeout:
            _check(cancel)
            if not waiting:
                log.info("waiting for another process to download %s", target.name)
                waiting = True
    try:
        yield
    finally:
        lock.release()


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("the model download was cancelled; it resumes where it stopped next time")


def _content_range(value: str | None) -> tuple[int, int | None]:
    """(first byte, total size or None) of a ``Content-Range: bytes a-b/total`` header."""
    found = re.fullmatch(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*", value or "")
    if not found:
        raise _InterruptedError(f"the server sent an unusable Content-Range {value!r}")
    total = found.group(2)
    return int(found.group(1)), None if total == "*" else int(total)


def _range_total(value: str | None) -> int | None:
    found = re.fullmatch(r"\s*bytes\s+\*/(\d+)\s*", value or "")
    return int(found.group(1)) if found else None


def _sha256_in_etag(value: str | None) -> str | None:
    digest = (value or "").strip().removeprefix("W/").strip('"').lower()
    return digest if _SHA256.fullmatch(digest) else None


def _sha256_in_url(url: str) -> str | None:
    """The digest open_clip finds in a published URL's path (OpenAI, mlfoundations)."""
    path = urllib.parse.urlparse(url).path
    if "openaipublic" in url:
        candidate = path.rstrip("/").split("/")[-2] if path.count("/") >= 2 else ""
    elif "mlfoundations" in url:
        candidate = Path(path).stem.split("-")[-1]
    else:
        return None
    candidate = candidate.lower()
    return candidate if _SHA256_PREFIX.fullmatch(candidate) else None


def _sha256_of(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            sha.update(block)
    return sha.hexdigest()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc or type(exc).__name__)
