"""The header parser and the lossless model: positions, line ends, nesting, duplicates, caps and editing."""

from __future__ import annotations

import difflib
from collections import Counter

import pytest

from hsi_conform import parse_header
from hsi_conform.errors import NotAnEnviHeaderError
from hsi_conform.header import DEFAULT_MAX_BYTES, Blank, Comment, Entry, Header, Junk, Magic, model, nodes
from hsi_conform.header.parse import MAX_PER_CODE
from tests.unit.header.test_edge_cases import BASE, FIRST, codes, hdr, only, where

# -- positions ---------------------------------------------------------------------------------------------


def test_positions_are_one_based_and_end_exclusive() -> None:
    h = parse_header(hdr("Sensor Type = x\n"))
    d = only(h, "key-case")
    assert where(d) == (FIRST, 1, FIRST, 12)
    assert (d.offset, d.end_offset) == (BASE, BASE + 11)
    assert d.key == "sensor type"
    assert d.item is None


def test_item_index_and_span_of_list_diagnostics() -> None:
    h = parse_header(b"ENVI\nband names = {a, , c}\n")
    d = only(h, "empty-item")
    assert (d.key, d.item) == ("band names", 1)
    assert where(d) == (2, 18, 2, 18)
    entry = h.get("band names")
    assert entry is not None
    text = h.to_text()
    assert [text[s.start : s.end] for s in entry.item_spans()] == ["a", "", "c"]


def test_byte_offsets_after_bom() -> None:
    data = b"\xef\xbb\xbfENVI\nX = 1\n"
    h = parse_header(data)
    d = only(h, "key-case")
    assert where(d) == (2, 1, 2, 2)  # the BOM is not a column
    assert (d.offset, d.end_offset) == (8, 9)
    assert data[d.offset : d.end_offset] == b"X"


def test_bom_diagnostic_spans_the_bom_bytes() -> None:
    d = only(parse_header(b"\xef\xbb\xbfENVI\n"), "bom")
    assert (d.offset, d.end_offset) == (0, 3)


def test_columns_count_characters_offsets_count_bytes() -> None:
    data = "ENVI\nnote = €€ ;c\nY = 1\n".encode()
    h = parse_header(data)
    d = only(h, "semicolon-in-scalar")
    assert where(d) == (2, 11, 2, 13)
    assert data[d.offset : d.end_offset] == b";c"
    after = only(h, "key-case")  # a later line: byte offsets include the 4 extra bytes of the euros
    assert where(after) == (3, 1, 3, 2)
    assert data[after.offset : after.end_offset] == b"Y"


def test_offsets_after_invalid_utf8_count_one_byte_each() -> None:
    data = b"ENVI\nnote = J\xfcrgen ;c\nY = 1\n"
    h = parse_header(data)
    bad = only(h, "not-utf8")
    assert data[bad.offset : bad.end_offset] == b"\xfc"
    semi = only(h, "semicolon-in-scalar")
    assert data[semi.offset : semi.end_offset] == b";c"
    assert where(semi) == (2, 15, 2, 17)


def test_position_helpers() -> None:
    h = parse_header("ENVI\nnote = €€\r\nx = 1".encode())
    assert h.position(0) == (1, 1)
    assert h.position(5) == (2, 1)
    assert h.position(len("ENVI\nnote = €€\r\n")) == (3, 1)
    assert h.byte_offset(len("ENVI\nnote = €€")) == len("ENVI\nnote = €€".encode())
    assert h.source_line(2) == "note = €€"
    assert h.source_line(3) == "x = 1"
    assert h.source_line(4) == ""


def test_diagnostics_are_sorted_by_position() -> None:
    h = parse_header(b"ENVI \nB = 1\njunk\nA = {1,}\nb = 2")
    starts = [(d.offset, d.end_offset) for d in h.diagnostics]
    assert starts == sorted(starts)
    assert [d.code for d in h.diagnostics] == ["magic-trailing-blanks", "key-case", "junk-line",
                                               "key-case", "trailing-comma", "duplicate-key",
                                               "no-final-newline"]


# -- line ends ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("eol", "code"), [(b"\n", None), (b"\r\n", "line-ending-crlf"), (b"\r", "line-ending-cr")])
def test_line_ends(eol: bytes, code: str | None) -> None:
    data = b"ENVI" + eol + b"x = {1," + eol + b" 2}" + eol + eol + b"Y = 3" + eol
    h = parse_header(data)
    assert h.to_bytes() == data
    assert codes(h) == sorted(c for c in (code, "key-case") if c)
    assert where(only(h, "key-case")) == (5, 1, 5, 2)
    assert [type(ln) for ln in h.lines] == [Magic, Entry, Blank, Entry]
    assert [e.eol for e in h.entries()] == [eol.decode()] * 2
    assert h.value("x") == ("1", "2")


def test_mixed_line_ends_point_at_the_first_odd_one() -> None:
    h = parse_header(b"ENVI\nx = 1\r\ny = 2\n")
    d = only(h, "line-ending-mixed")
    assert where(d) == (2, 6, 3, 1)
    assert (d.offset, d.end_offset) == (10, 12)


