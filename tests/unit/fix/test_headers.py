"""The header fixers: each edits only what its rule reports, through the lossless model (spec/fix.md#header-fixes)."""

from __future__ import annotations

import pytest

from hsi_conform.fields import Scope
from hsi_conform.fix.headers import (
    HEADER_FIXERS,
    fix_bom,
    fix_defaultable_fields,
    fix_duplicate_keys,
    fix_file_type,
    fix_final_newline,
    fix_key_blanks,
    fix_key_case,
    fix_line_endings,
    fix_magic_blanks,
    fix_separator,
    fix_trailing_comma,
    fix_wavelength_units,
    infer_wavelength_unit,
)
from hsi_conform.fix.plan import MEMBER_ACTIONS, header_diff
from hsi_conform.header import Header, parse_header
from hsi_conform.rules import load_builtin_rules

BASE = "ENVI\nsamples = 2\nlines = 3\nbands = 2\ndata type = 1\ninterleave = bsq\n"


def _header(text: str, *, bom: bool = False) -> Header:
    return parse_header((b"\xef\xbb\xbf" if bom else b"") + text.encode())


def _codes(header: Header) -> set[str]:
    return {d.code for d in header.diagnostics}


def test_every_declared_fix_has_one_fixer_and_every_fixer_a_declared_fix() -> None:
    declared = {r.id for r in load_builtin_rules() if r.fix is not None}
    assert declared == set(HEADER_FIXERS) | set(MEMBER_ACTIONS)
    assert not set(HEADER_FIXERS) & set(MEMBER_ACTIONS)


def test_bom_is_dropped_and_the_text_kept() -> None:
    fixed = fix_bom(_header(BASE, bom=True), Scope.ROOT)
    assert fixed is not None and fixed.to_bytes() == BASE.encode() and "bom" not in _codes(fixed)
    assert fix_bom(_header(BASE), Scope.ROOT) is None


@pytest.mark.parametrize("eol", ["\r\n", "\r"])
def test_line_endings_become_lf(eol: str) -> None:
    fixed = fix_line_endings(_header(BASE.replace("\n", eol)), Scope.ROOT)
    assert fixed is not None and fixed.to_text() == BASE


def test_mixed_line_endings_become_lf() -> None:
    fixed = fix_line_endings(_header(BASE.replace("\n", "\r\n", 2)), Scope.ROOT)
    assert fixed is not None and fixed.to_text() == BASE and not _codes(fixed)


def test_final_newline_uses_the_headers_line_ending() -> None:
    fixed = fix_final_newline(_header(BASE.replace("\n", "\r\n").rstrip("\r\n")), Scope.ROOT)
    assert fixed is not None and fixed.to_text() == BASE.replace("\n", "\r\n")


def test_magic_blanks() -> None:
    fixed = fix_magic_blanks(_header(BASE.replace("ENVI\n", "ENVI \t\n")), Scope.ROOT)
    assert fixed is not None and fixed.to_text() == BASE


def test_key_case_changes_only_the_keys() -> None:
    source = BASE.replace("samples = 2", "SAMPLES = 2").replace("data type", "Data Type")
    source += "description = {Mixed Case}\n"
    fixed = fix_key_case(_header(source), Scope.ROOT)
    assert fixed is not None
    assert fixed.to_text() == BASE + "description = {Mixed Case}\n"
    assert "key-case" not in _codes(fixed)


def test_key_blanks() -> None:
    fixed = fix_key_blanks(_header(BASE.replace("data type", "data \t type")), Scope.ROOT)
    assert fixed is not None and fixed.to_text() == BASE


@pytest.mark.parametrize(("line", "want"), [("lines=3", "lines = 3"), ("lines\t=  3", "lines = 3"),
                                             ("lines   =", "lines =")])
def test_separator_spacing(line: str, want: str) -> None:
    fixed = fix_separator(_header(BASE.replace("lines = 3", line)), Scope.ROOT)
    assert fixed is not None and fixed.to_text() == BASE.replace("lines = 3", want)
    assert "separator-spacing" not in _codes(fixed)


def test_trailing_comma_keeps_the_items() -> None:
    fixed = fix_trailing_comma(_header(BASE + "wavelength = {400, 500,\n }\n"), Scope.ROOT)
    assert fixed is not None and fixed.to_text() == BASE + "wavelength = {400, 500\n }\n"
    assert list(fixed.value("wavelength")) == [400.0, 500.0]


def test_duplicate_keys_keep_the_last() -> None:
    fixed = fix_duplicate_keys(_header(BASE.replace("lines = 3\n", "lines = 9\nlines = 3\n")), Scope.ROOT)
    assert fixed is not None and fixed.to_text() == BASE


def test_defaultable_fields_byte_order_only_for_one_byte_data() -> None:
    one_byte = BASE
    fixed = fix_defaultable_fields(_header(one_byte), Scope.ROOT)
    assert fixed is not None
    assert fixed.value("byte order") == 0 and fixed.value("file type") == "ENVI Standard"
    assert fixed.to_text().startswith(BASE)  # appended: every existing line stays
    two_byte = fix_defaultable_fields(_header(BASE.replace("data type = 1", "data type = 2")), Scope.ROOT)
    assert two_byte is not None and "byte order" not in two_byte
    assert fix_defaultable_fields(_header(BASE.replace("data type = 1", "data type = 2")), Scope.EXPLORATION) is None


def test_file_type_outside_and_inside_exploration() -> None:
    wrong = BASE + "file type = ENVI Classification\n"
    assert fix_file_type(_header(wrong), Scope.ROOT).value("file type") == "ENVI Standard"  # type: ignore[union-attr]
    assert fix_file_type(_header(wrong), Scope.EXPLORATION) is None  # allowed there
    lower = fix_file_type(_header(BASE + "file type = envi classification\n"), Scope.EXPLORATION)
    assert lower is not None and lower.value("file type") == "ENVI Classification"
    assert fix_file_type(_header(BASE + "file type = PCA-ish\n"), Scope.EXPLORATION) is None


@pytest.mark.parametrize(("units", "wavelength", "want"), [
    ("nanometer", "{400, 500}", "Nanometers"),
    ("whatever", "{400, 500}", "Nanometers"),
    ("whatever", "{0.4, 2.5}", "Micrometers"),
    ("whatever", "{1, 400}", None),
    ("whatever", "{a, b}", None),
])
def test_wavelength_units(units: str, wavelength: str, want: str | None) -> None:
    header = _header(BASE + f"wavelength units = {units}\nwavelength = {wavelength}\n")
    assert infer_wavelength_unit(header) == want
    fixed = fix_wavelength_units(header, Scope.ROOT)
    assert (fixed.value("wavelength units") if fixed is not None else None) == want


def test_diff_shows_bom_and_cr() -> None:
    diff = header_diff("data.hdr", b"\xef\xbb\xbf" + BASE.replace("\n", "\r\n").encode(), BASE.encode())
    assert "-<BOM>ENVI<CR>\n" in diff and "+ENVI\n" in diff and diff.startswith("--- a/data.hdr\n+++ b/data.hdr\n")
