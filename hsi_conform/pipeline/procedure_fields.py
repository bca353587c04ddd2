"""The header of a cube the ``read procedures`` changed (spec/procedures.md#header).

Each step of the executor edits a copy of ``data.hdr`` so that it describes the new cube: the size, the per-band
fields (cropped with the bands, or interpolated when bands are resampled), ``default bands``, and the georeferencing
(``map info``, ``x start``/``y start``, ``pixel size``) where the step keeps it meaningful; what cannot follow is
removed and noted. :func:`finish` removes the applied ``read procedures``, states the data type and byte order of
the written cube and records what was done in ``description``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from hsi_conform.errors import HsiConformError
from hsi_conform.fields import FIELDS, ByteOrder, DataType
from hsi_conform.header import Header
from hsi_conform.header.mapinfo import parse_map_info
from hsi_conform.header.serialize import format_scalar
from hsi_conform.header.values import parse_float
from hsi_conform.pipeline.resample import AxisWeights, ResampleStage
from hsi_conform.pipeline.stages import IndexStage

__all__ = ["BAND_FIELDS", "edit_index", "edit_merge", "edit_resample", "edit_service", "finish", "select_bands"]

#: Fields with one item per band (the field table's ``count="bands"``).
BAND_FIELDS = tuple(f.key for f in FIELDS if f.count == "bands")
#: Per-band numbers interpolated linearly when the bands are resampled.
_INTERPOLATED = ("wavelength", "fwhm", "data gain values", "data offset values")
#: Per-band flags: an output band is bad (0) when any source band it mixes is bad.
_MIXED_FLAGS = ("bbl",)
_GEOMETRY = ("map info", "x start", "y start", "pixel size")

Notes = list[str]
"""What the edits could not keep, in words (recorded in ``description``)."""


def _items(header: Header, key: str, count: int, notes: Notes) -> list[str] | None:
    """Return the items of a per-band field, or None when it is absent (or removed: not one item per band)."""
    entry = header.get(key)
    if entry is None:
        return None
    if entry.items is None or len(entry.items) != count:
        header.remove(key)
        notes.append(f"{key} removed (not one item per band)")
        return None
    return list(entry.items)


def select_bands(header: Header, bands: Sequence[int], count: int, notes: Notes) -> None:
    """Keep the items of the per-band fields at ``bands`` (source band indexes, in output order)."""
    for key in BAND_FIELDS:
        items = _items(header, key, count, notes)
        if items is not None:
            header.set(key, [items[b] for b in bands])


def _default_bands(header: Header, mapping: Callable[[int], int | None], notes: Notes) -> None:
    """Renumber ``default bands`` (1-based) through ``mapping`` of 0-based band indexes; remove it when lost."""
    try:
        value = header.value("default bands")
    except HsiConformError:
        value = None
    if value is None:
        if "default bands" in header:
            header.remove("default bands")
        return
    mapped = [mapping(int(b) - 1) for b in value]
    if any(m is None for m in mapped):
        header.remove("default bands")
        notes.append("default bands removed (a displayed band was cropped away)")
        return
    header.set("default bands", [int(m) + 1 for m in mapped if m is not None])


def _sizes(header: Header, shape: tuple[int, int, int]) -> None:
    lines, samples, bands = shape
    header.set("samples", samples)
    header.set("lines", lines)
    header.set("bands", bands)


def _drop(header: Header, keys: Sequence[str], why: str, notes: Notes) -> None:
    gone = [k for k in keys if header.remove(k)]
    if gone:
        notes.append(f"{', '.join(gone)} removed ({why})")


def edit_index(header: Header, stage: IndexStage, notes: Notes) -> None:
    """Describe the cube after crops, mirrors and quarter turns (spec/procedures.md#header)."""
    _, _, bands_in = stage.parent.shape
    select_bands(header, stage.bands, bands_in, notes)
    _default_bands(header, lambda b: stage.bands.index(b) if b in stage.bands else None, notes)
    plain = not stage.swapped and stage.rows.step > 0 and stage.cols.step > 0
    if plain:
        _shift(header, stage.cols[0] if stage.cols else 0, stage.rows[0] if stage.rows else 0, notes)
    else:
        _drop(header, ("map info", "x start", "y start"), "a mirrored or turned grid has no ENVI map info", notes)
        if stage.swapped:
            _swap_pixel_size(header, notes)
    _sizes(header, stage.shape)


def _shift(header: Header, dx: int, dy: int, notes: Notes) -> None:
    """Move the first pixel by ``dx`` samples and ``dy`` lines: the tie point's pixel shifts, the map stays."""
    if not dx and not dy:
        return
    _edit_map_info(header, lambda xr, yr, sx, sy: (xr - dx, yr - dy, sx, sy), notes)
    for key, delta in (("x start", dx), ("y start", dy)):
        try:
            start = header.value(key)
        except HsiConformError:
            _drop(header, (key,), "not an integer", notes)
            continue
        if start is not None:
            header.set(key, int(start) + delta)


def _edit_map_info(header: Header, edit: Callable[[float, float, float, float], tuple[float, float, float, float]],
                   notes: Notes) -> None:
    entry = header.get("map info")
    if entry is None:
        return
    try:
        if entry.items is None:
            raise ValueError("not a list")
        info = parse_map_info(entry.items)
    except (HsiConformError, ValueError):
        _drop(header, ("map info",), "it could not be read, so it could not follow", notes)
        return
    xr, yr, sx, sy = edit(*info.reference_pixel, *info.pixel_size)
    items = list(entry.items)
    items[1], items[2], items[5], items[6] = (_number(v) for v in (xr, yr, sx, sy))
    header.set("map info", items)


def _number(value: float) -> str:
    return format_scalar(int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value))


