"""``DAT`` rules: the data values (spec/data.md); they run in the ``full`` content tier only.

Every array is read through the container's read-only memmap in chunks of at most :data:`CHUNK_BYTES`, so
memory does not grow with the cube. One pass per array computes everything the rules need (cached per
validation context). Arrays whose prerequisites fail (missing, compressed or short members, invalid layout:
the ``LAY``, ``ZIP``, ``XRF`` and ``FLD`` rules report those) are not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hsi_conform.container.jxl_index import is_jpegxl
from hsi_conform.container.reader import CubeLayout
from hsi_conform.container.references import reduced
from hsi_conform.errors import ContainerError
from hsi_conform.fields import Interleave, Scope
from hsi_conform.finding import Level, Location, Problem, Severity
from hsi_conform.members import (
    BLACK,
    CUBE_DATA,
    CUBE_HEADER,
    DATA_SUFFIX,
    WHITE,
    WHITE_DARK,
    MemberPair,
    envi_names,
    reference_stem,
)
from hsi_conform.remote import RemoteArray
from hsi_conform.rules import SkipRule, rule
from hsi_conform.rules.consistency import layout_of, memo, safe_value
from hsi_conform.rules.context import CheckContext, Content
from hsi_conform.rules.jpegxl import decoded_cube

#: Largest block read into memory at once (temporaries are of the same order).
CHUNK_BYTES = 8 << 20
# Storage axes of (band, line, sample) per interleave.
_AXES = {Interleave.BSQ: (0, 1, 2), Interleave.BIL: (1, 0, 2), Interleave.BIP: (2, 0, 1)}
# Transpose of storage order to (line, sample, band).
_LSB = {Interleave.BSQ: (1, 2, 0), Interleave.BIL: (0, 2, 1), Interleave.BIP: (0, 1, 2)}

Array = np.ndarray[Any, Any]
Readable = Array | RemoteArray  # a local memmap or a remote container's lazy array (spec/remote.md)


@dataclass(slots=True)
class Scan:
    """What one pass over an array found.

    Attributes:
        nonfinite: Number of NaN or infinite values (float and complex types).
        first: ``(band, line, sample)`` of the first of them in storage order, and its byte offset.
        zero_bands: 0-based bands whose values are all 0.
        saturated_bands: 0-based bands whose values all equal the integer type's maximum.
        saturated: Number of values at the integer type's maximum, ``data ignore value`` apart.
        first_saturated: ``(band, line, sample)`` of the first of them in storage order, and its byte offset.
    """

    nonfinite: int = 0
    first: tuple[tuple[int, int, int], int] | None = None
    zero_bands: list[int] = field(default_factory=list)
    saturated_bands: list[int] = field(default_factory=list)
    saturated: int = 0
    first_saturated: tuple[tuple[int, int, int], int] | None = None


#: Why the data rules do not run under the lower tiers.
FULL_ONLY = "data content is checked in the 'full' content tier only"


def _require_full(ctx: CheckContext) -> None:
    # The engine skips these rules up front under a lower tier (their declared ``needs``); a direct call lands here.
    if ctx.options.content is not Content.FULL:
        raise SkipRule(FULL_ONLY, needs=Content.FULL.value)
    if ctx.container is None:
        raise SkipRule("the container could not be opened")


def _open(ctx: CheckContext, header: str, data: str) -> tuple[Readable, CubeLayout] | None:
    """Map an ENVI pair read-only, or None when a prerequisite fails (other rules report it)."""
    layout, parsed = ctx.layout(header), ctx.header(header)
    if ctx.container is None or layout is None or parsed is None:
        return None
    if data == CUBE_DATA and is_jpegxl(parsed):
        try:
            decoded = decoded_cube(ctx)[0]  # decoded once, CRCs checked: DAT006 reports a failure
        except SkipRule:
            return None
        return None if decoded is None else (decoded, layout)
    try:
        return ctx.container.open_array(data, parsed), layout
    except (ContainerError, OSError, ValueError):
        return None  # missing, compressed, short or beyond the archive's end: ZIP/LAY/XRF findings


def chunks(array: Readable) -> Iterator[tuple[tuple[int, int], Array]]:
    """Yield ``((start0, start1), block)`` covering a 3-D array in blocks of at most ~:data:`CHUNK_BYTES`."""
    n0, n1, n2 = array.shape
    row = n1 * n2 * array.itemsize
    if row <= CHUNK_BYTES:
        step = max(1, CHUNK_BYTES // max(row, 1))
        for i in range(0, n0, step):
            yield (i, 0), np.asarray(array[i : i + step])
        return
    step = max(1, CHUNK_BYTES // max(n2 * array.itemsize, 1))
    for i in range(n0):
        for j in range(0, n1, step):
            yield (i, j), np.asarray(array[i : i + 1, j : j + step])


def scan_array(array: Readable, layout: CubeLayout, ignore: float | None = None) -> Scan:
    """Scan an array in storage order for non-finite values, all-zero bands and saturated values and bands.

    Args:
        array: The array in storage order.
        layout: Its layout.
        ignore: Its ``data ignore value``: values equal to it are missing data, never saturated ones.
    """
    band_axis = _AXES[layout.interleave][0]
    others = tuple(a for a in range(3) if a != band_axis)
    kind = array.dtype.kind
    top = np.iinfo(array.dtype).max if kind in "iu" else None
    count_top = top is not None and top != ignore
    nonzero = np.zeros(layout.bands, dtype=bool)
    below_top = np.zeros(layout.bands, dtype=bool)
    scan = Scan()
    for (i, j), block in chunks(array):
        start = (i, j, 0)[band_axis]
        count = block.shape[band_axis]
        nonzero[start : start + count] |= np.any(block != 0, axis=others)
        if top is not None:
            at_top = block == top
            below_top[start : start + count] |= ~np.all(at_top, axis=others)
            if count_top:
                found = _first(at_top, (i, j), array.shape, layout)
                scan.saturated += found[0]
                scan.first_saturated = scan.first_saturated or found[1]
        if kind in "fc":
            found = _first(~np.isfinite(block), (i, j), array.shape, layout)
            scan.nonfinite += found[0]
            scan.first = scan.first or found[1]
    scan.zero_bands = np.flatnonzero(~nonzero).tolist()
    scan.saturated_bands = np.flatnonzero(~below_top).tolist() if top is not None else []
    return scan


def _first(bad: Array, origin: tuple[int, int], shape: tuple[int, ...],
           layout: CubeLayout) -> tuple[int, tuple[tuple[int, int, int], int] | None]:
    """Return how many values of a block are flagged, and ``(band, line, sample)`` and byte offset of the first."""
    found = int(np.count_nonzero(bad))
    if not found:
        return 0, None
    local = np.unravel_index(int(bad.argmax()), bad.shape)
    index = (int(local[0]) + origin[0], int(local[1]) + origin[1], int(local[2]))
    flat = int(np.ravel_multi_index(index, shape))
    band, line, sample = (index[a] for a in _AXES[layout.interleave])
    return found, ((band, line, sample), layout.header_offset + flat * layout.dtype.itemsize)


def _scans(ctx: CheckContext, scopes: tuple[Scope, ...]) -> Iterator[tuple[MemberPair, Scan]]:
    _require_full(ctx)
    for pair in ctx.envi_pairs():
        if pair.scope not in scopes:
            continue

        def compute(pair: MemberPair = pair) -> Scan | None:
            opened = _open(ctx, pair.header, pair.data)
            ignore = safe_value(ctx.header(pair.header), "data ignore value")
            return None if opened is None else scan_array(*opened, ignore if isinstance(ignore, float) else None)

        scan = memo(ctx, "scan:" + pair.data, compute)
        if scan is not None:
            yield pair, scan


def _bands(bands: list[int]) -> str:
    shown = ", ".join(map(str, bands[:10]))
    return shown + (f", ... ({len(bands)} in all)" if len(bands) > 10 else "")


@rule("DAT001", "dat-nonfinite-values", old_names=("nonfinite-values",),
      severity=Severity.WARNING, level=Level.CONSISTENCY,
      spec="data.md#nonfinite",
      needs=Content.FULL.value, needs_reason=FULL_ONLY)
def nonfinite_values(ctx: CheckContext) -> Iterator[Problem]:
    """Float and complex arrays hold no NaN or infinite values."""
    for pair, scan in _scans(ctx, tuple(Scope)):
        if scan.nonfinite and scan.first is not None:
            (band, line, sample), offset = scan.first
            yield Problem(f"{scan.nonfinite} NaN/Inf values; the first at band {band}, line {line}, "
                          f"sample {sample} (0-based)", Location(member=pair.data, offset=offset))


@rule("DAT002", "dat-zero-band", old_names=("zero-band",),
      severity=Severity.WARNING, level=Level.CONSISTENCY, spec="data.md#zero-band",
      needs=Content.FULL.value, needs_reason=FULL_ONLY)
def zero_band(ctx: CheckContext) -> Iterator[Problem]:
    """No band of the cube or of a preview is all zero (a dead or unwritten band)."""
    for pair, scan in _scans(ctx, (Scope.ROOT, Scope.PREVIEW)):
        if scan.zero_bands:
            yield Problem(f"all-zero band(s) (0-based): {_bands(scan.zero_bands)}", Location(member=pair.data))


@rule("DAT003", "dat-saturated-band", old_names=("saturated-band",), severity=Severity.WARNING, level=Level.CONSISTENCY,
      spec="data.md#saturated-band",
      needs=Content.FULL.value, needs_reason=FULL_ONLY)
def saturated_band(ctx: CheckContext) -> Iterator[Problem]:
    """No band of an integer cube or preview has every value at the data type's maximum."""
    for pair, scan in _scans(ctx, (Scope.ROOT, Scope.PREVIEW)):
        if scan.saturated_bands:
            yield Problem(f"saturated band(s) (0-based): {_bands(scan.saturated_bands)}",
                          Location(member=pair.data))


