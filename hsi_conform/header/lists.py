"""Split a brace list (lexed as one token by the grammar) into items.

Items are separated by commas at the list's own depth; commas inside nested braces belong to the item
(``read procedures = {crop:{0:10, 0:20, 0:5}}`` has one item). Line breaks and blanks around items are
ignored (spec 2.3); comment lines inside the braces are not part of any item (they are reported).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMMENT_IN_LIST = re.compile(r"(?:\r\n|\r|\n)([ \t]*;[^\r\n]*)")
_STRIP = " \t\r\n"


@dataclass(frozen=True, slots=True)
class SplitList:
    """The items of a list and what the split noticed.

    Attributes:
        items: item texts, blanks and line breaks around each removed.
        comments: ``(start, end)`` of each comment line inside the braces, relative to the inner text.
        trailing_comma: the list ends with an empty item after a comma (that item is dropped).
        empty_items: indexes of empty items other than a trailing one.
    """

    items: tuple[str, ...]
    comments: tuple[tuple[int, int], ...]
    trailing_comma: bool
    empty_items: tuple[int, ...]


def split_list(inner: str) -> SplitList:
    """Split the text between a list's outer braces into items."""
    comments = tuple(m.span(1) for m in _COMMENT_IN_LIST.finditer(inner)) if ";" in inner else ()
    if comments or "{" in inner or "}" in inner:
        masked = _mask(inner, comments)
        texts = [masked[a:b].strip(_STRIP) for a, b in _pieces(masked)]
    else:
        # The common case (numbers, names): C-level split, no per-character Python loop. Each piece is replaced
        # by its stripped text in place, so the unstripped copy of a huge list never exists next to the result.
        texts = inner.split(",")
        for index, piece in enumerate(texts):
            texts[index] = piece.strip(_STRIP)
    return _judge(texts, comments)


def item_bounds(inner: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` of each item of ``inner`` (blanks excluded), in :func:`split_list` order."""
    comments = tuple(m.span(1) for m in _COMMENT_IN_LIST.finditer(inner)) if ";" in inner else ()
    masked = _mask(inner, comments)
    bounds = [_stripped(masked, a, b) for a, b in _pieces(masked)]
    if len(bounds) > 1 and bounds[-1][0] == bounds[-1][1]:
        bounds.pop()
    elif len(bounds) == 1 and bounds[0][0] == bounds[0][1]:
        bounds.clear()
    return bounds


def _judge(texts: list[str], comments: tuple[tuple[int, int], ...]) -> SplitList:
    trailing = len(texts) > 1 and texts[-1] == ""
    if trailing or (len(texts) == 1 and texts[0] == ""):
        texts.pop()
    empty = tuple(i for i, t in enumerate(texts) if t == "") if "" in texts else ()
    return SplitList(tuple(texts), comments, trailing, empty)


def _mask(inner: str, comments: tuple[tuple[int, int], ...]) -> str:
    if not comments:
        return inner
    parts = []
    last = 0
    for start, end in comments:
        parts.append(inner[last:start])
        parts.append(" " * (end - start))
        last = end
    parts.append(inner[last:])
    return "".join(parts)


def _pieces(text: str) -> list[tuple[int, int]]:
    """Return the raw ``(start, end)`` of the comma-separated pieces at depth 0 of ``text``."""
    pieces = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            pieces.append((start, i))
            start = i + 1
    pieces.append((start, len(text)))
    return pieces


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _STRIP:
        start += 1
    while end > start and text[end - 1] in _STRIP:
        end -= 1
    return start, end
