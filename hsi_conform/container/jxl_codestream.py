"""The first bytes of a JPEG-XL codestream: its signature, image size, channels and bit depth, without decoding.

The validator compares what each codestream of a compressed cube declares with its entry in the band-group index
(spec/jpegxl.md#codestream-headers) without running the codec: ISO/IEC 18181-1 puts the ``SizeHeader`` and the
``ImageMetadata`` (bit depth, number of extra channels) right after the two signature bytes, in a few dozen bits.
This module reads exactly those fields; everything after them is the codec's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["HEADER_PREFIX", "SIGNATURE", "CodestreamHeader", "bare_codestream", "read_codestream_header"]

SIGNATURE = b"\xff\x0a"
"""The two bytes a bare JPEG-XL codestream starts with (ISO/IEC 18181-1 §6)."""
HEADER_PREFIX = 128
"""Bytes that always hold the signature, the ``SizeHeader`` and the ``ImageMetadata`` fields read here."""

_CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"

# Distributions of the U32 fields: (bits, offset) per 2-bit selector; 0 bits is a constant.
_SIZE = ((9, 1), (13, 1), (18, 1), (30, 1))
_PREVIEW_DIV8 = ((0, 16), (0, 32), (5, 1), (9, 33))
_PREVIEW = ((6, 1), (8, 65), (10, 321), (12, 1345))
_TPS_NUMERATOR = ((0, 100), (0, 1000), (10, 1), (30, 1))
_TPS_DENOMINATOR = ((0, 1), (0, 1001), (8, 1), (10, 1))
_LOOPS = ((0, 0), (3, 0), (16, 0), (32, 0))
_INT_BITS = ((0, 8), (0, 10), (0, 12), (6, 1))
_FLOAT_BITS = ((0, 32), (0, 16), (0, 24), (6, 1))
_EXTRA = ((0, 0), (0, 1), (4, 2), (12, 1))
# Width : height of the seven fixed aspect ratios (ratio code 1..7).
_RATIOS = ((1, 1), (12, 10), (4, 3), (3, 2), (16, 9), (5, 4), (2, 1))


@dataclass(frozen=True, slots=True)
class CodestreamHeader:
    """What a codestream says about the image it decodes to.

    Attributes:
        width, height: pixels (the cube's samples and lines of the tile).
        channels: the main channel and every extra channel (the bands of the group, in planar mode).
        bits: bits per sample.
        floating: whether the samples are floating point.
    """

    width: int
    height: int
    channels: int
    bits: int
    floating: bool


class _Bits:
    """Reads fields LSB first, as JPEG-XL packs them."""

    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "little")
        self._size = len(data) * 8
        self._pos = 0

    def u(self, n: int) -> int:
        if self._pos + n > self._size:
            raise ValueError("the codestream header is truncated")
        value = (self._value >> self._pos) & ((1 << n) - 1)
        self._pos += n
        return value

    def flag(self) -> bool:
        return self.u(1) == 1

    def u32(self, dist: Sequence[tuple[int, int]]) -> int:
        bits, offset = dist[self.u(2)]
        return offset + (self.u(bits) if bits else 0)


def _size(r: _Bits, small: Sequence[tuple[int, int]] | None, dist: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """Read a ``SizeHeader`` (``small`` is its div8 form) or a ``PreviewHeader``; return (width, height)."""
    div8 = r.flag()

    def dimension() -> int:
        if not div8:
            return r.u32(dist)
        return (r.u(5) + 1) * 8 if small is None else r.u32(small) * 8

    height = dimension()
    ratio = r.u(3)
    if ratio:
        num, den = _RATIOS[ratio - 1]
        return height * num // den, height
    return dimension(), height


def read_codestream_header(data: bytes) -> CodestreamHeader:
    """Read the size, channel count and bit depth at the start of a bare JPEG-XL codestream.

    Args:
        data: the first bytes of the codestream (:data:`HEADER_PREFIX` are always enough).

    Raises:
        ValueError: no codestream signature, or the header is truncated.
    """
    if data[:2] != SIGNATURE:
        raise ValueError(f"no JPEG-XL codestream signature (FF 0A): the bytes start with {data[:2].hex(' ')!r}")
    r = _Bits(data[2:])
    width, height = _size(r, None, _SIZE)
    bits, floating, extra = 8, False, 0
    if not r.flag():  # not all_default
        if r.flag():  # extra_fields
            r.u(3)  # orientation
            if r.flag():
                _size(r, None, _SIZE)  # intrinsic size
            if r.flag():
                _size(r, _PREVIEW_DIV8, _PREVIEW)
            if r.flag():
                r.u32(_TPS_NUMERATOR), r.u32(_TPS_DENOMINATOR), r.u32(_LOOPS), r.u(1)
        floating = r.flag()
        bits = r.u32(_FLOAT_BITS if floating else _INT_BITS)
        if floating:
            r.u(4)  # exponent bits
        r.u(1)  # modular_16_bit_buffer_sufficient
        extra = r.u32(_EXTRA)
    return CodestreamHeader(width=width, height=height, channels=1 + extra, bits=bits, floating=floating)


def bare_codestream(encoded: bytes) -> bytes:
    """Return the bare codestream of an encoder's output: itself, or the payload of its ISOBMFF container.

    libjxl wraps a codestream of level 10 (more than four extra channels) in the JPEG-XL container, whose
    ``jxll`` box only repeats the level; a cube stores bare codestreams (spec/jpegxl.md#codestreams), which every
    decoder reads.

    Raises:
        ValueError: neither a codestream nor a container holding one.
    """
    if encoded[:2] == SIGNATURE:
        return encoded
    if not encoded.startswith(_CONTAINER):
        raise ValueError("not a JPEG-XL codestream nor a JPEG-XL container")
    parts: list[bytes] = []
    pos = 0
    while pos + 8 <= len(encoded):
        size, kind = int.from_bytes(encoded[pos : pos + 4], "big"), encoded[pos + 4 : pos + 8]
        head = 8
        if size == 1:
            size, head = int.from_bytes(encoded[pos + 8 : pos + 16], "big"), 16
        end = len(encoded) if size == 0 else pos + size
        if end < pos + head or end > len(encoded):
            raise ValueError(f"a JPEG-XL container box {kind!r} is truncated")
        if kind == b"jxlc":
            return encoded[pos + head : end]
        if kind == b"jxlp":
            parts.append(encoded[pos + head + 4 : end])  # after the part's 4-byte index
        pos = end
    if not parts:
        raise ValueError("the JPEG-XL container holds no codestream")
    return b"".join(parts)
