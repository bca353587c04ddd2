"""The lossless header model: ordered lines with exact source text, spans and diagnostics.

A :class:`Header` is a sequence of :class:`Line` objects (``Magic``, ``Entry``, ``Comment``, ``Blank``,
``Junk``) whose ``text`` attributes concatenate to the decoded source. Offsets are character offsets into
that text; :meth:`Header.position` turns them into 1-based line/column and :meth:`Header.byte_offset` into
byte offsets of the encoded source (BOM included), so findings can point at the exact byte.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hsi_conform.fields import FieldSpec

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_KEY_BLANKS = re.compile(r"[ \t]+")


def normalize_key(key: str) -> str:
    """Return the lookup form of a key: blanks trimmed, runs of blanks collapsed, lower case.

    Underscores stay distinct from spaces (ENVI treats them as different keys; spec/header-syntax.md#keys).
    """
    if "  " not in key and "\t" not in key:  # the common case needs no regular expression
        return key.strip(" ").lower()
    return _KEY_BLANKS.sub(" ", key.strip(" \t")).lower()


# Spans, lines and entries are value objects that are never mutated (Header edits replace whole lines), but they
# are not ``frozen``: a frozen dataclass costs ~4x more to build, and a header builds thousands of them.
@dataclass(slots=True)
class Span:
    """A half-open range ``[start, end)`` of character offsets into the header text."""

    start: int
    end: int


@dataclass(slots=True, kw_only=True)
class Line:
    """A line (or a multi-line list entry) of the header: its exact source text, line end included."""

    text: str
    span: Span


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
        key_span: where ``key_raw`` sits.
        value_raw: the value's source text: from the first non-blank character after ``=`` to the end of the
            value (the closing brace of a list, or the end of the line for a scalar), trailing blanks removed.
        value_span: where ``value_raw`` sits.
        is_list: the value is a brace list.
        closed: False when the list's braces never balance (the value then runs to the end of the input).
        items: the list items, blanks and line breaks around each removed (``None`` for scalars); comment
            lines inside braces are not part of any item. Free-text fields (``description``) have one item.
        tail: text after a list's closing brace on the same line (blanks removed).
        eol: the line ending of the entry (``""`` at the end of the input).
    """

    key_raw: str
    key: str
    key_span: Span
    value_raw: str
    value_span: Span
    is_list: bool = False
    closed: bool = True
    items: tuple[str, ...] | None = None
    opaque: bool = False
    tail: str = ""
    eol: str = ""

    @property
    def value(self) -> str | tuple[str, ...]:
        """The untyped value: the scalar string, or the tuple of item strings of a list."""
        return self.value_raw if self.items is None else self.items

    def item_spans(self) -> list[Span]:
        """Return the span of each item (computed on demand: only diagnostics need them)."""
        from hsi_conform.header.lists import item_bounds

        if self.items is None:
            return []
        start = self.value_span.start + 1
        inner = self.value_raw[1:-1] if self.closed else self.value_raw[1:]
        if self.opaque:
            return [Span(start, start + len(inner))]
        return [Span(start + a, start + b) for a, b in item_bounds(inner)]


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


@dataclass(slots=True, eq=False)
class Header:
    """A parsed ENVI header: lossless, ordered, editable entry by entry.

    Build one with :func:`hsi_conform.parse_header`. ``to_bytes()`` returns the parsed input byte for byte;
    :meth:`set` and :meth:`remove` change one entry's text and leave every other byte alone.
    """

    lines: list[Line]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    bom: bool = False
    had_bytes: bool = True
    _line_starts: list[int] | None = None
    _text: str | None = None
    _index: dict[str, Entry] | None = None

    # -- source text ------------------------------------------------------------------------------------
    def to_text(self) -> str:
        """Return the decoded header text (without the BOM)."""
        if self._text is None:
            self._text = "".join(line.text for line in self.lines)
        return self._text

    def to_bytes(self) -> bytes:
        """Return the header as bytes; identical to the parsed input unless the header was edited."""
        data = self.to_text().encode("utf-8", "surrogateescape")
        return b"\xef\xbb\xbf" + data if self.bom else data

    def position(self, offset: int) -> tuple[int, int]:
        """Return the 1-based ``(line, column)`` of a character offset."""
        starts = self._starts()
        index = bisect.bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def byte_offset(self, offset: int) -> int:
        """Return the byte offset in :meth:`to_bytes` of a character offset."""
        text = self.to_text()
        prefix = 3 if self.bom else 0
        if text.isascii():
            return prefix + offset
        return prefix + len(text[:offset].encode("utf-8", "surrogateescape"))

    def source_line(self, line: int) -> str:
        """Return the text of a 1-based physical line, without its line ending."""
        starts = self._starts()
        text = self.to_text()
        if not 1 <= line <= len(starts):
            return ""
        end = starts[line] if line < len(starts) else len(text)
        return text[starts[line - 1] : end].rstrip("\r\n")

    def _starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = [0, *(m.end() for m in _LINE_BREAK.finditer(self.to_text()))]
        return self._line_starts

    # -- entries -----------------------------------------------------------------------------------------
    def entries(self) -> Iterator[Entry]:
        """Iterate over the ``key = value`` entries in file order (duplicates included)."""
        return (line for line in self.lines if isinstance(line, Entry))

    def keys(self) -> list[str]:
        """Return the normalised keys in file order (of first appearance), each once."""
        self.get("")  # builds the index
        assert self._index is not None
        return list(self._index)

    def get(self, key: str) -> Entry | None:
        """Return the entry of a key (case- and blank-insensitive); the last one wins, as in SPy and GDAL."""
        if self._index is None:
            self._index = {entry.key: entry for entry in self.entries()}  # later entries overwrite: last wins
        found = self._index.get(key)
        return found if found is not None else self._index.get(normalize_key(key))

    def get_all(self, key: str) -> list[Entry]:
        """Return every entry of a key, in file order."""
        wanted = normalize_key(key)
        return [e for e in self.entries() if e.key == wanted]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def value(self, key: str) -> Any:
        """Return the typed value of a field (see :mod:`hsi_conform.fields`), or ``None`` when absent.

        Raises:
            FieldValueError: when the value does not have the field's kind.
        """
        from hsi_conform.header.values import typed_value

        entry = self.get(key)
        return None if entry is None else typed_value(entry, self.field_spec(key))

    @staticmethod
    def field_spec(key: str) -> FieldSpec:
        """Return the field table's spec of a key (a free-text spec for keys the table does not know)."""
        from hsi_conform.fields import field_spec

        return field_spec(normalize_key(key))

    # -- editing -----------------------------------------------------------------------------------------
    def set(self, key: str, value: object) -> None:
        """Set a field, replacing only the text of its (last) entry, or appending a canonical entry.

        Scalars are written as ``str(value)``; sequences as a canonical brace list. The key keeps its
        spelling when the entry exists.
        """
        from hsi_conform.header.serialize import format_entry

        existing = self.get(key)
        eol = _dominant_eol(self.to_text())
        if existing is None:
            self._append(format_entry(normalize_key(key), value).replace("\n", eol))
            return
        index = next(i for i, line in enumerate(self.lines) if line is existing)
        # A wrapped list or multi-line text keeps the header's own line ending inside the entry too.
        text = format_entry(existing.key_raw, value).replace("\n", existing.eol or eol) + existing.eol
        self._replace(index, text)

    def remove(self, key: str) -> int:
        """Remove every entry of a key; return how many were removed."""
        wanted = normalize_key(key)
        keep = [ln for ln in self.lines if not (isinstance(ln, Entry) and ln.key == wanted)]
        removed = len(self.lines) - len(keep)
        if removed:
            self._reparse("".join(ln.text for ln in keep))
        return removed

    def _append(self, entry_text: str) -> None:
        text = self.to_text()
        eol = _dominant_eol(text)
        if text and not text.endswith(("\n", "\r")):
            text += eol
        self._reparse(text + entry_text + eol)

    def _replace(self, index: int, new_text: str) -> None:
        texts = [ln.text for ln in self.lines]
        texts[index] = new_text
        self._reparse("".join(texts))

    def _reparse(self, text: str) -> None:
        from hsi_conform.header.parse import parse_text

        fresh = parse_text(text, bom=self.bom)
        self.lines, self.diagnostics = fresh.lines, fresh.diagnostics
        self._line_starts = None
        self._text = None
        self._index = None


def _dominant_eol(text: str) -> str:
    if "\r\n" in text:
        return "\r\n"
    return "\r" if "\r" in text and "\n" not in text else "\n"
