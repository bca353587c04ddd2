"""Strict typed values: ASCII decimal numbers only, NaN/inf only where the field allows, ISO dates of spec 2.7."""

from __future__ import annotations

import datetime
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsi_conform import parse_header
from hsi_conform.errors import FieldValueError
from hsi_conform.fields import ByteOrder, DataType, Interleave, Kind, field_spec
from hsi_conform.header.lists import split_list
from hsi_conform.header.model import Header
from hsi_conform.header.values import (
    _typed_number_text,
    check_number_items,
    parse_date,
    parse_enum,
    parse_float,
    parse_int,
)
from tests.unit.header.test_edge_cases import hdr, value_error

# -- integers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("0", 0), ("12", 12), (" 12 ", 12), ("\t12\t", 12), ("+3", 3), ("-7", -7), ("007", 7),
    ("123456789012345678901234567890", 123456789012345678901234567890),
])
def test_int_accepts(text: str, expected: int) -> None:
    assert parse_int(text) == expected


@pytest.mark.parametrize("text", [
    "", " ", "٤", "١٢", "１２", "²", "1_0", "0x10", "0o7", "0b1", "1e3", "2.0", "2.", "+", "-", "++1", "1 2",
    "2 pixels", "nan", "inf", "12\n", "\u00a012", "1,000",
])
def test_int_rejects(text: str) -> None:
    with pytest.raises(FieldValueError) as info:
        parse_int(text, field="samples", item=4)
    assert (info.value.field, info.value.item) == ("samples", 4)


def test_python_int_is_more_lenient_than_ours() -> None:
    # The reason for strict parsing: each of these is a Python int, none is an ENVI number.
    for text in ("٤", "1_0", " 12\n", "１２"):
        int(text)
        with pytest.raises(FieldValueError):
            parse_int(text)


@given(st.integers())
def test_int_round_trips_every_integer(n: int) -> None:
    assert parse_int(str(n)) == n


# -- floats ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("1", 1.0), ("1.", 1.0), (".5", 0.5), ("-0.5", -0.5), ("+2.5", 2.5), ("1e3", 1000.0), ("1E+3", 1000.0),
    ("2.5e-3", 0.0025), ("3.0000000000e+001", 30.0), (" 241.000000 ", 241.0), ("-9.999e+03", -9999.0),
    ("1e-400", 0.0),
])
def test_float_accepts(text: str, expected: float) -> None:
    assert parse_float(text) == expected


@pytest.mark.parametrize("text", [
    "", ".", "e3", "1e", "1e+", "1.2.3", "1_0.5", "٤.5", "0x1p3", "1,5", "nan", "NaN", "inf", "-inf",
    "infinity", "1e999", "-1e999", "1 e3", "5 nm",
])
def test_float_rejects_by_default(text: str) -> None:
    with pytest.raises(FieldValueError):
        parse_float(text)


@pytest.mark.parametrize("text", ["nan", "NaN", "NAN", "-nan", "inf", "+inf", "-inf", "Infinity", "-INFINITY"])
def test_nonfinite_only_when_allowed(text: str) -> None:
    value = parse_float(text, nonfinite=True)
    assert math.isnan(value) or math.isinf(value)
    with pytest.raises(FieldValueError):
        parse_float(text)


def test_overflow_with_nonfinite_allowed_becomes_infinity() -> None:
    # Questionable but documented here: a literal that overflows a double reads as inf when inf is allowed.
    assert parse_float("1e999", nonfinite=True) == math.inf


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_round_trips_repr(x: float) -> None:
    assert parse_float(repr(x)) == x


# -- fields: the field table decides ----------------------------------------------------------------------


def test_nan_allowed_in_data_ignore_value_only() -> None:
    assert field_spec("data ignore value").nonfinite
    assert math.isnan(parse_header(hdr("data ignore value = nan\n")).value("data ignore value"))
    for key in ("reflectance scale factor", "temperature"):
        assert not field_spec(key).nonfinite
        value_error(hdr(f"{key} = nan\n"), key)
    assert value_error(hdr("wavelength = {400, NaN, 600}\n"), "wavelength").item == 1
    assert value_error(hdr("fwhm = {1, 2, 1e999}\n"), "fwhm").item == 2


