"""Round-trip properties: whatever parses gives its bytes back, and nothing but NotAnEnviHeaderError escapes."""

from __future__ import annotations

import contextlib
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from hsi_conform import parse_header
from hsi_conform.errors import FieldValueError, NotAnEnviHeaderError
from hsi_conform.header import Header, canonical_bytes
from hsi_conform.header.grammar import parser

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Characters that matter to the header syntax, mixed with some that do not.
SYNTAX_ALPHABET = st.sampled_from([*"ENVIab =;{},\t\r\n_:.-0123456789", "é", "€", "\x00", "\x01"])


def assert_consistent(header: Header, data: bytes) -> None:
    """The model gives the input back, positions are in range, typing raises nothing unexpected."""
    assert header.to_bytes() == data
    assert "".join(line.text for line in header.lines) == header.to_text()
    for d in header.diagnostics:
        assert 0 <= d.offset <= d.end_offset <= len(data), d
        assert (d.line, d.column) <= (d.end_line, d.end_column), d
        assert d.line >= 1 and d.column >= 1
    for entry in header.entries():
        with contextlib.suppress(FieldValueError):
            header.value(entry.key)
    canonical_bytes(header)


@SETTINGS
@given(from_lark(parser(), start="start"))
def test_grammar_generated_headers_round_trip(text: str) -> None:
    data = text.encode("utf-8")
    header = parse_header(text)
    assert_consistent(header, data)
    from_bytes = parse_header(data)
    assert from_bytes.diagnostics == header.diagnostics


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_parse_losslessly_or_are_refused(data: bytes) -> None:
    try:
        header = parse_header(data)
    except NotAnEnviHeaderError:
        return
    assert_consistent(header, data)


@SETTINGS
@given(st.one_of(st.text(max_size=300), st.text(SYNTAX_ALPHABET, max_size=300)))
def test_magic_plus_arbitrary_text(text: str) -> None:
    data = b"ENVI\n" + text.encode("utf-8")
    assert_consistent(parse_header(data), data)


@SETTINGS
@given(st.binary(max_size=300))
def test_magic_plus_arbitrary_bytes(tail: bytes) -> None:
    data = b"ENVI\n" + tail
    assert_consistent(parse_header(data), data)


# -- formatting variants of a known header ------------------------------------------------------------------

KEYS = st.sampled_from(["sensor type", "wavelength", "band names", "fwhm", "samples", "custom key", "fps_set"])
WORD = st.text(string.ascii_letters + string.digits + "_-.()/:", min_size=1, max_size=8)
EOLS = st.sampled_from(["\n", "\r\n", "\r"])
SEPARATORS = st.sampled_from([" = ", "=", " =", "= ", "\t=\t", "  =  "])
CASES = st.sampled_from([str.lower, str.upper, str.title])


@st.composite
def formatted_headers(draw: st.DrawFn) -> tuple[str, dict[str, str | tuple[str, ...]]]:
    """A header with known values, written with random (but legal to our parser) formatting."""
    eol = draw(EOLS)
    expected: dict[str, str | tuple[str, ...]] = {}
    lines = ["ENVI" + draw(st.sampled_from(["", " "]))]
    for key in draw(st.lists(KEYS, unique=True, max_size=6)):
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from([";", "; comment = x", "  ; indented", ""])))
        spelled = draw(CASES)(key)
        indent = draw(st.sampled_from(["", " ", "\t"]))
        sep = draw(SEPARATORS)
        if draw(st.booleans()):
            items = draw(st.lists(WORD, max_size=5))
            gaps = [draw(st.sampled_from([", ", ",", " , ", f",{eol}", f"{eol},", f",{eol}{eol}  "]))
                    for _ in items[1:]]
            inner = items[0] if items else ""
            for gap, item in zip(gaps, items[1:], strict=True):
                inner += gap + item
            pad = draw(st.sampled_from(["", " ", eol]))
            value = "{" + pad + inner + pad + "}"
            expected[key] = tuple(items)
        else:
            words = draw(st.lists(WORD, min_size=1, max_size=3))
            value = draw(st.sampled_from([" ", ", ", " , "])).join(words)
            expected[key] = value
        lines.append(indent + spelled + sep + value + draw(st.sampled_from(["", " ", "\t"])))
    text = eol.join(lines) + draw(st.sampled_from([eol, ""]))
    return text, expected


FORMATTING_CODES = {"magic-trailing-blanks", "line-ending-crlf", "line-ending-cr", "no-final-newline", "key-case",
                    "indented-entry", "separator-spacing", "comment-indented"}


@SETTINGS
@given(formatted_headers())
def test_formatting_variants_keep_values(case: tuple[str, dict[str, str | tuple[str, ...]]]) -> None:
    text, expected = case
    data = text.encode()
    header = parse_header(data)
    assert header.to_bytes() == data
    assert {d.code for d in header.diagnostics} <= FORMATTING_CODES
    for key, value in expected.items():
        entry = header.get(key)
        assert entry is not None
        assert entry.value == value
    canonical = parse_header(canonical_bytes(header))
    assert canonical.diagnostics == []
    for key, value in expected.items():
        assert canonical.get(key).value == value  # type: ignore[union-attr]
