"""Scan decoded header text into lines (the model's nodes) and collect the syntax diagnostics.

The grammar's scanner (:func:`hsi_conform.header.grammar.scanner`) splits the text into line tokens; each token
becomes a node of :mod:`hsi_conform.header.nodes`, and the judgements of :mod:`hsi_conform.header.checks` record
every deviation in a :class:`Collector` as character offsets. :class:`~hsi_conform.header.model.Header` resolves
them into positioned diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from hsi_conform.fields import is_opaque_text
from hsi_conform.header import checks
from hsi_conform.header.grammar import scanner
from hsi_conform.header.lists import split_list
from hsi_conform.header.nodes import Blank, Comment, Entry, Junk, Line, Magic, normalize_key

#: Diagnostics of one code beyond this count are summarised, so hostile input cannot flood a report.
MAX_PER_CODE = 100

_BRACES = re.compile(r"[{}]")


@dataclass(slots=True)
class Pending:
    """A diagnostic before positions are resolved (character offsets into the text)."""

    code: str
    message: str
    start: int
    end: int
    key: str | None = None
    item: int | None = None


@dataclass(slots=True)
class Collector:
    """Collects pending diagnostics, capping each code at :data:`MAX_PER_CODE`."""

    pending: list[Pending] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, code: str, message: str, start: int, end: int, *, key: str | None = None,
            item: int | None = None) -> None:
        """Record one deviation."""
        n = self.counts.get(code, 0) + 1
        self.counts[code] = n
        if n <= MAX_PER_CODE:
            self.pending.append(Pending(code, message, start, end, key, item))

    def overflow(self) -> Iterator[tuple[str, int]]:
        """Yield ``(code, dropped)`` for every code that exceeded the cap."""
        for code, n in self.counts.items():
            if n > MAX_PER_CODE:
                yield code, n - MAX_PER_CODE


def scan(text: str, *, bom: bool = False) -> tuple[list[Line], Collector, dict[str, Entry]]:
    """Split decoded header text that starts with the magic into lines and judge its syntax.

    Returns:
        The lines, whose texts concatenate to ``text``; the collector of the deviations found (character
        offsets into ``text``; a ``bom`` deviation when ``bom`` is set); the entries by normalised key (the last
        of a duplicated key wins).
    """
    out = Collector()
    lines = list(_lines(text, out))
    if bom:
        out.add("bom", "the header starts with a UTF-8 byte order mark", 0, 0)
    index = checks.check_text(text, lines, out)
    return lines, out, index


def _lines(text: str, out: Collector) -> Iterator[Line]:
    lexer = scanner()
    pos, with_magic = 0, True
    while True:
        resume = None
        for name, start, end in lexer.tokens(text, pos, with_magic=with_magic):
            if name == "UNCLOSED_LINE":
                entry, resume = _unclosed(text, start, end, out)
                yield entry
                if resume is not None:
                    break
            else:
                yield _BUILDERS[name](text, start, end, out)
        if resume is None:
            return
        pos, with_magic = resume, False


def _magic(text: str, start: int, end: int, out: Collector) -> Line:
    line = text[start:end]
    checks.check_magic(line, start, out)
    return Magic(text=line, start=start)


def _comment(text: str, start: int, end: int, out: Collector) -> Line:
    line = text[start:end]
    if line[0] in " \t":
        out.add("comment-indented", "comment line does not start in column 1", start,
                start + len(line.rstrip("\r\n")))
    return Comment(text=line, start=start)


def _blank(text: str, start: int, end: int, out: Collector) -> Line:
    return Blank(text=text[start:end], start=start)


def _junk(text: str, start: int, end: int, out: Collector) -> Line:
    line = text[start:end]
    body = line.rstrip("\r\n")
    stripped = body.lstrip(" \t")
    stop = start + len(body)
    if stripped.startswith("="):
        out.add("empty-key", "entry has no key before '='", start, stop)
    else:
        out.add("junk-line", "line is neither 'key = value', a comment nor blank", start, stop)
    return Junk(text=line, start=start)


def _entry(text: str, start: int, end: int, out: Collector) -> Line:
    line = text[start:end]
    eol = _eol_of(line)
    body_end = end - len(eol)
    key_start, key_raw, eq = _key(text, start)
    value_start = _skip_blanks(text, eq + 1, body_end)
    key = normalize_key(key_raw)
    checks.check_entry_head(text, start, key_start, key_raw, eq, value_start, out)
    if value_start < body_end and text[value_start] == "{":
        close = _matching_brace(text, value_start)
        return _list_entry(text, start, end, key_raw, key, key_start, value_start, close + 1, eol, out)
    value_end = _rstrip_blanks(text, value_start, body_end)
    checks.check_scalar(text[value_start:value_end], value_start, key, out)
    return Entry(text=line, start=start, key_raw=key_raw, key=key, key_start=key_start,
                 value_raw=text[value_start:value_end], value_start=value_start, eol=eol)


def _eol_of(line: str) -> str:
    if line.endswith("\n"):
        return "\r\n" if line.endswith("\r\n") else "\n"
    return "\r" if line.endswith("\r") else ""


def _unclosed(text: str, start: int, end: int, out: Collector) -> tuple[Line, int | None]:
    """Build the entry of an ``UNCLOSED_LINE`` and say where scanning resumes (``None``: end of input)."""
    key_start, key_raw, eq = _key(text, start)
    value_start = _skip_blanks(text, eq + 1, end)
    key = normalize_key(key_raw)
    checks.check_entry_head(text, start, key_start, key_raw, eq, value_start, out)
    close = _balance(text, value_start, end)
    if close is None:
        out.add("unclosed-list", "'{' is never closed; the value runs to the end of the header",
                value_start, value_start + 1, key=key)
        return Entry(text=text[start:end], start=start, key_raw=key_raw, key=key, key_start=key_start,
                     value_raw=text[value_start:end], value_start=value_start, is_list=True, closed=False,
                     items=None), None
    out.add("nesting-too-deep", "braces nest deeper than 4 levels", value_start, close + 1, key=key)
    line_end = _line_end(text, close + 1)
    eol = "\r\n" if text.startswith("\r\n", line_end) else text[line_end : line_end + 1]
    stop = line_end + len(eol)
    entry = _list_entry(text, start, stop, key_raw, key, key_start, value_start, close + 1, eol, out)
    return entry, (stop if stop < len(text) else None)


def _list_entry(text: str, start: int, end: int, key_raw: str, key: str, key_start: int,
                value_start: int, value_end: int, eol: str, out: Collector) -> Entry:
    body_end = end - len(eol)
    tail = text[value_end:body_end].strip(" \t")
    if tail:
        out.add("text-after-list", "text follows the closing brace of the list",
                _skip_blanks(text, value_end, body_end), body_end, key=key)
    inner_start = value_start + 1
    inner = text[inner_start : value_end - 1]
    split = split_list(inner)
    opaque = is_opaque_text(key)
    for a, b in split.comments:
        out.add("comment-in-list", "comment line inside braces", inner_start + a, inner_start + b, key=key)
    if opaque:
        items: tuple[str, ...] = (inner.strip(" \t\r\n"),)
    else:
        items = split.items
        checks.check_items(inner, inner_start, split, key, out)
    return Entry(text=text[start:end], start=start, key_raw=key_raw, key=key, key_start=key_start,
                 value_raw=text[value_start:value_end], value_start=value_start, is_list=True, items=items,
                 opaque=opaque, tail=tail, eol=eol)


def _key(text: str, start: int) -> tuple[int, str, int]:
    key_start = _skip_blanks(text, start, len(text))
    eq = text.index("=", key_start)
    return key_start, text[key_start:eq].rstrip(" \t"), eq


def _skip_blanks(text: str, pos: int, stop: int) -> int:
    while pos < stop and text[pos] in " \t":
        pos += 1
    return pos


def _rstrip_blanks(text: str, start: int, stop: int) -> int:
    while stop > start and text[stop - 1] in " \t":
        stop -= 1
    return stop


def _line_end(text: str, pos: int) -> int:
    ends = [i for i in (text.find("\r", pos), text.find("\n", pos)) if i >= 0]
    return min(ends) if ends else len(text)


def _matching_brace(text: str, open_pos: int) -> int:
    first_close = text.find("}", open_pos)
    if text.find("{", open_pos + 1, first_close) < 0:  # no nesting: the first '}' closes (C-level, no scan loop)
        return first_close
    close = _balance(text, open_pos, len(text))
    if close is None:  # pragma: no cover - ENTRY_LINE only matches balanced lists
        raise AssertionError("grammar matched an unbalanced list")
    return close


def _balance(text: str, open_pos: int, stop: int) -> int | None:
    """Return the index of the brace that closes ``text[open_pos]``, or None."""
    depth = 0
    for m in _BRACES.finditer(text, open_pos, stop):
        depth += 1 if m.group() == "{" else -1
        if depth == 0:
            return m.start()
    return None


_BUILDERS = {
    "MAGIC_LINE": _magic,
    "COMMENT_LINE": _comment,
    "BLANK_LINE": _blank,
    "ENTRY_LINE": _entry,
    "JUNK_LINE": _junk,
}