@pytest.mark.parametrize(("key", "text", "expected"), [
    ("samples", "2", 2),
    ("header offset", "0", 0),
    ("x start", "-3", -3),
    ("classes", "4", 4),
    ("reflectance scale factor", "10000", 10000.0),
    ("temperature", "-12.5", -12.5),
    ("data type", "12", DataType.UINT16),
    ("byte order", "1", ByteOrder.BIG),
    ("interleave", "BIP", Interleave.BIP),
    ("wavelength", "{400, 5e2, .6e3}", (400.0, 500.0, 600.0)),
    ("default bands", "{+1, 2, 3}", (1, 2, 3)),
    ("class lookup", "{0, 0, 0, 255, 0, 0}", (0, 0, 0, 255, 0, 0)),
    ("band names", "{a b, c}", ("a b", "c")),
    ("file type", "ENVI Standard", "ENVI Standard"),
    ("description", "{x, y}", "x, y"),
    ("classification file", "Exploration/classes", "Exploration/classes"),
    ("custom field", "{1, 2}", ("1", "2")),
    ("custom field", "1, 2", "1, 2"),
])
def test_typed_value(key: str, text: str, expected: object) -> None:
    assert parse_header(f"ENVI\n{key} = {text}\n").value(key) == expected


@pytest.mark.parametrize(("key", "text", "item"), [
    ("samples", "{2}", None),
    ("samples", "٢", None),
    ("bands", "1_0", None),
    ("lines", "0x10", None),
    ("wavelength", "{400, ٥00}", 1),
    ("default bands", "{1, 2.0, 3}", 1),
    ("class lookup", "{0, 0, x}", 2),
    ("band names", "a", None),
    ("data type", "{4}", None),
    ("data type", "4.0", None),
    ("byte order", "-0", None),
    ("interleave", "bsq2", None),
    ("wavelength", "{1, 2", None),
])
def test_typed_value_refused(key: str, text: str, item: int | None) -> None:
    assert value_error(f"ENVI\n{key} = {text}\n".encode(), key).item == item


def test_parse_enum_directly() -> None:
    assert parse_enum(" bil ", field_spec("interleave")) is Interleave.BIL
    assert parse_enum("5", field_spec("data type")) is DataType.FLOAT64
    with pytest.raises(FieldValueError):
        parse_enum("BIG", field_spec("byte order"))


# -- dates (spec 2.7) --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "2019-01-29",                       # YYYY-MM-DD
    "2009-08-20T09:44:50",              # date-time (the fraction and Z are optional in ISO 8601)
    "2009-08-20T09:44:50.5Z",           # YYYY-MM-DDTHH:MM:SS.DZ
    "2009-08-20T09:44:50.123456789Z",
    "2009-08-20T09:44:50Z",
    "2009-08-20T09:44:50.5+02:00",
    "2009-08-20T09:44:50:5+01:30",      # the spec's literal third form YYYY-MM-DDTHH:MM:SS:Dooo:mm
    "2009-08-20T09:44:50:5-03",         # ... the minutes are optional
    "2008-02-29",
    " 2019-01-29 ",
])
def test_date_accepts(text: str) -> None:
    assert parse_date(text) == text.strip()


@pytest.mark.parametrize("text", [
    "DATE(yyyy-mm-dd): 2019-01-29",     # Specim Lumo
    "18-08-2022",                       # Specim IQ (DD-MM-YYYY)
    "2019/01/29",
    "20190129",
    "2019-1-29",
    "2019-13-01",
    "2019-00-10",
    "2019-01-32",
    "2019-02-30",
    "2009-02-29",
    "2009-08-20T24:00:00",
    "2009-08-20T09:60:00",
    "2009-08-20 09:44:50",
    "2009-08-20t09:44:50",
    "2009-08-20T09:44",
    "2009-08-20T09:44:50.Z",
    "٢٠١٩-01-29",
    "",
])
def test_date_rejects(text: str) -> None:
    with pytest.raises(FieldValueError) as info:
        parse_date(text)
    assert info.value.field == "acquisition time"


def test_acquisition_time_field() -> None:
    assert parse_header(hdr("acquisition time = 2009-08-20T09:44:50.5Z\n")).value("acquisition time") == \
        "2009-08-20T09:44:50.5Z"
    value_error(hdr("acquisition time = DATE(yyyy-mm-dd): 2019-01-29\n"), "acquisition time")
    value_error(hdr("acquisition time = {2019-01-29}\n"), "acquisition time")


@settings(max_examples=100)
@given(st.dates(), st.booleans())
def test_every_calendar_date_is_accepted(day: datetime.date, with_time: bool) -> None:
    text = f"{day.isoformat()}T12:00:00Z" if with_time else day.isoformat()
    assert parse_date(text) == text


# -- typed scalars kept for the next header ------------------------------------------------------------------