def _swap_pixel_size(header: Header, notes: Notes) -> None:
    entry = header.get("pixel size")
    if entry is None:
        return
    if entry.items is None or len(entry.items) < 2:
        _drop(header, ("pixel size",), "not a list of x and y", notes)
        return
    items = list(entry.items)
    items[0], items[1] = items[1], items[0]
    header.set("pixel size", items)


def edit_resample(header: Header, stage: ResampleStage, notes: Notes) -> None:
    """Describe the resampled cube: interpolated bands, scaled pixels (spec/procedures.md#header)."""
    lw, sw, bw = stage.axes
    if bw.size_out != bw.size_in:
        _resample_bands(header, bw, notes)
    if (sw.size_out, lw.size_out) != (sw.size_in, lw.size_in):
        _scale_grid(header, sw, lw, notes)
    _sizes(header, stage.shape)


def _resample_bands(header: Header, w: AxisWeights, notes: Notes) -> None:
    positions = np.clip([w.centre(k) for k in range(w.size_out)], 0, w.size_in - 1)
    for key in BAND_FIELDS:
        items = _items(header, key, w.size_in, notes)
        if items is None:
            continue
        if key in _INTERPOLATED or key in _MIXED_FLAGS:
            try:
                values = np.array([parse_float(t, field=key) for t in items])
            except HsiConformError:
                _drop(header, (key,), "not numbers, so they could not be resampled", notes)
                continue
            if key in _INTERPOLATED:
                new = np.interp(positions, np.arange(w.size_in), values)
            else:
                new = np.array([values[w.cells(k)].min() for k in range(w.size_out)])
            header.set(key, [_number(v) for v in new])
        else:
            _drop(header, (key,), "they name source bands, which resampling mixes", notes)
    _default_bands(header, lambda b: int(np.clip(np.rint((b + 0.5) * w.size_out / w.size_in - 0.5), 0,
                                                  w.size_out - 1)), notes)


def _scale_grid(header: Header, sw: AxisWeights, lw: AxisWeights, notes: Notes) -> None:
    """Scale the georeferencing to the new pixels: same area, ``n/m`` times the pixel size."""
    fx, fy = sw.size_in / sw.size_out, lw.size_in / lw.size_out
    _edit_map_info(header, lambda xr, yr, sx, sy: ((xr - 1) / fx + 1, (yr - 1) / fy + 1, sx * fx, sy * fy), notes)
    _drop(header, ("x start", "y start"), "image coordinates do not survive resampling", notes)
    entry = header.get("pixel size")
    if entry is None:
        return
    try:
        if entry.items is None or len(entry.items) < 2:
            raise ValueError("not a list of x and y")
        sizes = [parse_float(t, field="pixel size") for t in entry.items[:2]]
    except (HsiConformError, ValueError):
        _drop(header, ("pixel size",), "it could not be read, so it could not follow", notes)
        return
    header.set("pixel size", [_number(sizes[0] * fx), _number(sizes[1] * fy), *entry.items[2:]])


def edit_merge(header: Header, shape: tuple[int, int, int], origin: tuple[int, int], notes: Notes) -> None:
    """Describe the canvas of a merge: the cube's first pixel lies at ``origin`` (line, sample) on it."""
    top, left = origin
    _shift(header, -left, -top, notes)
    _sizes(header, shape)


def edit_service(header: Header, before: tuple[int, int, int], after: tuple[int, int, int],
                 fields: Mapping[str, object], notes: Notes) -> None:
    """Describe a micro-service's result: what its new size cannot keep is removed, the fields it gave are set."""
    if after[2] != before[2]:
        _drop(header, [k for k in (*BAND_FIELDS, "default bands") if k not in fields],
              "a micro-service changed the number of bands", notes)
    if after[:2] != before[:2]:
        _drop(header, [k for k in _GEOMETRY if k not in fields], "a micro-service changed the image size", notes)
    for key, value in fields.items():
        header.set(key, value)
    _sizes(header, after)


def finish(header: Header, dtype: np.dtype[Any], record: str) -> None:
    """Remove the applied ``read procedures``, state the written cube's type and record ``record``."""
    header.remove("read procedures")
    header.set("header offset", 0)
    header.set("data type", int(DataType.from_dtype(dtype)))
    big = dtype.byteorder == ">" or (dtype.byteorder == "=" and sys.byteorder == "big")
    header.set("byte order", int(ByteOrder.BIG if big and dtype.itemsize > 1 else ByteOrder.LITTLE))
    try:
        old = header.value("description")
    except HsiConformError:
        old = None
    text = f"{old}\n{record}" if isinstance(old, str) and old.strip() else record
    header.set("description", text if text.count("{") == text.count("}") else text.replace("{", "(").replace("}", ")"))
