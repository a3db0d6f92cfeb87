"""A folder of good, hostile and ignorable files for decoder/scanner/indexer tests.

``make_hostile_corpus(root)`` writes everything in well under a second and
returns a :class:`HostileCorpus` saying what each file must become.

Good files (``good``; must decode and be indexed, every one with different
content): baseline JPEG, progressive JPEG, grayscale JPEG, CMYK JPEG (Adobe
inverted), JPEG with EXIF orientation 6 + DateTimeOriginal, JPEG with only
IFD0 DateTime, JPEG with a garbage orientation value (99), JPEG with a garbage
EXIF block, upper-case ``.JPEG`` and a Unicode file name with spaces, 16-bit
RGB PNG, 16-bit grayscale PNG, palette PNG with a transparent index, LA PNG,
RGBA PNG (half transparent), 1-bit PNG, 1x1 PNG, PNG bytes behind a ``.jpg``
name, animated GIF (first frame red), 1-bit BMP, RGB TIFF, 16-bit TIFF, float
TIFF, CIELab TIFF, lossless WebP with alpha, JPEG 2000, PPM, PGM, PBM, ICO, AVIF
(only where Pillow can write it), HEIC with EXIF orientation 6, 10-bit HEIC,
camera RAW (a DNG decoded at half size, with orientation 6 and a capture time,
and a DNG whose JPEG preview is used; see tests/rawsamples.py), an image
inside a folder named ``photo.jpg``,
a symbolic link to an image kept in a hidden folder, and files whose first
frame is all that counts or whose metadata is absurd: APNG, MPO (two
pictures), animated WebP, a GIF of 3,000 frames, a JPEG whose EXIF points far
past its end (orientation 6 still applies), a 1 x 40,000,000 PNG and a
40,000,000 x 1 PNG (legal, 40 MP each; listed in ``huge`` too: they take
seconds and hundreds of MB to decode, so tests that decode the corpus many
times may leave them out).

Bad files (``bad``; each must end up as a recorded problem with a reason).
Kinds, 59 (53-55 are reported by the scanner, the rest by the
decoder; 33-39 and 56-57 are camera RAW; 33-39, listed in ``raw`` too, are
RAW headers without RAW data that LibRaw refuses, and their reason names the
camera format):

 1. empty ``.jpg`` (0 bytes)
 2. random bytes named ``.jpg``
 3. plain text named ``.jpg``
 4. HTML page named ``.png``
 5. PDF named ``.jpg``
 6. ZIP archive named ``.jpg``
 7. MP4 video named ``.jpg``
 8. JPEG truncated at half its length
 9. JPEG header only (SOI + APP0)
10. JPEG whose SOF declares 65000x65000 (decompression bomb)
11. only NUL bytes named ``.jpg``
12. PNG truncated at half its length
13. PNG with a corrupt IHDR CRC
14. PNG with garbage (non-zlib) IDAT data
15. PNG decompression bomb: 40000x40000 declared in a 100-byte file
16. PNG with zero width
17. PNG with IHDR and IEND but no IDAT
18. PNG with a zTXt chunk that inflates past Pillow's text limit
19. GIF with a bogus header after the signature
20. GIF truncated at half its length
21. BMP with an impossible bit depth
22. TIFF with a garbage IFD
23. TIFF truncated at half its length
24. WebP truncated at half its length
25. JPEG 2000 truncated to its header boxes
26. PNM with a non-numeric header
27. HEIC that is only an ``ftyp`` box
28. AVIF that is only an ``ftyp`` box
29. ICO whose directory points past the end of the file
30. SVG drawing (vector, not supported)
31. ``.txt`` note
32. extension-less binary blob
33. TIFF named ``.nef`` (a camera RAW in a TIFF container)
34. TIFF with the DNGVersion tag named ``.dng``
35. DNG-tagged TIFF named ``.tif`` (content wins over the name)
36. Canon CR2 header (TIFF with ``CR`` 2 at offset 8)
37. Fujifilm RAF header
38. Canon CR3 ``ftyp`` box
39. Olympus ORF header named ``.jpg``
40. progressive JPEG with 150 scans (a decoding-time bomb)
41. TIFF of 1 x 300,000 pixels in 300,000 one-row strips
42. ICO whose only frame is a PNG declaring 20000x20000
43. PNG whose iCCP colour profile inflates past Pillow's limit
44. PNG of 1 x 100,000,000 pixels (a row pointer each: costs like 300 MP)
45. PNG signature and nothing else
46. TIFF header and nothing else
47. WebP RIFF header and nothing else
48. JPEG with 70,000 empty segments before its image (parsed one by one)
49. JPEG with 100,000 fill bytes before its first marker
50. PNG with 300,000 empty chunks before its image data
51. GIF with 300,000 one-byte comment sub-blocks before its image
52. PGM whose header hides behind a 100,000-character comment
53. FIFO named ``.jpg`` (never opened: scanner reports "not a regular file")
54. broken symbolic link named ``.jpg``
55. symbolic link pointing to itself named ``.jpg``
56. DNG truncated at half its length
57. DNG whose header declares 60000x60000 pixels
58. HEIC truncated at half its length
59. HEIC whose ``ispe`` box declares 60000x60000 pixels

Kinds 53-55 need POSIX FIFOs/symlinks and are left out where the platform
cannot create them. ``scan_problems`` lists the bad paths the scanner itself
reports; the decoder reports the others.

Ignored (``ignored``; silently skipped, neither files nor problems): hidden file,
hidden folder, AppleDouble ``._*``, ``.DS_Store``, sidecars (``.xmp``, ``.AAE``,
``.json``), videos (``.MOV``, ``.mp4``), ``Thumbs.db``, ``desktop.ini``, NAS and
OS folders (``@eaDir``, ``#recycle``, ``$RECYCLE.BIN``, ``System Volume
Information``) holding JPEGs. (A symbolic link to a folder, here looping back
to the root, is not entered: the scanner reports it, so it is among ``bad``.)
"""

