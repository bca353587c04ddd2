from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsi_conform.container.jpeg import JpegError, JpegInfo, jpeg_size, read_jpeg_info
from hsi_conform.testing.samples import jpeg_image

JPEG = jpeg_image(12, 16)
SOF = JPEG.index(b"\xff\xc0")


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def with_marker(marker: int) -> bytes:
    return JPEG[: SOF + 1] + bytes([marker]) + JPEG[SOF + 2 :]


def test_reads_the_size_of_a_baseline_jpeg() -> None:
    info = read_jpeg_info(JPEG)
    assert isinstance(info, JpegInfo)
    assert (info.width, info.height, info.components, info.precision) == (12, 16, 1, 8)
    assert (info.marker, info.offset, info.process, info.common) == (0xC0, SOF, "baseline", True)
    assert jpeg_size(JPEG) == (12, 16)


def test_skips_app_segments_fill_bytes_and_standalone_markers() -> None:
    app0 = segment(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00")
    app1 = segment(0xE1, b"Exif\x00\x00" + bytes(3000))
    data = JPEG[:2] + app0 + b"\xff\xff\xff" + app1 + b"\xff\x01" + b"\xff\xd0" + JPEG[2:]
    info = read_jpeg_info(data)
    assert isinstance(info, JpegInfo)
    assert (info.width, info.height) == (12, 16)
    assert data[info.offset : info.offset + 2] == b"\xff\xc0"


@pytest.mark.parametrize(("marker", "common", "process"), [
    (0xC1, True, "extended sequential"), (0xC2, True, "progressive"), (0xC3, False, "lossless"),
    (0xC9, False, "arithmetic sequential"), (0xCF, False, "arithmetic differential lossless"),
])
def test_every_frame_header_marker_is_recognised(marker: int, common: bool, process: str) -> None:
    info = read_jpeg_info(with_marker(marker))
    assert isinstance(info, JpegInfo)
    assert (info.marker, info.common, info.process) == (marker, common, process)


def test_dht_dac_and_jpg_markers_are_not_frame_headers() -> None:
    # C4 (DHT), C8 (JPG), CC (DAC) are ordinary segments; a SOF must still follow.
    data = JPEG[:2] + segment(0xC4, bytes(18)) + segment(0xC8, b"") + segment(0xCC, b"\x00\x00") + JPEG[2:]
    assert jpeg_size(data) == (12, 16)


def test_a_huge_claimed_size_is_read_without_decoding() -> None:
    sof = segment(0xC0, struct.pack(">BHHB", 8, 65535, 65535, 3) + bytes(9))
    assert jpeg_size(b"\xff\xd8" + sof) == (65535, 65535)


@pytest.mark.parametrize(("data", "offset"), [
    (b"", 0), (b"\xff", 0), (b"\x89PNG\r\n\x1a\n", 0), (b"\xff\xd8", 2), (b"\xff\xd8\x00", 2),
    (b"\xff\xd8\xff", 2), (b"\xff\xd8\xff\x00", 2), (b"\xff\xd8\xff\xd9", 2), (b"\xff\xd8\xff\xda\x00\x02", 2),
    (b"\xff\xd8\xff\xd8", 2), (b"\xff\xd8\xff\xe0\x00", 2), (b"\xff\xd8\xff\xe0\x00\x01", 2),
    (b"\xff\xd8\xff\xe0\x00\x10abc", 2),
])
def test_garbage_gives_a_reason_and_offset(data: bytes, offset: int) -> None:
    result = read_jpeg_info(data)
    assert isinstance(result, JpegError)
    assert result.offset == offset
    assert result.reason
    assert jpeg_size(data) is None


@pytest.mark.parametrize("payload", [
    struct.pack(">BHHB", 8, 16, 0, 1) + bytes(3),  # zero width
    struct.pack(">BHHB", 8, 0, 12, 1) + bytes(3),  # height deferred to DNL
    struct.pack(">BHHB", 8, 16, 12, 0),  # no components
    struct.pack(">BHHB", 8, 16, 12, 3) + bytes(3),  # too short for 3 components
    struct.pack(">BH", 8, 16),  # shorter than 8
])
def test_invalid_frame_headers(payload: bytes) -> None:
    result = read_jpeg_info(b"\xff\xd8" + segment(0xC0, payload))
    assert isinstance(result, JpegError)
    assert result.offset == 2


def test_every_prefix_of_a_jpeg_is_handled() -> None:
    sof_end = SOF + 2 + struct.unpack_from(">H", JPEG, SOF + 2)[0]
    for n in range(len(JPEG) + 1):
        result = read_jpeg_info(JPEG[:n])
        assert isinstance(result, JpegInfo) == (n >= sof_end), n


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    read_jpeg_info(b"\xff\xd8" + data)
    read_jpeg_info(data)
