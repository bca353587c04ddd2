"""``XRF`` rules: consistency across the members of a container (spec/consistency.md).

Sizes are compared with Python integers from the central directory before anything is mapped; dimensions
come from the parsed headers. A rule whose prerequisites are broken (``data.hdr`` layout fields invalid: the
``FLD`` rules report that) raises :class:`~hsi_conform.rules.SkipRule`; members the ``LAY``/``ZIP`` rules
own (missing pairs, compressed members) are left to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from hsi_conform.container.bboxes import BoxesResult, CsvIssue, boxes_outside, parse_bounding_boxes
from hsi_conform.container.jpeg import JpegError, JpegInfo, read_jpeg_info
from hsi_conform.container.jxl_index import is_jpegxl
from hsi_conform.container.reader import CubeLayout
from hsi_conform.errors import FieldValueError
from hsi_conform.fields import Scope
from hsi_conform.finding import Level, Location, Problem, Severity
from hsi_conform.header import Header
from hsi_conform.members import (
    BOUNDING_BOXES_FILE,
    CALIBRATION_REFERENCES,
    CUBE_HEADER,
    DATA_SUFFIX,
    EXPLORATION_DIR,
    HEADER_SUFFIX,
    THUMBNAIL,
    envi_names,
    reference_stem,
)
from hsi_conform.rules import SkipRule, rule
from hsi_conform.rules.context import CheckContext, entry_location

_REFERENCE_HEADERS = tuple(reference_stem(which) + HEADER_SUFFIX for which in CALIBRATION_REFERENCES)
#: Largest bounding-box CSV read into memory (spec/consistency.md#limits).
MAX_CSV_BYTES = 16 << 20
#: Prefix of the thumbnail searched for the frame header (APPn segments are at most 64 KiB each).
MAX_THUMBNAIL_PREFIX = 16 << 20
CLASSIFICATION_TYPE = "envi classification"

T = TypeVar("T")


def memo(ctx: CheckContext, key: str, compute: Callable[[], T]) -> T:
    """Compute a value once per validation context (several rules share one CSV parse or data scan)."""
    return ctx.memo(key, compute)


def safe_value(header: Header | None, key: str) -> Any:
    """Return the typed value of a field, or None when absent or invalid (the FLD rules report that)."""
    if header is None:
        return None
    try:
        return header.value(key)
    except FieldValueError:
        return None


def layout_of(ctx: CheckContext, header: str) -> CubeLayout | None:
    """Return ``ctx.layout(header)`` (computed once per context: every XRF rule asks for the same layouts)."""
    return ctx.layout(header)


def root_layout(ctx: CheckContext) -> CubeLayout:
    """Return the cube's layout.

    Raises:
        SkipRule: ``data.hdr`` is missing or one of its layout fields is invalid.
    """
    layout = layout_of(ctx, CUBE_HEADER)
    if layout is None:
        raise SkipRule("data.hdr is missing or its layout fields are invalid")
    return layout


def field_location(ctx: CheckContext, member: str, key: str, item: int | None = None) -> Location:
    """Locate a field of a header member (the member alone when the field is absent)."""
    header = ctx.header(member)
    entry = header.get(key) if header is not None else None
    if header is None or entry is None:
        return Location(member=member, field=key)
    return entry_location(member, header, entry, item=item)


_at = field_location


def in_exploration(value: str) -> str:
    """Resolve a file name of ``data.hdr`` against ``Exploration/`` (a value may already carry the prefix)."""
    value = value.strip()
    return value if value.startswith(EXPLORATION_DIR) else EXPLORATION_DIR + value


def _stored_size(ctx: CheckContext, name: str) -> int | None:
    """Uncompressed size from the central directory (file size for folders), or None when absent."""
    if not ctx.has(name):
        return None  # absent or unreadable local header: LAY/ZIP findings
    member = ctx.structure.member(name) if ctx.structure is not None else None
    if member is not None:
        return member.uncompressed_size
    info = ctx.info(name)
    return None if info is None else info.size


# -- data sizes ---------------------------------------------------------------------------------------------

def _sizes(ctx: CheckContext) -> list[tuple[str, int, int]]:
    """Return ``(data member, actual size, needed size)`` of every pair with a valid layout and a data member.

    Found once per context (XRF001 and XRF002 ask for the same sizes).

    Raises:
        SkipRule: no ENVI header has valid layout fields.
    """
    found = ctx.shared(_find_sizes)
    if isinstance(found, str):
        raise SkipRule(found)
    return found


def _find_sizes(ctx: CheckContext) -> list[tuple[str, int, int]] | str:
    """Return the sizes of :func:`_sizes`, or the reason to skip."""
    found, invalid = [], False
    for pair in ctx.envi_pairs():
        layout, size = layout_of(ctx, pair.header), _stored_size(ctx, pair.data)
        invalid |= layout is None and ctx.header(pair.header) is not None
        parsed = ctx.header(pair.header)
        if pair.header == CUBE_HEADER and parsed is not None and is_jpegxl(parsed):
            continue  # its size is the codestreams' (spec/jpegxl.md#xrf-jpegxl-index-invalid)
        if layout is not None and size is not None:
            found.append((pair.data, size, layout.header_offset + layout.nbytes))
    if invalid and not found:
        return "no ENVI header with valid layout fields"
    return found


@rule("XRF001", "xrf-data-size-truncated", old_names=("data-size-truncated",),
      severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="consistency.md#data-size")
def data_size_truncated(ctx: CheckContext) -> Iterator[Problem]:
    """Every ENVI data member holds at least ``header offset`` + samples·lines·bands·itemsize bytes."""
    for data, size, need in _sizes(ctx):
        if size < need:
            yield Problem(f"{data} has {size} bytes, its header needs {need} ({need - size} missing)",
                          Location(member=data, offset=size))


@rule("XRF002", "xrf-data-size-trailing-bytes", old_names=("data-size-trailing-bytes",),
      severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="consistency.md#data-size", profiles={"reader": Severity.WARNING}, fix="unsafe")
def data_size_trailing_bytes(ctx: CheckContext) -> Iterator[Problem]:
    """No ENVI data member holds bytes after ``header offset`` + samples·lines·bands·itemsize."""
    for data, size, need in _sizes(ctx):
        if size > need:
            yield Problem(f"{data} has {_bytes(size - need)} after the cube: its header describes {_bytes(need)} "
                          f"(header offset + lines·samples·bands·itemsize), the member holds {size}",
                          Location(member=data, offset=need))


def _bytes(count: int) -> str:
    return "1 byte" if count == 1 else f"{count} bytes"


# -- dimensions ---------------------------------------------------------------------------------------------

def _differs(ctx: CheckContext, member: str, checks: list[tuple[str, bool, str]]) -> Iterator[Problem]:
    """Yield a problem at each field whose check failed: ``(key, ok, expectation)``."""
    for key, ok, expected in checks:
        if not ok:
            yield Problem(f"{key} of {member} must {expected}", _at(ctx, member, key))


@rule("XRF003", "xrf-reference-dimensions", old_names=("reference-dimensions",),
      severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="consistency.md#reference-dimensions")
def reference_dimensions(ctx: CheckContext) -> Iterator[Problem]:
    """White, black and white-dark references have the cube's samples and bands (any number of lines)."""
    cube = root_layout(ctx)
    for name in _REFERENCE_HEADERS:
        ref = layout_of(ctx, name)
        if ref is not None:
            # Lines are free: the cube's lines apply per pixel, any other count is averaged (spec/calibration.md).
            yield from _differs(ctx, name, [
                ("samples", ref.samples == cube.samples, f"equal the cube's samples ({cube.samples})"),
                ("bands", ref.bands == cube.bands, f"equal the cube's bands ({cube.bands})"),
            ])


