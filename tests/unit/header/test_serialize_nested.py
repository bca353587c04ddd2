"""The canonical writer writes every ``read procedures`` item a header list can hold (issue 19 item 7).

Items of ``read procedures`` hold nested braces (``crop:{0:1, 0:1, 0:1}``); the writer keeps them whole and
``parse_header`` reads back the same items, which parse into the same procedures
(spec/header-syntax.md#canonical-form, spec/semantics.md#read-procedures).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hsi_conform
from hsi_conform import parse_header, write_container
from hsi_conform.header import build_header_text
from hsi_conform.header.procedures import ROTATIONS, parse_procedures
from hsi_conform.header.serialize import format_entry, format_list

_BLANK = st.text(alphabet=" \t", max_size=2)
_INT = st.integers(min_value=0, max_value=10**6).map(str)
_SIGNED = st.tuples(st.sampled_from(["", "+", "-"]), _INT).map("".join)
_SERVICE = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,12}", fullmatch=True)
_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,10}", fullmatch=True).filter(
    lambda n: n not in ("microservice", "resample", "crop", "rotate", "merge"))
# A merge ID: no blanks at either end, no braces, commas or colons, no line breaks.
_SOURCE_ID = st.from_regex(r"[A-Za-z0-9_./-](?:[A-Za-z0-9_./ -]{0,10}[A-Za-z0-9_./-])?", fullmatch=True)
# The argument of an unknown procedure: text with balanced braces and commas only inside them.
_ARGUMENT = st.one_of(
    st.from_regex(r"[A-Za-z0-9_.:;=+ -]{0,12}[A-Za-z0-9]", fullmatch=True),
    st.from_regex(r"\{[A-Za-z0-9 ,:]{0,12}\}", fullmatch=True),
    st.from_regex(r"\{\{[a-z0-9, ]{0,6}\}, [a-z]{1,4}\}", fullmatch=True),
)


def _join(parts: list[str], blanks: list[str]) -> str:
    """Join tokens with the drawn blanks between them (the grammar ignores blanks between tokens)."""
    return "".join(p + b for p, b in zip(parts[:-1], blanks, strict=True)) + parts[-1]


@st.composite
def procedure_items(draw: st.DrawFn) -> str:
    """An item of ``read procedures`` that ``grammar/read_procedures.lark`` accepts, on one line."""
    kind = draw(st.sampled_from(["microservice", "resample", "crop", "rotate", "merge", "other", "bare"]))
    if kind == "microservice":
        parts = ["microservice", ":", draw(_SERVICE)]
    elif kind == "resample":
        sizes = draw(st.lists(st.integers(min_value=1, max_value=10**6).map(str), min_size=3, max_size=3))
        parts = ["resample", ":", "{", sizes[0], ",", sizes[1], ",", sizes[2], "}"]
    elif kind == "crop":
        parts = ["crop", ":", "{"]
        for axis in range(3):
            first = draw(st.integers(min_value=0, max_value=1000))
            last = first + draw(st.integers(min_value=0, max_value=1000))
            parts += [str(first), ":", str(last)] + ([","] if axis < 2 else [])
        parts.append("}")
    elif kind == "rotate":
        parts = ["rotate", ":", draw(st.sampled_from(ROTATIONS))]
    elif kind == "merge":
        parts = ["merge", ":", "{"]
        for index in range(draw(st.integers(min_value=1, max_value=3))):
            parts += ([","] if index else []) + [draw(_SOURCE_ID), ":", draw(_SIGNED), ":", draw(_SIGNED)]
        parts.append("}")
    elif kind == "other":
        parts = [draw(_NAME), ":", draw(_ARGUMENT)]
    else:
        parts = [draw(_NAME)]
    blanks = draw(st.lists(_BLANK, min_size=len(parts) - 1, max_size=len(parts) - 1))
    return _join(parts, blanks)


def test_write_container_writes_nested_procedures(tmp_path: Path) -> None:
    # The report of issue 19 item 7: this raised "ValueError: list item ... contains ',', '{' or '}'".
    items = ["crop:{0:1, 0:1, 0:1}", "rotate:clockwise"]
    path = write_container(tmp_path / "p.hsi", np.zeros((2, 2, 2), "u2"), fields={"read procedures": items})
    with hsi_conform.open(path) as c:
        assert c.header.value("read procedures") == tuple(items)
        assert c.header.diagnostics == []


@settings(max_examples=150, deadline=None)
@given(st.lists(procedure_items(), min_size=1, max_size=6))
def test_procedure_items_round_trip(items: list[str]) -> None:
    header = parse_header(build_header_text({"samples": 1, "read procedures": items}))
    assert header.diagnostics == []
    back = header.value("read procedures")
    assert back == tuple(items)
    assert parse_procedures(back) == parse_procedures(items)


@settings(max_examples=40, deadline=None)
@given(st.lists(procedure_items(), min_size=1, max_size=40), st.integers(min_value=40, max_value=200))
def test_wrapped_procedure_lists_read_back(items: list[str], max_line: int) -> None:
    text = "read procedures = " + format_list(items, key_width=18, max_line=max_line, nested=True)
    header = parse_header(f"ENVI\n{text}\n")
    assert header.diagnostics == []
    assert header.value("read procedures") == tuple(items)


@pytest.mark.parametrize("item", [
    "crop:{0:1, 0:1", "crop:0:1}", "a:b, c", "x:{a}, b", "x:{{{{deep}}}}", "x:}{", "crop:{0:1,\n 0:1, 0:1}",
])
def test_items_that_cannot_read_back_are_refused(item: str) -> None:
    with pytest.raises(ValueError):
        format_entry("read procedures", ["rotate:180", item])


def test_deepest_nesting_the_syntax_allows_is_written() -> None:
    text = format_entry("read procedures", ["x:{{{a, b}}}"])
    header = parse_header(f"ENVI\n{text}\n")
    assert header.diagnostics == []
    assert header.value("read procedures") == ("x:{{{a, b}}}",)


def test_other_fields_still_refuse_braces() -> None:
    with pytest.raises(ValueError):
        format_entry("band names", ["{a, b}"])