def test_cr_lf_cr_is_two_line_breaks() -> None:
    h = parse_header(b"ENVI\r\rx = 1\n")
    assert [type(ln) for ln in h.lines] == [Magic, Blank, Entry]


# -- nesting -----------------------------------------------------------------------------------------------


def test_nesting_to_depth_four_is_fine() -> None:
    h = parse_header(b"ENVI\nread procedures = {a:{b:{c:{d, e}}}, f}\nx = 1\n")
    assert h.diagnostics == []
    assert h.value("read procedures") == ("a:{b:{c:{d, e}}}", "f")
    assert h.value("x") == "1"


def test_depth_five_is_reported_and_parsing_resumes() -> None:
    data = (b"ENVI\nr = {a:{b:{c:{d:{e}}}}}\nx = 1\n"
            b"q = {\n1:{2:{3:{4:{5:{6}}}}}\n}\nY = 3\n")
    h = parse_header(data)
    assert h.to_bytes() == data
    deep = [d for d in h.diagnostics if d.code == "nesting-too-deep"]
    assert [(d.key, where(d)) for d in deep] == [("r", (2, 5, 2, 24)), ("q", (4, 5, 6, 2))]
    assert codes(h) == ["key-case", "nesting-too-deep", "nesting-too-deep"]
    assert h.value("r") == ("a:{b:{c:{d:{e}}}}",)
    assert h.value("x") == "1"
    assert h.value("q") == ("1:{2:{3:{4:{5:{6}}}}}",)
    assert h.value("y") == "3"


def test_deep_nesting_does_not_recurse() -> None:
    depth = 50_000
    data = b"ENVI\nr = " + b"{" * depth + b"}" * depth + b"\nx = 1\n"
    h = parse_header(data)
    assert h.to_bytes() == data
    assert codes(h) == ["line-too-long", "nesting-too-deep"]
    assert h.value("x") == "1"


def test_unclosed_list_runs_to_the_end() -> None:
    data = b"ENVI\nr = {a:{b}\nx = 1\nY = 3\n"
    h = parse_header(data)
    assert h.to_bytes() == data
    assert codes(h) == ["unclosed-list"]
    e = h.get("r")
    assert e is not None
    assert (e.closed, e.items, e.value_raw) == (False, None, "{a:{b}\nx = 1\nY = 3\n")
    assert h.keys() == ["r"]


def test_unclosed_list_without_final_newline() -> None:
    h = parse_header(b"ENVI\nwavelength = {1, 2")
    assert codes(h) == ["no-final-newline", "unclosed-list"]
    assert h.to_bytes() == b"ENVI\nwavelength = {1, 2"


# -- duplicates --------------------------------------------------------------------------------------------


def test_duplicates_last_wins_and_all_are_kept() -> None:
    h = parse_header(b"ENVI\nsamples = 1\nSAMPLES = 2\nsamples  =  3\n")
    assert h.value("samples") == 3
    assert [e.key_raw for e in h.get_all("Samples")] == ["samples", "SAMPLES", "samples"]
    assert h.keys() == ["samples"]
    assert Counter(d.code for d in h.diagnostics) == {"duplicate-key": 2, "key-case": 1, "separator-spacing": 1}
    assert "samples" in h
    assert "SAMPLES " in h
    assert 3 not in h  # type: ignore[operator]


# -- caps --------------------------------------------------------------------------------------------------


def test_header_size_cap() -> None:
    data = hdr()
    assert parse_header(data, max_bytes=len(data)).to_bytes() == data
    with pytest.raises(NotAnEnviHeaderError) as info:
        parse_header(data, max_bytes=len(data) - 1)
    assert info.value.offset == len(data) - 1
    assert DEFAULT_MAX_BYTES == 16 * 1024 * 1024


def test_default_size_cap() -> None:
    data = b"ENVI\n" + b"x" * DEFAULT_MAX_BYTES
    with pytest.raises(NotAnEnviHeaderError):
        parse_header(data)


def test_diagnostics_capped_per_code() -> None:
    data = b"ENVI\n" + b"junk\n" * 150 + b"X = 1\n" * 3
    h = parse_header(data)
    assert h.to_bytes() == data
    counts = Counter(d.code for d in h.diagnostics)
    assert counts == {"junk-line": MAX_PER_CODE + 1, "key-case": 3, "duplicate-key": 2}
    junk = [d for d in h.diagnostics if d.code == "junk-line"]
    assert [d.line for d in junk[:MAX_PER_CODE]] == list(range(2, 2 + MAX_PER_CODE))
    # The summary points at the last listed occurrence.
    assert where(junk[-1]) == where(junk[-2])
    assert MAX_PER_CODE == 100


# -- editing -----------------------------------------------------------------------------------------------


def _changed(before: bytes, after: bytes) -> list[tuple[bytes, bytes]]:
    """Return the (old, new) byte runs that differ."""
    m = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    return [(before[i1:i2], after[j1:j2]) for op, i1, i2, j1, j2 in m.get_opcodes() if op != "equal"]


