"""The rules of the lossless JPEG-XL profile (``file type = JPEGXL``; spec/jpegxl.md).

``LAY`` rules pair the cube with its band-group index ``data.jxl.json``; ``FLD`` rules check what ``data.hdr``
says about the decoded cube; ``XRF`` rules check the index against ``data.hdr`` and ``data.envi`` and each
codestream's own header against the index, without decoding; the ``DAT`` rule decodes every codestream in the
``full`` content tier and compares it with the CRC-32 the index stores. Containers without a JPEG-XL cube are
not concerned: these rules find nothing in them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from hsi_conform.container.jpegxl import JpegXlArray, decoded_copy
from hsi_conform.container.jxl_codestream import HEADER_PREFIX, SIGNATURE, read_codestream_header
from hsi_conform.container.jxl_index import (
    COMPRESSED_MARK,
    FILE_TYPE,
    JPEGXL_DATA_TYPES,
    MAX_INDEX_BYTES,
    JxlIndex,
    is_jpegxl,
)
from hsi_conform.errors import ContainerError, HsiConformError
from hsi_conform.finding import Level, Location, Problem, Severity
from hsi_conform.members import CUBE_DATA, CUBE_HEADER, CUBE_INDEX
from hsi_conform.rules import SkipRule, rule
from hsi_conform.rules.consistency import field_location, layout_of, memo, safe_value
from hsi_conform.rules.context import CheckContext, Content

__all__ = ["decoded_cube", "jpegxl_cube"]


def _is_jpegxl(ctx: CheckContext) -> bool:
    """Whether ``data.hdr`` says ``file type = JPEGXL``, judged once per context (a dozen rules ask)."""
    return ctx.shared(_cube_is_jpegxl)


def _cube_is_jpegxl(ctx: CheckContext) -> bool:
    header = ctx.header(CUBE_HEADER)
    return header is not None and is_jpegxl(header)


@rule("LAY010", "lay-jpegxl-index-missing", severity=Severity.ERROR, level=Level.CONTAINER,
      spec="jpegxl.md#lay-jpegxl-index-missing")
def index_missing(ctx: CheckContext) -> Iterator[Problem]:
    """Every JPEG-XL cube (`file type = JPEGXL`) has its band-group index `data.jxl.json` at the root."""
    if _is_jpegxl(ctx) and ctx.has(CUBE_DATA) and not ctx.has(CUBE_INDEX):
        yield Problem(f"data.hdr says file type = {FILE_TYPE}, but the band-group index {CUBE_INDEX} is missing: "
                      "the codestreams of data.envi cannot be located", Location(member=CUBE_DATA))


@rule("LAY011", "lay-jpegxl-index-orphan", severity=Severity.WARNING, level=Level.CONTAINER,
      spec="jpegxl.md#lay-jpegxl-index-orphan")
def index_orphan(ctx: CheckContext) -> Iterator[Problem]:
    """Every band-group index `data.jxl.json` comes with a JPEG-XL cube (`file type = JPEGXL`)."""
    if ctx.has(CUBE_INDEX) and ctx.header(CUBE_HEADER) is not None and not _is_jpegxl(ctx):
        yield Problem(f"{CUBE_INDEX} indexes JPEG-XL codestreams, but data.hdr does not say "
                      f"file type = {FILE_TYPE}: data.envi is read uncompressed", Location(member=CUBE_INDEX))


@rule("FLD030", "fld-jpegxl-data-type", severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="jpegxl.md#fld-jpegxl-data-type")
def data_type(ctx: CheckContext) -> Iterator[Problem]:
    """Every JPEG-XL cube holds `data type` 1 (uint8) or 12 (uint16): the types JPEG-XL keeps exactly."""
    header = ctx.header(CUBE_HEADER)
    value = safe_value(header, "data type")
    if _is_jpegxl(ctx) and value is not None and value not in JPEGXL_DATA_TYPES:
        allowed = " or ".join(str(int(t)) for t in JPEGXL_DATA_TYPES)
        yield Problem(f"data type {int(value)} in a JPEG-XL cube: only {allowed} are stored losslessly",
                      field_location(ctx, CUBE_HEADER, "data type"))


@rule("FLD031", "fld-jpegxl-not-marked", severity=Severity.WARNING, level=Level.SEMANTICS,
      spec="jpegxl.md#fld-jpegxl-not-marked", fix="safe")
def not_marked(ctx: CheckContext) -> Iterator[Problem]:
    """Every JPEG-XL cube's `data.hdr` says `file compression = 1`: ENVI readers without the profile refuse it."""
    header = ctx.header(CUBE_HEADER)
    if header is None or not _is_jpegxl(ctx):
        return
    entry = header.get(COMPRESSED_MARK[0])
    if entry is None or entry.value_raw.strip(" \t") != COMPRESSED_MARK[1]:
        yield Problem(f"data.hdr lacks '{COMPRESSED_MARK[0]} = {COMPRESSED_MARK[1]}': GDAL reads the codestreams "
                      "as raw pixels", field_location(ctx, CUBE_HEADER, COMPRESSED_MARK[0]))


