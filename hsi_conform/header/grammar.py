"""Locate and load the normative header grammar (``grammar/envi_header.lark``).

The grammar ships inside the wheel as ``hsi_conform/_grammar/`` (hatchling force-include) and lives at the
repository root in a checkout; :func:`grammar_path` finds either. :func:`parser` builds the LALR parser once.
:func:`scanner` compiles the same grammar's line terminals into one regular expression for the hot path of
:func:`hsi_conform.parse_header`; a differential test proves that it yields the LALR parser's tokens.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources.abc import Traversable

from lark import Lark

from hsi_conform._resources import data_file

GRAMMAR_FILE = "envi_header.lark"

#: Terminals that make up the lines of a header after the magic line, as named in the grammar.
LINE_TERMINALS = ("COMMENT_LINE", "BLANK_LINE", "ENTRY_LINE", "UNCLOSED_LINE", "JUNK_LINE")


def grammar_path(name: str = GRAMMAR_FILE) -> Traversable:
    """Return the grammar file, from the installed package first, then from the source checkout.

    Raises:
        FileNotFoundError: when the grammar is in neither place (a broken installation).
    """
    return data_file("grammar", name)


def grammar_text(name: str = GRAMMAR_FILE) -> str:
    """Return the text of a grammar file."""
    return grammar_path(name).read_text(encoding="utf-8")


@functools.cache
def parser() -> Lark:
    """Return the cached LALR parser of the header grammar (start symbols ``start`` and ``body``)."""
    return Lark(
        grammar_text(),
        parser="lalr",
        start=["start", "body"],
        propagate_positions=True,
        maybe_placeholders=False,
    )


@dataclass(frozen=True, slots=True)
class Scanner:
    """The grammar's terminals compiled for a linear scan of a header."""

    magic: re.Pattern[str]
    line: re.Pattern[str]
    names: tuple[str, ...]

    def tokens(self, text: str, pos: int = 0, *, with_magic: bool = True) -> Iterator[tuple[str, int, int]]:
        """Yield ``(terminal, start, end)`` for every token of ``text``.

        Every character of ``text`` belongs to exactly one token, because ``JUNK_LINE`` matches any
        non-empty line and ``BLANK_LINE`` any empty one. ``with_magic`` scans the first line as the magic line
        (start symbol ``start``); without it the text from ``pos`` on is scanned as ``body``.
        """
        if with_magic:
            m = self.magic.match(text)
            if m is None:
                return
            pos = m.end()
            yield "MAGIC_LINE", 0, pos
        size = len(text)
        match = self.line.match
        names = self.names
        while pos < size:
            m = match(text, pos)
            if m is None:  # pragma: no cover - the grammar matches every non-empty line
                raise AssertionError(f"grammar does not cover text at {pos}")
            yield names[m.lastindex - 1 if m.lastindex else 0], pos, m.end()
            pos = m.end()


@functools.cache
def scanner() -> Scanner:
    """Return the grammar's line terminals compiled in the LALR lexer's order of preference."""
    terminals = {t.name: t for t in parser().terminals}
    # Lark's basic lexer tries terminals by priority, then by maximal width; reproduce its order.
    ordered = sorted(
        (terminals[n] for n in LINE_TERMINALS),
        key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
    )
    line = re.compile("|".join(f"({t.pattern.to_regexp()})" for t in ordered))
    _check_no_inner_groups(line, len(ordered))
    magic = re.compile(terminals["MAGIC_LINE"].pattern.to_regexp())
    return Scanner(magic=magic, line=line, names=tuple(t.name for t in ordered))


def _check_no_inner_groups(pattern: re.Pattern[str], expected: int) -> None:
    # lastindex identifies the terminal only if the terminals themselves contain no capturing groups.
    if pattern.groups != expected:
        raise AssertionError("grammar terminals must not contain capturing groups")