@rule("XRF004", "xrf-preview-dimensions", old_names=("preview-dimensions",),
      severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="consistency.md#preview-dimensions")
def preview_dimensions(ctx: CheckContext) -> Iterator[Problem]:
    """Every preview has no more samples, lines or bands than the cube."""
    cube = root_layout(ctx)
    for pair in ctx.envi_pairs():
        preview = layout_of(ctx, pair.header) if pair.scope is Scope.PREVIEW else None
        if preview is not None:
            yield from _differs(ctx, pair.header, [
                (key, getattr(preview, key) <= getattr(cube, key),
                 f"not exceed the cube's {key} ({getattr(cube, key)})") for key in ("samples", "lines", "bands")
            ])


def _mask_names(ctx: CheckContext) -> tuple[str, ...]:
    """Class names that link to binary masks: those of ``data.hdr`` when it names no classification file."""
    header = ctx.header(CUBE_HEADER)
    if header is None or "classification file" in header:
        return ()
    names = safe_value(header, "class names")
    return tuple(names) if isinstance(names, tuple) else ()


@rule("XRF005", "xrf-mask-missing", old_names=("mask-missing",), severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="consistency.md#masks")
def mask_missing(ctx: CheckContext) -> Iterator[Problem]:
    """Each ``class names`` entry of ``data.hdr`` has its mask ``Exploration/<name>.envi`` + ``.hdr``."""
    for item, name in enumerate(_mask_names(ctx)):
        # Half a pair is LAY005/LAY006's finding; only a mask with neither member is reported here.
        if not any(ctx.has(member) for member in envi_names(EXPLORATION_DIR + name)):
            yield Problem(f"class {name!r} has no mask {EXPLORATION_DIR}{name}.envi/.hdr",
                          _at(ctx, CUBE_HEADER, "class names", item))


