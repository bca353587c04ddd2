"""The lossless header model: ordered lines with exact source text, spans and diagnostics.

A :class:`Header` is a sequence of :class:`Line` objects (``Magic``, ``Entry``, ``Comment``, ``Blank``,
``Junk``; defined in :mod:`hsi_conform.header.nodes`) whose ``text`` attributes concatenate to the decoded
source. Offsets are character offsets into that text; :meth:`Header.position` turns them into 1-based
line/column and :meth:`Header.byte_offset` into byte offsets of the encoded source (BOM included), so findings
can point at the exact byte. :meth:`Header.from_text` builds the lines with :mod:`hsi_conform.header.scan` and
turns the deviations it collected into positioned :class:`Diagnostic` objects.
"""

from __future__ import annotations

import bisect
import itertools
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from hsi_conform.errors import NoSuchFieldError
from hsi_conform.fields import BY_KEY, FieldSpec
from hsi_conform.fields import field_spec as table_spec
from hsi_conform.header.fast import CleanHeader, scan_clean
from hsi_conform.header.nodes import Blank, Comment, Diagnostic, Entry, Junk, Line, Magic, Span, normalize_key
from hsi_conform.header.scan import Collector, Pending, scan
from hsi_conform.header.serialize import format_entry
from hsi_conform.header.values import typed_scalar, typed_value

# The nodes live in their own module (below the scanner and the value parsers, which this module builds on);
# their old home keeps exporting them.
__all__ = ["Blank", "Comment", "Diagnostic", "Entry", "Header", "Junk", "Line", "Magic", "Span", "normalize_key"]

# The specs of the table's keys as they are written there (normalised): what field_spec returns for them.
_SPECS: dict[str, FieldSpec] = dict(BY_KEY)
_REPR_KEYS = ("samples", "lines", "bands", "data type", "interleave", "byte order")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BLOCK = 4096  # characters per block of the byte-offset table of a non-ASCII header


