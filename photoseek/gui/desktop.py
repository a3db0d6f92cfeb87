"""The platform seams: open with the default app, reveal in the file manager, move to the trash.

:class:`Desktop` is what :class:`~photoseek.gui.actions.PhotoActions` calls;
tests hand it a fake (offscreen there is no file manager and no real trash
to look into).

* Open: ``QDesktopServices.openUrl`` on the file's URL.
* Reveal: macOS ``open -R``; Windows ``explorer /select,``; elsewhere the
  freedesktop ``org.freedesktop.FileManager1.ShowItems`` D-Bus call (Nautilus,
  Dolphin, Nemo, Thunar ...), falling back to opening the folder when no file
  manager answers.
* Trash: ``QFile.moveToTrash`` (the system trash; never a deletion).

File names are bytes on POSIX and some are not valid UTF-8 (``caf\\xe9.jpg``).
PySide silently drops such bytes when a Python ``str`` becomes a ``QString``,
so a name like that must never reach Qt as text: :func:`file_url` builds the
URL from the name's bytes (``file:///photos/caf%E9.jpg``, exact for every
file manager and drop target), :func:`paths_from_mime` reads dropped URLs back
to the exact bytes, :func:`path_text` is the text pasted for a path, and
such a file goes to the freedesktop home trash by Python's own file calls
(:func:`move_to_home_trash`).
"""

from __future__ import annotations

import logging
import os
import sys
import urllib.parse
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QDir, QFile, QMimeData, QObject, QProcess, QUrl
from PySide6.QtGui import QDesktopServices, QImage

from photoseek.pathtext import display_path, is_exact_text

log = logging.getLogger(__name__)

__all__ = [
    "Desktop",
    "file_url",
    "move_to_home_trash",
    "path_text",
    "paths_from_mime",
    "query_media",
]

_FILE_MANAGER = (
    "org.freedesktop.FileManager1",
    "/org/freedesktop/FileManager1",
    "org.freedesktop.FileManager1",
)


def file_url(path: Path) -> QUrl:
    """The ``file://`` URL of ``path``, percent-encoded from its exact bytes."""
    raw = os.fsencode(Path(path).absolute())
    return QUrl.fromEncoded(b"file://" + urllib.parse.quote_from_bytes(raw, safe="/").encode())


def path_from_url(url: QUrl) -> Path | None:
    """The local path a ``file://`` URL names, exact to the byte (None for other URLs)."""
    if not url.isLocalFile():
        return None
    encoded = bytes(url.toEncoded(QUrl.ComponentFormattingOption.FullyEncoded).data())
    parsed = urllib.parse.urlsplit(encoded)
    raw = urllib.parse.unquote_to_bytes(parsed.path)
    if sys.platform == "win32":
        return Path(url.toLocalFile())
    return Path(os.fsdecode(raw))


def paths_from_mime(mime: QMimeData) -> list[Path]:
    """The local files a drop or a paste carries, exact to the byte."""
    if not mime.hasUrls():
        return []
    paths = [path_from_url(url) for url in mime.urls()]
    return [path for path in paths if path is not None]


def query_media(mime: QMimeData | None) -> tuple[list[Path], QImage | None]:
    """What a drop or a paste offers to search by: image files (exact paths), else an image."""
    if mime is None:
        return [], None
    files = [path for path in paths_from_mime(mime) if path.is_file()]
    if files or not mime.hasImage():
        return files, None
    image = QImage(mime.imageData())
    return [], (None if image.isNull() else image)


def path_text(path: Path) -> str:
    """The text pasted for a path: the path itself, or, when it is not valid Unicode
    (or holds a newline), its bash ``$'...'`` form, the one text that still names the file."""
    text = os.fspath(path)
    return text if is_exact_text(text) and text.isprintable() else display_path(path)