def test_set_changes_only_that_entry() -> None:
    before = (b"ENVI\r\n; keep me\r\nSamples=2\r\n  lines  =  3\r\nwavelength = {1,\r\n 2}\r\n"
              b"junk\r\nbands = 3\r\n")
    h = parse_header(before)
    h.set("SAMPLES", 7)
    after = h.to_bytes()
    assert after == before.replace(b"Samples=2\r\n", b"Samples = 7\r\n")
    h.set("wavelength", [1.5, 2.5])
    assert h.to_bytes() == after.replace(b"wavelength = {1,\r\n 2}\r\n", b"wavelength = {1.5, 2.5}\r\n")
    assert h.value("wavelength") == (1.5, 2.5)
    assert isinstance(h.lines[1], Comment)
    assert any(isinstance(ln, Junk) for ln in h.lines)


def test_set_changes_the_last_duplicate() -> None:
    before = b"ENVI\nsensor type = a\nsensor type = b\nx = 1\n"
    h = parse_header(before)
    h.set("sensor type", "c")
    assert _changed(before, h.to_bytes()) == [(b"b", b"c")]
    assert [e.value for e in h.get_all("sensor type")] == ["a", "c"]


def test_set_appends_a_canonical_entry() -> None:
    before = b"ENVI\r\nsamples = 2\r\n"
    h = parse_header(before)
    h.set("Band Names", ["a", "b"])
    assert h.to_bytes() == before + b"band names = {a, b}\r\n"
    assert h.diagnostics == [d for d in h.diagnostics if d.code == "line-ending-crlf"]


def test_set_keeps_bom_and_updates_diagnostics() -> None:
    h = parse_header(b"\xef\xbb\xbfENVI\nsamples = 2\nsamples = 3\n")
    h.set("lines", "{oops")
    assert h.to_bytes() == b"\xef\xbb\xbfENVI\nsamples = 2\nsamples = 3\nlines = {oops\n"
    assert codes(h) == ["bom", "duplicate-key", "unclosed-list"]


def test_append_to_header_without_final_newline() -> None:
    h = parse_header(b"ENVI\nsamples = 2")
    assert codes(h) == ["no-final-newline"]
    h.set("lines", 3)
    assert h.to_bytes() == b"ENVI\nsamples = 2\nlines = 3\n"
    assert h.diagnostics == []


def test_append_to_cr_header_without_final_newline() -> None:
    h = parse_header(b"ENVI\rsamples = 2")
    h.set("lines", 3)
    assert h.to_bytes() == b"ENVI\rsamples = 2\rlines = 3\r"
    assert codes(h) == ["line-ending-cr"]


def test_set_multi_line_value_in_crlf_header_keeps_crlf() -> None:
    h = parse_header(b"ENVI\r\nsamples = 2\r\n")
    h.set("description", "line one\nline two")
    assert codes(h) == ["line-ending-crlf"]


def test_remove() -> None:
    before = b"ENVI\n; c\nsensor type = a\nx = 1\nSensor Type = b\nwavelength = {1,\n2}\n"
    h = parse_header(before)
    assert h.remove("sensor type") == 2
    assert h.to_bytes() == b"ENVI\n; c\nx = 1\nwavelength = {1,\n2}\n"
    assert h.diagnostics == []
    assert h.remove("wavelength") == 1
    assert h.to_bytes() == b"ENVI\n; c\nx = 1\n"
    assert h.remove("absent") == 0
    assert h.to_bytes() == b"ENVI\n; c\nx = 1\n"


def test_value_of_absent_key_is_none() -> None:
    h = parse_header(b"ENVI\n")
    assert h.value("samples") is None
    assert h.get("samples") is None
    assert h.get_all("samples") == []
    assert list(h.entries()) == []


def test_text_and_bytes_give_the_same_model() -> None:
    text = "ENVI\nnote = Jürgen\r\nB = {1,\n2,}\n"
    a, b = parse_header(text), parse_header(text.encode())
    assert a.to_bytes() == b.to_bytes() == text.encode()
    assert a.diagnostics == b.diagnostics
    assert [ln.text for ln in a.lines] == [ln.text for ln in b.lines]


def test_header_from_text_is_parse_header_without_decoding() -> None:
    text = "ENVI\nSamples = 3\nB = {1,\n2,}\n"
    direct, parsed = Header.from_text(text, bom=True), parse_header(b"\xef\xbb\xbf" + text.encode())
    assert direct.to_bytes() == parsed.to_bytes()
    assert direct.diagnostics == parsed.diagnostics
    assert {d.code for d in direct.diagnostics} >= {"bom", "key-case", "trailing-comma"}


def test_model_still_exports_the_nodes() -> None:
    # The nodes moved to header/nodes.py; code written against header.model keeps working.
    assert (model.Entry, model.Span, model.Diagnostic, model.normalize_key) == (
        nodes.Entry, nodes.Span, nodes.Diagnostic, nodes.normalize_key)


@pytest.mark.parametrize("data", [b"", b"EN", b"\xef\xbb\xbf", b"\x00ENVI", b"\xff\xfeE\x00N\x00V\x00I\x00"])
def test_not_a_header(data: bytes) -> None:
    with pytest.raises(NotAnEnviHeaderError):
        parse_header(data)
