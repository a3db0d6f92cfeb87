"""One app per user and library: a second start raises the running window and exits.

The first process listens on a local socket (a Unix domain socket in the
temporary folder, a named pipe on Windows) named after the user and the data
dir, created with :attr:`QLocalServer.SocketOption.UserAccessOption` so only
this user can connect. A later process connects, sends ``raise``, and exits 0.
A socket file left behind by a crashed app accepts no connection: it is
removed and replaced. A :class:`QLockFile` beside it keeps two processes that
start at the same moment from both becoming the first.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import re
from pathlib import Path

from PySide6.QtCore import QDir, QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

RAISE = "raise"
CONNECT_TIMEOUT_MS = 1000
_START_LOCK_TIMEOUT_MS = 5000


def server_name(data_dir: Path) -> str:
    """The socket name for this user and library (short: Unix socket paths are limited)."""
    digest = hashlib.sha256(os.fsencode(str(data_dir.expanduser().resolve()))).hexdigest()[:16]
    return f"photoseek-{_user_tag()}-{digest}"


def _user_tag() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name (a container without passwd entry)
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", user)[:24] or "user"


class SingleInstance(QObject):
    """The app's claim on its socket name; emits :attr:`raise_requested` when started again."""

    raise_requested = Signal()
    message_received = Signal(str)  # every line another process sent (``raise`` included)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server: QLocalServer | None = None
        self._clients: list[QLocalSocket] = []

    @property
    def is_primary(self) -> bool:
        """Whether this process listens (it is the running app)."""
        return self._server is not None and self._server.isListening()

    def claim(self) -> bool:
        """Become the running app (True), or tell the running one to raise itself (False)."""
        start_lock = QLockFile(str(Path(QDir.tempPath()) / f"{self.name}.lock"))
        locked = start_lock.tryLock(_START_LOCK_TIMEOUT_MS)
        try:
            if send_message(self.name, RAISE):
                log.info("photoseek already runs for this library: asked it to show its window")
                return False
            self._listen()
            return True
        finally:
            if locked:
                start_lock.unlock()

    def _listen(self) -> None:
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # nobody answered: whatever is there is left over from a crashed app
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                log.warning("single-instance socket %s: %s", self.name, server.errorString())
                return
        server.newConnection.connect(self._accept)
        self._server = server
        log.debug("listening on %s", server.fullServerName())

    def _accept(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            self._clients.append(socket)
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._drop(s))
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            line = bytes(socket.readLine().data()).decode("utf-8", "replace").strip()
            if not line:
                continue
            self.message_received.emit(line)
            if line == RAISE:
                self.raise_requested.emit()

    def _drop(self, socket: QLocalSocket) -> None:
        self._read(socket)
        if socket in self._clients:
            self._clients.remove(socket)
        socket.deleteLater()

    def close(self) -> None:
        """Stop listening (the socket file is removed)."""
        if self._server is not None:
            self._server.close()
            self._server = None


def send_message(name: str, message: str, timeout_ms: int = CONNECT_TIMEOUT_MS) -> bool:
    """Send one line to the app listening on ``name``; False when nobody listens."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(f"{message}\n".encode())
    socket.flush()
    delivered = socket.waitForBytesWritten(timeout_ms) or socket.bytesToWrite() == 0
    socket.disconnectFromServer()
    if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        socket.waitForDisconnected(timeout_ms)
    return delivered