@dataclass(slots=True, eq=False, repr=False)
class Header:
    """A parsed ENVI header: lossless, ordered, editable entry by entry.

    Build one with :func:`hsi_conform.parse_header`. ``to_bytes()`` returns the parsed input byte for byte;
    :meth:`set` and :meth:`remove` change one entry's text and leave every other byte alone.

    Field access as users expect it: ``header["samples"]`` is the typed value (:meth:`value`, but a missing
    field raises :class:`~hsi_conform.errors.NoSuchFieldError`, a ``KeyError``), ``"wavelength" in header``
    tests presence; keys are case- and blank-insensitive. :meth:`get` returns the lossless :class:`Entry`.
    """

    lines: list[Line]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    bom: bool = False
    had_bytes: bool = True
    _line_starts: array[int] | None = None
    _text: str | None = None
    _index: dict[str, Entry] | None = None
    _byte_marks: list[int] | None = None
    _clean: CleanHeader | None = None

    @classmethod
    def from_text(cls, text: str, *, bom: bool = False, fast: bool = True) -> Header:
        """Parse decoded header text that starts with the magic (:func:`hsi_conform.parse_header` takes bytes).

        Args:
            text: the header text, without the BOM.
            bom: the encoded header started with a UTF-8 byte order mark (kept by :meth:`to_bytes`, reported).
            fast: try the fast path for clean headers first (spec/header-syntax.md#fast-path); ``False`` always
                runs the scanner (the result is the same: tests compare both).
        """
        clean = scan_clean(text) if fast and not bom else None
        if clean is not None:  # no diagnostics; the lines are built when first read (spec/header-syntax.md#fast-path)
            return _of_clean(cls, text, clean)
        lines, out, index = scan(text, bom=bom)
        header = cls(lines=lines, bom=bom, _text=text, _index=index)  # the lines concatenate to the text
        header.diagnostics = _resolve(header, out)
        return header

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
        """Return the byte offset in :meth:`to_bytes` of a character offset (in time independent of the size)."""
        text = self.to_text()
        prefix = 3 if self.bom else 0
        if text.isascii():
            return prefix + offset
        # Encoding the whole prefix per call made the diagnostics of a large non-ASCII header quadratic: count the
        # bytes of each block once, then encode at most one block.
        if self._byte_marks is None:
            self._byte_marks = list(itertools.accumulate(
                (len(text[i : i + _BLOCK].encode("utf-8", "surrogateescape")) for i in range(0, len(text), _BLOCK)),
                initial=0))
        block = offset // _BLOCK
        return prefix + self._byte_marks[block] + len(text[block * _BLOCK : offset].encode("utf-8", "surrogateescape"))

    def source_line(self, line: int) -> str:
        """Return the text of a 1-based physical line, without its line ending."""
        starts = self._starts()
        text = self.to_text()
        if not 1 <= line <= len(starts):
            return ""
        end = starts[line] if line < len(starts) else len(text)
        return text[starts[line - 1] : end].rstrip("\r\n")

    def _starts(self) -> array[int]:
        if self._line_starts is None:
            # 8 bytes per line, not an int object each: a header of a million short lines has a million starts.
            self._line_starts = array("q", [0])
            self._line_starts.extend(m.end() for m in _LINE_BREAK.finditer(self.to_text()))
        return self._line_starts

    # -- entries -----------------------------------------------------------------------------------------
    def entries(self) -> Iterator[Entry]:
        """Iterate over the ``key = value`` entries in file order (duplicates included)."""
        return (line for line in self.lines if isinstance(line, Entry))

    def keys(self) -> list[str]:
        """Return the normalised keys in file order (of first appearance), each once."""
        clean = self._clean
        if clean is not None and self._index is None:  # from the scan's key column: no entry is built
            return clean.keys()
        return list(self._entry_index())

    def items(self) -> list[tuple[str, Entry]]:
        """Return ``(key, entry)`` of each normalised key in :meth:`keys` order, the entry :meth:`get` returns.

        For a caller that reads every entry: a clean header builds its lines in one pass, not entry by entry.
        """
        return list(self._entry_index().items())

    def get(self, key: str) -> Entry | None:
        """Return the entry of a key (case- and blank-insensitive); the last one wins, as in SPy and GDAL."""
        clean = self._clean
        if clean is not None and self._index is None:  # a clean header builds only the entries looked up
            found = clean.entry(key)
            return found if found is not None else clean.entry(normalize_key(key))
        index = self._entry_index()
        found = index.get(key)
        return found if found is not None else index.get(normalize_key(key))

    def _entry_index(self) -> dict[str, Entry]:
        if self._index is None:
            self._index = {entry.key: entry for entry in self.entries()}  # later entries overwrite: last wins
        return self._index

    def get_all(self, key: str) -> list[Entry]:
        """Return every entry of a key, in file order."""
        wanted = normalize_key(key)
        return [e for e in self.entries() if e.key == wanted]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __getitem__(self, key: str) -> Any:
        """Return the typed value of a field (``header["samples"]``).

        Raises:
            NoSuchFieldError: the header has no such field (a ``KeyError``).
            FieldValueError: the value does not have the field's kind.
        """
        entry = self.get(key)
        if entry is None:
            raise NoSuchFieldError(key)
        return typed_value(entry, self.field_spec(key))

    def __repr__(self) -> str:
        # A summary, not the lines: a header of a thousand wavelengths would print them all.
        keys = self.keys()
        shown = [f"{entry.key}={entry.value_raw[:24]}" for entry in map(self.get, _REPR_KEYS) if entry is not None]
        problems = f", {len(self.diagnostics)} diagnostics" if self.diagnostics else ""
        return f"<Header {len(keys)} fields{problems}{': ' + ', '.join(shown) if shown else ''}>"

    def value(self, key: str) -> Any:
        """Return the typed value of a field (see :mod:`hsi_conform.fields`), or ``None`` when absent.

        Raises:
            FieldValueError: when the value does not have the field's kind.
        """
        clean = self._clean
        if clean is not None and self._index is None:  # a clean header's scalar is typed from its text alone
            raw = clean.scalar(key)
            raw = clean.scalar(normalize_key(key)) if raw is None else raw
            if raw is not None:
                return typed_scalar(raw, self.field_spec(key))
        entry = self.get(key)
        return None if entry is None else typed_value(entry, self.field_spec(key))

    @staticmethod
    def field_spec(key: str) -> FieldSpec:
        """Return the field table's spec of a key (a free-text spec for keys the table does not know)."""
        spec = _SPECS.get(key)  # the table's own spelling needs no normalising
        return spec if spec is not None else table_spec(normalize_key(key))

    # -- editing -----------------------------------------------------------------------------------------
    def set(self, key: str, value: object) -> None:
        """Set a field, replacing only the text of its (last) entry, or appending a canonical entry.

        Scalars are written as ``str(value)``; sequences as a canonical brace list. The key keeps its
        spelling when the entry exists.
        """
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
        fresh = Header.from_text(text, bom=self.bom)
        self.lines, self.diagnostics = fresh.lines, fresh.diagnostics
        self._line_starts = None
        self._text = None
        self._index = None
        self._byte_marks = None