from __future__ import annotations

import array
import io
import os
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageDraw, features

from tests.rawsamples import make_dng


@dataclass
class HostileCorpus:
    """What :func:`make_hostile_corpus` wrote and what each file must become."""

    root: Path
    good: list[Path] = field(default_factory=list)
    bad: dict[Path, str] = field(default_factory=dict)
    ignored: list[Path] = field(default_factory=list)
    sizes: dict[Path, tuple[int, int]] = field(default_factory=dict)
    """Full-resolution (width, height) after EXIF orientation, per good file."""
    taken_at: dict[Path, datetime] = field(default_factory=dict)
    """Expected EXIF capture time, for the good files that have one."""
    scan_problems: set[Path] = field(default_factory=set)
    """Bad paths the scanner reports itself (not regular files, broken links)."""
    raw: set[Path] = field(default_factory=set)
    """Bad paths that are camera RAW: recognised, reported as not supported yet."""
    huge: set[Path] = field(default_factory=set)
    """Good paths that cost seconds and hundreds of MB to decode (extreme strips)."""
    image_sizes: dict[Path, tuple[int, int]] = field(default_factory=dict)
    """The decoded image's size where it is not the full size (a RAW's preview or half-size
    decode), per good file, for a decode without ``min_side``."""


def make_hostile_corpus(root: Path) -> HostileCorpus:
    """Write the corpus under ``root`` (created if needed) and describe it."""
    root.mkdir(parents=True, exist_ok=True)
    corpus = HostileCorpus(root=root)
    _write_good(corpus)
    _write_bad(corpus)
    _write_scan_problems(corpus)
    _write_ignored(corpus)
    return corpus


# --------------------------------------------------------------------------- helpers


