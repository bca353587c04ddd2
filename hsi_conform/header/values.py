"""Strict typed value parsers (one ``parse_<kind>`` per value kind of :mod:`hsi_conform.fields`).

Numbers are ASCII only: Python's ``int('٤')`` is 4, ``int('1_0')`` is 10 and ``float('nan')`` is NaN, and none
of that is an ENVI number (spec/header-syntax.md#numbers).
"""

from __future__ import annotations

import collections
import datetime
import math
import re
from collections.abc import Sequence
from typing import Any

from hsi_conform.errors import FieldValueError
from hsi_conform.fields import ByteOrder, DataType, FieldSpec, Interleave, Kind
from hsi_conform.header.nodes import Entry

INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
NONFINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.ASCII | re.IGNORECASE)
_YMD = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_HMS = r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_ZONE = r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)"
# The spec's third form, `YYYY-MM-DDTHH:MM:SS:Dooo:mm`, copied from NV5: decimal after a colon, then offset.
_SPEC_OFFSET = r":[0-9]+[+-]?[0-9]{2,3}(?::[0-9]{2})?"
#: The forms of spec 2.7 (spec/fields.md#acquisition-time): a date, or a date-time with optional decimal
#: seconds and an optional zone (``Z`` or an offset), or the spec's literal third form.
DATE = re.compile(rf"{_YMD}(?:{_HMS}(?:(?:\.[0-9]+)?{_ZONE}?|{_SPEC_OFFSET}))?", re.ASCII)
#: The most digits an integer may have: Python's default ``int()`` limit (``sys.int_info.default_max_str_digits``),
#: fixed here so that neither the interpreter's setting nor a hostile header decides (spec/header-syntax.md#limits).
MAX_INT_DIGITS = 4300
# The only characters of INTEGER and FLOAT texts. When every item of a list consists of them, int() and float()
# accept exactly the items the expressions match (they add underscores, other digits, blanks and nan/inf, none of
# which can occur then), so a list of a million numbers is checked in C-level passes (spec/header-syntax.md#limits).
_INT_BYTES = b"0123456789+-"
_FLOAT_BYTES = _INT_BYTES + b".eE"


def parse_int(text: str, *, field: str = "", item: int | None = None) -> int:
    """Parse an ASCII decimal integer (blanks around it allowed).

    Raises:
        FieldValueError: anything else, including ``2.0``, ``1_0``, ``٤``, the empty string and integers of more
            than :data:`MAX_INT_DIGITS` digits.
    """
    t = text.strip(" \t")
    if not INTEGER.fullmatch(t):
        raise FieldValueError(field, item, f"{text!r} is not a decimal integer")
    digits = len(t) - (t[0] in "+-")
    if digits > MAX_INT_DIGITS:  # int() would raise ValueError, or with the limit lifted take quadratic time
        raise FieldValueError(field, item, f"an integer of {digits} digits (more than {MAX_INT_DIGITS})")
    return int(t)


def parse_float(text: str, *, field: str = "", item: int | None = None, nonfinite: bool = False) -> float:
    """Parse an ASCII decimal number; NaN and infinities only when ``nonfinite`` is set.

    Raises:
        FieldValueError: not a decimal number, or not finite when that is not allowed (``1e999``).
    """
    t = text.strip(" \t")
    if FLOAT.fullmatch(t):
        value = float(t)
        if math.isfinite(value) or nonfinite:
            return value
        raise FieldValueError(field, item, f"{text!r} overflows a double")
    if nonfinite and NONFINITE.fullmatch(t):
        return float(t)
    raise FieldValueError(field, item, f"{text!r} is not a decimal number")


def parse_date(text: str, *, field: str = "acquisition time") -> str:
    """Check an ``acquisition time`` against the forms of spec 2.7 and return it (blanks trimmed).

    Raises:
        FieldValueError: the text is not one of the forms.
    """
    t = text.strip(" \t")
    if not DATE.fullmatch(t):
        raise FieldValueError(field, None, f"{text!r} is not YYYY-MM-DD[THH:MM:SS...]")
    try:
        datetime.date(int(t[0:4]), int(t[5:7]), int(t[8:10]))
    except ValueError:
        raise FieldValueError(field, None, f"{text!r} is not a calendar date") from None
    return t


