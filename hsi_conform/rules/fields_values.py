"""``FLD`` rules on particular fields: wavelength order and units, dates, nesting, vendor shapes, pixel size.

Decisions and reasons: spec/semantics.md (each rule's ``spec`` anchor).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from hsi_conform.errors import FieldValueError
from hsi_conform.fields import (
    BY_KEY,
    NESTED_LIST_FIELDS,
    WAVELENGTH_UNITS,
    DataType,
    Kind,
    envi_wavelength_unit,
)
from hsi_conform.finding import Level, Problem, Severity
from hsi_conform.header.values import parse_date, parse_enum, parse_float
from hsi_conform.rules import rule
from hsi_conform.rules.context import CheckContext
from hsi_conform.rules.fields_common import SHORT_LIST, Field, Numbers, capped, fields, present

_UNITS = frozenset(u.lower() for u in WAVELENGTH_UNITS)


@rule("FLD010", "fld-wavelength-not-sorted", old_names=("wavelength-not-sorted",),
      severity=Severity.INFO, level=Level.SEMANTICS,
      spec="semantics.md#wavelength-order")
def wavelength_not_sorted(ctx: CheckContext) -> Iterator[Problem]:
    """Wavelengths increase from band to band (real sensors may overlap: only a note)."""
    for f in fields(ctx, keys=["wavelength"]):
        values = f.numbers()
        if values is None:
            continue  # FLD004
        drop = _first_drop(values)
        if drop is not None:
            yield f.problem(f"item {drop}: {values[drop]:g} follows {values[drop - 1]:g}", drop)


def _first_drop(values: Numbers) -> int | None:
    """Return the first index whose value is below the one before it, or None."""
    if isinstance(values, list) or len(values) <= SHORT_LIST:
        v = values if isinstance(values, list) else values.tolist()
        return next((i for i in range(1, len(v)) if v[i] < v[i - 1]), None)
    drops = np.flatnonzero(values[1:] < values[:-1])  # one vectorised pass, whatever the number of bands
    return int(drops[0]) + 1 if drops.size else None


@rule("FLD011", "fld-wavelength-units-unknown", old_names=("wavelength-units-unknown",),
      severity=Severity.WARNING, level=Level.SEMANTICS,
      spec="semantics.md#wavelength-units", fix="unsafe")
def wavelength_units_unknown(ctx: CheckContext) -> Iterator[Problem]:
    """`wavelength units` is one of ENVI's units (Nanometers, nm, Micrometers, um, ..., case-insensitive)."""
    for f in fields(ctx, keys=["wavelength units"]):
        value = f.entry.value_raw.strip(" \t")
        if not f.entry.is_list and value.lower() not in _UNITS:
            unit = envi_wavelength_unit(value)
            yield f.problem(f"{value!r} is not an ENVI wavelength unit" + (f": write {unit!r}" if unit else ""))


