"""The nodes of the lossless header model: spans, the kinds of line, entries and diagnostics."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hsi_conform.header.lists import item_bounds, split_list

_KEY_BLANKS = re.compile(r"[ \t]+")


#: Lookup forms of the keys rules ask for (the field table's, most absent from a given header, so every lookup of
#: them misses and normalises again): short keys only, a bounded number.
_NORMALIZED: dict[str, str] = {}
_MAX_NORMALIZED = 1024
_MAX_KEPT_KEY = 48


def normalize_key(key: str) -> str:
    """Return the lookup form of a key: blanks trimmed, runs of blanks collapsed, lower case.

    Underscores stay distinct from spaces (ENVI treats them as different keys; spec/header-syntax.md#keys).
    """
    found = _NORMALIZED.get(key)
    if found is not None:
        return found
    lookup = _normalize(key)
    if len(key) <= _MAX_KEPT_KEY:
        if len(_NORMALIZED) >= _MAX_NORMALIZED:
            _NORMALIZED.clear()
        _NORMALIZED[key] = lookup
    return lookup


def _normalize(key: str) -> str:
    if "  " not in key and "\t" not in key:  # the common case needs no regular expression
        lookup = key.strip(" ").lower()
        return key if lookup == key else lookup  # one string, not two equal ones, per entry of a huge header
    return _KEY_BLANKS.sub(" ", key.strip(" \t")).lower()


# Spans, lines and entries are value objects that are never mutated (Header edits replace whole lines), but they
# are not ``frozen``: a frozen dataclass costs ~4x more to build, and a header builds thousands of them.
@dataclass(slots=True)
class Span:
    """A half-open range ``[start, end)`` of character offsets into the header text."""

    start: int
    end: int


# A line keeps the offsets where its parts start, not Span objects: every end follows from the length of the text
# it ends, and three Spans per entry were half the memory of a header of short lines (spec/header-syntax.md#limits).
# The spans are built on demand, by the few callers that locate a finding.
@dataclass(slots=True, kw_only=True)
class Line:
    """A line (or a multi-line list entry) of the header: its exact source text, line end included.

    Attributes:
        text: the source text.
        start: the offset of its first character in the header text.
    """

    text: str
    start: int

    @property
    def span(self) -> Span:
        """Where the line sits in the header text."""
        return Span(self.start, self.start + len(self.text))


@dataclass(slots=True, kw_only=True)
class Magic(Line):
    """The first line, which must be exactly ``ENVI``."""


@dataclass(slots=True, kw_only=True)
class Comment(Line):
    """A comment line: ``;`` as the first non-blank character."""


@dataclass(slots=True, kw_only=True)
class Blank(Line):
    """An empty or all-blank line."""


@dataclass(slots=True, kw_only=True)
class Junk(Line):
    """A line that is not ``key = value``; kept verbatim and reported."""


@dataclass(slots=True, kw_only=True)
class Entry(Line):
    """A ``key = value`` entry.

    Attributes:
        key_raw: the key as spelled in the file (blanks around it removed).
        key: the lookup form of the key (:func:`normalize_key`).
        key_start: where ``key_raw`` starts (:attr:`key_span` is where it sits).
        value_raw: the value's source text: from the first non-blank character after ``=`` to the end of the
            value (the closing brace of a list, or the end of the line for a scalar), trailing blanks removed.
        value_start: where ``value_raw`` starts (:attr:`value_span` is where it sits).
        is_list: the value is a brace list.
        closed: False when the list's braces never balance (the value then runs to the end of the input).
        items: the list items, blanks and line breaks around each removed (``None`` for scalars); comment
            lines inside braces are not part of any item. Free-text fields (``description``) have one item.
        tail: text after a list's closing brace on the same line (blanks removed).
        eol: the line ending of the entry (``""`` at the end of the input).
    """

    key_raw: str
    key: str
    key_start: int
    value_raw: str
    value_start: int
    is_list: bool = False
    closed: bool = True
    items: tuple[str, ...] | None = None
    opaque: bool = False
    tail: str = ""
    eol: str = ""

    @property
    def key_span(self) -> Span:
        """Where ``key_raw`` sits in the header text."""
        return Span(self.key_start, self.key_start + len(self.key_raw))

    @property
    def value_span(self) -> Span:
        """Where ``value_raw`` sits in the header text."""
        return Span(self.value_start, self.value_start + len(self.value_raw))

    @property
    def value(self) -> str | tuple[str, ...]:
        """The untyped value: the scalar string, or the tuple of item strings of a list."""
        return self.value_raw if self.items is None else self.items

    def item_spans(self) -> list[Span]:
        """Return the span of each item (computed on demand: only diagnostics need them)."""
        if self.items is None:
            return []
        start = self.value_start + 1
        inner = self.value_raw[1:-1] if self.closed else self.value_raw[1:]
        if self.opaque:
            return [Span(start, start + len(inner))]
        return [Span(start + a, start + b) for a, b in item_bounds(inner)]


# A list entry of a clean header (hsi_conform.header.fast) splits its items when they are first read: the slot of
# ``items`` then holds this marker. The property below stands in front of the slot, so equality, repr and pickling
# (which read ``entry.items``) see the split items, as from an entry whose items were split while scanning.
_UNSPLIT: tuple[str, ...] = ("\x00unsplit",)
_ITEMS_SLOT = Entry.__dict__["items"]


def _get_items(entry: Entry) -> tuple[str, ...] | None:
    items: tuple[str, ...] | None = _ITEMS_SLOT.__get__(entry, Entry)
    if items is _UNSPLIT:
        inner = entry.value_raw[1:-1]
        items = (inner.strip(_BLANKS),) if entry.opaque else _clean_items(inner)
        _ITEMS_SLOT.__set__(entry, items)
    return items


_BLANKS = " \t\r\n"


def _clean_items(inner: str) -> tuple[str, ...]:
    """Return the items of a clean list (spec/header-syntax.md#fast-path): what :func:`split_list` returns.

    A clean list that is not free text holds no brace, no comment line, no empty item and no trailing comma, so
    its items are its comma-separated pieces, blanks stripped; the split's judgements (and its result object, a
    third of its time on a short list) are not needed. An empty piece, which a clean list cannot hold, still goes
    to the split.
    """
    texts = inner.split(",")
    for index, piece in enumerate(texts):  # in place: no unstripped copy of a huge list next to the result
        texts[index] = piece.strip(_BLANKS)
    return split_list(inner).items if "" in texts else tuple(texts)


def _set_items(entry: Entry, items: tuple[str, ...] | None) -> None:
    _ITEMS_SLOT.__set__(entry, items)


setattr(Entry, "items", property(_get_items, _set_items, doc=_ITEMS_SLOT.__doc__))  # noqa: B010 - mypy: a field


_NEW = object.__new__
_SET_ITEMS = _ITEMS_SLOT.__set__


def clean_entry(key: str, value: str, start: int, *, is_list: bool, opaque: bool) -> Entry:
    """Return the entry of a clean header's line ``key = value`` and LF that starts at ``start``.

    The key is its own lookup form; a list is closed and its items are split when first read (the split the
    scanner makes). :mod:`hsi_conform.header.fast` decides which lines qualify (spec/header-syntax.md#fast-path).
    What ``Entry(...)`` builds, in half its time: the keyword call of a dataclass constructor with thirteen fields
    (and the property in front of ``items``) was most of the cost of a clean header's nodes. A test compares every
    field with the constructor's.
    """
    entry = _NEW(Entry)
    entry.text = f"{key} = {value}\n"
    entry.start = entry.key_start = start
    entry.key_raw = entry.key = key
    entry.value_raw = value
    entry.value_start = start + len(key) + 3
    entry.is_list = is_list
    entry.closed = True
    _SET_ITEMS(entry, _UNSPLIT if is_list else None)
    entry.opaque = opaque
    entry.tail = ""
    entry.eol = "\n"
    return entry


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """A deviation of the header text from the grammar or from a decision of spec/header-syntax.md.

    Attributes:
        code: the stable code of the decision (see :data:`hsi_conform.header.diagnostics.DIAGNOSTICS`).
        message: a sentence about this instance.
        line, column, end_line, end_column: 1-based position (end exclusive column).
        offset, end_offset: byte offsets in the encoded header.
        key: the normalised key of the entry concerned, if any.
        item: the 0-based index of the list item concerned, if any.
    """

    code: str
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    offset: int
    end_offset: int
    key: str | None = None
    item: int | None = None
