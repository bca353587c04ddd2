"""The fast path of the header parser: a clean header in one scan, no diagnostics to collect.

Most headers are written by a tool and deviate from nothing in spec/header-syntax.md. For them the general scanner
(:mod:`hsi_conform.header.scan`) spends most of its time on fixed costs: a token loop, a dozen judgements per line,
a collector that stays empty. :func:`scan_clean` recognises a strict subset of the grammar's language, the *clean
headers* of spec/header-syntax.md#fast-path, with one regular-expression pass and C-level string passes, and
keeps what it matched; :meth:`CleanHeader.lines` builds the nodes the scanner builds when the model is first read.
For anything else it returns ``None`` and the caller runs the scanner, the single judge of every deviation. No
clean header has a diagnostic; tests prove that both paths build equal models and identical bytes.

The items of a list are not split here: a list entry splits its items when they are first read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate

from hsi_conform.fields import is_opaque_text
from hsi_conform.header.checks import GDAL_LINE_LIMIT, long_line_spans
from hsi_conform.header.nodes import Blank, Comment, Entry, Line, Magic, lazy_list_entry

__all__ = ["CleanHeader", "scan_clean"]

# Printable ASCII and LF: deleting them from a clean header leaves nothing (no tab, CR, control or non-ASCII byte).
_CLEAN_BYTES = bytes([10, *range(32, 127)])

# A key: lower-case words separated by one space; no brace, no '='; the first character is not ';'.
_KEY = r"[^A-Z\s={};][^A-Z\s={}]*+(?: [^A-Z\s={}]++)*+"
# A scalar: words separated by spaces; no brace; no word starts with ';' (semicolon-in-scalar); no trailing blank.
_SCALAR = r"[^\s{};][^\s{}]*+(?: ++[^\s{};][^\s{}]*+)*+"
# One line of a clean header after the magic: an entry, a comment starting in column 1, or an empty line. A list is
# matched up to its first '}' (a fast loop of the regular-expression engine); what it holds is judged by C-level
# passes over its text (_clean_lists).
# Possessive quantifiers: what follows each run can never be matched by the run, so giving nothing back changes no
# match and saves the engine its backtracking bookkeeping.
_LINE = re.compile(rf"({_KEY}) = (\{{[^}}]*+\}}|{_SCALAR})\n|(;[^\n]*+|)\n")

_MAGIC = "ENVI\n"


@dataclass(slots=True)
class CleanHeader:
    """A clean header as scanned; its nodes are built when first read: all by :meth:`lines`, one by :meth:`entry`.

    Attributes:
        text: the header text.
        found: ``(key, value, comment)`` of each line after the magic, as matched: ``key`` and ``value`` of an
            entry, or ``comment`` (``""`` for an empty line).
    """

    text: str
    found: list[tuple[str, str, str]]
    _rows: dict[str, tuple[int, int]] | None = None  # key -> its row of ``found`` and where its line starts
    _built: dict[int, Line] | None = None  # entries built by ``entry``: ``lines`` returns the same objects

    def scalar(self, key: str) -> str | None:
        """Return the value text of a normalised key's entry unless it is a list (``None``: absent or a list)."""
        place = self._places().get(key)
        value = self.found[place[0]][1] if place is not None else None
        return value if value is not None and value[0] != "{" else None

    def entry(self, key: str) -> Entry | None:
        """Return the entry of a normalised key, built alone (a lookup need not build every line), or ``None``."""
        place = self._places().get(key)
        if place is None:
            return None
        built = self._built
        if built is None:
            built = self._built = {}
        line = built.get(place[0])
        if line is None:
            line = built[place[0]] = _line(*self.found[place[0]], place[1])
        assert isinstance(line, Entry)
        return line

    def _places(self) -> dict[str, tuple[int, int]]:
        rows = self._rows
        if rows is None:  # keys are unique and normalised in a clean header
            found = self.found
            starts = accumulate([len(k) + len(v) + 4 if k else len(c) + 1 for k, v, c in found], initial=len(_MAGIC))
            places = enumerate(zip(found, starts, strict=False))  # one start more than lines: the end
            rows = self._rows = {k: (row, start) for row, ((k, _, _), start) in places if k}
        return rows

    def lines(self) -> list[Line]:
        """Return the lines the scanner builds for this text (:func:`hsi_conform.header.scan.scan`)."""
        lines: list[Line] = [Magic(text=_MAGIC, start=0)]
        pos = len(_MAGIC)
        built = self._built or {}
        for row, (key, value, comment) in enumerate(self.found):
            line = built.get(row) if built else None
            lines.append(line if line is not None else _line(key, value, comment, pos))
            pos += len(lines[-1].text)
        return lines