# A clean header's lines are built when first read: the property stands in front of the slot of ``lines`` (like
# Entry.items in hsi_conform.header.nodes); setting the lines (an edit) drops the pending scan.
_LINES_SLOT = Header.__dict__["lines"]


def _get_lines(header: Header) -> list[Line]:
    clean = header._clean
    if clean is not None:
        _LINES_SLOT.__set__(header, clean.lines())
        header._clean = None
    lines: list[Line] = _LINES_SLOT.__get__(header, Header)
    return lines


def _set_lines(header: Header, lines: list[Line]) -> None:
    header._clean = None
    _LINES_SLOT.__set__(header, lines)


setattr(Header, "lines", property(_get_lines, _set_lines, doc="The lines, in file order."))  # noqa: B010

_NEW = object.__new__


def _of_clean(cls: type[Header], text: str, clean: CleanHeader) -> Header:
    """Return the header of a clean text: every field at its default, the text and its scan kept.

    What ``cls(lines=[], _text=text, _clean=clean)`` builds, in half its time (no keyword parsing, no property
    setter): a 20-line header parses in about 15 µs, so the constructor was 5 % of it. A test compares the two.
    """
    header = _NEW(cls)
    _LINES_SLOT.__set__(header, [])
    header.diagnostics = []
    header.bom = False
    header.had_bytes = True
    header._line_starts = header._index = header._byte_marks = None
    header._text = text
    header._clean = clean
    return header


def _resolve(header: Header, out: Collector) -> list[Diagnostic]:
    pending = list(out.pending)
    for code, dropped in out.overflow():
        last = next(p for p in reversed(pending) if p.code == code)
        pending.append(Pending(code, f"{dropped} more occurrences of this problem are not listed",
                               last.start, last.end, last.key))
    pending.sort(key=lambda p: (p.start, p.end))
    return [_diagnostic(header, p) for p in pending]


def _diagnostic(header: Header, p: Pending) -> Diagnostic:
    if p.code == "bom":  # the only diagnostic about bytes before the text: they are bytes 0..3
        return Diagnostic(code=p.code, message=p.message, line=1, column=1, end_line=1, end_column=1, offset=0,
                          end_offset=3)
    line, column = header.position(p.start)
    end_line, end_column = header.position(p.end)
    return Diagnostic(code=p.code, message=p.message, line=line, column=column, end_line=end_line,
                      end_column=end_column, offset=header.byte_offset(p.start),
                      end_offset=header.byte_offset(p.end), key=p.key, item=p.item)


def _dominant_eol(text: str) -> str:
    if "\r\n" in text:
        return "\r\n"
    return "\r" if "\r" in text and "\n" not in text else "\n"