@rule("XRF006", "xrf-mask-dimensions", old_names=("mask-dimensions",), severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="consistency.md#masks")
def mask_dimensions(ctx: CheckContext) -> Iterator[Problem]:
    """Every class mask has one band and the cube's samples and lines."""
    names = _mask_names(ctx)
    cube = root_layout(ctx) if names else None
    for name in names:
        member = EXPLORATION_DIR + name + HEADER_SUFFIX
        mask = layout_of(ctx, member)
        if mask is not None and cube is not None:
            yield from _differs(ctx, member, [
                ("samples", mask.samples == cube.samples, f"equal the cube's samples ({cube.samples})"),
                ("lines", mask.lines == cube.lines, f"equal the cube's lines ({cube.lines})"),
                ("bands", mask.bands == 1, "be 1 (a binary mask)"),
            ])


def _classification(ctx: CheckContext) -> tuple[str, str] | None:
    """Return ``(data member, header member)`` of the classification file, when ``data.hdr`` names one."""
    value = safe_value(ctx.header(CUBE_HEADER), "classification file")
    if not isinstance(value, str) or not value.strip():
        return None
    data = in_exploration(value)
    # Plain string surgery: pathlib's with_suffix raises on names like "/" (hostile values never raise).
    return data, data.removesuffix(DATA_SUFFIX) + HEADER_SUFFIX


@rule("XRF007", "xrf-classification-dimensions", old_names=("classification-dimensions",),
      severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="consistency.md#classification-file")
def classification_dimensions(ctx: CheckContext) -> Iterator[Problem]:
    """Check that the classification file has the cube's samples and lines."""
    found = _classification(ctx)
    layout = layout_of(ctx, found[1]) if found is not None else None
    if found is not None and layout is not None:
        cube = root_layout(ctx)
        yield from _differs(ctx, found[1], [
            ("samples", layout.samples == cube.samples, f"equal the cube's samples ({cube.samples})"),
            ("lines", layout.lines == cube.lines, f"equal the cube's lines ({cube.lines})"),
        ])


@rule("XRF008", "xrf-classification-file-type", old_names=("classification-file-type",),
      severity=Severity.WARNING, level=Level.CONSISTENCY,
      spec="consistency.md#classification-file-type")
