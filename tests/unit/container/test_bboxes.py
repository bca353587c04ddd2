from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsi_conform.container.bboxes import BoundingBox, BoxesResult, boxes_outside, parse_bounding_boxes


def codes(result: BoxesResult) -> list[tuple[str, int, int | None]]:
    return [(i.code, i.line, i.column) for i in result.issues]


def test_header_row_and_boxes() -> None:
    result = parse_bounding_boxes(b"name,left,top,width,height\nleaf,2,4,4,4\nsoil,0,10,12,6\n")
    assert result.has_header and not result.issues and not result.truncated
    assert result.boxes == (BoundingBox(name="leaf", left=2, top=4, width=4, height=4, line=2),
                            BoundingBox(name="soil", left=0, top=10, width=12, height=6, line=3))


def test_header_row_is_optional_and_matched_loosely() -> None:
    assert not parse_bounding_boxes(b"leaf,1,2,3,4\n").has_header
    result = parse_bounding_boxes(b" Name , LEFT,top ,Width,height\nleaf,1,2,3,4\n")
    assert result.has_header and len(result.boxes) == 1
    # Only the first record can be the header row.
    later = parse_bounding_boxes(b"leaf,1,2,3,4\nname,left,top,width,height\n")
    assert [c for c, _, _ in codes(later)] == ["integer"] * 4


def test_line_numbers_follow_physical_lines() -> None:
    data = b'\xef\xbb\xbfa,1,1,1,1\r\n\r\n"multi\nline",1,1,1,1\rb,0,0,1,1'
    result = parse_bounding_boxes(data)
    assert not result.issues
    assert [(b.name, b.line) for b in result.boxes] == [("a", 1), ("multi\nline", 3), ("b", 5)]


def test_quoted_name_with_comma_and_blanks_around_integers() -> None:
    result = parse_bounding_boxes(b'"soil, wet", 0 , 10,12 ,6\n')
    assert not result.issues
    assert result.boxes[0] == BoundingBox(name="soil, wet", left=0, top=10, width=12, height=6, line=1)


@pytest.mark.parametrize("cell", ["1.5", "+1", "1e3", "\u0663", "1_000", "", "0x1", "9" * 19, "9" * 5000, "1 2"])
def test_non_ascii_decimal_integers_are_rejected(cell: str) -> None:
    result = parse_bounding_boxes(f"leaf,{cell},0,1,1\n".encode())
    assert ("integer", 1, 1) in codes(result)
    assert not result.boxes


def test_columns_and_zero_sizes() -> None:
    result = parse_bounding_boxes(b"a,1,2,3\na,1,2,3,4,5\na,1,1,0,1\na,1,1,1,0\n")
    assert codes(result) == [("columns", 1, None), ("columns", 2, None), ("size", 3, 3), ("size", 4, 4)]
    assert not result.boxes


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_prefixes(prefix: str) -> None:
    result = parse_bounding_boxes(f'"{prefix}x",1,1,1,1\n'.encode())
    assert codes(result) == [("formula", 1, 0)]
    assert len(result.boxes) == 1  # a warning only: the box is still valid


def test_negative_coordinate_is_both_formula_and_integer_issue() -> None:
    assert codes(parse_bounding_boxes(b"a,-1,0,1,1\n")) == [("formula", 1, 1), ("integer", 1, 1)]


def test_not_utf8_is_located_at_its_line() -> None:
    result = parse_bounding_boxes(b"a,1,1,1,1\ncaf\xe9,1,1,1,1\n")
    assert codes(result) == [("encoding", 2, None)]
    assert not result.boxes


def test_broken_quoting_stops_parsing() -> None:
    result = parse_bounding_boxes(b'a,1,1,1,1\n"x"y,1,1,1,1\nb,1,1,1,1\n')
    assert codes(result) == [("csv", 2, None)]
    assert [b.name for b in result.boxes] == ["a"]
    assert codes(parse_bounding_boxes(b'a,1,1,1,1\n"open,1,1,1,1\n')) == [("csv", 2, None)]


def test_issues_are_capped() -> None:
    result = parse_bounding_boxes(b"a,1\n" * 50, max_issues=10)
    assert result.truncated and len(result.issues) == 10


def test_boxes_outside() -> None:
    boxes = parse_bounding_boxes(b"in,8,12,4,4\nwide,9,0,4,1\ntall,0,13,1,4\nboth,11,15,2,2\n").boxes
    assert [(b.name, col) for b, col in boxes_outside(boxes, 12, 16)] == [("wide", 3), ("tall", 4), ("both", 3)]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    result = parse_bounding_boxes(data)
    assert all(i.line >= 1 for i in result.issues)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.text(max_size=8), max_size=7), max_size=8))
def test_never_raises_on_arbitrary_cells(rows: list[list[str]]) -> None:
    text = "\n".join(",".join(row) for row in rows)
    parse_bounding_boxes(text.encode("utf-8", "surrogatepass"))