def _index(ctx: CheckContext) -> tuple[JxlIndex | None, list[str]]:
    """Return the parsed index and its problems against data.hdr and data.envi (memoised)."""

    def compute() -> tuple[JxlIndex | None, list[str]]:
        layout, info = layout_of(ctx, CUBE_HEADER), ctx.info(CUBE_DATA)
        if ctx.container is None or layout is None or info is None or not ctx.has(CUBE_INDEX):
            raise SkipRule("data.hdr's layout, data.envi or the index is missing or invalid")
        if ctx.info(CUBE_INDEX) is not None and ctx.container.info(CUBE_INDEX).size > MAX_INDEX_BYTES:
            return None, [f"{CUBE_INDEX} is larger than {MAX_INDEX_BYTES} bytes"]
        data = ctx.read(CUBE_INDEX, MAX_INDEX_BYTES)
        if data is None:
            raise SkipRule(f"{CUBE_INDEX} cannot be read (ZIP findings)")
        try:
            index = JxlIndex.from_json(data)
        except ValueError as exc:
            return None, [f"not a band-group index: {exc}"]
        return index, index.problems(layout, data_size=info.size)

    return memo(ctx, "jpegxl:index", compute)


@rule("XRF017", "xrf-jpegxl-index-invalid", severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="jpegxl.md#xrf-jpegxl-index-invalid")
def index_invalid(ctx: CheckContext) -> Iterator[Problem]:
    """Every band-group index parses and agrees with `data.hdr` and `data.envi` (grid, offsets, sizes)."""
    if not _is_jpegxl(ctx) or not ctx.has(CUBE_INDEX):
        return
    for text in _index(ctx)[1]:
        yield Problem(text, Location(member=CUBE_INDEX))


def jpegxl_cube(ctx: CheckContext) -> JpegXlArray:
    """Return the lazily decoded cube.

    Raises:
        SkipRule: no JPEG-XL cube, or its index is invalid (:func:`index_invalid` reports that).
    """
    if not _is_jpegxl(ctx) or ctx.container is None:
        raise SkipRule("data.hdr does not describe a JPEG-XL cube")
    index, problems = _index(ctx) if ctx.has(CUBE_INDEX) else (None, ["missing"])
    if index is None or problems:
        raise SkipRule(f"the band-group index {CUBE_INDEX} is missing or invalid")
    cube = memo(ctx, "jpegxl:cube", lambda: _open_cube(ctx))
    if cube is None:
        raise SkipRule("the JPEG-XL cube cannot be opened")
    return cube


def _open_cube(ctx: CheckContext) -> JpegXlArray | None:
    try:
        cube = ctx.container.cube if ctx.container is not None else None
    except (HsiConformError, OSError):
        return None
    return cube if isinstance(cube, JpegXlArray) else None


def _headers(ctx: CheckContext) -> list[tuple[int, bytes]]:
    cube = jpegxl_cube(ctx)
    return memo(ctx, "jpegxl:prefixes", lambda: [(i, cube.read_codestream(i, HEADER_PREFIX))
                                                  for i in range(len(cube.index.codestreams))])


def _where(cube: JpegXlArray, number: int) -> Location:
    return Location(member=CUBE_DATA, offset=cube.index.codestreams[number].offset)