class Desktop(QObject):
    """Opens, reveals and trashes files the way the platform does."""

    def open_file(self, path: Path) -> bool:
        """Open ``path`` with the user's default application."""
        return QDesktopServices.openUrl(file_url(path))

    def reveal(self, paths: list[Path]) -> None:
        """Show ``paths`` selected in the platform's file manager."""
        if not paths:
            return
        if sys.platform == "darwin":
            QProcess.startDetached("open", ["-R", *(os.fspath(p) for p in paths)])
        elif sys.platform == "win32":
            QProcess.startDetached(
                "explorer.exe", ["/select,", QDir.toNativeSeparators(str(paths[0]))]
            )
        else:
            self._reveal_freedesktop(paths)

    def _reveal_freedesktop(self, paths: list[Path]) -> None:
        try:
            from PySide6.QtDBus import QDBusConnection, QDBusMessage, QDBusPendingCallWatcher
        except ImportError:  # a Qt build without D-Bus
            self._open_folders(paths)
            return
        bus = QDBusConnection.sessionBus()
        if not bus.isConnected():
            self._open_folders(paths)
            return
        message = QDBusMessage.createMethodCall(*_FILE_MANAGER, "ShowItems")
        uris = [bytes(file_url(p).toEncoded().data()).decode("ascii") for p in paths]
        message.setArguments([uris, ""])
        watcher = QDBusPendingCallWatcher(bus.asyncCall(message), self)

        def answered(call: QDBusPendingCallWatcher) -> None:
            if call.isError():
                log.info("no file manager answered ShowItems: %s", call.error().message())
                self._open_folders(paths)
            call.deleteLater()

        watcher.finished.connect(answered)

    def _open_folders(self, paths: list[Path]) -> None:
        for folder in dict.fromkeys(p.parent for p in paths):
            QDesktopServices.openUrl(file_url(folder))

    def move_to_trash(self, path: Path) -> Path:
        """Move ``path`` to the system trash; return where it is now (to restore it from).

        Raises ``OSError`` with the reason if it cannot. Safe in a worker
        thread. (PySide6's static ``QFile.moveToTrash(name)`` returns only the
        success, without Qt's ``pathInTrash``; the instance method renames the
        ``QFile``, whose ``fileName()`` is then the place in the trash.)
        """
        text = os.fspath(path)
        if is_exact_text(text):
            if _freedesktop():
                _home_trash()  # Qt does not create a missing home trash; it fails instead
            file = QFile(text)
            if not file.moveToTrash():
                raise OSError(f"cannot move {display_path(path)} to the trash")
            return Path(file.fileName())
        if not _freedesktop():
            raise OSError(f"cannot move {display_path(path)} to the trash: its name is not text")
        return move_to_home_trash(path)


def _freedesktop() -> bool:
    return os.name == "posix" and sys.platform != "darwin"


def _home_trash(trash: Path | None = None) -> tuple[Path, Path]:
    """The home trash's ``files`` and ``info`` folders (created, private, when missing)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    trash = trash or Path(data_home) / "Trash"
    files, info = trash / "files", trash / "info"
    for folder in (trash, files, info):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return files, info


def move_to_home_trash(path: Path, trash: Path | None = None) -> Path:
    """Move ``path`` into the freedesktop home trash by its bytes; return where it went.

    For names Qt cannot carry. Only within one file system (the trash of
    ``$XDG_DATA_HOME``); anything else raises ``OSError`` and leaves the file.
    """
    files, info = _home_trash(trash)
    if path.stat().st_dev != files.stat().st_dev:
        raise OSError(f"{display_path(path)} is on another disk than the trash")
    name, info_file = _reserve_trash_name(path, info)
    target = files / name
    try:
        path.rename(target)
    except OSError:
        info_file.unlink(missing_ok=True)
        raise
    return target


def _reserve_trash_name(path: Path, info: Path) -> tuple[str, Path]:
    """A free name in the trash, claimed by creating its ``.trashinfo`` exclusively."""
    raw_path = os.fsencode(path.absolute())
    entry = (
        "[Trash Info]\n"
        f"Path={urllib.parse.quote_from_bytes(raw_path, safe='/')}\n"
        f"DeletionDate={datetime.now().strftime('%Y-%m-%dT%H:%M:%S')}\n"
    ).encode("ascii")
    stem, suffix = path.stem, path.suffix
    for number in range(1, 10_000):
        name = path.name if number == 1 else f"{stem}.{number}{suffix}"
        info_file = info / f"{name}.trashinfo"
        try:
            fd = os.open(info_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(entry)
        return name, info_file
    raise OSError(f"no free name in the trash for {display_path(path)}")
