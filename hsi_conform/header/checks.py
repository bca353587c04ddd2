"""The syntax judgements of spec/header-syntax.md, applied while parsing.

Each function records deviations in the scanner's collector with the code of a row of
:data:`hsi_conform.header.diagnostics.DIAGNOSTICS`; none of them changes what was parsed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from hsi_conform.header.lists import SplitList, item_bounds
from hsi_conform.header.nodes import Entry, Junk, Line, normalize_key

if TYPE_CHECKING:
    from hsi_conform.header.scan import Collector

#: GDAL reads header lines with a 10,000-byte buffer and silently drops everything after a longer line.
GDAL_LINE_LIMIT = 10_000

# Runs of undecodable bytes (surrogate escapes), single NULs and single other control characters.
_ODD_CHARACTERS = re.compile("[\udc80-\udcff]+|\x00|[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Printable ASCII, tab, CR and LF: deleting them from an ASCII header leaves the characters worth reporting.
_ORDINARY_ASCII = bytes([9, 10, 13, *range(32, 127)])
_KEY_BAD = re.compile(r"[{}\x00-\x08\x0a-\x1f\x7f]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A line of more than GDAL_LINE_LIMIT bytes has at least a quarter as many characters (UTF-8: <= 4 bytes each).
_LONG_CANDIDATE = GDAL_LINE_LIMIT // 4
_LINE_END_KINDS = {"\r\n": re.compile(r"\r\n"), "\r": re.compile(r"\r(?!\n)"), "\n": re.compile(r"(?<!\r)\n")}
_SEMICOLON_COMMENT = re.compile(r"[ \t];")


def check_magic(line: str, start: int, out: Collector) -> None:
    """Judge the first line: exactly ``ENVI``."""
    body = line.rstrip("\r\n")
    stop = start + len(body)
    if body[:1] in (" ", "\t"):
        out.add("magic-indented", "'ENVI' does not start in column 1", start, stop)
    rest = body.lstrip(" \t")[4:]
    if rest.strip(" \t"):
        out.add("magic-trailing-text", "text follows 'ENVI' on the first line", stop - len(rest), stop)
    elif rest:
        out.add("magic-trailing-blanks", "blanks follow 'ENVI' on the first line", stop - len(rest), stop)


def check_entry_head(text: str, line_start: int, key_start: int, key_raw: str, eq: int, value_start: int,
                     out: Collector) -> None:
    """Judge the key and the separator of an entry."""
    key_end = key_start + len(key_raw)
    key = normalize_key(key_raw)
    if key_start > line_start:
        out.add("indented-entry", "blanks before the key (GDAL then misses the key)", line_start, key_start,
                key=key)
    if _KEY_BAD.search(key_raw):
        out.add("key-charset", "key contains a brace or a control character", key_start, key_end, key=key)
    if key_raw != key_raw.lower():
        out.add("key-case", "key is not written in lower case", key_start, key_end, key=key)
    if "  " in key_raw or "\t" in key_raw:
        out.add("key-blanks", "words of the key are not separated by one space", key_start, key_end, key=key)
    separator = text[key_end:value_start]
    at_end = value_start >= len(text) or text[value_start] in "\r\n"
    if separator != " = " and not (at_end and separator in (" =", " = ")):
        out.add("separator-spacing", "key and value are not separated by ' = '", key_end, value_start,
                key=key)


def check_scalar(value: str, start: int, key: str, out: Collector) -> None:
    """Judge a scalar value."""
    end = start + len(value)
    if not value:
        out.add("empty-value", "the value is empty", start, end, key=key)
        return
    if "{" in value or "}" in value:
        out.add("brace-in-scalar", "a scalar value contains a brace", start, end, key=key)
    m = _SEMICOLON_COMMENT.search(value)
    if m:
        out.add("semicolon-in-scalar", "';' in the value may be read as a comment", start + m.start() + 1,
                end, key=key)


def check_items(inner: str, inner_start: int, split: SplitList, key: str, out: Collector) -> None:
    """Judge the items of a list whose inner text (between the outer braces) starts at ``inner_start``."""
    if split.trailing_comma:
        comma = inner_start + inner.rfind(",")
        out.add("trailing-comma", "the list ends with a comma", comma, comma + 1, key=key,
                item=len(split.items))
    joined = "\x00".join(split.items)  # one C-level scan instead of a Python loop over every item
    has_break = "\n" in joined or "\r" in joined
    broken = [i for i, t in enumerate(split.items) if "\n" in t or "\r" in t] if has_break else []
    if not (split.empty_items or broken):
        return
    bounds = item_bounds(inner)
    for index in split.empty_items:
        a, b = bounds[index]
        out.add("empty-item", "the list has an empty item", inner_start + a, inner_start + b, key=key,
                item=index)
    for index in broken:
        a, b = bounds[index]
        out.add("line-break-in-item", "a line break inside an item (GDAL glues the lines together)",
                inner_start + a, inner_start + b, key=key, item=index)


def check_text(text: str, lines: Sequence[Line], out: Collector) -> dict[str, Entry]:
    """Judge what concerns the whole text: encoding, characters, line ends, long lines, keys.

    Returns:
        The index of the entries by normalised key (the last entry of a duplicated key wins), in the order of the
        keys' first appearance.
    """
    # The common case (plain ASCII) is decided by two C-level passes instead of a regular-expression scan.
    if not text.isascii() or text.encode("ascii").translate(None, _ORDINARY_ASCII):
        _check_odd_characters(text, out)
    _check_line_ends(text, out)
    _check_long_lines(text, out)
    index = _check_keys(lines, out)
    _check_value_on_next_line(lines, out)
    return index


def _check_odd_characters(text: str, out: Collector) -> None:
    for m in _ODD_CHARACTERS.finditer(text):  # one scan for all three kinds
        first = m.group()[0]
        if first == "\x00":
            out.add("nul", "NUL character", m.start(), m.end())
        elif "\udc80" <= first <= "\udcff":
            out.add("not-utf8", "bytes that are not UTF-8", m.start(), m.end())
        else:
            out.add("control-character", "control character", m.start(), m.end())


def _check_line_ends(text: str, out: Collector) -> None:
    # C-level searches only: a header can have 100,000 lines.
    first = {kind: m.start() for kind, rx in _LINE_END_KINDS.items() if (m := rx.search(text))}
    if len(first) > 1:
        kind, pos = max(first.items(), key=lambda kv: kv[1])
        out.add("line-ending-mixed", "lines end in different ways", pos, pos + len(kind))
    elif "\r" in first:
        out.add("line-ending-cr", "lines end with a bare CR", first["\r"], first["\r"] + 1)
    elif "\r\n" in first:
        out.add("line-ending-crlf", "lines end with CRLF", first["\r\n"], first["\r\n"] + 2)
    if text and text[-1] not in "\r\n":
        out.add("no-final-newline", "the last line has no line break", len(text), len(text))


def _check_long_lines(text: str, out: Collector) -> None:
    for start, end in long_line_spans(text, _LONG_CANDIDATE):
        if len(text[start:end].encode("utf-8", "surrogateescape")) > GDAL_LINE_LIMIT:
            out.add("line-too-long", f"line longer than {GDAL_LINE_LIMIT} bytes", start, end)


def long_line_spans(text: str, limit: int) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of each physical line longer than ``limit`` characters (its line break excluded).

    Linear, and nothing is allocated per line: each step jumps past the last line break within the next ``limit``
    characters (C-level searches), so a million short lines cost a few thousand steps. Splitting the text held a
    string per line of a huge header at once.
    """
    pos, size = 0, len(text)
    while size - pos > limit:
        window = pos + limit + 1
        last = max(text.rfind("\n", pos, window), text.rfind("\r", pos, window))
        if last >= 0:  # every line starting in the window ends in it
            pos = last + 1
            continue
        lf = text.find("\n", pos)
        lf = size if lf < 0 else lf
        cr = text.find("\r", pos, lf)
        end = lf if cr < 0 else cr
        yield pos, end
        pos = end + (2 if text.startswith("\r\n", end) else 1)