def classification_file_type(ctx: CheckContext) -> Iterator[Problem]:
    """Check that the classification file's header says ``file type = ENVI Classification``."""
    found = _classification(ctx)
    value = safe_value(ctx.header(found[1]), "file type") if found is not None else None
    if found is not None and isinstance(value, str) and " ".join(value.lower().split()) != CLASSIFICATION_TYPE:
        yield Problem(f"file type of the classification file is {value!r}, not 'ENVI Classification'",
                      _at(ctx, found[1], "file type"))


@rule("XRF009", "xrf-classification-classes", old_names=("classification-classes",),
      severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="consistency.md#classification-classes")
def classification_classes(ctx: CheckContext) -> Iterator[Problem]:
    """``classes`` and ``class names`` of the classification file agree with ``data.hdr`` when both give them."""
    found = _classification(ctx)
    if found is None or ctx.header(found[1]) is None:
        return
    root, other = ctx.header(CUBE_HEADER), ctx.header(found[1])
    mine, theirs = safe_value(root, "classes"), safe_value(other, "classes")
    if mine is not None and theirs is not None and mine != theirs:
        yield Problem(f"classes is {theirs}, data.hdr says {mine}", _at(ctx, found[1], "classes"))
    mine, theirs = safe_value(root, "class names"), safe_value(other, "class names")
    if isinstance(mine, tuple) and isinstance(theirs, tuple) and mine != theirs:
        item = next((i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b), None)
        yield Problem("class names differ from those of data.hdr", _at(ctx, found[1], "class names", item))


# -- bounding boxes -----------------------------------------------------------------------------------------

def _bboxes(ctx: CheckContext) -> tuple[str, BoxesResult | None] | None:
    """Return the CSV member and its parse (None when too large), or None when there is no CSV."""
    value = safe_value(ctx.header(CUBE_HEADER), "bounding boxes")
    member = in_exploration(value if isinstance(value, str) and value.strip() else BOUNDING_BOXES_FILE)
    info = ctx.info(member)
    if info is None:
        return None  # optional; a missing file named by the header is the FLD file-reference rule's
    if not info.stored:
        raise SkipRule(f"{member} is compressed (a ZIP rule reports it)")

    def parse() -> BoxesResult | None:
        data = ctx.read(member, limit=MAX_CSV_BYTES)
        return None if data is None else parse_bounding_boxes(data)

    return member, memo(ctx, "bboxes", parse)


def _csv_issues(ctx: CheckContext, codes: tuple[str, ...]) -> Iterator[Problem]:
    found = _bboxes(ctx)
    result = found[1] if found is not None else None
    if found is not None and result is not None:
        for issue in result.issues:
            if issue.code in codes:
                yield _csv_problem(found[0], issue)


def _csv_problem(member: str, issue: CsvIssue) -> Problem:
    return Problem(issue.message, Location(member=member, line=issue.line, item=issue.column))


@rule("XRF010", "xrf-bbox-csv-unreadable", old_names=("bbox-csv-unreadable",),
      severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="consistency.md#bbox-format")
def bbox_csv_unreadable(ctx: CheckContext) -> Iterator[Problem]:
    """Check that the bounding-box CSV is UTF-8, well-formed CSV and at most 16 MiB."""
    found = _bboxes(ctx)
    if found is not None and found[1] is None:
        yield Problem(f"{found[0]} is larger than {MAX_CSV_BYTES} bytes; not read", Location(member=found[0]))
    elif found is not None and found[1] is not None and found[1].truncated:
        last = found[1].issues[-1].line
        yield Problem("too many problems: the rest of the file was not checked",
                      Location(member=found[0], line=last))
    yield from _csv_issues(ctx, ("encoding", "csv"))


@rule("XRF011", "xrf-bbox-csv-row", old_names=("bbox-csv-row",), severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="consistency.md#bbox-format")
def bbox_csv_row(ctx: CheckContext) -> Iterator[Problem]:
    """Each bounding-box row has 5 cells with integer coordinates and a positive width and height."""
    yield from _csv_issues(ctx, ("columns", "integer", "size"))


@rule("XRF012", "xrf-bbox-outside-image", old_names=("bbox-outside-image",),
      severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="consistency.md#bbox-inside", profiles={"reader": Severity.WARNING})
