"""Tests for photoseek.core.imaging.sniffing and .tiffinfo: content first, RAW recognised."""

from __future__ import annotations

import io
import random
import struct

import pytest
from PIL import Image

from photoseek.core.imaging.sniffing import (
    HEAD_BYTES,
    RAW_TIFF_EXTENSIONS,
    SIGNATURE_BYTES,
    Sniffed,
    identify,
    sniff_format,
)
from photoseek.core.imaging.tiffinfo import (
    TAG_DNG_VERSION,
    TAG_STRIP_OFFSETS,
    read_ifd0,
    tiff_chunk_count,
)

DNG_VERSION_ENTRY = (TAG_DNG_VERSION, 1, 4, b"\x01\x04\x00\x00")


def _tiff(
    entries: list[tuple[int, int, int, bytes]], *, ifd_at: int = 8, big: bool = False
) -> bytes:
    """A little-endian classic TIFF or BigTIFF with IFD0 at ``ifd_at`` (values inline)."""
    if big:
        header = b"II+\x00" + struct.pack("<HHQ", 8, 0, ifd_at)
        table = struct.pack("<Q", len(entries)) + b"".join(
            struct.pack("<HHQ", tag, kind, count) + value.ljust(8, b"\x00")
            for tag, kind, count, value in sorted(entries)
        )
        trailer = struct.pack("<Q", 0)
    else:
        header = b"II*\x00" + struct.pack("<I", ifd_at)
        table = struct.pack("<H", len(entries)) + b"".join(
            struct.pack("<HHI", tag, kind, count) + value
            for tag, kind, count, value in sorted(entries)
        )
        trailer = struct.pack("<I", 0)
    return header.ljust(ifd_at, b"\x00") + table + trailer


def _plain_entries() -> list[tuple[int, int, int, bytes]]:
    return [(256, 4, 1, b"\x08\x00\x00\x00"), (257, 4, 1, b"\x08\x00\x00\x00")]


def _pillow_tiff() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "TIFF")
    return buffer.getvalue()


# --------------------------------------------------------------------------- RAW by content


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00" + bytes(20), "CR2"),
        (b"IIRO\x08\x00\x00\x00" + bytes(24), "ORF"),
        (b"IIRS\x08\x00\x00\x00" + bytes(24), "ORF"),
        (b"MMOR\x00\x00\x00\x08" + bytes(24), "ORF"),
        (b"IIU\x00\x18\x00\x00\x00" + bytes(24), "RW2"),
        (b"FUJIFILMCCD-RAW 0201FF383501", "RAF"),
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom", "CR3"),
        (b"II\x1a\x00\x00\x00HEAPCCDR" + bytes(18), "CRW"),
        (b"\x00MRM\x00\x00\x00\x00" + bytes(24), "MRW"),
        (b"FOVb\x00\x00\x02\x00" + bytes(24), "X3F"),
    ],
)
def test_raw_recognised_from_content_whatever_the_name(head: bytes, kind: str) -> None:
    for name in ("", "IMG_0001.jpg", "photo.tif", f"x.{kind.lower()}"):
        assert identify(head[:SIGNATURE_BYTES], name) == Sniffed("raw", kind), name
    assert sniff_format(head[:SIGNATURE_BYTES]) == "raw"


def test_dng_is_a_tiff_with_the_dng_version_tag() -> None:
    dng = _tiff([*_plain_entries(), DNG_VERSION_ENTRY])
    assert identify(dng[:HEAD_BYTES]) == Sniffed("raw", "DNG")
    assert identify(dng, "IMG_1.tif") == Sniffed("raw", "DNG")  # content wins over the name
    assert identify(_tiff(_plain_entries())) == Sniffed("tiff", "TIFF")


def test_dng_tag_found_beyond_the_head_through_read_at() -> None:
    dng = _tiff([*_plain_entries(), DNG_VERSION_ENTRY], ifd_at=100_000)
    head = dng[:HEAD_BYTES]
    assert identify(head) == Sniffed("tiff", "TIFF")  # IFD0 is out of sight
    read_at = lambda offset, size: dng[offset : offset + size]  # noqa: E731
    assert identify(head, read_at=read_at) == Sniffed("raw", "DNG")


