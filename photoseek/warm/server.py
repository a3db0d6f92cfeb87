"""Answer warm searches from a library that is open already: the watch service's or the app's.

One request per connection: a JSON line ``{"v": 1, "argv": [...], "cwd":
"...", "env": {...}}``, the client's command line, working folder and
photoseek variables. The server parses the command line with the client's
environment, runs the same ``search`` the cold path runs (same options, same
printing) against its own library, and answers ``{"v": 1, "code": N,
"stdout": "...", "stderr": "..."}``. It declines (``{"v": 1, "declined":
REASON}``; the client then searches cold) a command other than ``search``,
another library or model than its own, an image term (its path is the
client's to resolve), and anything that fails other than with a clear error.

Nothing is unpickled: requests and answers are JSON. The socket is the
user's own (:mod:`.address`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from photoseek.core.errors import PhotoseekError
from photoseek.core.library import Library
from photoseek.core.library.modelchoice import ModelName, stored_choice
from photoseek.core.model.embedder import DEFAULT_ARCH, DEFAULT_PRETRAINED
from photoseek.core.model.naming import expected_model
from photoseek.modelargs import named_model
from photoseek.paths import resolve_paths
from photoseek.warm.address import socket_path
from photoseek.warm.client import PROTOCOL

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1 << 20
EXIT_USER_ERROR = 2


class WarmSearchServer:
    """Serves warm searches for ``library`` on its socket, in a thread of its own."""

    def __init__(self, library: Library, *, warm_up: bool = False) -> None:
        self.library = library
        self.served = 0
        self._warm_up = warm_up
        self._path: str | None = None
        self._server: socketserver.ThreadingUnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Listen; False where there is no socket here or another process serves this library."""
        path = socket_path(os.path.realpath(self.library.paths.data_dir))
        if path is None or _answering(path):
            return False
        Path(path).unlink(missing_ok=True)  # a stale socket of a process that died
        handler = _handler_for(self)
        try:
            self._server = socketserver.ThreadingUnixStreamServer(path, handler)
            Path(path).chmod(0o600)
        except OSError as exc:
            log.info("warm search not served: %s", exc)
            return False
        self._server.daemon_threads = True
        self._path = path
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="photoseek-warm-search", daemon=True
        )
        self._thread.start()
        log.info("serving warm searches on %s", path)
        if self._warm_up:  # the first warm search then waits for nothing
            threading.Thread(target=self._load_text, name="photoseek-warm-up", daemon=True).start()
        return True

    def _load_text(self) -> None:
        try:
            self.library.load_text_encoder()
        except Exception:  # the first search loads what it needs, and reports
            log.warning("the text tower was not loaded ahead of a warm search", exc_info=True)

    def stop(self) -> None:
        """Stop listening and remove the socket."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._path is not None:
            Path(self._path).unlink(missing_ok=True)
        if self._thread is not None:
            self._thread.join(5)
        self._server = None

    def answer(self, request: Any) -> dict[str, Any]:
        """The reply to one decoded request."""
        try:
            return self._answer(request)
        except _Declined as declined:
            return {"v": PROTOCOL, "declined": str(declined)}
        except Exception:  # the cold path reports whatever this was, in the client
            log.warning("a warm search failed; the client searches cold", exc_info=True)
            return {"v": PROTOCOL, "declined": "failed"}

    def _answer(self, request: Any) -> dict[str, Any]:
        from photoseek.cli import build_parser, protect_dash_queries
        from photoseek.cli_commands import search_options, show_results

        if not isinstance(request, dict) or request.get("v") != PROTOCOL:
            raise _Declined("protocol")
        argv, cwd, env = request.get("argv"), request.get("cwd"), request.get("env")
        if not (isinstance(argv, list) and isinstance(cwd, str) and isinstance(env, dict)):
            raise _Declined("malformed")
        words = [str(word) for word in argv]
        if "-h" in words or "--help" in words:
            raise _Declined("help")  # argparse prints it to this process's stdout
        parser = _quiet(build_parser({str(k): str(v) for k, v in env.items()}))
        args = parser.parse_args(protect_dash_queries(words, parser))
        self._check(args, Path(cwd))
        out, err = io.StringIO(), io.StringIO()
        try:
            code = show_results(
                args, self.library.search(args.query, search_options(args)), out, err
            )
        except PhotoseekError as exc:
            print(f"photoseek: error: {exc}", file=err)
            code = EXIT_USER_ERROR
        self.served += 1
        return {"v": PROTOCOL, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}

    def _check(self, args: Any, cwd: Path) -> None:
        """Decline what this server would not answer as the cold path would."""
        if args.command != "search":
            raise _Declined("command")
        if "@" in args.query:
            raise _Declined("image term")
        named = Path(args.data_dir).expanduser() if args.data_dir else None
        data_dir = resolve_paths(cwd / named if named else None).data_dir
        if os.path.realpath(data_dir) != os.path.realpath(self.library.paths.data_dir):
            raise _Declined("library")
        # the model the cold path would run: the client's flags, else the library's choice
        asked = named_model(args) or stored_choice(self.library.paths.catalog)
        asked = asked or ModelName(DEFAULT_ARCH, DEFAULT_PRETRAINED)
        pretrained = asked.pretrained
        if (cwd / Path(pretrained).expanduser()).exists():
            pretrained = str((cwd / Path(pretrained).expanduser()).resolve())
        own = self.library.settings  # now, not at start: the app may switch weights
        if args.precision != own.precision or _model_key(
            asked.arch, pretrained, self.library
        ) != _model_key(own.arch, own.pretrained, self.library):
            raise _Declined("model")
        if args.folder is not None and not args.folder.expanduser().is_absolute():
            args.folder = cwd / args.folder.expanduser()


class _Declined(Exception):
    """This server does not answer the request; the client searches cold."""


def _quiet(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``parser`` (and its command parsers) raising :class:`_Declined` instead of printing."""

    def decline(message: str) -> NoReturn:
        raise _Declined(f"arguments: {message}")

    parsers = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers.extend(action.choices.values())
    for each in parsers:
        each.error = decline  # type: ignore[method-assign]
    return parser


def _model_key(arch: str, pretrained: str, library: Library) -> tuple[str, str, str | None]:
    expected = expected_model(arch, pretrained, library.paths.models_dir)
    return expected.arch, expected.pretrained, expected.digest


def _answering(path: str) -> bool:
    """Whether a live server listens on ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def _handler_for(server: WarmSearchServer) -> type[socketserver.StreamRequestHandler]:
    class _Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            raw = self.rfile.read(MAX_REQUEST_BYTES)
            try:
                request = json.loads(raw.decode("utf-8"))
            except ValueError:
                request = None
            reply = server.answer(request)
            self.wfile.write(json.dumps(reply).encode("utf-8"))

    return _Handler


@contextlib.contextmanager
def serving_warm_searches(library: Library) -> Iterator[WarmSearchServer]:
    """Serve warm searches for ``library`` while the block runs (where possible).

    The text tower alone loads at once (where there is an exact one): an idle
    watch service keeps it for warm answers, and the full model only while
    there is work.
    """
    server = WarmSearchServer(library, warm_up=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()