@rule("FLD012", "fld-acquisition-time-invalid", old_names=("acquisition-time-invalid",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#acquisition-time")
def acquisition_time_invalid(ctx: CheckContext) -> Iterator[Problem]:
    """`acquisition time` is an ISO 8601 date or date-time in one of the forms of D4.1 section 2.7."""
    for f in fields(ctx, kinds=[Kind.DATE]):
        if f.entry.is_list:
            continue  # FLD004
        try:
            parse_date(f.entry.value_raw, field=f.key)
        except FieldValueError as exc:
            yield f.problem(exc.reason)


@rule("FLD013", "fld-nested-list-not-allowed", old_names=("nested-list-not-allowed",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#nesting")
def nested_list_not_allowed(ctx: CheckContext) -> Iterator[Problem]:
    """Only `read procedures` items hold nested braces; no other field of the table has nested lists."""
    for f in fields(ctx):
        if f.key in NESTED_LIST_FIELDS or f.spec.kind is Kind.TEXT or not f.nested:
            continue
        nested = (i for i, t in enumerate(f.entry.items or ()) if "{" in t or "}" in t)
        yield from capped(f.problem(f"item {i} is a nested list", i) for i in nested)


@rule("FLD014", "fld-temperature-list", old_names=("temperature-list",),
      severity=Severity.WARNING, level=Level.SEMANTICS,
      spec="semantics.md#temperature")
def temperature_list(ctx: CheckContext) -> Iterator[Problem]:
    """`temperature` is one number in degrees Celsius, not a list of sensor-board temperatures."""
    for f in fields(ctx, keys=["temperature"]):
        if f.entry.is_list:
            yield f.problem(f"a list of {len(f.entry.items or ())} values; D4.1 defines one Float (°C)")


@rule("FLD015", "fld-data-offset-scalar", old_names=("data-offset-scalar",),
      severity=Severity.WARNING, level=Level.SEMANTICS,
      spec="semantics.md#data-offset-values")
def data_offset_scalar(ctx: CheckContext) -> Iterator[Problem]:
    """Per-band offsets (`data offset values`) form a list `{v, v, ...}`, as in ENVI, not one Float."""
    for f in fields(ctx, keys=["data offset values"]):
        if f.entry.is_list:
            continue
        try:
            parse_float(f.entry.value_raw, field=f.key)
            yield f.problem("a single value; readers expect one offset per band: {v, v, ...}")
        except FieldValueError as exc:
            yield f.problem(f"a single value, and {exc.reason}")


@rule("FLD016", "fld-text-not-braced", old_names=("text-not-braced",), severity=Severity.WARNING, level=Level.SEMANTICS,
      spec="semantics.md#free-text")
def text_not_braced(ctx: CheckContext) -> Iterator[Problem]:
    """Free-text fields (`description`, `coordinate system string`) are written in braces: `{text}`."""
    for f in fields(ctx, kinds=[Kind.TEXT]):
        if not f.entry.is_list:
            yield f.problem("free text without braces (readers may cut it at a comma or ';')")


def _pixel_size_problems(f: Field) -> Iterator[Problem]:
    items = f.entry.items or ()
    if len(items) not in (2, 3):
        yield f.problem(f"{len(items)} values, expected x, y and an optional units=...")
        return
    for index, text in enumerate(items[:2]):
        try:
            value = parse_float(text, field=f.key, item=index)
        except FieldValueError as exc:
            yield f.problem(f"item {index}: {exc.reason}", index)
            continue
        if not value > 0:
            yield f.problem(f"item {index}: {value:g} is not > 0", index)
    if len(items) == 3:
        name, sep, unit = items[2].partition("=")
        if not sep or name.strip(" \t").lower() != "units" or not unit.strip(" \t"):
            yield f.problem(f"item 2: {items[2]!r} is not units=<unit>", 2)


@rule("FLD017", "fld-pixel-size-invalid", old_names=("pixel-size-invalid",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#pixel-size")
def pixel_size_invalid(ctx: CheckContext) -> Iterator[Problem]:
    """`pixel size` is `{x, y}` or `{x, y, units=<unit>}` with x, y > 0."""
    for f in fields(ctx, keys=["pixel size"]):
        if f.entry.is_list and not f.nested:
            yield from _pixel_size_problems(f)


def _representable(value: float, dtype: np.dtype[np.generic]) -> bool:
    if dtype.kind in "iu":
        info = np.iinfo(dtype)  # type: ignore[type-var]
        return math.isfinite(value) and value == int(value) and int(info.min) <= int(value) <= int(info.max)
    if dtype.kind == "f" and math.isfinite(value):
        return abs(value) <= float(np.finfo(dtype).max)  # type: ignore[type-var]
    return True


@rule("FLD018", "fld-ignore-value-not-representable", old_names=("ignore-value-not-representable",),
      severity=Severity.WARNING, level=Level.SEMANTICS,
      spec="semantics.md#data-ignore-value")
def ignore_value_not_representable(ctx: CheckContext) -> Iterator[Problem]:
    """Ignore values can occur in the data type (no NaN or -9999 in unsigned integer data)."""
    for f in fields(ctx, keys=["data ignore value"]):
        entry = present(f.header, "data type")
        try:
            code = parse_enum(entry.value_raw, BY_KEY["data type"]) if entry and not entry.is_list else None
            value = parse_float(f.entry.value_raw, nonfinite=True) if not f.entry.is_list else None
        except FieldValueError:
            continue  # FLD004, FLD005
        if isinstance(code, DataType) and value is not None and not _representable(value, code.dtype()):
            yield f.problem(f"{value:g} cannot occur in data type {int(code)} ({code.name.lower()})")
