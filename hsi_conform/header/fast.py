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
from hsi_conform.header.nodes import Blank, Comment, Entry, Line, Magic, clean_entry

__all__ = ["CleanHeader", "scan_clean"]

# The text is printable ASCII and LF when these match (scan_clean checks first), so the only blanks are ' ' and LF:
# written as literals rather than '\s', each class compiles to one bitmap test per character.
# A key: lower-case words separated by one space; no brace, no '='; the first character is not ';'.
_KEY = r"[^A-Z \n={};][^A-Z \n={}]*+(?: [^A-Z \n={}]++)*+"
# A scalar: words separated by spaces; no brace; no word starts with ';' (semicolon-in-scalar); no trailing blank.
_SCALAR = r"[^ \n{};][^ \n{}]*+(?: ++[^ \n{};][^ \n{}]*+)*+"
# One line of a clean header after the magic, in five groups: an entry's key and its list or scalar value, a comment
# starting in column 1 or an empty line, or anything else (junk: the header is not clean). The last alternative
# matches any line, so the matches tile the text and junk is seen in its own group. A list is matched up to its first
# '}' (a fast loop of the regular-expression engine); what it holds is judged by C-level passes over its text
# (_clean_lists).
# Possessive quantifiers: what follows each run can never be matched by the run, so giving nothing back changes no
# match and saves the engine its backtracking bookkeeping.
_LINE = re.compile(rf"({_KEY}) = (?:(\{{[^}}]*+\}})|({_SCALAR}))\n|(;[^\n]*+|)\n|([^\n]*+\n)")

_MAGIC = "ENVI\n"

# Printable ASCII and LF but the braces: deleting them from a clean header leaves its braces alone, in pairs "{}"
# (no tab, CR, control or non-ASCII byte; no brace nested, unclosed or alone).
_PLAIN_BYTES = bytes(c for c in [10, *range(32, 127)] if c not in b"{}")

#: A matched line: ``(key, list, scalar, comment, junk)``, the groups of ``_LINE`` (unmatched groups are ``""``).
Found = tuple[str, str, str, str, str]


@dataclass(slots=True)
class CleanHeader:
    """A clean header as scanned; its nodes are built when first read: all by :meth:`lines`, one by :meth:`entry`.

    Attributes:
        text: the header text.
        found: the groups of each line after the magic, as matched: ``key`` and its ``list`` or ``scalar`` value
            of an entry, or ``comment`` (``""`` for an empty line); ``junk`` is ``""`` in a clean header.
    """

    text: str
    found: list[Found]
    _rows: dict[str, tuple[int, int]] | None = None  # key -> its row of ``found`` and where its line starts
    _built: dict[int, Line] | None = None  # entries built by ``entry``: ``lines`` returns the same objects

    def scalar(self, key: str) -> str | None:
        """Return the value text of a normalised key's entry unless it is a list (``None``: absent or a list)."""
        place = self._places().get(key)
        return None if place is None else self.found[place[0]][2] or None

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
            name, items, scalar, _, _ = self.found[place[0]]
            line = built[place[0]] = _entry(name, items, scalar, place[1])
        assert isinstance(line, Entry)
        return line

    def _places(self) -> dict[str, tuple[int, int]]:
        rows = self._rows
        if rows is None:  # keys are unique and normalised in a clean header
            found = self.found
            starts = accumulate([len(k) + len(v) + len(s) + 4 if k else len(c) + 1 for k, v, s, c, _ in found],
                                initial=len(_MAGIC))
            places = enumerate(zip(found, starts, strict=False))  # one start more than lines: the end
            rows = self._rows = {row[0]: (number, start) for number, (row, start) in places if row[0]}
        return rows

    def keys(self) -> list[str]:
        """Return the keys in file order (normalised and unique in a clean header), no entry built."""
        return list(self._places())

    def lines(self) -> list[Line]:
        """Return the lines the scanner builds for this text (:func:`hsi_conform.header.scan.scan`)."""
        lines: list[Line] = [Magic(text=_MAGIC, start=0)]
        append = lines.append
        pos = len(_MAGIC)
        built = self._built
        for number, (key, items, scalar, comment, _) in enumerate(self.found):
            if key:
                line = built.get(number) if built else None
                append(line if line is not None else _entry(key, items, scalar, pos))
                pos += len(key) + len(items) + len(scalar) + 4  # one of the two values is ""
            else:
                append(Comment(text=comment + "\n", start=pos) if comment else Blank(text="\n", start=pos))
                pos += len(comment) + 1
        return lines