def _line(key: str, value: str, comment: str, pos: int) -> Line:
    """Return the node of one matched line that starts at ``pos``."""
    if not key:
        line = comment + "\n"
        return Comment(text=line, start=pos) if comment else Blank(text=line, start=pos)
    line = f"{key} = {value}\n"
    if value[0] == "{":
        return lazy_list_entry(text=line, start=pos, key=key, value_raw=value, value_start=pos + len(key) + 3,
                               opaque=is_opaque_text(key))
    return Entry(text=line, start=pos, key_raw=key, key=key, key_start=pos, value_raw=value,
                 value_start=pos + len(key) + 3, eol="\n")


def scan_clean(text: str) -> CleanHeader | None:
    """Return the scan of a clean header (spec/header-syntax.md#fast-path), or ``None``.

    ``None`` means only that the header is not clean: the scanner then parses and judges it. For a clean header
    the lines equal the scanner's, and the scanner reports no diagnostic. Every step is a C-level pass over the
    text or a comprehension over the matched lines: no Python statement runs per character or per list item.
    """
    if not (text.startswith(_MAGIC) and text.endswith("\n") and text.isascii()):
        return None
    if text.encode("ascii").translate(None, _CLEAN_BYTES) or _has_long_line(text):
        return None
    found = _LINE.findall(text, len(_MAGIC))  # in C: a tuple of strings per line, no match objects
    if not found:
        return None if len(text) > len(_MAGIC) else CleanHeader(text, found)
    all_keys, values, comments = zip(*found, strict=True)  # columns, in C
    keys = [key for key in all_keys if key]
    joined = "".join(values)
    # The matches do not overlap and come in order: they tile the text when their lengths add up to it
    # (an entry adds ' = ' and LF to its key and value, any other line its LF).
    if (len("".join(all_keys)) + len(joined) + len("".join(comments)) + 3 * len(keys) + len(found)
            != len(text) - len(_MAGIC)):
        return None
    # No key repeats (HDR017) and no two differ only by '_' versus space (HDR018): their spaced forms differ.
    if len({key.replace("_", " ") for key in keys} if "_" in text else set(keys)) != len(keys):
        return None
    if "{" not in joined:
        return CleanHeader(text, found)
    lists = [(key, value) for key, value in zip(all_keys, values, strict=True) if value[:1] == "{"]
    return CleanHeader(text, found) if _clean_lists(lists) else None


def _clean_lists(lists: list[tuple[str, str]]) -> bool:
    """Whether the lists' values are clean (no HDR022-HDR028 deviation), judged together in a few C-level passes.

    No ``{`` between the braces (no nesting) and no line inside that starts with ``;`` (a comment); unless the
    field is free text, the list is not empty, no item is empty or holds a line break and no comma ends it.
    """
    values = "".join([value for _, value in lists])
    if values.count("{") != len(lists) or (";" in values and _COMMENT_IN_LIST.search(values)):
        return False
    items = ",".join([value[1:-1] for key, value in lists if not is_opaque_text(key)]).encode("ascii")
    return _clean_items(items)


_COMMENT_IN_LIST = re.compile(r"\n *;")
# Every byte of an item becomes 'x'; commas and LF stay; spaces are deleted (the items of a clean header hold no
# other blank).
_ITEM_CLASSES = bytes(c if c in b",\n" else ord("x") for c in range(256))


def _clean_items(inner: bytes) -> bool:
    """Whether no item is empty or holds a line break (C-level passes only).

    ``inner`` holds the texts between the braces of lists joined by commas, so an empty list, an empty item and a
    comma that ends a list all leave an empty item. In the classes of the bytes (``x`` item, ``,`` and LF), an LF
    between two ``x`` is a line break inside an item; two LFs in a row (an empty line in a list) are left to the
    scanner.
    """
    classes = inner.translate(_ITEM_CLASSES, b" ")
    if b"\n\n" in classes or b"x\nx" in classes:
        return False
    flat = classes.translate(None, b"\n")
    return not (flat[:1] in (b"", b",") or flat[-1:] == b"," or b",," in flat)


def _has_long_line(text: str) -> bool:
    # ASCII only here: characters are bytes.
    return next(iter(long_line_spans(text, GDAL_LINE_LIMIT)), None) is not None
