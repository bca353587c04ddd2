"""Shared helpers of the ``FLD`` rules: walk the known fields of every ENVI header, type values, locate findings.

Decisions that apply to every ``FLD`` rule (spec/semantics.md#scope-of-field-rules):

- only fields of the table (:data:`hsi_conform.fields.FIELDS`) are judged; D4.1 §2.8 allows any other field;
- the last entry of a duplicated key is judged (as SPy and GDAL read it; ``HDR017`` reports the duplicate);
- an empty value means "unknown" (``HDR032``): it is judged as absent;
- a list whose braces never close is reported by ``HDR024`` and not judged again here.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

import numpy as np

from hsi_conform.errors import FieldValueError
from hsi_conform.fields import BY_KEY, FieldSpec, Kind, Scope
from hsi_conform.finding import Location, Problem
from hsi_conform.header import Header
from hsi_conform.header.model import Entry, Span
from hsi_conform.header.values import check_number_items, plain_number_items, typed_value
from hsi_conform.rules.context import CheckContext, entry_location, span_location

#: Lists up to this long are converted and judged item by item in Python; longer ones by numpy, in C-level passes
#: (spec/safety.md#limits): below it, numpy's fixed cost per call is more than the work.
SHORT_LIST = 64

#: Per entry, at most this many item findings are reported (a hostile list may have a million bad items).
MAX_ITEM_FINDINGS = 20

#: ENVI's defaults for mandatory fields a reader can do without (header edge cases E65, E69, E70,
#: spec/header-syntax.md#edge-cases; the field table has no ``default`` property yet): spec/semantics.md#envi-defaults
#: and spec/semantics.md#header-offset.
ENVI_DEFAULTS: dict[str, str] = {"byte order": "0", "file type": "ENVI Standard", "header offset": "0"}

T = TypeVar("T")


_UNTYPED: Any = object()

#: The numbers of a list field: a float64 array, or Python floats for a short list (:meth:`Field.numbers`).
Numbers: TypeAlias = "list[float] | np.ndarray[Any, np.dtype[np.float64]]"


@dataclass(frozen=True, slots=True)
class _Failed:
    """Why a field's value could not be typed (kept to be raised again)."""

    error: Exception


@dataclass(slots=True)
class Field:
    """A known field of one ENVI header of the container."""

    member: str
    header: Header
    entry: Entry
    spec: FieldSpec
    scope: Scope
    _spans: list[Span] | None = field(default=None, repr=False, compare=False)
    # Computed once per field, not once per rule: a hostile list has millions of items (spec/safety.md#limits).
    _nested: bool | None = field(default=None, repr=False, compare=False)
    _numbers: Numbers | None = field(default=None, repr=False, compare=False)
    _numbers_done: bool = field(default=False, repr=False, compare=False)
    _typed: Any = field(default=_UNTYPED, repr=False, compare=False)

    @property
    def key(self) -> str:
        """The normalised key."""
        return self.spec.key

    def at(self, item: int | None = None) -> Location:
        """Return the location of the value, or of one of its list items (item spans computed once)."""
        if item is None:
            return entry_location(self.member, self.header, self.entry)
        if self._spans is None:
            self._spans = self.entry.item_spans()
        span = self._spans[item] if 0 <= item < len(self._spans) else self.entry.value_span
        if span.start == span.end:
            span = self.entry.key_span
        return span_location(self.member, self.header, span, field=self.entry.key, item=item)

    def problem(self, message: str, item: int | None = None) -> Problem:
        """Return a problem located at the value (or item), its message prefixed with the field name."""
        return Problem(f"{self.key}: {message}", self.at(item))

    @property
    def nested(self) -> bool:
        """Whether a list item holds braces (a nested list)."""
        if self._nested is None:
            # No brace inside the outer ones (one C-level search) means no item holds one: the items (a property
            # that may split the list) are read only when there is one.
            inner = self.entry.value_raw[1:-1]
            if ("{" not in inner and "}" not in inner) or self.entry.opaque:
                self._nested = False
            else:
                items = self.entry.items
                self._nested = bool(items) and any("{" in t or "}" in t for t in items or ())
        return self._nested

    def numbers(self) -> Numbers | None:
        """Return the items of a numeric list as float64 (integers too), or None.

        None when the field is not an ``int`` or ``float`` list, or an item is not a number of its kind (FLD004
        reports it). Checked and converted in C-level passes, once per field, in 8 bytes per item. A list of up to
        :data:`SHORT_LIST` plain items comes as a list of Python floats (the rules judge such a list item by item:
        an array would be converted back).
        """
        if not self._numbers_done:
            self._numbers_done = True
            items = self.entry.items
            if self.spec.kind in (Kind.INT_LIST, Kind.FLOAT_LIST) and items is not None and self.entry.closed:
                self._numbers = self._convert(items)
        return self._numbers

    def _convert(self, items: tuple[str, ...]) -> Numbers | None:
        integers = self.spec.kind is Kind.INT_LIST
        plain = plain_number_items(items, integers=integers)
        if plain and len(items) <= SHORT_LIST:
            # A few items (a header's lists, mostly): Python floats and one array beat numpy's per-call costs.
            with contextlib.suppress(ValueError):
                floats = list(map(float, items))
                if integers or self.spec.nonfinite or all(map(math.isfinite, floats)):
                    return floats
        elif plain:  # the common case: one conversion pass, no re-check
            with contextlib.suppress(ValueError):
                values = np.fromiter(map(float, items), np.float64, count=len(items))
                if integers or self.spec.nonfinite or bool(np.isfinite(values).all()):
                    return values
        try:  # odd items (nan where allowed, a bad one): the exact item-by-item judgement decides
            check_number_items(items, self.spec)
        except FieldValueError:
            return None
        return np.fromiter(map(float, items), np.float64, count=len(items))

    def typed_or_raise(self) -> Any:
        """Return the typed value (typed once per field: FLD004, FLD005 and FLD007 ask for the same ones).

        Raises:
            FieldValueError: the value does not have the field's kind.
        """
        if self._typed is _UNTYPED:
            try:
                self._typed = typed_value(self.entry, self.spec)
            except (FieldValueError, ValueError) as exc:
                self._typed = _Failed(exc)
        if isinstance(self._typed, _Failed):
            raise self._typed.error
        return self._typed

    def typed(self) -> Any:
        """Return the typed value, or None when it does not have the field's kind."""
        try:
            return self.typed_or_raise()
        except (FieldValueError, ValueError):
            return None


