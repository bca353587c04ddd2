"""Read the size of a JPEG from its frame header (SOF marker) without decoding it.

The thumbnail is the only member a C decoder would touch, and a JPEG header may claim 65535x65535 pixels (a
decompression bomb). Walking the marker segments in pure Python, with a bounds check on every length, gives the
size without allocating pixels. :func:`read_jpeg_info` never raises: garbage yields a :class:`JpegError` with a
reason and the byte offset where the walk stopped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["COMMON_SOF", "JpegError", "JpegInfo", "jpeg_size", "read_jpeg_info"]

SOI = 0xD8
EOI = 0xD9
SOS = 0xDA
#: Frame-header markers: SOF0-3, 5-7, 9-11, 13-15 (C4 is DHT, C8 is reserved, CC is DAC).
SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
#: Baseline, extended sequential and progressive Huffman: what every JPEG decoder reads.
COMMON_SOF = frozenset({0xC0, 0xC1, 0xC2})
# Markers without a length field (ITU T.81 B.1.1.3): TEM and RST0-7 (SOI/EOI are handled separately).
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_PROCESS = {0xC0: "baseline", 0xC1: "extended sequential", 0xC2: "progressive", 0xC3: "lossless",
            0xC5: "differential sequential", 0xC6: "differential progressive", 0xC7: "differential lossless",
            0xC9: "arithmetic sequential", 0xCA: "arithmetic progressive", 0xCB: "arithmetic lossless",
            0xCD: "arithmetic differential sequential", 0xCE: "arithmetic differential progressive",
            0xCF: "arithmetic differential lossless"}


@dataclass(frozen=True, slots=True, kw_only=True)
class JpegInfo:
    """What the frame header of a JPEG says.

    Attributes:
        width: Samples per line (X), > 0.
        height: Number of lines (Y), > 0.
        components: Number of image components (1 grey, 3 colour).
        precision: Bits per sample.
        marker: The SOF marker byte (``0xC0`` baseline, ``0xC2`` progressive, ...).
        offset: Byte offset of the SOF marker in the data.
    """

    width: int
    height: int
    components: int
    precision: int
    marker: int
    offset: int

    @property
    def process(self) -> str:
        """The coding process the SOF marker declares (``"baseline"``, ``"progressive"``, ...)."""
        return _PROCESS.get(self.marker, f"SOF 0x{self.marker:02X}")

    @property
    def common(self) -> bool:
        """True for SOF0/1/2, the processes every JPEG decoder supports."""
        return self.marker in COMMON_SOF


@dataclass(frozen=True, slots=True, kw_only=True)
class JpegError:
    """Why no frame header could be read.

    Attributes:
        reason: A sentence.
        offset: Byte offset where the walk stopped.
    """

    reason: str
    offset: int


def read_jpeg_info(data: bytes) -> JpegInfo | JpegError:
    """Walk the marker segments of a JPEG up to its frame header and return the header's contents.

    Args:
        data: The JPEG bytes (a prefix is enough when it holds the frame header).

    Returns:
        The frame header, or a :class:`JpegError` for anything that is not a JPEG with a readable one.
    """
    if data[:2] != b"\xff\xd8":
        return JpegError(reason="no JPEG start-of-image marker (FF D8)", offset=0)
    pos = 2
    while True:
        found = _next_marker(data, pos)
        if isinstance(found, JpegError):
            return found
        pos, marker = found
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (SOI, EOI, SOS):
            name = {SOI: "a second start-of-image", EOI: "the end-of-image", SOS: "a start-of-scan"}[marker]
            return JpegError(reason=f"{name} marker before any frame header", offset=pos)
        if pos + 4 > len(data):
            return JpegError(reason="truncated marker segment length", offset=pos)
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2 or pos + 2 + length > len(data):
            return JpegError(reason=f"marker segment length {length} runs past the data", offset=pos)
        if marker in SOF_MARKERS:
            return _frame_header(data, pos, marker, length)
        pos += 2 + length


def _next_marker(data: bytes, pos: int) -> tuple[int, int] | JpegError:
    """Return ``(offset, marker)`` of the marker at ``pos``, skipping fill bytes (extra ``FF``)."""
    if pos >= len(data):
        return JpegError(reason="data ends before any frame header", offset=pos)
    if data[pos] != 0xFF:
        return JpegError(reason=f"expected a marker, found byte 0x{data[pos]:02X}", offset=pos)
    start = pos
    while pos + 1 < len(data) and data[pos + 1] == 0xFF:
        pos += 1
    if pos + 1 >= len(data):
        return JpegError(reason="data ends inside a marker", offset=start)
    marker = data[pos + 1]
    if marker == 0x00:
        return JpegError(reason="stuffed zero byte where a marker was expected", offset=pos)
    return pos, marker


def _frame_header(data: bytes, pos: int, marker: int, length: int) -> JpegInfo | JpegError:
    if length < 8:
        return JpegError(reason=f"frame header length {length} is shorter than 8", offset=pos)
    precision, height, width, components = struct.unpack_from(">BHHB", data, pos + 4)
    if length < 8 + 3 * components:
        return JpegError(reason=f"frame header length {length} is too short for {components} components",
                         offset=pos)
    if width == 0 or components == 0:
        return JpegError(reason="frame header declares zero width or zero components", offset=pos)
    if height == 0:
        # T.81 allows a DNL marker to define the height later; libjpeg and most decoders reject it.
        return JpegError(reason="frame header defers the height to a DNL marker", offset=pos)
    return JpegInfo(width=width, height=height, components=components, precision=precision, marker=marker,
                    offset=pos)


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Return ``(width, height)`` from the frame header, or None when there is no readable one."""
    info = read_jpeg_info(data)
    return (info.width, info.height) if isinstance(info, JpegInfo) else None
