"""HEIC, 10-bit HEIC, AVIF and camera RAW in the app: upright in the preview, the viewer and
the grid, and a JPEG shot with a RAW names the RAW as its original."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image, features
from PySide6.QtGui import QImage

from photoseek.gui.imageio import decode_photo
from photoseek.gui.views.searchpane import SearchPane
from photoseek.pathtext import display_path
from tests.rawsamples import UPRIGHT, corner_picture, corners, jpeg_bytes, make_dng, stored_for

PICTURE = (120, 80)  # every sample shows the corner picture at this size, upright


def _heic(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored = stored_for(orientation, corner_picture(PICTURE))
    pillow_heif.from_pillow(stored).save(buffer, quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def _heic_10bit() -> bytes:
    values = np.asarray(corner_picture(PICTURE), dtype=np.uint16) * 257
    heif = pillow_heif.from_bytes(mode="RGB;16", size=PICTURE, data=values.tobytes())
    buffer = io.BytesIO()
    heif.save(buffer, quality=-1)
    return buffer.getvalue()


def _avif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored_for(orientation, corner_picture(PICTURE)).save(
        buffer, "AVIF", quality=90, exif=exif.tobytes()
    )
    return buffer.getvalue()


def _samples() -> dict[str, bytes]:
    raw = stored_for(6, corner_picture((240, 160)))
    preview = jpeg_bytes(stored_for(6, corner_picture(PICTURE)))
    samples = {
        "IMG_0001.HEIC": _heic(6),
        "IMG_0002.heic": _heic_10bit(),
        "IMG_0003.DNG": make_dng(raw, orientation=6),  # half size: 120 x 80 upright
        "IMG_0004.dng": make_dng(raw, orientation=6, preview=preview),
        "IMG_0004.jpg": jpeg_bytes(corner_picture(PICTURE)),
    }
    if features.check("avif"):
        samples["IMG_0005.avif"] = _avif(8)
    return samples


def _qcorners(image: QImage) -> tuple[str, ...]:
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    size = (converted.width(), converted.height())
    data = bytes(converted.constBits())
    pil = Image.frombytes("RGB", size, data, "raw", "RGB", converted.bytesPerLine())
    return corners(pil)


@pytest.fixture
def photos_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, data in _samples().items():
        (folder / name).write_bytes(data)
    return folder


def test_decode_photo_turns_every_format_upright(photos_dir: Path) -> None:
    for path in sorted(photos_dir.iterdir()):
        image = decode_photo(path, 256)
        assert (image.width(), image.height()) == PICTURE, path.name
        assert _qcorners(image) == UPRIGHT, path.name
        small = decode_photo(path, 60)
        assert max(small.width(), small.height()) == 60 and _qcorners(small) == UPRIGHT


def test_every_format_is_indexed_once_and_previewed_upright(qtbot, pane: SearchPane) -> None:  # type: ignore[no-untyped-def]
    names = {row.record.path.name for row in pane.results.rows()}
    expected = {"IMG_0001.HEIC", "IMG_0002.heic", "IMG_0003.DNG", "IMG_0004.jpg"}
    if features.check("avif"):
        expected.add("IMG_0005.avif")
    assert names == expected  # IMG_0004.dng is indexed as its JPEG
    for row, result in enumerate(pane.results.rows()):
        photo_id = result.record.id
        pane.grid.setCurrentIndex(pane.results.index(row))
        qtbot.waitUntil(
            lambda photo_id=photo_id: (
                pane.preview.decoded is not None and pane.preview.decoded[0] == photo_id
            ),
            timeout=60000,
        )
        assert pane.preview.decoded[2] == "", result.record.path.name
        source = pane.preview.image.source()
        assert source is not None
        assert _qcorners(source.toImage()) == UPRIGHT, result.record.path.name


def test_the_preview_names_the_raw_original_of_a_jpeg(qtbot, pane: SearchPane) -> None:  # type: ignore[no-untyped-def]
    rows = {r.record.path.name: i for i, r in enumerate(pane.results.rows())}
    jpeg = pane.results.row_at(rows["IMG_0004.jpg"]).record
    pane.grid.setCurrentIndex(pane.results.index(rows["IMG_0004.jpg"]))
    original = display_path(jpeg.path.with_name("IMG_0004.dng"))
    qtbot.waitUntil(lambda: pane.preview.fields["Original"].text() == original, timeout=60000)
    pane.grid.setCurrentIndex(pane.results.index(rows["IMG_0003.DNG"]))
    qtbot.waitUntil(lambda: pane.preview.row().record.path.name == "IMG_0003.DNG", timeout=60000)
    assert pane.preview.fields["Original"].text() == ""
    assert pane.preview.fields["Type"].text() == "RAW"


def test_the_viewer_shows_a_raw_upright(qtbot, pane: SearchPane) -> None:  # type: ignore[no-untyped-def]
    rows = {r.record.path.name: i for i, r in enumerate(pane.results.rows())}
    row = rows["IMG_0003.DNG"]
    photo_id = pane.results.row_at(row).record.id
    pane.grid.setCurrentIndex(pane.results.index(row))
    pane.photo_actions().view.trigger()
    qtbot.waitUntil(
        lambda: pane.viewer.decoded is not None and pane.viewer.decoded[0] == photo_id,
        timeout=60000,
    )
    assert pane.viewer.decoded[1] is not None and pane.viewer.decoded[2] == ""
    assert (pane.viewer.decoded[1].width(), pane.viewer.decoded[1].height()) == PICTURE
