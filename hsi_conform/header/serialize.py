"""The canonical header writer (spec/header-syntax.md#canonical-form).

Canonical form: ``ENVI`` then one ``key = value`` per entry, keys in lower case with single spaces, LF line
ends, UTF-8, lists as ``{a, b}`` wrapped so that no line exceeds :data:`MAX_LINE` characters (GDAL drops
every field after a 10,000-character line), ``header offset`` written explicitly. Comments are kept on
their own lines; blank lines, junk lines and duplicate entries (last one wins, as in SPy and GDAL) are not.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from hsi_conform.errors import DatasetError
from hsi_conform.header.nodes import Comment, Entry, normalize_key

if TYPE_CHECKING:
    from hsi_conform.header.model import Header

#: Longest line the canonical writer produces.
MAX_LINE = 1000
#: Deepest braces inside a list item: the list's own braces are the first of the 4 levels the header syntax
#: allows (spec/header-syntax.md#nesting).
MAX_ITEM_DEPTH = 3
_CORE_ORDER = ("description", "samples", "lines", "bands", "header offset", "file type", "data type",
               "interleave", "byte order")


def format_scalar(value: object) -> str:
    """Return the header text of one value: numbers in shortest round-trip form, strings verbatim.

    Non-finite floats are written ``nan``, ``inf`` and ``-inf`` (only fields that allow them, such as
    ``data ignore value``, read them back as numbers).

    Raises:
        DatasetError: for strings with line breaks (they need a brace value); a ``ValueError``.
    """
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isfinite(number):
            return repr(number)
        return "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")
    if isinstance(value, enum.Enum):
        return str(value.value)
    text = str(int(value)) if isinstance(value, np.integer) else str(value)
    if "\r" in text or "\n" in text:
        raise DatasetError("a scalar value cannot contain a line break")
    return text


def format_list(items: Iterable[object], *, key_width: int = 0, max_line: int = MAX_LINE,
                nested: bool = False) -> str:
    """Return ``{a, b, c}``, wrapped after a comma whenever a line would exceed ``max_line`` characters.

    Args:
        items: the values, each written as :func:`format_scalar` writes it.
        key_width: characters before the opening brace on its line.
        max_line: the longest line to write (a longer item gets a line of its own).
        nested: items may hold balanced braces, as the procedures of ``read procedures`` do
            (``crop:{0:9, 0:15, 2:7}``; spec/header-syntax.md#canonical-form): a comma inside an item's braces
            belongs to the item, so it reads back as written.

    Raises:
        DatasetError: an item contains ``,``, ``{`` or ``}`` (ENVI has no quoting; it would split or nest); with
            ``nested``, an item whose braces do not balance, nest deeper than the header syntax allows, or
            leave a comma outside them. A ``ValueError``.
    """
    texts = [format_scalar(i) for i in items]
    for t in texts:
        if nested:
            _check_nested_item(t)
        elif any(c in t for c in ",{}"):
            raise DatasetError(f"list item {t!r} contains ',', '{{' or '}}'")
    return _wrap(texts, key_width, max_line)


def _check_nested_item(text: str) -> None:
    """Refuse an item that would not read back as one item (see :func:`format_list`)."""
    depth = 0
    for ch in text:
        if ch == "{":
            depth += 1
            if depth > MAX_ITEM_DEPTH:
                raise DatasetError(f"list item {text!r} nests braces deeper than {MAX_ITEM_DEPTH} levels")
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise DatasetError(f"list item {text!r} closes a brace it never opened")
        elif ch == "," and depth == 0:
            raise DatasetError(f"list item {text!r} contains ',' outside braces")
    if depth:
        raise DatasetError(f"list item {text!r} leaves a brace open")


def format_text(text: str) -> str:
    """Return a free-text value (``description``) in braces.

    Raises:
        DatasetError: the braces inside do not balance.
    """
    if text.count("{") != text.count("}"):
        raise DatasetError("braces inside free text must balance")
    return "{" + text.replace("\r\n", "\n").replace("\r", "\n") + "}"


def format_entry(key: str, value: object) -> str:
    """Return ``key = value`` (no line end) with the canonical value text for ``value``'s Python type."""
    from hsi_conform.fields import NESTED_LIST_FIELDS, is_opaque_text

    prefix = f"{key} = "
    if is_opaque_text(normalize_key(key)) and isinstance(value, str):
        return prefix + format_text(value)
    if isinstance(value, str) or not isinstance(value, Iterable) or isinstance(value, enum.Enum):
        return prefix + format_scalar(value)
    return prefix + format_list(value, key_width=len(prefix), nested=normalize_key(key) in NESTED_LIST_FIELDS)


def canonical_bytes(header: Header) -> bytes:
    """Return the canonical form of a parsed header (see the module docstring)."""
    last: dict[str, Entry] = {}
    for entry in header.entries():
        last[entry.key] = entry
    out = ["ENVI"]
    unclosed = None
    for line in header.lines:
        if isinstance(line, Comment):
            out.append(line.text.strip(" \t\r\n"))
        elif isinstance(line, Entry) and last.get(line.key) is line:
            if not line.closed:
                unclosed = len(out)
            out.append(_canonical_entry(line))
    if "header offset" not in last:
        # An unclosed list runs to the end of the header: a line written after it would become part of it.
        position = _offset_position(out)
        out.insert(position if unclosed is None else min(position, unclosed), "header offset = 0")
    return ("\n".join(out) + "\n").encode("utf-8", "surrogateescape")


def build_header_text(fields: Mapping[str, object]) -> str:
    """Return canonical header text for a mapping of field values (core fields first, in ENVI's order)."""
    keys = {normalize_key(k): k for k in fields}
    ordered = [k for k in _CORE_ORDER if k in keys] + [k for k in keys if k not in _CORE_ORDER]
    lines = ["ENVI", *(format_entry(k, fields[keys[k]]) for k in ordered)]
    if "header offset" not in keys:
        lines.insert(_offset_position(lines), "header offset = 0")
    return "\n".join(lines) + "\n"


def _canonical_entry(entry: Entry) -> str:
    key = entry.key
    if entry.opaque and entry.items is not None:
        return f"{key} = " + format_text(entry.items[0])
    if entry.items is not None and entry.closed:
        # Items may be nested (read procedures): keep them verbatim, only collapse their blanks.
        return f"{key} = " + _wrap([" ".join(i.split()) for i in entry.items], len(key) + 3)
    if not entry.closed:
        # Kept verbatim (it swallowed the rest of the header), with LF line ends and no trailing line breaks.
        value = entry.value_raw.replace("\r\n", "\n").replace("\r", "\n").rstrip(" \t\n")
        return f"{key} = {value}"
    return f"{key} = {entry.value_raw}"


def _wrap(texts: Sequence[str], key_width: int, max_line: int = MAX_LINE) -> str:
    lines: list[str] = []
    current = "{"
    width = key_width + 1
    for i, t in enumerate(texts):
        piece = t + ("," if i < len(texts) - 1 else "}")
        if len(current) > 1 and width + len(current) + 1 + len(piece) > max_line:
            lines.append(current)
            current, width = "  " + piece, 0
        else:
            current += (" " if len(current) > 1 else "") + piece
    if not texts:
        current += "}"
    lines.append(current)
    return "\n".join(lines)


def _offset_position(lines: list[str]) -> int:
    positions = [i for i, ln in enumerate(lines) if ln.split(" = ", 1)[0] in ("samples", "lines", "bands")]
    return (max(positions) + 1) if positions else len(lines)