@rule("DAT005", "dat-saturated-values", severity=Severity.WARNING, level=Level.CONSISTENCY,
      spec="data.md#saturated-values",
      needs=Content.FULL.value, needs_reason=FULL_ONLY)
def saturated_values(ctx: CheckContext) -> Iterator[Problem]:
    """Tell how many values of an integer cube sit at the data type's maximum (the sensor saturated there)."""
    for pair, scan in _scans(ctx, (Scope.ROOT,)):
        if scan.saturated and scan.first_saturated is not None:
            (band, line, sample), offset = scan.first_saturated
            yield Problem(f"{scan.saturated} values at the data type's maximum; the first at band {band}, line "
                          f"{line}, sample {sample} (0-based)", Location(member=pair.data, offset=offset))


def _lsb(ctx: CheckContext, stem: str) -> tuple[Readable, CubeLayout] | None:
    opened = _open(ctx, *envi_names(stem))
    if opened is None:
        return None
    array, layout = opened
    return array.transpose(_LSB[layout.interleave]), layout


def count_white_not_above_black(white: Readable, black: Readable
                                ) -> tuple[int, int, tuple[int, int, int] | None]:
    """Compare references in (line, sample, band) order; a 1-line reference is broadcast over the other's lines.

    Returns:
        ``(count of white <= black, values compared, first (line, sample, band) or None)``.
    """
    lines = max(white.shape[0], black.shape[0])
    step = max(1, CHUNK_BYTES // max(white.shape[1] * white.shape[2] * 8, 1))
    count, first = 0, None
    for i in range(0, lines, step):
        w = np.asarray(white[i : i + step] if white.shape[0] > 1 else white[:1])
        b = np.asarray(black[i : i + step] if black.shape[0] > 1 else black[:1])
        bad = w <= b
        found = int(np.count_nonzero(bad))
        if found and first is None:
            line, sample, band = (int(x) for x in np.unravel_index(int(bad.argmax()), bad.shape))
            first = (line + i, sample, band)
        count += found
    return count, lines * white.shape[1] * white.shape[2], first


def white_dark_stem(ctx: CheckContext) -> str:
    """Return the stem of the dark the white is compared with: ``Reference/whitedark`` when present, else black."""
    own = reference_stem(WHITE_DARK)
    return own if all(ctx.has(name) for name in envi_names(own)) else reference_stem(BLACK)


@rule("DAT004", "dat-white-not-above-black", old_names=("white-not-above-black",),
      severity=Severity.WARNING, level=Level.CONSISTENCY,
      spec="data.md#white-above-black",
      needs=Content.FULL.value, needs_reason=FULL_ONLY)
def white_not_above_black(ctx: CheckContext) -> Iterator[Problem]:
    """Check that the white reference is above its dark (``whitedark``, else black) for every pixel and band."""
    _require_full(ctx)
    dark = white_dark_stem(ctx)
    white, black = _lsb(ctx, reference_stem(WHITE)), _lsb(ctx, dark)
    if white is None or black is None:
        return
    (w, _), (b, _) = white, black
    if w.shape[1:] != b.shape[1:]:
        return  # incompatible shapes: XRF003 reports them against the cube
    cube = layout_of(ctx, CUBE_HEADER)
    lines = cube.lines if cube is not None else None
    # as the calibration applies them (spec/calibration.md)
    w, b = reduced(np.asarray(w), lines), reduced(np.asarray(b), lines)
    if 1 not in (w.shape[0], b.shape[0]) and w.shape[0] != b.shape[0]:
        return
    count, total, first = count_white_not_above_black(w, b)
    if count and first is not None:
        where = f"line {first[0]}, sample {first[1]}" if total > w.shape[1] * w.shape[2] else f"sample {first[1]}"
        yield Problem(f"white <= {dark.rsplit('/', 1)[1]} for {count} of {total} values; the first at {where}, "
                      f"band {first[2]} (0-based)", Location(member=reference_stem(WHITE) + DATA_SUFFIX))
