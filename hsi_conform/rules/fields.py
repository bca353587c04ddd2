"""``FLD`` rules (level SEMANTICS): the fields of D4.1 sections 2.4-2.9, driven by :data:`hsi_conform.fields.FIELDS`.

Every rule walks every ENVI header of the container (``data.hdr``, previews, references, exploration files) and
judges it by the scope of that header. This module holds the table-driven rules (presence, kinds, enumerations,
counts, ranges); :mod:`hsi_conform.rules.fields_values` the rules on particular fields and
:mod:`hsi_conform.rules.fields_refs` the ``read procedures`` and file-name rules, :mod:`hsi_conform.rules.fields_camera`
the IEEE 4001 camera-metadata rules. Decisions: spec/semantics.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from hsi_conform.errors import FieldValueError
from hsi_conform.fields import (
    CUBE_FILE_TYPES,
    EXPLORATION_FILE_TYPES,
    FIELDS,
    ROOT_FILE_TYPES,
    DataType,
    FieldSpec,
    Kind,
    Scope,
)
from hsi_conform.finding import Level, Location, Problem, Severity
from hsi_conform.header import Header
from hsi_conform.header.values import parse_float, parse_int
from hsi_conform.members import CUBE_HEADER
from hsi_conform.rules import fields_camera, fields_refs, fields_values, rule
from hsi_conform.rules.context import CheckContext, entry_location
from hsi_conform.rules.fields_common import (
    ENVI_DEFAULTS,
    MAX_ITEM_FINDINGS,
    SHORT_LIST,
    Field,
    capped,
    fields,
    filled_entries,
    headers,
    positive_int,
)

__all__ = ["fields_camera", "fields_refs", "fields_values"]  # importing this module registers all FLD rules

_SCALARS = frozenset({Kind.INT, Kind.FLOAT, Kind.STRING, Kind.ENUM, Kind.DATE, Kind.FILENAME})
_LISTS = frozenset({Kind.INT_LIST, Kind.FLOAT_LIST, Kind.STRING_LIST})
#: Shapes that D4.1 and real headers disagree on, reported by their own rules (FLD014, FLD015), not as kinds.
_TOLERATED_LIST = frozenset({"temperature"})
_TOLERATED_SCALAR = frozenset({"data offset values"})
_TOLERATED = _TOLERATED_LIST | _TOLERATED_SCALAR
_EXACT = 2**53  # integers up to this size are exact as doubles
_NUMERIC = frozenset({Kind.INT, Kind.FLOAT, Kind.INT_LIST, Kind.FLOAT_LIST})
_UNDEFINED_TYPES = frozenset({"7", "8", "10", "11"})
_NON_PORTABLE = {DataType.COMPLEX64: "complex", DataType.COMPLEX128: "complex",
                 DataType.INT64: "64-bit integer", DataType.UINT64: "64-bit integer"}
#: Upper bounds the field table does not carry (spec/semantics.md#ranges).
_MAXIMUM = {"class lookup": 255.0, "bbl": 1.0}


@functools.cache
def _expected(wanted: str, defaultable: bool, scope: Scope) -> tuple[FieldSpec, ...]:
    """Return the fields a header of ``scope`` is expected to have (``wanted``: required or recommended)."""
    return tuple(spec for spec in FIELDS
                 if scope in getattr(spec, wanted) and (spec.key in ENVI_DEFAULTS) == defaultable)


def _filled(ctx: CheckContext, member: str, header: Header) -> frozenset[str]:
    """Return the keys of a header whose value is not empty, computed once per header (four rules ask)."""
    return ctx.memo("fields.filled-keys:" + member,
                    lambda: frozenset(key for key, _ in filled_entries(ctx, member, header)))


def _missing(ctx: CheckContext, wanted: str, defaultable: bool) -> Iterator[Problem]:
    for member, header, scope in headers(ctx):
        filled = _filled(ctx, member, header)
        for spec in _expected(wanted, defaultable, scope):
            if spec.key in filled:
                continue  # present, not empty: the common case, one set lookup
            entry = header.get(spec.key)
            if entry is None:
                yield Problem(f"{spec.key} is missing ({scope.value} header)", Location(member=member,
                                                                                    field=spec.key))
            elif not entry.value_raw.strip(" \t") and entry.items is None:  # items: a property, read last
                yield Problem(f"{spec.key} is empty ({scope.value} header)",
                              entry_location(member, header, entry))


@rule("FLD001", "fld-mandatory-field-missing", old_names=("mandatory-field-missing",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#mandatory-fields")
def mandatory_field_missing(ctx: CheckContext) -> Iterator[Problem]:
    """Every ENVI header has the fields mandatory in its scope (bands, lines, samples, data type, ...)."""
    yield from _missing(ctx, "required_in", defaultable=False)


@rule("FLD002", "fld-defaultable-field-missing", old_names=("defaultable-field-missing",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#envi-defaults", profiles={"reader": Severity.WARNING}, fix="safe")
def defaultable_field_missing(ctx: CheckContext) -> Iterator[Problem]:
    """Every ENVI header has `byte order` and `file type` (mandatory in D4.1, though ENVI has defaults)."""
    yield from _missing(ctx, "required_in", defaultable=True)


@rule("FLD003", "fld-recommended-field-missing", old_names=("recommended-field-missing",),
      severity=Severity.WARNING, level=Level.SEMANTICS,
      spec="semantics.md#recommended-fields")
def recommended_field_missing(ctx: CheckContext) -> Iterator[Problem]:
    """Headers have the fields recommended in their scope (wavelength in previews and references, units)."""
    yield from _missing(ctx, "recommended_in", defaultable=False)
    yield from _missing(ctx, "recommended_in", defaultable=True)


def _kind_problems(f: Field) -> Iterable[Problem]:
    # A list, not a generator, for the common case (nothing to report): ~50 fields per container run through here.
    kind, is_list = f.spec.kind, f.entry.is_list
    if kind in _SCALARS and is_list and f.key not in _TOLERATED_LIST:
        return [f.problem("a brace list where a single value is expected")]
    if kind in _LISTS and not is_list and f.key not in _TOLERATED_SCALAR:
        return [f.problem("a single value where a brace list is expected")]
    if (kind is Kind.INT or kind is Kind.FLOAT) and not is_list:
        try:
            f.typed_or_raise()
        except FieldValueError as exc:
            return [f.problem(exc.reason)]
        return ()
    if (kind is Kind.INT_LIST or kind is Kind.FLOAT_LIST) and is_list and not f.nested and f.numbers() is None:
        return capped(_item_problems(f))  # an item is not a number of the field's kind: find which
    return ()


def _item_problems(f: Field) -> Iterator[Problem]:
    for index, text in enumerate(f.entry.items or ()):
        try:
            if f.spec.kind is Kind.INT_LIST:
                parse_int(text, field=f.key, item=index)
            else:
                parse_float(text, field=f.key, item=index, nonfinite=f.spec.nonfinite)
        except FieldValueError as exc:
            yield f.problem(f"item {index}: {exc.reason}", index)


@rule("FLD004", "fld-value-kind-mismatch", old_names=("value-kind-mismatch",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#value-kinds")
def value_kind_mismatch(ctx: CheckContext) -> Iterator[Problem]:
    """Values have their field's kind: numbers where numbers are expected, lists only where lists are."""
    for f in fields(ctx):
        yield from _kind_problems(f)


