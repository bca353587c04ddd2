"""The normative grammar: it loads, and the fast scanner yields exactly the LALR parser's tokens."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark
from lark.exceptions import LarkError

from hsi_conform.header.grammar import (
    GRAMMAR_FILE,
    LINE_TERMINALS,
    grammar_path,
    grammar_text,
    parser,
    scanner,
)
from tests._paths import ROOT
from tests.unit.header.test_edge_cases import CASES as EDGE_CASES

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode(data: bytes) -> str:
    """Decode header bytes as the parser does (BOM removed, other bytes kept as surrogates)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", "surrogateescape")


def lark_tokens(text: str, start: str = "start", offset: int = 0) -> list[tuple[str, int, int]]:
    tree = parser().parse(text, start=start)
    return [(t.type, t.start_pos + offset, t.end_pos + offset) for t in tree.children]


def scanned(text: str, pos: int = 0, *, with_magic: bool = True) -> list[tuple[str, int, int]]:
    return list(scanner().tokens(text, pos, with_magic=with_magic))


def assert_same_tokens(text: str, pos: int = 0) -> None:
    """Scanner and LALR parser agree on ``text`` (from ``pos`` on, as ``body`` when ``pos`` > 0)."""
    with_magic = pos == 0
    fast = scanned(text, pos, with_magic=with_magic)
    assert fast == lark_tokens(text[pos:], "start" if with_magic else "body", pos)
    # The tokens cover the text exactly, in order.
    assert fast[0][1] == pos
    assert all(a[2] == b[1] for a, b in itertools.pairwise(fast))
    assert fast[-1][2] == len(text)
    # After an UNCLOSED_LINE whose braces do balance (nesting too deep), the parser resumes at the next line
    # with start symbol `body`; the scanner and `body` agree there too.
    kind, start, _ = fast[-1]
    if kind == "UNCLOSED_LINE":
        close = _balanced_end(text, start)
        if close is not None:
            ends = [i for i in (text.find("\r", close), text.find("\n", close)) if i >= 0]
            line_end = min(ends) if ends else len(text)
            resume = line_end + (2 if text.startswith("\r\n", line_end) else 1)
            if resume < len(text):
                assert_same_tokens(text, resume)


def _balanced_end(text: str, pos: int) -> int | None:
    depth = 0
    for i in range(text.index("{", text.index("=", pos)), len(text)):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


# -- loading -----------------------------------------------------------------------------------------------


def test_grammar_loads_once() -> None:
    p = parser()
    assert isinstance(p, Lark)
    assert parser() is p
    assert scanner() is scanner()
    names = {t.name for t in p.terminals}
    assert {"MAGIC_LINE", *LINE_TERMINALS} <= names


def test_grammar_path_finds_the_checkout_copy() -> None:
    path = Path(str(grammar_path()))
    assert path.name == GRAMMAR_FILE
    assert path.is_file()
    packaged = ROOT / "hsi_conform" / "_grammar" / GRAMMAR_FILE
    if not packaged.exists():
        assert path.resolve() == (ROOT / "grammar" / GRAMMAR_FILE).resolve()
    assert grammar_text() == path.read_text(encoding="utf-8")
    assert "MAGIC_LINE" in grammar_text()


def test_grammar_path_of_a_missing_file() -> None:
    with pytest.raises(FileNotFoundError):
        grammar_path("no-such-grammar.lark")


def test_scanner_prefers_terminals_like_the_lexer() -> None:
    names = scanner().names
    assert set(names) == set(LINE_TERMINALS)
    assert names[-1] == "JUNK_LINE"
    assert names.index("ENTRY_LINE") < names.index("UNCLOSED_LINE") < names.index("JUNK_LINE")
    assert names.index("COMMENT_LINE") < names.index("ENTRY_LINE")


@pytest.mark.parametrize("text", ["", "envi\n", "\nENVI\n", "; c\nENVI\n", "EN"])
def test_text_without_magic(text: str) -> None:
    assert scanned(text) == []
    with pytest.raises(LarkError):
        parser().parse(text, start="start")


@pytest.mark.parametrize(("line", "terminal"), [
    ("x = 1\n", "ENTRY_LINE"),
    ("x=1", "ENTRY_LINE"),
    ("x = {1,\n 2} tail\n", "ENTRY_LINE"),
    ("  x =\n", "ENTRY_LINE"),
    ("r = {a:{b:{c:{d}}}}\n", "ENTRY_LINE"),
    ("r = {a:{b:{c:{d:{e}}}}}\n", "UNCLOSED_LINE"),
    ("x = {1,\n", "UNCLOSED_LINE"),
    ("; x = 1\n", "COMMENT_LINE"),
    ("  ;\n", "COMMENT_LINE"),
    ("\n", "BLANK_LINE"),
    (" \t\r\n", "BLANK_LINE"),
    (" \t", "BLANK_LINE"),
    ("junk\n", "JUNK_LINE"),
    ("= x\n", "JUNK_LINE"),
    ("}\n", "JUNK_LINE"),
    ("{400, 500}\n", "JUNK_LINE"),
])
def test_line_terminals(line: str, terminal: str) -> None:
    text = "ENVI\n" + line
    assert scanned(text) == [("MAGIC_LINE", 0, 5), (terminal, 5, len(text))]
    assert_same_tokens(text)


# -- the scanner is the LALR parser ------------------------------------------------------------------------


def _edge_case_texts() -> list[tuple[str, str]]:
    return [(c.id, _decode(c.data)) for c in EDGE_CASES if not c.not_header]


@pytest.mark.parametrize(("case_id", "text"), _edge_case_texts(), ids=[i for i, _ in _edge_case_texts()])
def test_scanner_matches_lark_on_edge_cases(case_id: str, text: str) -> None:
    assert_same_tokens(text)


@pytest.mark.parametrize("text", [
    "ENVI\nr = {a:{b:{c:{d:{e}}}}}\nx = 1\nq = {\n1:{2:{3:{4:{5:{6}}}}}\n} tail\r\nY = 3\n",
    "ENVI\r\nr = {{{{{{}}}}}}\r\n\r\n; c\r\nx = {1,\r\n2",
    "ENVI\nr = {{{{{x}}}}}",
])
def test_scanner_matches_lark_after_recovery(text: str) -> None:
    assert_same_tokens(text)


@SETTINGS
@given(from_lark(parser(), start="start"))
def test_scanner_matches_lark_on_generated_headers(text: str) -> None:
    assert_same_tokens(text)


@SETTINGS
@given(st.text(st.sampled_from([*"ab =;{},:\t\r\n", "é"]), max_size=200))
def test_scanner_matches_lark_on_syntax_soup(tail: str) -> None:
    assert_same_tokens("ENVI\n" + tail)