def _picture(
    size: tuple[int, int], background: tuple[int, int, int], shape: str, mode: str = "RGB"
) -> Image.Image:
    """A small, visually distinct picture: a background and one shape."""
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    w, h = size
    box = (w // 5, h // 5, w * 4 // 5, h * 4 // 5)
    inverse = tuple(255 - c for c in background)
    if shape == "circle":
        draw.ellipse(box, fill=inverse)
    elif shape == "square":
        draw.rectangle(box, fill=inverse)
    elif shape == "triangle":
        draw.polygon([(w // 2, h // 5), (w // 5, h * 4 // 5), (w * 4 // 5, h * 4 // 5)], inverse)
    else:
        draw.line((0, 0, w, h), fill=inverse, width=max(1, w // 10))
    return image if mode == "RGB" else image.convert(mode)


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _png(width: int, height: int, depth: int, colour: int, raw_rows: bytes) -> bytes:
    """A hand-made PNG (no filter bytes added: ``raw_rows`` must contain them)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(raw_rows))
        + _png_chunk(b"IEND", b"")
    )


def _repeated_zlib(pieces: list[tuple[bytes, int]]) -> bytes:
    """A zlib stream of each ``(block, times)`` in turn, without compressing the whole.

    Each distinct block is deflated once into a self-contained, byte-aligned
    (full-flushed) piece that is then repeated: 80 MB of rows in milliseconds.
    """
    pieces_out = [b"\x78\xda"]
    adler = 1
    deflated: dict[bytes, bytes] = {}
    for block, times in pieces:
        if block not in deflated:
            raw = zlib.compressobj(9, zlib.DEFLATED, -15)
            deflated[block] = raw.compress(block) + raw.flush(zlib.Z_FULL_FLUSH)
        pieces_out.append(deflated[block] * times)
        for _ in range(times):
            adler = zlib.adler32(block, adler)
    pieces_out.append(zlib.compressobj(9, zlib.DEFLATED, -15).flush())  # the final empty block
    return b"".join(pieces_out) + struct.pack(">I", adler)


def _grey_strip_png(width: int, height: int, grey: int) -> bytes:
    """A flat grey 8-bit PNG of an extreme shape (one row, or one-pixel rows)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    value = bytes([grey])
    if width == 1:  # rows of filter byte + one pixel, in blocks of a million rows
        block = (b"\x00" + value) * 1_000_000
        full, rest = divmod(height, 1_000_000)
        idat = _repeated_zlib([(block, full), ((b"\x00" + value) * rest, 1)])
    else:  # one row: the filter byte, then the pixels in blocks of a million
        full, rest = divmod(width, 1_000_000)
        idat = _repeated_zlib([(b"\x00", 1), (value * 1_000_000, full), (value * rest, 1)])
    signature = b"\x89PNG\r\n\x1a\n"
    return (
        signature + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    )


def _tiff(entries: list[tuple[int, int, int, bytes]], tail: bytes = b"") -> bytes:
    """A little-endian TIFF with IFD0 at offset 8: ``(tag, type, count, 4-byte value)``."""
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in sorted(entries):
        ifd += struct.pack("<HHI", tag, kind, count) + value
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + tail


def _short(value: int) -> bytes:
    return struct.pack("<HH", value, 0)


def _long(value: int) -> bytes:
    return struct.pack("<I", value)


def _grey_tiff_entries(width: int, height: int, data_at: int) -> list[tuple[int, int, int, bytes]]:
    """IFD0 entries of an uncompressed 8-bit grey TIFF in one strip at ``data_at``."""
    return [
        (256, 4, 1, _long(width)),
        (257, 4, 1, _long(height)),
        (258, 3, 1, _short(8)),
        (259, 3, 1, _short(1)),
        (262, 3, 1, _short(1)),
        (273, 4, 1, _long(data_at)),
        (277, 3, 1, _short(1)),
        (278, 4, 1, _long(height)),
        (279, 4, 1, _long(width * height)),
    ]


def _exif(orientation: int | None = None, **dates: str) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if "datetime" in dates:
        exif[0x0132] = dates["datetime"]
    if "original" in dates:
        exif.get_ifd(0x8769)[0x9003] = dates["original"]
    return exif.tobytes()


def _noise(size: tuple[int, int], seed: int) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _symlink(link: Path, target: str | Path, *, is_dir: bool = False) -> bool:
    try:
        link.symlink_to(target, target_is_directory=is_dir)
    except (OSError, NotImplementedError):
        return False
    return True


# --------------------------------------------------------------------------- good


def _add_good(corpus: HostileCorpus, name: str, data: bytes, size: tuple[int, int]) -> Path:
    path = _write(corpus.root / name, data)
    corpus.good.append(path)
    corpus.sizes[path] = size
    return path


def _write_good(corpus: HostileCorpus) -> None:
    _good_jpegs(corpus)
    _good_pngs(corpus)
    _good_others(corpus)
    _good_frames_and_metadata(corpus)
    _good_strips(corpus)
    _good_special_paths(corpus)
    _good_camera_formats(corpus)


def _good_jpegs(corpus: HostileCorpus) -> None:
    add = _add_good
    add(corpus, "photo.jpg", _encode(_picture((200, 150), (200, 30, 30), "circle"), "JPEG"),
        (200, 150))  # fmt: skip
    add(corpus, "progressive.jpg",
        _encode(_picture((180, 120), (30, 160, 60), "square"), "JPEG", progressive=True),
        (180, 120))  # fmt: skip
    add(corpus, "gray.jpg", _encode(_picture((128, 96), (90, 90, 90), "triangle", "L"), "JPEG"),
        (128, 96))  # fmt: skip
    add(corpus, "cmyk.jpg", _encode(Image.new("CMYK", (90, 90), (255, 0, 0, 0)), "JPEG"),
        (90, 90))  # fmt: skip
    rotated = _picture((160, 90), (40, 40, 200), "line")
    path = add(corpus, "sub/rotated.jpg",
               _encode(rotated, "JPEG", exif=_exif(6, original="2021:07:04 18:30:05")),
               (90, 160))  # fmt: skip
    corpus.taken_at[path] = datetime(2021, 7, 4, 18, 30, 5)
    path = add(corpus, "sub/ifd0_date.jpg",
               _encode(_picture((70, 70), (250, 200, 0), "circle"), "JPEG",
                       exif=_exif(datetime="2019:12:31 23:59:58")),
               (70, 70))  # fmt: skip
    corpus.taken_at[path] = datetime(2019, 12, 31, 23, 59, 58)
    add(corpus, "bad_orientation.jpg",
        _encode(_picture((80, 60), (0, 200, 200), "square"), "JPEG", exif=_exif(99)),
        (80, 60))  # fmt: skip
    garbage_exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + bytes(range(40))
    add(corpus, "garbage_exif.jpg",
        _encode(_picture((64, 80), (120, 0, 120), "triangle"), "JPEG", exif=garbage_exif),
        (64, 80))  # fmt: skip
    add(corpus, "UPPER.JPEG", _encode(_picture((100, 50), (255, 128, 0), "line"), "JPEG"),
        (100, 50))  # fmt: skip
    add(corpus, "sub/été à la plage.jpg",
        _encode(_picture((150, 100), (0, 120, 255), "circle"), "JPEG"), (150, 100))  # fmt: skip


def _good_pngs(corpus: HostileCorpus) -> None:
    add = _add_good
    rows16 = b"".join(
        b"\x00" + b"".join(struct.pack(">HHH", x * 500, y * 800, 40000) for x in range(120))
        for y in range(80)
    )
    add(corpus, "rgb16.png", _png(120, 80, 16, 2, rows16), (120, 80))
    grey16 = b"".join(
        b"\x00" + b"".join(struct.pack(">H", (x * 650 + y * 7) & 0xFFFF) for x in range(100))
        for y in range(60)
    )
    add(corpus, "gray16.png", _png(100, 60, 16, 0, grey16), (100, 60))
    palette = Image.new("P", (64, 64), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255])  # index 0 red (made transparent), 1 blue
    palette.paste(1, (32, 0, 64, 64))
    add(corpus, "palette_transparent.png", _encode(palette, "PNG", transparency=0), (64, 64))
    la = _picture((80, 40), (60, 60, 60), "square", "L")
    la.putalpha(Image.linear_gradient("L").resize((80, 40)))
    add(corpus, "gray_alpha.png", _encode(la, "PNG"), (80, 40))
    rgba = Image.new("RGBA", (96, 64), (0, 255, 0, 255))
    rgba.paste((255, 0, 0, 0), (0, 0, 48, 64))  # left half fully transparent red
    add(corpus, "rgba.png", _encode(rgba, "PNG"), (96, 64))
    add(corpus, "onebit.png", _encode(_picture((40, 72), (0, 0, 0), "circle", "1"), "PNG"),
        (40, 72))  # fmt: skip
    add(corpus, "tiny.png", _encode(Image.new("RGB", (1, 1), (12, 34, 56)), "PNG"), (1, 1))
    add(corpus, "png_bytes.jpg", _encode(_picture((70, 50), (255, 0, 255), "line"), "PNG"),
        (70, 50))  # fmt: skip


def _good_others(corpus: HostileCorpus) -> None:
    add = _add_good
    frames = [Image.new("RGB", (64, 48), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    add(corpus, "animated.gif",
        _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0),
        (64, 48))  # fmt: skip
    add(corpus, "onebit.bmp", _encode(_picture((72, 40), (255, 255, 255), "triangle", "1"), "BMP"),
        (72, 40))  # fmt: skip
    add(corpus, "image.tif", _encode(_picture((110, 70), (140, 70, 20), "circle"), "TIFF"),
        (110, 70))  # fmt: skip
    add(corpus, "gray16.tif",
        _encode(Image.linear_gradient("L").resize((50, 30)).convert("I;16"), "TIFF"),
        (50, 30))  # fmt: skip
    floats = Image.linear_gradient("L").resize((50, 50)).convert("F").point(lambda v: v / 255)
    add(corpus, "float.tif", _encode(floats, "TIFF"), (50, 50))
    add(corpus, "lab.tif", _encode(Image.new("LAB", (60, 40), (60, 150, 90)), "TIFF"), (60, 40))
    webp = _picture((100, 100), (255, 255, 0), "square", "RGBA")
    add(corpus, "image.webp", _encode(webp, "WEBP", lossless=True), (100, 100))
    add(corpus, "photo.jp2", _encode(_picture((64, 64), (0, 80, 80), "triangle"), "JPEG2000"),
        (64, 64))  # fmt: skip
    add(corpus, "image.ppm", _encode(_picture((48, 32), (210, 100, 160), "circle"), "PPM"),
        (48, 32))  # fmt: skip
    add(corpus, "image.pgm", _encode(_picture((32, 48), (30, 30, 30), "square", "L"), "PPM"),
        (32, 48))  # fmt: skip
    add(corpus, "image.pbm", _encode(_picture((40, 40), (0, 0, 0), "line", "1"), "PPM"),
        (40, 40))  # fmt: skip
    add(corpus, "icon.ico",
        _encode(_picture((32, 32), (255, 60, 120), "circle"), "ICO", sizes=[(32, 32)]),
        (32, 32))  # fmt: skip
    if features.check("avif"):
        add(corpus, "image.avif",
            _encode(_picture((64, 64), (100, 0, 255), "square"), "AVIF", quality=60),
            (64, 64))  # fmt: skip


def _good_frames_and_metadata(corpus: HostileCorpus) -> None:
    """Only the first frame counts; absurd metadata is ignored."""
    add = _add_good
    apng = [Image.new("RGB", (40, 30), colour) for colour in ((255, 120, 0), (0, 0, 0))]
    add(corpus, "animated.png", _encode(apng[0], "PNG", save_all=True, append_images=apng[1:]),
        (40, 30))  # fmt: skip
    pair = [_picture((60, 45), (10, 90, 30), "circle"), Image.new("RGB", (60, 45), (0, 0, 0))]
    add(corpus, "stereo.mpo", _encode(pair[0], "MPO", save_all=True, append_images=pair[1:]),
        (60, 45))  # fmt: skip
    webp = [_picture((48, 48), (120, 200, 40), "triangle"), Image.new("RGB", (48, 48))]
    add(corpus, "animated.webp",
        _encode(webp[0], "WEBP", save_all=True, append_images=webp[1:], lossless=True),
        (48, 48))  # fmt: skip
    add(corpus, "many_frames.gif", _many_frame_gif(3000), (16, 12))
    absurd = (
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x02"
        + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)  # orientation 6
        + struct.pack(">HHII", 0x8769, 4, 1, 0xFFFFFFF0)  # Exif sub-IFD "at" 4 GB
        + b"\x00\x00\x00\x00"
    )
    add(corpus, "absurd_exif.jpg",
        _encode(_picture((72, 40), (200, 200, 255), "square"), "JPEG", exif=absurd),
        (40, 72))  # fmt: skip


def _many_frame_gif(frames: int) -> bytes:
    """A GIF whose first frame is dark red, followed by ``frames - 1`` copies of a blue one."""
    two = [Image.new("RGB", (16, 12), (128, 0, 0)), Image.new("RGB", (16, 12), (0, 0, 255))]
    data = _encode(two[0], "GIF", save_all=True, append_images=two[1:], duration=20, disposal=1)
    second = data.rindex(b"\x21\xf9")  # the second frame's graphic control extension
    return data[:-1] + data[second:-1] * (frames - 2) + b";"


def _good_strips(corpus: HostileCorpus) -> None:
    """Legal 40 MP images of extreme aspect: 1 pixel wide, and 1 pixel high."""
    for name, size, grey in (("strip_tall.png", (1, 40_000_000), 0x40),
                             ("strip_wide.png", (40_000_000, 1), 0xC0)):  # fmt: skip
        path = _add_good(corpus, name, _grey_strip_png(*size, grey), size)
        corpus.huge.add(path)


def _heic(image: Image.Image, exif: bytes | None = None) -> bytes:
    """``image`` encoded as HEIC by pillow-heif (an EXIF orientation becomes an ``irot``)."""
    buffer = io.BytesIO()
    pillow_heif.from_pillow(image).save(buffer, quality=80, exif=exif)
    return buffer.getvalue()


def _heic_16bit(image: Image.Image) -> bytes:
    """``image`` as a 10-bit HEIC: pillow-heif writes 10 bits from 16-bit data."""
    values = np.asarray(image.convert("RGB"), dtype=np.uint16) * 257
    heif = pillow_heif.from_bytes(mode="RGB;16", size=image.size, data=values.tobytes())
    buffer = io.BytesIO()
    heif.save(buffer, quality=-1)  # -1: lossless where the encoder can
    return buffer.getvalue()


def _good_camera_formats(corpus: HostileCorpus) -> None:
    """What phones and cameras write: HEIC (turned, 10-bit) and camera RAW (DNG)."""
    add = _add_good
    upright = _picture((120, 80), (0, 90, 160), "triangle")
    turned = upright.transpose(Image.Transpose.ROTATE_90)  # stored as a camera held upright
    add(corpus, "phone/IMG_0101.HEIC", _heic(turned, _exif(6)), (120, 80))
    add(corpus, "phone/IMG_0102.heic", _heic_16bit(_picture((96, 64), (210, 60, 90), "circle")),
        (96, 64))  # fmt: skip
    raw_picture = _picture((256, 192), (70, 140, 40), "square")
    path = add(corpus, "camera/DSC_0201.DNG",
               make_dng(raw_picture.transpose(Image.Transpose.ROTATE_90), orientation=6),
               (256, 192))  # fmt: skip
    corpus.image_sizes[path] = (128, 96)  # half size, upright
    corpus.taken_at[path] = datetime(2021, 7, 4, 18, 30, 5)
    preview = _encode(_picture((160, 120), (250, 240, 20), "circle"), "JPEG")
    path = add(corpus, "camera/DSC_0202.dng",
               make_dng(_picture((256, 192), (250, 240, 20), "circle"), preview=preview),
               (256, 192))  # fmt: skip
    corpus.image_sizes[path] = (160, 120)  # the preview
    corpus.taken_at[path] = datetime(2021, 7, 4, 18, 30, 5)


def _good_special_paths(corpus: HostileCorpus) -> None:
    """An image inside a folder named like a photo, and a symlinked image."""
    _add_good(corpus, "folder.jpg/inside.png",
              _encode(_picture((50, 90), (20, 20, 120), "triangle"), "PNG"), (50, 90))  # fmt: skip
    target = _write(
        corpus.root / ".store" / "target.png",
        _encode(_picture((90, 50), (160, 220, 255), "circle"), "PNG"),
    )
    corpus.ignored.append(target.parent)
    link = corpus.root / "linked.png"
    if _symlink(link, target):
        corpus.good.append(link)
        corpus.sizes[link] = (90, 50)


# --------------------------------------------------------------------------- bad


def _add_bad(corpus: HostileCorpus, name: str, data: bytes, what: str) -> None:
    corpus.bad[_write(corpus.root / name, data)] = what


def _write_bad(corpus: HostileCorpus) -> None:
    _bad_not_images(corpus)
    _bad_jpegs(corpus)
    _bad_pngs(corpus)
    _bad_others(corpus)
    _bad_raw(corpus)
    _bad_costly(corpus)
    _bad_headers_only(corpus)
    _bad_camera_formats(corpus)


def _bad_not_images(corpus: HostileCorpus) -> None:
    add = _add_bad
    rng = random.Random(1234)
    add(corpus, "empty.jpg", b"", "empty file")
    add(corpus, "random.jpg", b"\x13\x37" + rng.randbytes(4094), "random bytes")
    add(corpus, "text.jpg", b"Shopping list:\n- milk\n- eggs\n" * 20, "text named .jpg")
    add(corpus, "page.png", b"<!DOCTYPE html>\n<html><body><img src=x></body></html>\n",
        "HTML named .png")  # fmt: skip
    add(corpus, "document.jpg", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n",
        "PDF named .jpg")  # fmt: skip
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("photo.jpg", b"not really")
    add(corpus, "archive.jpg", archive.getvalue(), "ZIP named .jpg")
    add(corpus, "video.jpg", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64),
        "MP4 video named .jpg")  # fmt: skip
    add(corpus, "nul_bytes.jpg", bytes(4096), "only NUL bytes")
    add(corpus, "sub/drawing.svg",
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
        b'height="10"><rect width="10" height="10"/></svg>\n',
        "SVG vector drawing")  # fmt: skip
    add(corpus, "sub/notes.txt", b"Holiday 2021: remember to back up the photos.\n", "text note")
    add(corpus, "sub/blob", b"\x01\x02\x03\xfe" + rng.randbytes(1020), "extension-less binary")


def _bad_jpegs(corpus: HostileCorpus) -> None:
    add = _add_bad
    noisy = _encode(_noise((128, 128), 7), "JPEG", quality=90)
    add(corpus, "truncated_half.jpg", noisy[: len(noisy) // 2], "JPEG truncated at half")
    soi_app0 = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    add(corpus, "header_only.jpg", soi_app0, "JPEG header only (SOI+APP0)")
    small = bytearray(_encode(Image.new("RGB", (8, 8), (1, 2, 3)), "JPEG"))
    sof = small.index(b"\xff\xc0")
    small[sof + 5 : sof + 9] = struct.pack(">HH", 65000, 65000)
    add(corpus, "huge_sof.jpg", bytes(small), "JPEG declaring 65000x65000 (bomb)")


def _bad_pngs(corpus: HostileCorpus) -> None:
    add = _add_bad
    noisy = _encode(_noise((64, 64), 8), "PNG")
    add(corpus, "truncated.png", noisy[: len(noisy) // 2], "PNG truncated at half")
    bad_crc = bytearray(_encode(Image.new("RGB", (8, 8), (9, 9, 9)), "PNG"))
    bad_crc[29] ^= 0xFF  # last byte of the IHDR CRC
    add(corpus, "bad_crc.png", bytes(bad_crc), "PNG with corrupt IHDR CRC")
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    add(corpus, "bad_idat.png",
        signature + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"this is not zlib data")
        + _png_chunk(b"IEND", b""), "PNG with garbage IDAT")  # fmt: skip
    bomb_row = zlib.compress(b"\x00" * 41)  # rows are never reached: the size is refused
    bomb = struct.pack(">IIBBBBB", 40000, 40000, 8, 0, 0, 0, 0)
    add(corpus, "bomb.png",
        signature + _png_chunk(b"IHDR", bomb) + _png_chunk(b"IDAT", bomb_row)
        + _png_chunk(b"IEND", b""), "PNG bomb declaring 40000x40000")  # fmt: skip
    add(corpus, "zero_width.png", _png(0, 10, 8, 0, b""), "PNG with zero width")
    add(corpus, "no_idat.png", signature + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b""),
        "PNG without IDAT")  # fmt: skip
    text_bomb = _png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(bytes(4 * 1024 * 1024), 9))
    valid = _png(2, 2, 8, 0, b"\x00\x00\x00\x00\x00\x00")
    add(corpus, "ztxt_bomb.png", valid[:33] + text_bomb + valid[33:],
        "PNG with a zTXt chunk inflating to 4 MB")  # fmt: skip


def _bad_others(corpus: HostileCorpus) -> None:
    add = _add_bad
    add(corpus, "bogus.gif", b"GIF89a" + b"\xff\xff\xff\xff\x00" + b"garbage" * 10,
        "GIF with bogus header")  # fmt: skip
    gif = _encode(_noise((64, 64), 9), "GIF")
    add(corpus, "truncated.gif", gif[: len(gif) // 2], "GIF truncated at half")
    bmp = b"BM" + struct.pack("<IHHI", 70, 0, 0, 54)
    bmp += struct.pack("<IiiHHIIiiII", 40, 4, 4, 1, 7, 0, 16, 0, 0, 0, 0) + bytes(16)
    add(corpus, "bad_header.bmp", bmp, "BMP with 7 bits per pixel")
    ifd = struct.pack("<H", 0xFFFF) + b"\xde\xad\xbe\xef" * 30
    add(corpus, "garbage_ifd.tif", b"II*\x00" + struct.pack("<I", 8) + ifd, "TIFF garbage IFD")
    tif = _encode(_noise((64, 64), 10), "TIFF")
    add(corpus, "truncated.tif", tif[: len(tif) // 2], "TIFF truncated at half")
    webp = _encode(_noise((64, 64), 11), "WEBP", quality=80)
    add(corpus, "truncated.webp", webp[: len(webp) // 2], "WebP truncated at half")
    jp2 = _encode(_noise((64, 64), 12), "JPEG2000")
    add(corpus, "truncated.jp2", jp2[:120], "JPEG 2000 cut after its header")
    add(corpus, "bad_header.ppm", b"P6\nabc def\n255\n" + bytes(30), "PNM non-numeric header")
    add(corpus, "header_only.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
        "HEIC ftyp box only")  # fmt: skip
    add(corpus, "header_only.avif", b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1miaf",
        "AVIF ftyp box only")  # fmt: skip
    ico = b"\x00\x00\x01\x00\x01\x00" + struct.pack("<BBBBHHII", 32, 32, 0, 0, 1, 32, 4096, 22)
    add(corpus, "corrupt.ico", ico + b"\x28" + bytes(20), "ICO pointing past the end")


def _bad_raw(corpus: HostileCorpus) -> None:
    """Camera RAW: recognised from content (or, for TIFF containers, the name)."""

    def add(name: str, data: bytes, what: str) -> None:
        _add_bad(corpus, name, data, what)
        corpus.raw.add(corpus.root / name)

    tiff = _encode(_picture((64, 48), (90, 60, 30), "circle"), "TIFF")
    add("raw/DSC_0001.NEF", tiff, "TIFF container named .NEF")
    data_at = 8 + 2 + 10 * 12 + 4
    dng_entries = [*_grey_tiff_entries(8, 8, data_at), (0xC612, 1, 4, b"\x01\x04\x00\x00")]
    dng = _tiff(dng_entries, bytes(range(64)))
    add("raw/IMG_0002.dng", dng, "DNG-tagged TIFF named .dng")
    add("raw/IMG_0003.tif", dng[:-1] + b"\x01", "DNG-tagged TIFF named .tif")
    cr2 = b"II*\x00\x10\x00\x00\x00CR\x02\x00" + bytes(52)
    add("raw/IMG_0004.CR2", cr2, "Canon CR2 header")
    add("raw/DSCF0005.RAF", b"FUJIFILMCCD-RAW 0201FF383501" + bytes(100), "Fujifilm RAF header")
    cr3 = b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom" + bytes(64)
    add("raw/IMG_0006.CR3", cr3, "Canon CR3 ftyp box")
    add("raw/P0000007.jpg", b"IIRO\x08\x00\x00\x00" + bytes(120), "Olympus ORF named .jpg")


def _bad_costly(corpus: HostileCorpus) -> None:
    """Legal-looking files whose decoding would cost far more than their size."""
    add = _add_bad
    progressive = _encode(_noise((64, 64), 13), "JPEG", progressive=True, quality=70)
    last_scan = progressive[progressive.rindex(b"\xff\xda") : -2]
    add(corpus, "many_scans.jpg", progressive[:-2] + last_scan * 150 + b"\xff\xd9",
        "progressive JPEG with 150 scans")  # fmt: skip
    rows = 300_000
    entries = _grey_tiff_entries(1, rows, 0)
    offsets_at = 8 + 2 + len(entries) * 12 + 4
    counts_at = offsets_at + 4 * rows
    entries[5] = (273, 4, rows, _long(offsets_at))
    entries[7] = (278, 4, 1, _long(1))
    entries[8] = (279, 4, rows, _long(counts_at))
    strips = array.array("I", [counts_at + 4 * rows]) * rows
    counts = array.array("I", [1]) * rows
    add(corpus, "many_strips.tif", _tiff(entries, strips.tobytes() + counts.tobytes() + b"\x80"),
        "TIFF in 300,000 one-row strips")  # fmt: skip
    inner = _png(20000, 20000, 8, 0, b"\x00" * 20001)
    ico = b"\x00\x00\x01\x00\x01\x00" + struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 8, len(inner), 22)
    add(corpus, "png_bomb.ico", ico + inner, "ICO holding a PNG declaring 20000x20000")
    iccp = _png_chunk(b"iCCP", b"sRGB\x00\x00" + zlib.compress(bytes(8 * 1024 * 1024), 9))
    valid = _png(2, 2, 8, 0, b"\x00\x00\x00\x00\x00\x00")
    add(corpus, "iccp_bomb.png", valid[:33] + iccp + valid[33:],
        "PNG with an iCCP profile inflating to 8 MB")  # fmt: skip
    add(corpus, "strip_too_tall.png", _grey_strip_png(1, 100_000_000, 0x80),
        "PNG of 1 x 100,000,000 pixels")  # fmt: skip
    _bad_many_pieces(corpus)


def _bad_many_pieces(corpus: HostileCorpus) -> None:
    """Containers made of countless tiny pieces that Pillow parses one at a time in Python."""
    add = _add_bad
    jpeg = _encode(Image.new("RGB", (8, 8), (10, 20, 30)), "JPEG")
    add(corpus, "many_segments.jpg", jpeg[:2] + b"\xff\xe5\x00\x02" * 70_000 + jpeg[2:],
        "JPEG with 70,000 empty segments")  # fmt: skip
    add(corpus, "fill_bytes.jpg", jpeg[:2] + b"\xff" * 100_000 + jpeg[2:],
        "JPEG with 100,000 fill bytes")  # fmt: skip
    png = _png(2, 2, 8, 0, b"\x00\x00\x00\x00\x00\x00")
    add(corpus, "many_chunks.png", png[:33] + _png_chunk(b"abCd", b"") * 300_000 + png[33:],
        "PNG with 300,000 empty chunks")  # fmt: skip
    gif = _encode(Image.new("P", (4, 4), 1), "GIF")
    image_at = gif.index(b"\x2c\x00\x00\x00\x00")  # the image descriptor at (0, 0)
    comment = b"\x21\xfe" + b"\x01c" * 300_000 + b"\x00"
    add(corpus, "many_blocks.gif", gif[:image_at] + comment + gif[image_at:],
        "GIF with 300,000 comment sub-blocks")  # fmt: skip
    add(corpus, "long_comment.pgm", b"P5\n#" + b"x" * 100_000 + b"\n4 4\n255\n" + bytes(16),
        "PGM behind a 100,000-character comment")  # fmt: skip


def _bad_headers_only(corpus: HostileCorpus) -> None:
    """A valid signature, then nothing."""
    add = _add_bad
    add(corpus, "signature_only.png", b"\x89PNG\r\n\x1a\n", "PNG signature only")
    add(corpus, "header_only.tif", b"II*\x00\x08\x00\x00\x00", "TIFF header only")
    add(corpus, "header_only.webp", b"RIFF\x04\x00\x00\x00WEBP", "WebP RIFF header only")


def _bad_camera_formats(corpus: HostileCorpus) -> None:
    """Real HEIC and DNG files cut short, and headers declaring absurd sizes."""
    add = _add_bad
    dng = make_dng(_noise((128, 96), 14))
    add(corpus, "camera/truncated.dng", dng[: len(dng) // 2], "DNG truncated at half")
    add(corpus, "camera/huge.dng", make_dng(_noise((64, 48), 15), claim=(60000, 60000)),
        "DNG declaring 60000x60000")  # fmt: skip
    heic = _heic(_noise((64, 64), 16))
    add(corpus, "phone/truncated.heic", heic[: len(heic) // 2], "HEIC truncated at half")
    ispe = heic.index(b"ispe") + 8  # the box's version and flags, then width and height
    huge = heic[:ispe] + struct.pack(">II", 60000, 60000) + heic[ispe + 8 :]
    add(corpus, "phone/huge.heic", huge, "HEIC declaring 60000x60000")


# --------------------------------------------------------------------------- scanner-level


def _write_scan_problems(corpus: HostileCorpus) -> None:
    """FIFO, broken symlink and self-referencing symlink (where supported)."""
    root = corpus.root
    fifo = root / "sub" / "fifo.jpg"
    if hasattr(os, "mkfifo"):
        os.mkfifo(fifo)
        corpus.bad[fifo] = "FIFO named .jpg"
        corpus.scan_problems.add(fifo)
    broken = root / "broken_link.jpg"
    if _symlink(broken, root / "does-not-exist.jpg"):
        corpus.bad[broken] = "broken symbolic link"
        corpus.scan_problems.add(broken)
    loop = root / "self_loop.jpg"
    if _symlink(loop, loop):
        corpus.bad[loop] = "symbolic link to itself"
        corpus.scan_problems.add(loop)


# --------------------------------------------------------------------------- ignored


def _write_ignored(corpus: HostileCorpus) -> None:
    root = corpus.root
    jpeg = _encode(_picture((40, 30), (77, 77, 0), "circle"), "JPEG")
    files = {
        ".hidden.jpg": jpeg,
        ".hidden_dir/inside.jpg": jpeg,
        "._photo.jpg": b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(50),
        ".DS_Store": b"\x00\x00\x00\x01Bud1" + bytes(40),
        "photo.xmp": b"<x:xmpmeta xmlns:x='adobe:ns:meta/'></x:xmpmeta>",
        "sub/IMG_0001.AAE": b"<?xml version='1.0'?><plist></plist>",
        "sub/IMG_0001.MOV": b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",
        "live.mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
        "metadata.json": b'{"title": "holiday"}',
        "Thumbs.db": b"\xd0\xcf\x11\xe0" + bytes(60),
        "desktop.ini": b"[.ShellClassInfo]\r\n",
        "@eaDir/photo.jpg/SYNOPHOTO_THUMB_XL.jpg": jpeg,
        "#recycle/old.jpg": jpeg,
        "$RECYCLE.BIN/deleted.jpg": jpeg,
        "System Volume Information/x.jpg": jpeg,
    }
    for name, data in files.items():
        corpus.ignored.append(_write(root / name, data))
    loop_dir = root / "sub" / "loop"
    if _symlink(loop_dir, root, is_dir=True):  # folder links are reported, never entered
        corpus.bad[loop_dir] = "symbolic link to a folder (the root)"
        corpus.scan_problems.add(loop_dir)