@rule("FLD005", "fld-enum-value-invalid", old_names=("enum-value-invalid",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#enumerations")
def enum_value_invalid(ctx: CheckContext) -> Iterator[Problem]:
    """Every enumerated field (`data type`, `interleave`, `byte order`) holds an allowed value."""
    for f in fields(ctx, kinds=[Kind.ENUM]):
        if f.entry.is_list:
            continue  # FLD004
        try:
            f.typed_or_raise()  # parse_enum of the text (the value is a scalar), shared with FLD007
        except FieldValueError as exc:
            undefined = f.key == "data type" and f.entry.value_raw.strip(" \t") in _UNDEFINED_TYPES
            yield f.problem("code is not defined by ENVI" if undefined else exc.reason)


@rule("FLD006", "fld-file-type-invalid", old_names=("file-type-invalid",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#file-type", profiles={"reader": Severity.WARNING}, fix="safe")
def file_type_invalid(ctx: CheckContext) -> Iterator[Problem]:
    """`file type` is `ENVI Standard` in the root (`data.hdr`: or `JPEGXL`), an allowed type in Exploration/."""
    for f in fields(ctx, keys=["file type"]):
        if f.entry.is_list:
            continue  # FLD004
        allowed = EXPLORATION_FILE_TYPES if f.scope is Scope.EXPLORATION else ROOT_FILE_TYPES
        if f.member == CUBE_HEADER:
            allowed = (*allowed, *CUBE_FILE_TYPES)  # a compressed cube (spec/jpegxl.md#file-type)
        value = f.entry.value_raw.strip(" \t")
        if value not in allowed:
            names = ", ".join(repr(a) for a in allowed)
            yield f.problem(f"{value!r} in a {f.scope.value} header; expected {names} (case-sensitive)")


@rule("FLD007", "fld-data-type-non-portable", old_names=("data-type-non-portable",),
      severity=Severity.INFO, level=Level.SEMANTICS,
      spec="semantics.md#non-portable-data-types")
def data_type_non_portable(ctx: CheckContext) -> Iterator[Problem]:
    """Cube data types are readable everywhere (not complex 6/9 nor 64-bit integer 14/15)."""
    for f in fields(ctx, keys=["data type"]):
        value = f.typed()
        if value in _NON_PORTABLE:
            yield f.problem(f"{int(value)} ({_NON_PORTABLE[value]}) is not supported by many readers")


def _positive(ctx: CheckContext, f: Field, key: str) -> int | None:
    """Return :func:`positive_int` of another field of the header of ``f``, once per header (every list asks)."""
    return ctx.memo(f"fields.positive:{f.member}:{key}", lambda: positive_int(f.header, key))


def _expected_count(ctx: CheckContext, f: Field, rule_text: str) -> tuple[int, ...] | None:
    if rule_text in ("1|3", "2", "3"):
        return tuple(int(n) for n in rule_text.split("|"))
    base = _positive(ctx, f, "bands" if rule_text == "bands" else "classes")
    if base is None:
        return None
    return (3 * base,) if rule_text == "3*classes" else (base,)


@rule("FLD008", "fld-list-count-mismatch", old_names=("list-count-mismatch",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#counts")
def list_count_mismatch(ctx: CheckContext) -> Iterator[Problem]:
    """Per-band lists have `bands` values, class lists `classes` (3 x for `class lookup`), `default bands` 1 or 3."""
    for f in fields(ctx, kinds=_LISTS):
        if f.spec.count is None or not f.entry.is_list or f.nested:
            continue
        expected = _expected_count(ctx, f, f.spec.count)
        got = len(f.entry.items or ())
        if expected is not None and got not in expected:
            want = " or ".join(map(str, expected))
            yield f.problem(f"{got} values, expected {want} ({f.spec.count})")


def _numbers(f: Field, maximum: float | None) -> Iterable[tuple[int | None, float]]:
    """Return the numbers of a field that may be out of range (a scalar; a list's suspects; FLD004 has the rest)."""
    if not f.entry.is_list:
        typed = f.typed() if f.spec.kind is Kind.INT or f.spec.kind is Kind.FLOAT else None
        if isinstance(typed, float) or (isinstance(typed, int) and -_EXACT <= typed <= _EXACT):
            # FLD004 typed it already: the same number parse_float gives (a float exactly, an int that a double
            # holds exactly).
            return [(None, float(typed))]
        try:
            return [(None, parse_float(f.entry.value_raw, nonfinite=f.spec.nonfinite))]
        except FieldValueError:
            return ()  # FLD004
    array = f.numbers()
    if array is None:
        return _text_numbers(f)
    if isinstance(array, list) or len(array) <= SHORT_LIST:  # one comparison each beats numpy's fixed costs
        values = array if isinstance(array, list) else array.tolist()
        return [(i, values[i]) for i in _short_suspects(f.spec, values, maximum)]
    # One vectorised pass finds the items worth a look: no object per item.
    return ((i, float(array[i])) for i in np.flatnonzero(_suspects(f.spec, array, maximum)).tolist())


def _text_numbers(f: Field) -> Iterator[tuple[int | None, float]]:
    for index, text in enumerate(f.entry.items or ()):
        try:
            yield index, parse_float(text, nonfinite=f.spec.nonfinite)
        except FieldValueError:
            continue  # FLD004


def _short_suspects(spec: FieldSpec, values: list[float], maximum: float | None) -> list[int]:
    """Return the items :func:`_suspects` marks, for a short list of Python floats (same tests, same superset)."""
    low = -math.inf if spec.minimum is None else spec.minimum
    high = math.inf if maximum is None else maximum
    above = 0.0 if spec.positive else -math.inf
    bbl = spec.key == "bbl"
    # A finite sum means no NaN and no infinity (an overflowing sum only sends the list to the exact pass): then
    # the smallest and the largest value decide every bound, in C-level passes.
    if not bbl and values and math.isfinite(sum(values)):
        smallest, largest = min(values), max(values)
        if smallest > above and low <= smallest and largest <= high:
            return []
    # NaN fails every comparison; an infinity fails the strict bounds of finiteness.
    return [i for i, v in enumerate(values)
            if not (-math.inf < v < math.inf and v > above and low <= v <= high and (not bbl or v in (0.0, 1.0)))]


def _suspects(spec: FieldSpec, values: np.ndarray[Any, np.dtype[np.float64]], maximum: float | None
              ) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Mark every value :func:`_range_error` might object to (a superset: it has the last word)."""
    ok = np.isfinite(values)
    if spec.positive:
        ok &= values > 0
    if spec.minimum is not None:
        ok &= values >= spec.minimum
    if maximum is not None:
        ok &= values <= maximum
    if spec.key == "bbl":
        ok &= (values == 0) | (values == 1)
    suspects: np.ndarray[Any, np.dtype[np.bool_]] = ~ok
    return suspects


#: Numeric fields with no bound of any kind (not positive, no minimum, no maximum, not ``bbl``): nothing is out of
#: their range, not even NaN (:func:`_range_error` tests only bounds).
_UNBOUNDED = frozenset(spec.key for spec in FIELDS
                       if spec.kind in _NUMERIC and not spec.positive and spec.minimum is None
                       and spec.key not in _MAXIMUM and spec.key not in ("bbl", "default bands"))


def _range_error(spec: FieldSpec, value: float, maximum: float | None) -> str | None:
    if spec.positive and not value > 0:
        return f"{value:g} is not > 0"
    if spec.minimum is not None and value < spec.minimum:
        return f"{value:g} is below {spec.minimum:g}"
    if maximum is not None and value > maximum:
        return f"{value:g} is above {maximum:g}"
    if spec.key == "bbl" and value not in (0.0, 1.0):
        return f"{value:g} is neither 0 (bad band) nor 1 (good band)"
    return None


@rule("FLD009", "fld-value-out-of-range", old_names=("value-out-of-range",),
      severity=Severity.ERROR, level=Level.SEMANTICS,
      spec="semantics.md#ranges")
def value_out_of_range(ctx: CheckContext) -> Iterator[Problem]:
    """Numbers are within their field's range (dimensions > 0, wavelength > 0, default bands in 1..bands, ...)."""
    for f in fields(ctx, kinds=_NUMERIC):
        spec = f.spec
        key = spec.key
        if key in _UNBOUNDED:
            continue  # no bound: _range_error finds nothing whatever the numbers
        is_list = f.entry.is_list
        if (is_list != (spec.kind in _LISTS) and key not in _TOLERATED) or f.nested:
            continue
        maximum = _positive(ctx, f, "bands") if key == "default bands" else _MAXIMUM.get(key)
        if not is_list and (spec.kind is Kind.INT or spec.kind is Kind.FLOAT):
            typed = f.typed()  # the common scalar, typed by FLD004 already (what _numbers returns for it)
            if isinstance(typed, float) or (isinstance(typed, int) and -_EXACT <= typed <= _EXACT):
                msg = _range_error(spec, float(typed), maximum)
                if msg is not None:
                    yield f.problem(msg)
                continue
        found = 0
        for i, v in _numbers(f, maximum):
            msg = _range_error(f.spec, v, maximum)
            if msg is not None:
                yield f.problem(msg if i is None else f"item {i}: {msg}", i)
                found += 1
                if found == MAX_ITEM_FINDINGS:  # a hostile list may have a million bad items
                    break
