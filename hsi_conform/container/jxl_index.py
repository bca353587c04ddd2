"""The band-group index of a JPEG-XL cube: where each codestream of ``data.envi`` is and what it decodes to.

A cube with ``file type = JPEGXL`` (spec/jpegxl.md) stores one lossless JPEG-XL codestream per band group and
spatial tile, back to back in ``data.envi``; the small JSON member :data:`~hsi_conform.members.CUBE_INDEX` lists
them. This module is the one definition of that index: its JSON form, the grid a writer lays out, and every
check a reader and the validator make before a byte of the cube is decoded.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from hsi_conform.container.layout import CubeLayout
from hsi_conform.fields import CUBE_FILE_TYPES, ROOT_FILE_TYPES, DataType, Interleave
from hsi_conform.header import Header, parse_header

__all__ = [
    "COMPRESSED_MARK",
    "DEFAULT_EFFORT",
    "DEFAULT_GROUP",
    "DEFAULT_TILE",
    "FILE_TYPE",
    "INDEX_FORMAT",
    "JPEGXL_DATA_TYPES",
    "MAX_GROUP",
    "MAX_INDEX_BYTES",
    "Codestream",
    "JxlIndex",
    "grid",
    "is_jpegxl",
    "jpegxl_header",
    "plain_header",
]

FILE_TYPE = CUBE_FILE_TYPES[0]
"""``file type`` of a ``data.hdr`` whose ``data.envi`` holds JPEG-XL codestreams (D4.1 §2.4's future value)."""
COMPRESSED_MARK = ("file compression", "1")
"""The header field that makes ENVI readers unaware of the profile refuse the file (spec/jpegxl.md#other-readers)."""
INDEX_FORMAT = "hsi-jpegxl"
"""The ``format`` of the index, with version :data:`INDEX_VERSION`."""
INDEX_VERSION = 1
JPEGXL_DATA_TYPES: tuple[DataType, ...] = (DataType.UINT8, DataType.UINT16)
"""Data types a JPEG-XL cube may hold: those libjxl keeps exactly (spec/jpegxl.md#data-types)."""
MAX_GROUP = 257
"""Most bands per codestream: libjxl refuses a main channel plus more than 256 extra channels."""
DEFAULT_GROUP = 64
"""Bands per codestream a writer uses unless told otherwise (spec/jpegxl.md#band-groups)."""
DEFAULT_TILE = 512
"""Lines and samples per tile a writer uses unless told otherwise (spec/jpegxl.md#tiles)."""
DEFAULT_EFFORT = 2
"""libjxl's effort (1 fastest .. 9 smallest) a writer uses unless told otherwise (spec/jpegxl.md#effort)."""
MAX_INDEX_BYTES = 64 << 20
"""Largest index read (a million codestreams; real ones hold a few hundred)."""


def is_jpegxl(header: Header) -> bool:
    """Return whether a header says ``file type = JPEGXL`` (exact spelling, as every ``file type``)."""
    entry = header.get("file type")
    return entry is not None and not entry.is_list and entry.value_raw.strip(" \t") == FILE_TYPE


@dataclass(frozen=True, slots=True)
class Codestream:
    """One codestream of ``data.envi``: its bytes and the box of the cube it decodes to.

    Attributes:
        offset, size: its bytes in ``data.envi``.
        band, bands: first band and number of bands (channels, planar).
        line, lines: first line and number of lines (image height).
        sample, samples: first sample and number of samples (image width).
        crc32: CRC-32 of the decoded box, C order (bands, lines, samples), in the cube's byte order; None when
            the writer stored none.
    """

    offset: int
    size: int
    band: int
    bands: int
    line: int
    lines: int
    sample: int
    samples: int
    crc32: int | None = None

    @property
    def box(self) -> tuple[int, int, int, int, int, int]:
        """``(band, bands, line, lines, sample, samples)``."""
        return self.band, self.bands, self.line, self.lines, self.sample, self.samples


@dataclass(frozen=True, slots=True)
class JxlIndex:
    """The parsed :data:`~hsi_conform.members.CUBE_INDEX`.

    Attributes:
        lines, samples, bands: the decoded cube (as ``data.hdr`` says).
        data_type: its ENVI data type; byte_order: its byte order (0 little, 1 big) as ``data.hdr`` says.
        group: bands per codestream (the last group may hold fewer).
        tile: lines and samples per tile (the last row and column may hold fewer).
        effort: the encoder's effort (informative).
        codestreams: in ``data.envi`` order: band group, then tile row, then tile column.
    """

    lines: int
    samples: int
    bands: int
    data_type: int
    byte_order: int
    group: int
    tile: tuple[int, int]
    effort: int | None
    codestreams: tuple[Codestream, ...]

    def to_json(self) -> bytes:
        """Return the index as the member holds it (UTF-8 JSON, one codestream per line)."""
        rows = ",\n    ".join(json.dumps(_entry(c)) for c in self.codestreams)
        head = {"format": INDEX_FORMAT, "version": INDEX_VERSION, "lines": self.lines, "samples": self.samples,
                "bands": self.bands, "data type": self.data_type, "byte order": self.byte_order,
                "band group": self.group, "tile": list(self.tile), "effort": self.effort}
        text = json.dumps(head, indent=2)[:-2] + f',\n  "codestreams": [\n    {rows}\n  ]\n}}\n'
        return text.encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> JxlIndex:
        """Parse the member's bytes.

        Raises:
            ValueError: not JSON, another format or version, or a missing or mistyped key (the message says which).
        """
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not UTF-8 JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        if doc.get("format") != INDEX_FORMAT or doc.get("version") != INDEX_VERSION:
            raise ValueError(f"format {doc.get('format')!r} version {doc.get('version')!r}, expected "
                             f"{INDEX_FORMAT!r} version {INDEX_VERSION}")
        tile = doc.get("tile")
        if not (isinstance(tile, list) and len(tile) == 2):
            raise ValueError("'tile' is not a list of two integers")
        streams = doc.get("codestreams")
        if not isinstance(streams, list) or not streams:
            raise ValueError("'codestreams' is not a non-empty list")
        effort = doc.get("effort")
        return cls(lines=_int(doc, "lines"), samples=_int(doc, "samples"), bands=_int(doc, "bands"),
                   data_type=_int(doc, "data type"), byte_order=_int(doc, "byte order"),
                   group=_int(doc, "band group", 1), tile=(_int(tile, 0, 1), _int(tile, 1, 1)),
                   effort=effort if isinstance(effort, int) else None,
                   codestreams=tuple(_codestream(i, s) for i, s in enumerate(streams)))

    def problems(self, layout: CubeLayout, *, data_size: int | None) -> list[str]:
        """Return every way the index disagrees with ``data.hdr`` (its ``layout``) and ``data.envi``.

        Empty: consistent. The codestreams must be exactly :func:`grid` of the index's group and tile, in order,
        and their bytes must tile ``data.envi`` from offset 0 to its end (``data_size``; None: not checked).
        """
        lines, samples, bands = layout.lines, layout.samples, layout.bands
        found = [f"{key} is {mine} in the index, {theirs} in data.hdr" for key, mine, theirs in (
            ("lines", self.lines, lines), ("samples", self.samples, samples), ("bands", self.bands, bands),
            ("data type", self.data_type, int(layout.data_type)),
            ("byte order", self.byte_order, int(layout.byte_order))) if mine != theirs]
        if layout.header_offset:
            found.append(f"header offset is {layout.header_offset}: a JPEG-XL cube has none")
        if self.group > MAX_GROUP:
            found.append(f"band group {self.group} exceeds {MAX_GROUP} bands per codestream")
        if found:
            return found
        expected = grid(lines, samples, bands, self.group, self.tile)
        boxes = [c.box for c in self.codestreams]
        if boxes != expected:
            first = next((i for i, (a, b) in enumerate(zip(boxes, expected, strict=False)) if a != b),
                         min(len(boxes), len(expected)))
            found.append(f"the codestreams are not the grid of band group {self.group} and tile "
                         f"{self.tile[0]}x{self.tile[1]}: {len(boxes)} listed, {len(expected)} expected, first "
                         f"difference at codestream {first}")
        end = 0
        for i, c in enumerate(self.codestreams):
            if c.offset != end:
                found.append(f"codestream {i} starts at byte {c.offset}, the one before ends at {end}")
                break
            end = c.offset + c.size
        if data_size is not None and end != data_size and not found:
            found.append(f"the codestreams end at byte {end}, data.envi holds {data_size}")
        return found


def grid(lines: int, samples: int, bands: int, group: int,
         tile: tuple[int, int]) -> list[tuple[int, int, int, int, int, int]]:
    """Return the boxes ``(band, bands, line, lines, sample, samples)`` of the codestreams, in storage order.

    Band groups of ``group`` bands, then tile rows of ``tile[0]`` lines, then tile columns of ``tile[1]``
    samples; the last of each holds the rest (spec/jpegxl.md#band-groups).
    """
    boxes = []
    for b in range(0, bands, group):
        for y in range(0, lines, tile[0]):
            for x in range(0, samples, tile[1]):
                boxes.append((b, min(group, bands - b), y, min(tile[0], lines - y), x, min(tile[1], samples - x)))
    return boxes


def codestream_count(lines: int, samples: int, bands: int, group: int, tile: tuple[int, int]) -> int:
    """Return how many codestreams :func:`grid` lays out."""
    return math.ceil(bands / group) * math.ceil(lines / tile[0]) * math.ceil(samples / tile[1])


def interleave_axes(interleave: Interleave) -> tuple[int, int, int]:
    """Return the storage axes of (band, line, sample) for a cube stored as ``interleave``."""
    return {Interleave.BSQ: (0, 1, 2), Interleave.BIL: (1, 0, 2), Interleave.BIP: (2, 0, 1)}[interleave]


def _entry(c: Codestream) -> dict[str, Any]:
    out: dict[str, Any] = {"offset": c.offset, "size": c.size, "bands": [c.band, c.bands],
                           "lines": [c.line, c.lines], "samples": [c.sample, c.samples]}
    if c.crc32 is not None:
        out["crc32"] = f"{c.crc32:08x}"
    return out


def _int(doc: Any, key: str | int, minimum: int = 0) -> int:
    value = doc[key] if isinstance(doc, list) and isinstance(key, int) else doc.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{key!r} is not an integer of at least {minimum}")
    return value


def _codestream(i: int, entry: Any) -> Codestream:
    if not isinstance(entry, dict):
        raise ValueError(f"codestream {i} is not a JSON object")
    spans: list[int] = []
    for key in ("bands", "lines", "samples"):
        span = entry.get(key)
        if not (isinstance(span, list) and len(span) == 2):
            raise ValueError(f"codestream {i}: {key!r} is not [first, count]")
        try:
            spans += [_int(span, 0), _int(span, 1, 1)]
        except ValueError:
            raise ValueError(f"codestream {i}: {key!r} is not [first, count] of integers") from None
    crc = entry.get("crc32")
    if crc is not None:
        try:
            crc = int(crc, 16) if isinstance(crc, str) and len(crc) == 8 else None
        except ValueError:
            crc = None
        if crc is None:
            raise ValueError(f"codestream {i}: 'crc32' is not 8 hexadecimal digits")
    band, bands, line, lines, sample, samples = spans
    try:
        offset, size = _int(entry, "offset"), _int(entry, "size", 1)
    except ValueError as exc:
        raise ValueError(f"codestream {i}: {exc}") from None
    return Codestream(offset, size, band, bands, line, lines, sample, samples, crc32=crc)


def jpegxl_header(header: Header) -> Header:
    """Return a copy of a cube's header marked as a JPEG-XL cube (``file type``, ``file compression``)."""
    marked = parse_header(header.to_bytes())
    marked.set("file type", FILE_TYPE)
    marked.set(*COMPRESSED_MARK)
    return marked


def plain_header(header: Header) -> Header:
    """Return a copy of a JPEG-XL cube's header for the decoded, uncompressed cube (``ENVI Standard``)."""
    plain = parse_header(header.to_bytes())
    plain.set("file type", ROOT_FILE_TYPES[0])
    plain.remove(COMPRESSED_MARK[0])
    return plain