def test_a_kept_scalar_is_the_value_of_its_own_field_and_failures_are_never_kept() -> None:
    from hsi_conform.header.values import _typed_scalar, typed_scalar

    for _ in range(2):  # the second round reads what the first kept
        assert typed_scalar("4", field_spec("data type")) is DataType(4)
        assert typed_scalar("4", field_spec("bands")) == 4 and type(typed_scalar("4", field_spec("bands"))) is int
        for key, text in [("samples", " 12 "), ("reflectance scale factor", "1e4"), ("interleave", "BIL"),
                          ("acquisition time", "2024-05-01T10:00:00Z"), ("description", "4")]:
            assert typed_scalar(text, field_spec(key)) == _typed_scalar(text, field_spec(key))
        with pytest.raises(FieldValueError):
            typed_scalar("x", field_spec("bands"))
    with pytest.raises(FieldValueError):
        typed_scalar("4", field_spec("byte order"))


def test_a_header_value_read_twice_is_the_same_after_other_headers() -> None:
    first = parse_header(b"ENVI\nsamples = 5\nlines = 3\nbands = 2\ndata type = 12\nbyte order = 1\ninterleave = bsq\n")
    other = parse_header(b"ENVI\nsamples = 7\nlines = 3\nbands = 2\ndata type = 4\nbyte order = 0\ninterleave = bip\n")
    for _ in range(2):
        assert (first.value("samples"), first.value("data type"), first.value("interleave")) == (
            5, DataType(12), Interleave.BSQ)
        assert (other.value("samples"), other.value("data type"), other.value("byte order")) == (
            7, DataType(4), ByteOrder(0))


# -- numeric lists typed from their text (spec/header-syntax.md#typed-lists) -------------------------------------

_NUMBERISH = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-10**30, 10**30).map(str),
    st.text("0123456789+-.eE", max_size=8),  # mostly not numbers: the exact path must refuse what the fast one does
    st.sampled_from(["1e999", "-1e400", "1.", ".5", "+.5e-3", "1.e5", "", "007", "1e", "e5", ".", "1_0", "nan",
                     "٤", "1;2", "{1}", "9" * 4301]),
)
_BLANK = st.sampled_from(["", " ", "  ", "\t", "\n", "\r\n", "\n  ", "\x0b", "\u00a0"])


def _exact_list(inner: str, key: str) -> tuple[object, ...] | None:
    """The item-by-item typing of a closed numeric list (split, check each item, convert), or None if refused."""
    spec = field_spec(key)
    items = split_list(inner).items
    try:
        check_number_items(items, spec)
    except FieldValueError:
        return None
    return tuple(map(int if spec.kind is Kind.INT_LIST else float, items))


@settings(max_examples=400, deadline=None)
@given(items=st.lists(st.tuples(_BLANK, _NUMBERISH, _BLANK), max_size=12), trailing=st.booleans(),
       key=st.sampled_from(["wavelength", "fwhm", "default bands", "class lookup", "bbl"]))
def test_numeric_list_from_its_text_equals_the_item_by_item_typing(
        items: list[tuple[str, str, str]], trailing: bool, key: str) -> None:
    inner = ",".join(a + text + b for a, text, b in items) + ("," if trailing else "")
    expected = _exact_list(inner, key)
    fast = _typed_number_text("{" + inner + "}", field_spec(key))
    if fast is not None:  # the same numbers of the same types, -0.0 included; never a list the exact path refuses
        assert expected is not None
        assert [(type(v), repr(v)) for v in fast] == [(type(v), repr(v)) for v in expected]
    # Through the model: the typed value (or its refusal) is the exact path's, on both parser paths.
    for fast_path in (True, False):
        header = Header.from_text(f"ENVI\n{key} = {{{inner}}}\n", fast=fast_path)
        if expected is None:
            with pytest.raises(FieldValueError):
                header.value(key)
        else:
            got = header.value(key)
            assert [(type(v), repr(v)) for v in got] == [(type(v), repr(v)) for v in expected]


def test_numeric_list_from_text_declines_what_it_cannot_judge() -> None:
    wavelength, bands = field_spec("wavelength"), field_spec("default bands")
    assert _typed_number_text("{400, 5e2, .6e3}", wavelength) == (400.0, 500.0, 600.0)
    assert _typed_number_text("{ 1,\n 2 }", bands) == (1, 2)
    for raw in ["{1, 2,}", "{}", "{1,,2}", "{1, nan}", "{1e999}", "{1, 2.0}", "{1 2}", "{1\n;c\n,2}", "{1, ٤}"]:
        assert _typed_number_text(raw, wavelength if raw != "{1, 2.0}" else bands) is None, raw
    assert _typed_number_text("{1e308, 1e308}", wavelength) == (1e308, 1e308)  # the sum overflows, no item does
    assert _typed_number_text("{" + "1" * 4301 + "}", bands) is None