def test_bigtiff_dng() -> None:
    dng = _tiff([*_plain_entries(), DNG_VERSION_ENTRY], ifd_at=16, big=True)
    assert identify(dng) == Sniffed("raw", "DNG")
    assert identify(_tiff(_plain_entries(), ifd_at=16, big=True)) == Sniffed("tiff", "TIFF")


def test_real_dng_tagged_tiff_written_by_pillow() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "TIFF", tiffinfo={TAG_DNG_VERSION: b"\x01\x04\x00\x00"})
    assert identify(buffer.getvalue()) == Sniffed("raw", "DNG")


# --------------------------------------------------------------------------- RAW by extension


@pytest.mark.parametrize("extension", sorted(RAW_TIFF_EXTENSIONS))
def test_tiff_container_with_raw_extension_is_raw(extension: str) -> None:
    tiff = _pillow_tiff()
    found = identify(tiff, f"DSC_0001{extension.upper()}")
    assert found is not None and found.format == "raw"
    assert found.kind == RAW_TIFF_EXTENSIONS[extension]


@pytest.mark.parametrize("name", ["", "scan.tif", "scan.TIFF", "nef", "x.nef.tif", ".nef"])
def test_tiff_with_other_names_is_a_tiff(name: str) -> None:
    assert identify(_pillow_tiff(), name) == Sniffed("tiff", "TIFF")


def test_raw_extension_never_makes_other_content_raw() -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (4, 4)).save(jpeg, "JPEG")
    assert identify(jpeg.getvalue(), "DSC_0001.NEF") == Sniffed("jpeg", "JPEG")
    assert identify(b"hello world, just text", "DSC_0001.NEF") is None
    assert identify(b"", "DSC_0001.NEF") is None


def test_kinds_of_ordinary_formats() -> None:
    assert identify(b"\xff\xd8\xff\xe0") == Sniffed("jpeg", "JPEG")
    assert identify(b"\x00\x00\x00\x0cjP  \r\n\x87\n") == Sniffed("jp2", "JPEG 2000")
    assert sniff_format(b"\x89PNG\r\n\x1a\n", "x.nef") == "png"


# --------------------------------------------------------------------------- IFD0 parsing


def test_read_ifd0_counts_entries_and_strips() -> None:
    tiff = _pillow_tiff()
    entries = read_ifd0(tiff, lambda offset, size: tiff[offset : offset + size])
    assert entries is not None
    assert {256, 257, TAG_STRIP_OFFSETS} <= set(entries)
    assert tiff_chunk_count(entries) == 1
    assert tiff_chunk_count({}) == 0


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"II*\x00",
        b"II*\x00\xff\xff\xff\xff",  # IFD0 "at" 4 GB
        b"II*\x00\x08\x00\x00\x00",  # the IFD count is missing
        b"II*\x00\x08\x00\x00\x00\xff\xff" + bytes(30),  # 65535 entries announced, 2 present
        b"II+\x00\x08\x00\x00\x00" + b"\xff" * 8,  # BigTIFF offset near 2**64
        b"II+\x00\x04\x00\x00\x00" + bytes(8),  # BigTIFF with a wrong offset size
        b"MM\x00*" + b"\x00\x00\x00\x08" + b"\x00\x01" + bytes(5),  # entry cut short
        b"XX*\x00\x08\x00\x00\x00",
    ],
)
def test_read_ifd0_survives_broken_headers(data: bytes) -> None:
    result = read_ifd0(data, lambda offset, size: data[offset : offset + size])
    assert result is None or isinstance(result, dict)
    assert identify(data) in (None, Sniffed("tiff", "TIFF"))


def test_identify_never_raises_on_mutated_headers() -> None:
    rng = random.Random(42)
    seeds = [
        _pillow_tiff(),
        _tiff([*_plain_entries(), DNG_VERSION_ENTRY]),
        _tiff(_plain_entries(), ifd_at=16, big=True),
        b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom",
    ]
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        blob = bytes(data[: rng.randint(0, len(data))])
        found = identify(blob, rng.choice(["", "a.nef", "b.tif"]))
        assert found is None or isinstance(found, Sniffed)
