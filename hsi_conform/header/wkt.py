"""A small reader and writer of OGC WKT 1 (and ESRI's dialect of it): enough to name a CRS, not to transform.

The reader turns ``KEYWORD["name", 1, CHILD[...], BARE]`` into nested :class:`Node` objects; the writer prints
them back in GDAL's compact style (no blanks, shortest round-tripping numbers). The georeferencing mapping
(:mod:`hsi_conform.header.crs`, spec/georeferencing.md#crs) uses it to recognise a datum and an EPSG authority
and to build the WKT of a ``map info``; WKT 2 and anything unbalanced read as None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"]|"")*")|(?P<open>[\[(])|(?P<close>[\])])|(?P<comma>,)|'
                    r"(?P<word>[^\s\[\](),\"]+))")
#: WKT 1 root keywords: a WKT 2 text (``GEOGCRS``, ``PROJCRS``...) is not read.
ROOTS = frozenset({"GEOGCS", "PROJCS", "LOCAL_CS", "GEOCCS", "COMPD_CS", "VERT_CS"})
#: Deeper than any WKT 1 CRS nests; a text nesting more is refused rather than followed.
_MAX_DEPTH = 16


@dataclass(slots=True)
class Node:
    """One ``KEYWORD[...]`` of a WKT: its keyword and its arguments (strings, numbers, bare words, nodes)."""

    keyword: str
    args: list[str | float | Node] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        """The first argument when it is a quoted string (the name of a CRS, datum, spheroid...)."""
        return self.args[0] if self.args and isinstance(self.args[0], str) else None

    def child(self, keyword: str) -> Node | None:
        """Return the first argument that is a node with this keyword (case-insensitive)."""
        return next((a for a in self.args if isinstance(a, Node) and a.keyword == keyword.upper()), None)

    def numbers(self) -> list[float]:
        """Return the arguments that are numbers, in order."""
        return [a for a in self.args if isinstance(a, float)]


class _Bare(str):
    """A bare word (``EAST``, ``NORTH``): written without quotes."""

    __slots__ = ()


def parse_wkt(text: str) -> Node | None:
    """Parse a WKT 1 text; None when it is not one (WKT 2, unbalanced brackets, trailing text)."""
    tokens = _tokens(text.strip())
    if tokens is None:
        return None
    node, end = _node(tokens, 0, 0)
    if node is None or end != len(tokens) or node.keyword not in ROOTS:
        return None
    return node


def _tokens(text: str) -> list[tuple[str | None, str]] | None:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            return None  # a character no token covers (an unclosed quote)
        tokens.append((match.lastgroup, match.group(match.lastgroup or "")))
        pos = match.end()
    return tokens


def _node(tokens: list[tuple[str | None, str]], i: int, depth: int) -> tuple[Node | None, int]:
    if depth > _MAX_DEPTH or i + 1 >= len(tokens) or tokens[i][0] != "word" or tokens[i + 1][0] != "open":
        return None, i
    node = Node(tokens[i][1].upper())
    i += 2
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "close":
            return node, i + 1
        if kind == "comma" and node.args:
            i += 1
            continue
        if kind == "string":
            node.args.append(value[1:-1].replace('""', '"'))
            i += 1
        elif kind == "word" and i + 1 < len(tokens) and tokens[i + 1][0] == "open":
            child, i = _node(tokens, i, depth + 1)
            if child is None:
                return None, i
            node.args.append(child)
        elif kind == "word":
            node.args.append(_number(value))
            i += 1
        else:
            return None, i
    return None, i


def _number(word: str) -> str | float:
    try:
        return float(word)
    except ValueError:
        return _Bare(word)


def bare(word: str) -> str:
    """Return a bare word argument for :func:`to_wkt` (``bare("EAST")``)."""
    return _Bare(word)


def to_wkt(node: Node) -> str:
    """Write a node as compact WKT 1: quoted strings, bare words, numbers in their shortest exact form."""
    parts = []
    for arg in node.args:
        if isinstance(arg, Node):
            parts.append(to_wkt(arg))
        elif isinstance(arg, _Bare):
            parts.append(str(arg))
        elif isinstance(arg, str):
            parts.append('"' + arg.replace('"', '""') + '"')
        else:
            parts.append(_format_number(arg))
    return f"{node.keyword}[{','.join(parts)}]"


def _format_number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