def bbox_outside_image(ctx: CheckContext) -> Iterator[Problem]:
    """Each bounding box lies inside the image: left + width <= samples and top + height <= lines."""
    found = _bboxes(ctx)
    if found is None or found[1] is None:
        return
    cube = root_layout(ctx)
    for box, column in boxes_outside(found[1].boxes, cube.samples, cube.lines):
        yield Problem(f"box {box.name!r} ({box.left},{box.top} {box.width}x{box.height}) leaves the "
                      f"{cube.samples}x{cube.lines} image", Location(member=found[0], line=box.line, item=column))


@rule("XRF013", "xrf-bbox-csv-formula", old_names=("bbox-csv-formula",),
      severity=Severity.WARNING, level=Level.CONSISTENCY,
      spec="consistency.md#bbox-formula")
def bbox_csv_formula(ctx: CheckContext) -> Iterator[Problem]:
    """No bounding-box cell starts with ``=``, ``+``, ``-``, ``@``, tab or CR (spreadsheet formula injection)."""
    yield from _csv_issues(ctx, ("formula",))


# -- thumbnail ----------------------------------------------------------------------------------------------

def _thumbnail(ctx: CheckContext) -> JpegInfo | JpegError | None:
    """Parse the frame header of ``thumbnail.jpg`` from a bounded prefix, or None when there is none."""
    info = ctx.info(THUMBNAIL)
    if info is None:
        return None
    if not info.stored:
        raise SkipRule(f"{THUMBNAIL} is compressed (a ZIP rule reports it)")

    def parse() -> JpegInfo | JpegError:
        try:
            prefix = ctx.read_prefix(THUMBNAIL, MAX_THUMBNAIL_PREFIX)
        except OSError as exc:
            return JpegError(reason=f"cannot be read: {exc.strerror or exc}", offset=0)
        return read_jpeg_info(prefix or b"")

    return memo(ctx, "thumbnail", parse)


@rule("XRF014", "xrf-thumbnail-not-jpeg", old_names=("thumbnail-not-jpeg",),
      severity=Severity.ERROR, level=Level.CONSISTENCY,
      spec="consistency.md#thumbnail")
def thumbnail_not_jpeg(ctx: CheckContext) -> Iterator[Problem]:
    """``thumbnail.jpg`` is a JPEG whose frame header (SOF marker) gives its size."""
    found = _thumbnail(ctx)
    if isinstance(found, JpegError):
        yield Problem(f"not a readable JPEG: {found.reason}", Location(member=THUMBNAIL, offset=found.offset))


@rule("XRF015", "xrf-thumbnail-larger-than-cube", old_names=("thumbnail-larger-than-cube",),
      severity=Severity.INFO, level=Level.CONSISTENCY,
      spec="consistency.md#thumbnail-size")
def thumbnail_larger_than_cube(ctx: CheckContext) -> Iterator[Problem]:
    """Tell when the thumbnail is larger than the cube (its resolution is arbitrary: information only)."""
    found = _thumbnail(ctx)
    if isinstance(found, JpegInfo):
        cube = root_layout(ctx)
        if found.width > cube.samples or found.height > cube.lines:
            yield Problem(f"thumbnail is {found.width}x{found.height}, the cube {cube.samples}x{cube.lines}",
                          Location(member=THUMBNAIL, offset=found.offset))


@rule("XRF016", "xrf-thumbnail-jpeg-process", old_names=("thumbnail-jpeg-process",),
      severity=Severity.WARNING, level=Level.CONSISTENCY,
      spec="consistency.md#thumbnail-process")
def thumbnail_jpeg_process(ctx: CheckContext) -> Iterator[Problem]:
    """Check that the thumbnail is a baseline, extended or progressive Huffman JPEG (SOF0/1/2)."""
    found = _thumbnail(ctx)
    if isinstance(found, JpegInfo) and not found.common:
        yield Problem(f"thumbnail uses the {found.process} JPEG process, which many decoders do not support",
                      Location(member=THUMBNAIL, offset=found.offset))