def is_unknown(entry: Entry) -> bool:
    """Whether an entry's value is empty (``key =``), which means "unknown"."""
    # The text first: ``items`` is a property that may split a list, and an empty text is rare.
    return entry.value_raw.strip(" \t") == "" and entry.items is None


def headers(ctx: CheckContext) -> Iterator[tuple[str, Header, Scope]]:
    """Yield ``(member, header, scope)`` for every ENVI header of the container that parsed (found once)."""
    return iter(ctx.shared(_parsed_headers))


def _parsed_headers(ctx: CheckContext) -> tuple[tuple[str, Header, Scope], ...]:
    parsed = ((pair, ctx.header(pair.header)) for pair in ctx.envi_pairs())
    return tuple((pair.header, header, pair.scope) for pair, header in parsed if header is not None)


def filled_entries(ctx: CheckContext, member: str, header: Header) -> tuple[tuple[str, Entry], ...]:
    """Return ``(key, entry)`` of every key of a header whose value is not empty, in file order.

    The entry is the judged one (:func:`present`). Found once per header: the presence rules (FLD001-FLD003) and
    the walk of the known fields read the same entries.
    """
    return ctx.memo("fields.filled:" + member, lambda: tuple(_filled_entries(header)))


def _filled_entries(header: Header) -> Iterator[tuple[str, Entry]]:
    for key, entry in header.items():  # every entry is read: built in one pass, not looked up one by one
        if not is_unknown(entry):
            yield key, entry


def present(header: Header, key: str) -> Entry | None:
    """Return the judged entry of a key: the last one, or None when absent or empty."""
    entry = header.get(key)
    return None if entry is None or is_unknown(entry) else entry


def fields(ctx: CheckContext, kinds: Iterable[Kind] | None = None, keys: Iterable[str] | None = None
           ) -> Iterator[Field]:
    """Yield every judged known field of every header, optionally only of some kinds or keys."""
    every = ctx.shared(_all_fields)
    if kinds is None and keys is None:
        return iter(every)
    # About a hundred rules ask for a few keys or kinds each, most for none that this container has: each choice
    # is made once per context, from an index of the fields by key and by kind.
    wanted = (None if kinds is None else frozenset(kinds), None if keys is None else frozenset(keys))
    chosen = ctx.shared(_choices)
    found = chosen.get(wanted)
    if found is None:
        found = chosen[wanted] = _choose(ctx, every, *wanted)
    return iter(found)


def _choices(ctx: CheckContext) -> dict[tuple[frozenset[Kind] | None, frozenset[str] | None], tuple[Field, ...]]:
    """Return a new table of the fields chosen by kinds and keys (filled by :func:`fields`, one per context)."""
    return {}


def _choose(ctx: CheckContext, every: list[Field], kinds: frozenset[Kind] | None, keys: frozenset[str] | None
            ) -> tuple[Field, ...]:
    by_key, by_kind = ctx.shared(_index)
    if keys is not None:
        chosen = [i for key in keys for i in by_key.get(key, ())]
        if kinds is not None:
            chosen = [i for i in chosen if every[i].spec.kind in kinds]
    else:
        chosen = [i for kind in kinds or () for i in by_kind.get(kind, ())]
    # A field has one key and one kind, so no position comes twice; sorted, they are in file order.
    return tuple([every[i] for i in sorted(chosen)])


def _index(ctx: CheckContext) -> tuple[dict[str, list[int]], dict[Kind, list[int]]]:
    """Return the positions of the known fields by key and by kind (in file order), in one pass."""
    by_key: dict[str, list[int]] = {}
    by_kind: dict[Kind, list[int]] = {}
    for i, f in enumerate(ctx.shared(_all_fields)):
        spec = f.spec
        at = by_key.get(spec.key)
        if at is None:
            by_key[spec.key] = [i]
        else:
            at.append(i)
        at = by_kind.get(spec.kind)
        if at is None:
            by_kind[spec.kind] = [i]
        else:
            at.append(i)
    return by_key, by_kind


def _all_fields(ctx: CheckContext) -> list[Field]:
    """Return every judged known field of every header, in file order, header by header."""
    return [Field(member, header, entry, spec, scope)
            for member, header, scope in headers(ctx)
            for key, entry in filled_entries(ctx, member, header)
            if (spec := BY_KEY.get(key)) is not None and entry.closed]


def positive_int(header: Header, key: str) -> int | None:
    """Return a field's value when it is a valid positive integer, else None (its own rules report it)."""
    entry = present(header, key)
    if entry is None:
        return None
    try:
        value = typed_value(entry, BY_KEY[key])
    except (FieldValueError, ValueError):
        return None
    return value if isinstance(value, int) and value > 0 else None


def capped(problems: Iterable[T]) -> Iterator[T]:
    """Yield at most :data:`MAX_ITEM_FINDINGS` problems of one entry."""
    return itertools.islice(problems, MAX_ITEM_FINDINGS)
