"""Weights download: resume, restart, checksums, progress and cancel, against a local server."""

from __future__ import annotations

import hashlib
import http.server
import random
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from photoseek.core.errors import Cancelled, ModelUnavailableError
from photoseek.core.model import download
from photoseek.core.progress import Phase, Progress

SIZE = 3 * 1024 * 1024 + 12345  # a few chunks, not a round number
FILE_PATH = "/org/repo/resolve/main/open_clip_model.safetensors"


class WeightsServer:
    """An HTTP file server on 127.0.0.1 for download tests.

    ``files`` maps a URL path to its bytes; ``redirects`` maps a path to
    (location, extra headers of the redirect); ``headers`` adds headers to a
    file's answers. ``ranges`` False makes it answer 200 to a Range request.
    Each number in ``cuts`` cuts one answer (in order) after that many body
    bytes. ``requests`` logs (path, Range header) and ``sent`` counts body
    bytes, both counted before the bytes go out.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, tuple[str, dict[str, str]]] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self.ranges = True
        self.cuts: list[int] = []
        self.requests: list[tuple[str, str | None]] = []
        self.sent = 0
        self._lock = threading.Lock()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def next_cut(self) -> int | None:
        with self._lock:
            return self.cuts.pop(0) if self.cuts else None

    def count(self, sent: int) -> None:
        with self._lock:
            self.sent += sent


def _handler(server: WeightsServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            server.requests.append((self.path, self.headers.get("Range")))
            if self.path in server.redirects:
                location, extra = server.redirects[self.path]
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                return
            data = server.files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            start = self._range_start()
            if start is not None and start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if start is None:
                self.send_response(200)
                start = 0
            else:
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            for name, value in server.headers.get(self.path, {}).items():
                self.send_header(name, value)
            self.end_headers()
            self._send(body, server.next_cut())

        def _range_start(self) -> int | None:
            value = self.headers.get("Range")
            if not value or not server.ranges:
                return None
            assert value.startswith("bytes=") and value.endswith("-"), value
            return int(value[len("bytes=") : -1])

        def _send(self, body: bytes, cut: int | None) -> None:
            if cut is not None:
                body = body[:cut]
            for at in range(0, len(body), 65536):
                piece = body[at : at + 65536]
                server.count(len(piece))
                self.wfile.write(piece)
            self.wfile.flush()
            if cut is not None:  # drop the connection mid-body
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


@pytest.fixture
def server() -> Iterator[WeightsServer]:
    srv = WeightsServer()
    yield srv
    srv.close()


@pytest.fixture
def payload() -> bytes:
    return random.Random(42).randbytes(SIZE)


def _serve(server: WeightsServer, payload: bytes, path: str = FILE_PATH) -> str:
    server.files[path] = payload
    return server.url(path)


def test_interrupted_download_resumes_on_the_next_call(
    server: WeightsServer, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "MAX_ATTEMPTS", 1)  # no resume within the call
    url, target = _serve(server, payload), tmp_path / "w.safetensors"
    server.cuts = [1_000_000]
    with pytest.raises(ModelUnavailableError, match="run again to resume"):
        download.download_file(url, target)
    assert not target.exists()
    assert download.part_path(target).stat().st_size == 1_000_000
    first_sent, server.sent = server.sent, 0

    assert download.download_file(url, target) == target
    assert target.read_bytes() == payload
    assert not download.part_path(target).exists()
    assert server.requests[-1] == (FILE_PATH, "bytes=1000000-")
    assert server.sent == SIZE - first_sent < SIZE


def test_a_cut_connection_is_resumed_within_the_call(
    server: WeightsServer, payload: bytes, tmp_path: Path
) -> None:
    url, target = _serve(server, payload), tmp_path / "w.safetensors"
    server.cuts = [700_000, 900_000]
    download.download_file(url, target)
    assert target.read_bytes() == payload
    assert [r for _, r in server.requests] == [None, "bytes=700000-", "bytes=1600000-"]
    assert server.sent == SIZE


def test_server_without_range_support_restarts_and_completes(
    server: WeightsServer, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "MAX_ATTEMPTS", 1)
    url, target = _serve(server, payload), tmp_path / "w.safetensors"
    server.ranges = False
    server.cuts = [500_000]
    with pytest.raises(ModelUnavailableError):
        download.download_file(url, target)
    download.part_path(target).write_bytes(b"stale bytes that must not survive")  # any .part
    download.download_file(url, target)
    assert server.requests[-1][1] is not None  # it asked for the rest, got everything
    assert target.read_bytes() == payload


def test_progress_is_monotonic_and_ends_at_total(
    server: WeightsServer, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "PROGRESS_INTERVAL_S", 0.0)  # report every chunk
    monkeypatch.setattr(download, "CHUNK_BYTES", 65536)
    events: list[Progress] = []
    download.download_file(_serve(server, payload), tmp_path / "w.bin", on_progress=events.append)
    dones = [e.done for e in events]
    assert len(events) > 2
    assert dones == sorted(dones) and dones[0] == 0
    assert (events[-1].done, events[-1].total) == (SIZE, SIZE)
    assert {(e.phase, e.unit, e.total) for e in events} == {
        (Phase.DOWNLOADING_MODEL, "bytes", SIZE)
    }
    assert all(e.rate >= 0 for e in events) and events[-1].eta_s == 0


def test_progress_is_throttled_but_keeps_first_and_last(
    server: WeightsServer, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "PROGRESS_INTERVAL_S", 1e9)
    monkeypatch.setattr(download, "CHUNK_BYTES", 65536)
    events: list[Progress] = []
    download.download_file(_serve(server, payload), tmp_path / "w.bin", on_progress=events.append)
    assert [(e.done, e.total) for e in events] == [(0, SIZE), (SIZE, SIZE)]


def test_cancel_raises_and_keeps_the_part_for_a_resume(
    server: WeightsServer, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "CHUNK_BYTES", 65536)
    url, target = _serve(server, payload), tmp_path / "w.safetensors"
    cancel = threading.Event()
    with pytest.raises(Cancelled):
        download.download_file(url, target, on_progress=lambda _: cancel.set(), cancel=cancel)
    kept = download.part_path(target).stat().st_size
    assert 0 < kept <= 65536
    assert not target.exists()

    download.download_file(url, target)
    assert target.read_bytes() == payload
    assert server.requests[-1][1] == f"bytes={kept}-"


def test_cancel_before_start_sends_nothing(
    server: WeightsServer, payload: bytes, tmp_path: Path
) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        download.download_file(_serve(server, payload), tmp_path / "w.bin", cancel=cancel)
    assert server.requests == []


def test_checksum_from_the_hub_redirect_is_verified(
    server: WeightsServer, payload: bytes, tmp_path: Path
) -> None:
    server.files["/cdn/blob"] = payload
    good = hashlib.sha256(payload).hexdigest()
    server.redirects[FILE_PATH] = (server.url("/cdn/blob"), {"X-Linked-ETag": f'"{good}"'})
    target = tmp_path / "w.safetensors"
    assert download.download_file(server.url(FILE_PATH), target).read_bytes() == payload


def test_checksum_mismatch_deletes_the_part_and_leaves_no_file(
    server: WeightsServer, payload: bytes, tmp_path: Path
) -> None:
    server.files["/cdn/blob"] = payload
    wrong = hashlib.sha256(b"something else").hexdigest()
    server.redirects[FILE_PATH] = (server.url("/cdn/blob"), {"X-Linked-ETag": f'"{wrong}"'})
    target = tmp_path / "w.safetensors"
    with pytest.raises(ModelUnavailableError, match="SHA-256"):
        download.download_file(server.url(FILE_PATH), target)
    assert not target.exists()
    assert not download.part_path(target).exists()


def test_expected_checksum_from_the_caller_and_from_etag(
    server: WeightsServer, payload: bytes, tmp_path: Path
) -> None:
    url = _serve(server, payload)
    server.headers[FILE_PATH] = {"ETag": f'"{hashlib.sha256(b"x").hexdigest()}"'}
    with pytest.raises(ModelUnavailableError, match="SHA-256"):
        download.download_file(url, tmp_path / "a.pt")
    server.headers[FILE_PATH] = {"ETag": '"not-a-sha256"'}  # e.g. a git blob id: ignored
    with pytest.raises(ModelUnavailableError, match="SHA-256"):
        download.download_file(url, tmp_path / "b.pt", expected_sha256="00" * 4)
    prefix = hashlib.sha256(payload).hexdigest()[:8]  # mlfoundations URLs carry a prefix
    assert download.download_file(url, tmp_path / "c.pt", expected_sha256=prefix).is_file()
    assert not list(tmp_path.glob("*.part"))


def test_hub_candidates_prefer_safetensors_and_skip_missing_files(
    server: WeightsServer, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "HUB_BASE_URL", server.base_url)
    server.files["/org/repo/resolve/main/open_clip_pytorch_model.bin"] = payload
    got = download.download_weights({"hf_hub": "org/repo/"}, tmp_path, "arch-tag")
    assert got == tmp_path / "arch-tag.bin"
    assert [p for p, _ in server.requests] == [
        "/org/repo/resolve/main/open_clip_model.safetensors",
        "/org/repo/resolve/main/open_clip_pytorch_model.bin",
    ]
    with pytest.raises(ModelUnavailableError, match="not on the server"):
        download.download_weights({"hf_hub": "org/other/"}, tmp_path, "other-tag")


def test_remote_files_follow_open_clip_cfgs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download, "HUB_BASE_URL", "https://hub.example")
    sha = "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af"
    openai = f"https://openaipublic.azureedge.net/clip/models/{sha}/ViT-B-32.pt"
    assert download.remote_files({"url": openai}) == [
        download.RemoteFile(openai, "ViT-B-32.pt", sha)
    ]
    both = {"url": openai, "hf_hub": "a/b/pytorch_model.bin"}  # the hub wins, as in open_clip
    assert [r.url for r in download.remote_files(both)] == [
        "https://hub.example/a/b/resolve/main/pytorch_model.safetensors",
        "https://hub.example/a/b/resolve/main/pytorch_model.bin",
    ]
    assert download.remote_files({}) == []


def test_two_downloads_of_one_file_do_not_mix(
    server: WeightsServer, payload: bytes, tmp_path: Path
) -> None:
    url, target = _serve(server, payload), tmp_path / "w.safetensors"
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(download.download_file(url, target)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [target, target]
    assert target.read_bytes() == payload
    assert server.sent == SIZE  # the second found the first's file


def test_reachable_is_fast_and_false_for_a_closed_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert not download.reachable(f"http://127.0.0.1:{port}/x", timeout=3.0)