def _check_keys(lines: Sequence[Line], out: Collector) -> dict[str, Entry]:
    index: dict[str, Entry] = {}  # the header's key index, built once: it is also what finds the duplicates
    # Only keys with a '_' or a blank can differ from another key by '_' versus blank: the others are not held.
    loose: dict[str, str] = {}
    for entry in (ln for ln in lines if isinstance(ln, Entry)):
        key = entry.key
        start, end = entry.key_start, entry.key_start + len(entry.key_raw)
        duplicate = key in index
        index[key] = entry  # the last entry wins, as in SPy and GDAL
        if duplicate:
            out.add("duplicate-key", f"key {key!r} appears again", start, end, key=key)
            continue
        if "_" not in key and " " not in key:
            continue
        other = loose.setdefault(key.replace("_", " "), key)
        if other != key:
            out.add("near-duplicate-key", f"key {key!r} differs from {other!r} only by '_'", start, end, key=key)
    return index


def _check_value_on_next_line(lines: Sequence[Line], out: Collector) -> None:
    for previous, line in itertools.pairwise(lines):
        if not (isinstance(line, Junk) and isinstance(previous, Entry) and previous.value_raw == ""):
            continue
        if line.text.lstrip(" \t").startswith("{"):
            body = line.text.rstrip("\r\n")
            out.add("value-on-next-line", "the list starts on the line after its key", line.start,
                    line.start + len(body), key=previous.key)