def parse_enum(text: str, spec: FieldSpec) -> DataType | Interleave | ByteOrder | str:
    """Parse an enumerated field (``data type``, ``byte order`` exactly; ``interleave`` case-insensitively).

    Raises:
        FieldValueError: the value is not allowed.
    """
    t = text.strip(" \t")
    if spec.key == "interleave":
        t = t.lower()
    if t not in spec.allowed:
        raise FieldValueError(spec.key, None, f"{text!r} is not one of {', '.join(spec.allowed)}")
    if spec.key == "data type":
        return DataType(int(t))
    if spec.key == "byte order":
        return ByteOrder(int(t))
    if spec.key == "interleave":
        return Interleave(t)
    return t


#: The kinds of :attr:`FieldSpec.is_list` (a property: a set look-up per typed value costs less).
_LIST_KINDS = frozenset(kind for kind in Kind if FieldSpec(key="", kind=kind, section="", summary="").is_list)


def typed_value(entry: Entry, spec: FieldSpec) -> Any:
    """Return the typed value of an entry according to its field spec.

    Raises:
        FieldValueError: the value does not have the field's kind (a list where a scalar is expected, a
            non-number, an unknown enumeration value, ...).
    """
    kind = spec.kind
    if kind in _LIST_KINDS:
        return _typed_list(entry, spec)
    if kind is Kind.ANY:
        return entry.value
    if kind is Kind.TEXT:
        # Line ends inside free text read as LF whatever the file uses (universal newlines, as SPy reads it).
        text = entry.items[0] if entry.items else entry.value_raw
        return text.replace("\r\n", "\n").replace("\r", "\n")
    if entry.is_list:
        raise FieldValueError(spec.key, None, "a brace list where a single value is expected")
    return typed_scalar(entry.value_raw, spec)


#: Typed scalars by field spec (its identity, the spec kept with the value) and value text. A batch reads the same
#: few layout and acquisition values from every header of every input; each value is immutable (a number, an
#: enumeration member, a text), so the same text of the same field gives the same object. Failures are not kept.
_SCALARS: dict[tuple[int, str], tuple[FieldSpec, Any]] = {}
_MAX_SCALARS = 4096
_MAX_KEPT_TEXT = 64


def typed_scalar(raw: str, spec: FieldSpec) -> Any:
    """Return the typed value of a scalar entry's value text (what :func:`typed_value` returns for its entry).

    Raises:
        FieldValueError: the field is a list, or the value does not have the field's kind.
    """
    key = (id(spec), raw)
    hit = _SCALARS.get(key)
    if hit is not None and hit[0] is spec:
        return hit[1]
    value = _typed_scalar(raw, spec)
    if len(raw) > _MAX_KEPT_TEXT or spec.kind in (Kind.ANY, Kind.TEXT):
        return value  # free text is returned as it is (nothing to save), a long text is not kept alive
    if len(_SCALARS) >= _MAX_SCALARS:
        _SCALARS.clear()
    _SCALARS[key] = (spec, value)
    return value


def _typed_scalar(raw: str, spec: FieldSpec) -> Any:
    kind = spec.kind
    if kind is Kind.ANY:
        return raw
    if kind is Kind.TEXT:
        return raw.replace("\r\n", "\n").replace("\r", "\n")
    if kind in _LIST_KINDS:
        raise FieldValueError(spec.key, None, "a single value where a brace list is expected")
    if kind is Kind.INT:
        return parse_int(raw, field=spec.key)
    if kind is Kind.FLOAT:
        return parse_float(raw, field=spec.key, nonfinite=spec.nonfinite)
    if kind is Kind.ENUM:
        return parse_enum(raw, spec)
    if kind is Kind.DATE:
        return parse_date(raw, field=spec.key)
    return raw


def _typed_list(entry: Entry, spec: FieldSpec) -> tuple[Any, ...]:
    if spec.kind in _NUMBER_LISTS and entry.is_list and entry.closed:
        typed = _typed_number_text(entry.value_raw, spec)
        if typed is not None:
            return typed
    if entry.items is None:
        raise FieldValueError(spec.key, None, "a single value where a brace list is expected")
    if not entry.closed:
        raise FieldValueError(spec.key, None, "the list is not closed")
    if spec.kind in (Kind.INT_LIST, Kind.FLOAT_LIST):
        check_number_items(entry.items, spec)
        return tuple(map(int if spec.kind is Kind.INT_LIST else float, entry.items))
    return entry.items