def _entry(key: str, items: str, scalar: str, pos: int) -> Entry:
    """Return the entry of one matched line that starts at ``pos``."""
    if items:
        return clean_entry(key, items, pos, is_list=True, opaque=is_opaque_text(key))
    return clean_entry(key, scalar, pos, is_list=False, opaque=False)


def scan_clean(text: str) -> CleanHeader | None:
    """Return the scan of a clean header (spec/header-syntax.md#fast-path), or ``None``.

    ``None`` means only that the header is not clean: the scanner then parses and judges it. For a clean header
    the lines equal the scanner's, and the scanner reports no diagnostic. Every step is a C-level pass over the
    text or over a column of the matched lines: no Python statement runs per character, per line or per list item.
    """
    if not (text.startswith(_MAGIC) and text.endswith("\n") and text.isascii()):
        return None
    # Only braces are left, and they must pair: besides bytes no clean header holds, this rejects nested and
    # unclosed lists before the scan, and keeps the scan linear (a list's run stops at its own '}').
    braces = text.encode("ascii").translate(None, _PLAIN_BYTES)
    if braces != b"{}" * (len(braces) >> 1) or (len(text) > GDAL_LINE_LIMIT and _has_long_line(text)):
        return None
    found: list[Found] = _LINE.findall(text, len(_MAGIC))  # in C: a tuple of strings per line, no match objects
    if not found:
        return CleanHeader(text, found)
    keys, lists, _, _, junk = zip(*found, strict=False)  # columns, in C (every row has five)
    count = len(found)
    if junk.count("") != count:
        return None
    entries = count - keys.count("")
    # No key repeats (HDR017) and no two differ only by '_' versus space (HDR018): their spaced forms differ. The
    # empty key of comments and empty lines counts once.
    distinct = {key.replace("_", " ") for key in keys} if "_" in text else set(keys)
    if len(distinct) != entries + (entries != count):
        return None
    return CleanHeader(text, found) if not braces or _clean_lists(keys, lists) else None


def _clean_lists(keys: tuple[str, ...], lists: tuple[str, ...]) -> bool:
    """Whether the lists' values are clean (no HDR022-HDR028 deviation), judged together in a few C-level passes.

    ``lists`` is the list column of the matched lines (``""`` where a line is no list); the braces of a clean
    header pair, so no list nests. No line inside a list starts with ``;`` (a comment); unless the field is free
    text, the list is not empty, no item is empty or holds a line break and no comma ends it.
    """
    values = "".join(lists)
    if ";" in values and _COMMENT_IN_LIST.search(values):
        return False
    # Every list at once: when all lists pass the item checks, the lists of fields that are not free text pass them
    # (each condition holds for a part when it holds for the whole). Free text may fail them: judge without it.
    if _clean_items(values.encode("ascii")):
        return True
    items = "".join([value for key, value in zip(keys, lists, strict=True) if value and not is_opaque_text(key)])
    return not items or _clean_items(items.encode("ascii"))


_COMMENT_IN_LIST = re.compile(r"\n *;")
# Every byte of an item becomes 'x'; commas and LF stay; a closing brace ends an item as a comma does; spaces and
# opening braces are deleted (the items of a clean header hold no other blank, and its braces pair).
_ITEM_CLASSES = bytes(c if c in b",\n" else ord(",") if c == ord("}") else ord("x") for c in range(256))


def _clean_items(lists: bytes) -> bool:
    """Whether no item of the lists is empty or holds a line break (C-level passes only).

    ``lists`` holds the lists' values (with their braces) one after the other, so an empty list, an empty item and
    a comma that ends a list all leave an empty item. In the classes of the bytes (``x`` item, ``,`` for a comma
    or a closing brace, and LF), an LF between two ``x`` is a line break inside an item; two LFs in a row (an
    empty line in a list) are left to the scanner.
    """
    classes = lists.translate(_ITEM_CLASSES, b" {")
    if b"\n" in classes:  # lists of one line each need no search for line breaks
        if b"\n\n" in classes or b"x\nx" in classes:
            return False
        classes = classes.translate(None, b"\n")
    return not (classes[:1] == b"," or b",," in classes)


def _has_long_line(text: str) -> bool:
    # ASCII only here: characters are bytes.
    return next(iter(long_line_spans(text, GDAL_LINE_LIMIT)), None) is not None
