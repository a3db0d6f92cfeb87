"""Images for the screen: photos decoded through core, thumbnails from the cache, query PNGs.

Every photo a user owns is decoded by
:func:`photoseek.core.imaging.decode.decode_image` (HEIC, AVIF, EXIF
orientation, hostile files, any file name) and only then handed to Qt as a
:class:`QImage`. Qt never opens a user's file by its name: PySide drops the
undecodable bytes of a name (``caf\\xe9.jpg`` would become ``caf.jpg``, another
file or none). The thumbnail cache and the query folder are photoseek's own
files; they are read and written with Python's file API for the same reason.

Everything here is safe in worker threads (``QImage`` is; ``QPixmap`` is
made only on the GUI thread, by the models and views).
"""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage

from photoseek.core.atomicfile import write_atomically

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

__all__ = [
    "decode_photo",
    "load_thumbnail_file",
    "pil_to_qimage",
    "png_bytes",
    "save_query_image",
]


def pil_to_qimage(image: Image.Image) -> QImage:
    """An RGB (or RGBA) PIL image as a QImage that owns its pixels."""
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    fmt = QImage.Format.Format_RGB888 if image.mode == "RGB" else QImage.Format.Format_RGBA8888
    data = image.tobytes()
    line = image.width * (3 if image.mode == "RGB" else 4)
    return QImage(data, image.width, image.height, line, fmt).copy()


def decode_photo(path: Path, max_side: int | None = None) -> QImage:
    """The photo at ``path``, upright, at most ``max_side`` pixels on its long side.

    ``None`` keeps the full resolution. Raises
    :class:`~photoseek.core.errors.ImageError` with a short reason when the
    file cannot be decoded.
    """
    from PIL import Image  # with the decoders: in a worker, after the window shows

    from photoseek.core.imaging.decode import decode_image

    decoded = decode_image(path, min_side=max_side)
    image = decoded.image
    if max_side is not None and max(image.size) > max_side:
        image = image.copy()
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return pil_to_qimage(image)


def load_thumbnail_file(path: Path, side: int) -> QImage | None:
    """A cached thumbnail JPEG as a QImage that fits a ``side`` x ``side`` box (None if it
    cannot be read).

    Decoded and scaled by Pillow, which lets go of Python's lock while it
    works: ``QImage.fromData`` and ``QImage.scaled`` hold it, so each
    thumbnail a loader thread made that way stalled the painting GUI thread
    for the whole decode (measured: a 47 ms decode in a thread, a 59 ms gap in
    the main thread; 17 ms with Pillow, and that for a 3-megapixel copy).
    """
    from PIL import Image

    try:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as opened:
            opened.draft("RGB", (side, side))  # JPEG: decode at a fraction when it is larger
            image = opened.convert("RGB") if opened.mode != "RGB" else opened.copy()
    except Exception as exc:  # the cache is ours, but a broken file is only a miss
        log.info("thumbnail %s unreadable: %s", path, exc)
        return None
    if image.width > side or image.height > side:
        image.thumbnail((side, side), Image.Resampling.BICUBIC)
    return pil_to_qimage(image)


def png_bytes(image: QImage) -> bytes:
    """``image`` encoded as PNG."""
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(array.data())


def save_query_image(image: QImage, folder: Path) -> Path:
    """Store a pasted image as a PNG in ``folder`` (named by its content) and return its path.

    The same image pasted twice is one file; the write is atomic.
    """
    data = png_bytes(image)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"pasted-{hashlib.sha256(data).hexdigest()[:16]}.png"
    if not target.exists():
        write_atomically(target, data, durable=False)
    return target