_NUMBER_LISTS = (Kind.INT_LIST, Kind.FLOAT_LIST)
# What a list of plain numbers may hold besides its numbers: commas and the blanks list.split_list strips (the only
# blanks int() and float() strip that these bytes let through).
_LIST_BLANKS = b", \t\r\n"
_INT_LIST_BYTES = _INT_BYTES + _LIST_BLANKS
_FLOAT_LIST_BYTES = _FLOAT_BYTES + _LIST_BLANKS


def _typed_number_text(raw: str, spec: FieldSpec) -> tuple[int, ...] | tuple[float, ...] | None:
    """Return a closed numeric list typed from its text in C-level passes, or ``None`` (the exact path decides).

    spec/header-syntax.md#typed-lists: when the text between the braces holds only digits, signs, ``.``, ``e``,
    ``E`` (not for integers), commas and the blanks around items, ``int()``/``float()`` of each comma-separated
    piece accept exactly the pieces :func:`parse_int`/:func:`parse_float` accept, and return the same numbers
    (the blanks they strip are the ones the item split strips). Anything else (an empty item, a trailing comma,
    an item refused or out of range, a comment, a nested brace, a very long integer) returns ``None``: the item
    by item path then types or refuses it, with its item index.
    """
    inner = raw[1:-1]
    if raw[:1] != "{" or raw[-1:] != "}" or not inner.isascii():
        return None
    integers = spec.kind is Kind.INT_LIST
    if inner.encode("ascii").translate(None, _INT_LIST_BYTES if integers else _FLOAT_LIST_BYTES):
        return None
    pieces = inner.split(",")
    if integers and len(inner) > MAX_INT_DIGITS and max(map(len, pieces)) > MAX_INT_DIGITS:
        return None  # int() would refuse it, or with Python's digit limit lifted accept it: parse_int refuses
    try:
        if integers:
            return tuple(map(int, pieces))
        values = tuple(map(float, pieces))
    except ValueError:
        return None
    # A finite sum means no NaN and no infinity (1e999 is infinity); a sum that overflows is judged item by item.
    if spec.nonfinite or math.isfinite(sum(values)) or all(map(math.isfinite, values)):
        return values
    return None


def check_number_items(items: Sequence[str], spec: FieldSpec) -> None:
    """Check that every item of a numeric list parses as :func:`parse_int` or :func:`parse_float` parses it.

    Linear in the size of the list, and in C-level passes when every item is a plain decimal number; only a list
    with another item is parsed item by item, up to the first bad one. Items are list items as the header model
    splits them (blanks around each removed).

    Raises:
        FieldValueError: the first item that is not a number of the field's kind.
    """
    integers = spec.kind is Kind.INT_LIST
    if _plain_numbers(items, integers=integers, nonfinite=spec.nonfinite):
        return
    for index, text in enumerate(items):
        if integers:
            parse_int(text, field=spec.key, item=index)
        else:
            parse_float(text, field=spec.key, item=index, nonfinite=spec.nonfinite)


def plain_number_items(items: Sequence[str], *, integers: bool) -> bool:
    """Whether every item consists of the characters of a decimal number only (a C-level pre-check).

    When it does, ``float()`` accepts an item exactly when :func:`parse_float` would, and for integers exactly when
    :func:`parse_int` would (signs and digits only, at most :data:`MAX_INT_DIGITS` characters); when it does not,
    only the item-by-item parse can tell.

    Args:
        items: List items as the header model splits them (blanks around each removed).
        integers: Judge them as integers (no ``.`` and no exponent).
    """
    joined = "\x00".join(items)  # one C-level scan of every character instead of a regular expression per item
    allowed = (_INT_BYTES if integers else _FLOAT_BYTES) + b"\x00"
    if not joined.isascii() or joined.encode("ascii").translate(None, allowed):
        return False
    # A longer integer: int() would refuse it, or with Python's limit lifted take quadratic time.
    return not integers or max(map(len, items), default=0) <= MAX_INT_DIGITS


def _plain_numbers(items: Sequence[str], *, integers: bool, nonfinite: bool) -> bool:
    if not plain_number_items(items, integers=integers):
        return False
    floats = map(float, items)
    try:
        if integers or nonfinite:
            collections.deque(floats, maxlen=0)
            return True
        return all(map(math.isfinite, floats))
    except ValueError:  # "1e", "+-", "", a NUL inside an item: the item-by-item parse says which and why
        return False
