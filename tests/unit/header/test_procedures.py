"""The ``read procedures`` mini-language: grammar, typed procedures, errors and bounds."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsi_conform.header.grammar import grammar_text
from hsi_conform.header.procedures import (
    MAX_ITEM_LENGTH,
    ROTATIONS,
    Crop,
    IndexRange,
    Merge,
    MergeSource,
    Microservice,
    OtherProcedure,
    ProcedureError,
    Resample,
    Rotate,
    out_of_bounds,
    parse_procedure,
    parse_procedures,
)


def test_grammar_file_is_loadable() -> None:
    assert "crop" in grammar_text("read_procedures.lark")


@pytest.mark.parametrize(("text", "expected"), [
    ("microservice:calib.specim_fx10", Microservice("calib.specim_fx10")),
    ("resample:{10, 20, 30}", Resample(10, 20, 30)),
    ("crop:{0:9, 0:15, 2:7}", Crop(IndexRange(0, 9), IndexRange(0, 15), IndexRange(2, 7))),
    ("merge:{other/cube.hsi:10:-5, b:+0:0}", Merge((MergeSource("other/cube.hsi", 10, -5), MergeSource("b", 0, 0)))),
    ("denoise:{3}", OtherProcedure("denoise", "{3}")),
    ("envi_complex_shortint_spatial", OtherProcedure("envi_complex_shortint_spatial")),
    ("  crop : {\n 0:1 ,\n 0:1, 0:1 }\n", Crop(IndexRange(0, 1), IndexRange(0, 1), IndexRange(0, 1))),
])
def test_forms_parse_into_typed_procedures(text: str, expected: object) -> None:
    assert parse_procedure(text) == expected


@pytest.mark.parametrize("direction", ROTATIONS)
def test_every_rotation_parses(direction: str) -> None:
    assert parse_procedure(f"rotate:{direction}") == Rotate(direction)


def test_names_of_procedures() -> None:
    names = [p.name for p in parse_procedures(["crop:{0:1, 0:1, 0:1}", "rotate:180", "foo:bar", "microservice:x"])]
    assert names == ["crop", "rotate", "foo", "microservice"]


@pytest.mark.parametrize("text", [
    "rotate:sideways", "crop:{0:1, 0:1}", "crop:{5:2, 0:1, 0:1}", "resample:{0, 1, 1}", "resample:{1, 2, 3} x",
    "crop", "microservice:", "merge:{}", "merge:{a:1}", "crop:{-1:2, 0:1, 0:1}", "", "   ", "1abc:x",
    "rotate:{clockwise}", "crop:{0:1, 0:1, 0:1, 0:1}", "merge:{a b:1:2:3}",
])
def test_invalid_items_raise_procedure_error(text: str) -> None:
    with pytest.raises(ProcedureError):
        parse_procedure(text)


def test_error_reports_the_column_of_an_unexpected_token() -> None:
    with pytest.raises(ProcedureError) as info:
        parse_procedure("rotate:sideways")
    assert info.value.column == 8
    assert info.value.item is None


def test_parse_procedures_reports_the_item_index() -> None:
    with pytest.raises(ProcedureError) as info:
        parse_procedures(["rotate:180", "crop:{0:1}"])
    assert info.value.item == 1


def test_overlong_item_is_rejected_without_parsing() -> None:
    with pytest.raises(ProcedureError):
        parse_procedure("crop:{0:1, 0:1, 0:" + "9" * MAX_ITEM_LENGTH + "}")


def test_huge_numbers_within_the_item_limit_do_not_crash() -> None:
    big = "9" * 4000
    assert parse_procedure(f"resample:{{{big}, 1, 1}}") == Resample(int(big), 1, 1)


def test_out_of_bounds_follows_the_chain() -> None:
    chain = parse_procedures(["rotate:clockwise", "crop:{0:15, 0:11, 0:9}", "crop:{0:20, 0:1, 0:1}"])
    assert list(out_of_bounds(chain, (12, 16, 10))) == [
        (2, "sample range 0:20 ends beyond the last sample index 15")]


def test_out_of_bounds_after_resample_and_crop() -> None:
    chain = parse_procedures(["resample:{24, 32, 10}", "crop:{0:23, 4:31, 0:9}", "crop:{0:23, 0:28, 0:9}"])
    assert [i for i, _ in out_of_bounds(chain, (12, 16, 10))] == [2]


@pytest.mark.parametrize("stop", ["microservice:x", "merge:{a:0:0}", "foo:bar", None])
def test_unknown_size_stops_the_bounds_check(stop: str | None) -> None:
    chain = [None if stop is None else parse_procedure(stop), parse_procedure("crop:{0:99, 0:99, 0:99}")]
    assert list(out_of_bounds(chain, (12, 16, 10))) == []


def test_half_turn_and_flips_keep_the_size() -> None:
    for direction in ("180", "swap-left-right", "swap-up-down"):
        assert Rotate(direction).shape_after((1, 2, 3)) == (1, 2, 3)
    assert Rotate("counterclockwise").shape_after((1, 2, 3)) == (2, 1, 3)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="crop:{}0123456789, -abrtesmvgi\n", max_size=40))
def test_arbitrary_text_raises_only_procedure_error(text: str) -> None:
    with contextlib.suppress(ProcedureError):
        parse_procedure(text)