@rule("XRF018", "xrf-jpegxl-signature", severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="jpegxl.md#xrf-jpegxl-signature")
def signature(ctx: CheckContext) -> Iterator[Problem]:
    """Every codestream the index lists starts with the JPEG-XL codestream signature `FF 0A`."""
    if not _is_jpegxl(ctx):
        return
    cube = jpegxl_cube(ctx)
    for number, prefix in _headers(ctx):
        if prefix[:2] != SIGNATURE:
            yield Problem(f"codestream {number} starts with {prefix[:2].hex(' ')}, not the JPEG-XL signature FF 0A",
                          _where(cube, number))


@rule("XRF019", "xrf-jpegxl-codestream-size", severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="jpegxl.md#xrf-jpegxl-codestream-size")
def codestream_size(ctx: CheckContext) -> Iterator[Problem]:
    """Every codestream's own header declares the width, height, channels and bit depth its index entry says."""
    if not _is_jpegxl(ctx):
        return
    cube = jpegxl_cube(ctx)
    bits = cube.dtype.itemsize * 8
    for number, prefix in _headers(ctx):
        if prefix[:2] != SIGNATURE:
            continue  # XRF018
        stream = cube.index.codestreams[number]
        try:
            head = read_codestream_header(prefix)
        except ValueError as exc:
            yield Problem(f"codestream {number}: {exc}", _where(cube, number))
            continue
        said = (head.width, head.height, head.channels, head.bits, head.floating)
        wanted = (stream.samples, stream.lines, stream.bands, bits, False)
        if said != wanted:
            yield Problem(f"codestream {number} declares {_describe(said)}, its index entry "
                          f"{_describe(wanted)}", _where(cube, number))


def _describe(values: tuple[Any, ...]) -> str:
    width, height, channels, bits, floating = values
    kind = "float" if floating else "unsigned"
    return f"{width}x{height} pixels, {channels} channels of {bits}-bit {kind} samples"


@rule("XRF020", "xrf-jpegxl-not-smaller", severity=Severity.WARNING, level=Level.CONSISTENCY,
      spec="jpegxl.md#xrf-jpegxl-not-smaller")
def not_smaller(ctx: CheckContext) -> Iterator[Problem]:
    """Every JPEG-XL `data.envi` is smaller than its decoded cube: readers without the profile cannot misread it."""
    layout, info = layout_of(ctx, CUBE_HEADER), ctx.info(CUBE_DATA)
    if _is_jpegxl(ctx) and layout is not None and info is not None and info.size >= layout.nbytes:
        yield Problem(f"data.envi holds {info.size} bytes of codestreams, the decoded cube {layout.nbytes}: a "
                      "reader that ignores file type and file compression (SPy) reads the codestreams as pixels",
                      Location(member=CUBE_DATA))


def decoded_cube(ctx: CheckContext) -> tuple[np.ndarray[Any, Any] | None, str | None]:
    """Return the cube decoded once into a temporary file with every CRC-32 checked, or why it is not.

    Raises:
        SkipRule: no JPEG-XL cube with a valid index (other rules report why).
        MissingDependencyError: no JPEG-XL codec: the data cannot be checked at this tier, which is no verdict
            (the input is reported as not checked, exit 3, naming the extra: spec/jpegxl.md#validator).
    """
    cube = jpegxl_cube(ctx)

    def compute() -> tuple[np.ndarray[Any, Any] | None, str | None]:
        try:
            return decoded_copy(cube, check_crc=True), None
        except ContainerError as exc:
            return None, exc.reason

    decoded, error = memo(ctx, "jpegxl:decoded", compute)
    return decoded, error


@rule("DAT006", "dat-jpegxl-decode", severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="jpegxl.md#dat-jpegxl-decode")
def decode(ctx: CheckContext) -> Iterator[Problem]:
    """Every codestream decodes to its box of the cube, with the CRC-32 the index stores (`full` tier)."""
    if not _is_jpegxl(ctx):
        return  # nothing to decode: the tier is not what stops it
    if ctx.options.content is not Content.FULL:
        raise SkipRule("data content is checked in the 'full' content tier only", needs=Content.FULL.value)
    _, error = decoded_cube(ctx)
    if error is not None:
        yield Problem(error, Location(member=CUBE_DATA))
