"""The project's list of header edge cases (E01-E90, W1-W3; spec/header-syntax.md#edge-cases): one table row each.

Each row gives the header bytes (the snippet embedded after the 8 core fields unless the case is about the first
line or a core field), the exact multiset of diagnostic codes the parser reports, and an optional check of
typed values, parsed items and positions. Every row also asserts the byte-for-byte round trip. Cases whose
verdict belongs to field semantics assert the typed value or the ``FieldValueError`` of ``header.value``;
cases about other readers and writers assert that our canonical writer and ``set()`` avoid the loss.

The other header test modules import the helpers defined here (``hdr``, ``codes``, ...).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from hsi_conform import parse_header
from hsi_conform.errors import FieldValueError, NotAnEnviHeaderError
from hsi_conform.fields import ROOT_FILE_TYPES, ByteOrder, DataType, Interleave, Scope, field_spec
from hsi_conform.header import Comment, Diagnostic, Entry, Header, Junk, Magic, canonical_bytes
from hsi_conform.header.diagnostics import BY_CODE
from hsi_conform.header.serialize import MAX_LINE, format_list

# ----------------------------------------------------------------------------------------------------------
# Helpers (shared with the other header test modules)
# ----------------------------------------------------------------------------------------------------------

#: The 8 core fields every case embeds (unless it is about one of them), in this order.
CORE_FIELDS: tuple[tuple[str, str], ...] = (
    ("samples", "2"),
    ("lines", "2"),
    ("bands", "3"),
    ("header offset", "0"),
    ("file type", "ENVI Standard"),
    ("data type", "1"),
    ("interleave", "bsq"),
    ("byte order", "0"),
)


def hdr(snippet: str | bytes = "", *, drop: tuple[str, ...] = (), magic: bytes = b"ENVI\n",
        eol: bytes = b"\n") -> bytes:
    """Return ``magic`` + the core fields (minus ``drop``) + ``snippet`` (UTF-8 when text)."""
    core = b"".join(f"{k} = {v}".encode() + eol for k, v in CORE_FIELDS if k not in drop)
    tail = snippet.encode("utf-8") if isinstance(snippet, str) else snippet
    return magic + core + tail


#: Byte offset and 1-based line number of the first snippet line in ``hdr(snippet)``.
BASE = len(hdr())
FIRST = 10


def codes(data: bytes | str | Header) -> list[str]:
    """Return the sorted diagnostic codes of a header (parsing it first when needed)."""
    header = data if isinstance(data, Header) else parse_header(data)
    return sorted(d.code for d in header.diagnostics)


def only(header: Header, code: str) -> Diagnostic:
    """Return the one diagnostic of ``code``."""
    found = [d for d in header.diagnostics if d.code == code]
    assert len(found) == 1, found
    return found[0]


def where(d: Diagnostic) -> tuple[int, int, int, int]:
    """Return ``(line, column, end_line, end_column)``."""
    return d.line, d.column, d.end_line, d.end_column


def value_of(data: bytes | str, key: str) -> Any:
    """Parse ``data`` and return the typed value of ``key``."""
    return parse_header(data).value(key)


def value_error(header: Header | bytes, key: str) -> FieldValueError:
    """Assert that the typed value of ``key`` is refused; return the error."""
    h = header if isinstance(header, Header) else parse_header(header)
    with pytest.raises(FieldValueError) as info:
        h.value(key)
    assert info.value.field == key
    return info.value


def entry(header: Header, key: str) -> Entry:
    found = header.get(key)
    assert found is not None, key
    return found


def reparsed_canonical(header: Header) -> Header:
    """Return the canonical form of ``header``, parsed again."""
    return parse_header(canonical_bytes(header))


# ----------------------------------------------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One edge case: input, exact diagnostic codes, extra checks."""

    id: str
    data: bytes
    codes: tuple[str, ...] = ()
    check: Callable[[Header], None] | None = None
    #: The parser must refuse the input (and these variants) with NotAnEnviHeaderError.
    not_header: bool = False
    not_header_variants: tuple[bytes, ...] = ()


def _core_values(h: Header) -> None:
    assert h.value("samples") == 2
    assert h.value("lines") == 2
    assert h.value("bands") == 3
    assert h.value("header offset") == 0
    assert h.value("file type") == "ENVI Standard"
    assert h.value("data type") is DataType.UINT8
    assert h.value("interleave") is Interleave.BSQ
    assert h.value("byte order") is ByteOrder.LITTLE


# -- A. File start, encoding, line endings -------------------------------------------------------------------


def _e01(h: Header) -> None:
    _core_values(h)
    assert isinstance(h.lines[0], Magic)
    assert h.lines[0].text == "ENVI\n"
    assert [e.key for e in h.entries()] == [k for k, _ in CORE_FIELDS]


def _e02(h: Header) -> None:
    d = only(h, "magic-trailing-blanks")
    assert where(d) == (1, 5, 1, 8)
    assert (d.offset, d.end_offset) == (4, 7)
    assert codes(hdr(magic=b"ENVI\t\n")) == ["magic-trailing-blanks"]
    _core_values(h)


def _e03(h: Header) -> None:
    assert where(only(h, "magic-indented")) == (1, 1, 1, 7)
    assert codes(hdr(magic=b"\tENVI\n")) == ["magic-indented"]
    _core_values(h)


def _e04(h: Header) -> None:
    d = only(h, "magic-trailing-text")
    assert where(d) == (1, 5, 1, 12)
    assert (d.offset, d.end_offset) == (4, 11)
    _core_values(h)


def _e06(h: Header) -> None:
    d = only(h, "bom")
    assert (d.offset, d.end_offset, d.line, d.column) == (0, 3, 1, 1)
    assert h.bom
    assert h.to_bytes().startswith(b"\xef\xbb\xbfENVI\n")
    _core_values(h)
    # The same header given as text (with U+FEFF) is judged the same way.
    assert codes(h.to_bytes().decode("utf-8")) == ["bom"]


def _e08(h: Header) -> None:
    d = only(h, "magic-trailing-text")
    assert where(d) == (1, 5, 1, 17)
    assert h.get("samples") is None  # like SPy and GDAL: a field on the magic line is not an entry


def _e09(h: Header) -> None:
    assert where(only(h, "line-ending-crlf")) == (1, 5, 2, 1)
    assert all(e.eol == "\r\n" for e in h.entries())
    _core_values(h)
    assert h.value("wavelength") == (1.0, 2.0, 3.0)


def _e10(h: Header) -> None:
    assert where(only(h, "line-ending-cr")) == (1, 5, 2, 1)
    assert all(e.eol == "\r" for e in h.entries())
    _core_values(h)
    assert h.value("wavelength") == (1.0, 2.0, 3.0)


def _e11(h: Header) -> None:
    d = only(h, "line-ending-mixed")
    assert where(d) == (2, 12, 3, 1)  # the first line end of the kind that appears last
    _core_values(h)


def _e12(h: Header) -> None:
    d = only(h, "no-final-newline")
    assert where(d) == (FIRST, 16, FIRST, 16)
    assert d.offset == d.end_offset == len(h.to_bytes())
    assert entry(h, "sensor type").eol == ""
    assert h.value("sensor type") == "x"


def _e13(h: Header) -> None:
    assert h.value("wavelength units") == "µm"
    assert h.value("operator") == "Jürgen"
    assert entry(h, "temperature").value == "25 °C"
    value_error(h, "temperature")  # a number with a unit is not a Float


def _e14(h: Header) -> None:
    d = only(h, "not-utf8")
    assert (d.offset, d.end_offset) == (BASE + 12, BASE + 13)
    assert where(d) == (FIRST, 13, FIRST, 14)
    assert entry(h, "operator").value == "J\udcfcrgen"  # kept (surrogate escape), written back unchanged


def _e15(h: Header) -> None:
    d = only(h, "nul")
    assert (d.offset, d.end_offset) == (BASE + 15, BASE + 16)
    assert h.value("sensor type") == "A\x00B"


# -- B. Separator and keys -------------------------------------------------------------------------------------


def _e16(h: Header) -> None:
    d = only(h, "separator-spacing")
    assert (d.key, where(d)) == ("samples", (FIRST - 1, 8, FIRST - 1, 9))  # one core line dropped
    assert h.value("samples") == 2


def _e17(h: Header) -> None:
    assert h.value("samples") == 2
    assert entry(h, "band names").key_raw == "band names"
    assert h.value("band names") == ("a", "b", "c")
    assert sorted(d.key or "" for d in h.diagnostics) == ["band names", "samples"]


def _e18(h: Header) -> None:
    d = only(h, "indented-entry")
    assert where(d) == (FIRST, 1, FIRST, 3)
    assert d.key == "sensor type"
    assert h.value("sensor type") == "x"


def _e19(h: Header) -> None:
    assert h.value("data type") is DataType.FLOAT32  # internal blanks collapse
    assert only(h, "key-blanks").key == "data type"
    assert entry(h, "scb temperature channel4").value == "22.26"
    assert only(h, "separator-spacing").key == "scb temperature channel4"


def _e20(h: Header) -> None:
    assert h.value("samples") == 2
    assert h.value("data ignore value") == 0.0
    assert h.value("wavelength") == (1.0, 2.0, 3.0)
    assert h.value("description") == "x"
    assert entry(h, "DATA IGNORE VALUE").key_raw == "Data Ignore Value"
    assert {d.key for d in h.diagnostics} == {"samples", "data ignore value", "wavelength", "description",
                                              "gps start time"}


def _e21(h: Header) -> None:
    assert h.value("sensor type") == "B"
    assert [e.value for e in h.get_all("Sensor Type")] == ["A", "B"]
    assert only(h, "duplicate-key").line == FIRST + 1
    assert only(h, "key-case").line == FIRST


def _e22(h: Header) -> None:
    assert h.value("sensor type") == "second"
    assert h.value("bands") == 1  # the last one wins, as in SPy and GDAL
    assert [e.value for e in h.get_all("bands")] == ["3", "1"]
    assert sorted((d.key or "", d.line) for d in h.diagnostics) == [("bands", FIRST + 2),
                                                                    ("sensor type", FIRST + 1)]
    assert h.keys().count("bands") == 1


def _e23(h: Header) -> None:
    assert {"band names", "band_names"} <= set(h.keys())
    d = only(h, "near-duplicate-key")
    assert (d.key, d.line) == ("band_names", FIRST + 1)


def _e24(h: Header) -> None:
    for key, value in (("fps_qpf", "1"), ("tint1", "2"), ("camera 0 pose", "3"), ("sensor bit-depth", "12")):
        assert h.value(key) == value
    assert isinstance(h.lines[-1], Comment)
    # Braces and control characters are outside the key charset.
    assert codes(hdr("key{1} = 2\n")) == ["key-charset"]


def _e25(h: Header) -> None:
    assert all(e.key for e in h.entries())
    assert isinstance(h.lines[-1], Junk)
    assert where(only(h, "empty-key")) == (FIRST, 1, FIRST, 10)
    assert codes(hdr("= orphan\n")) == ["empty-key"]


def _e26(h: Header) -> None:
    assert [d.line for d in h.diagnostics] == [FIRST, FIRST + 1]
    assert "sensor type" not in h
    assert all(isinstance(ln, Junk) for ln in h.lines[-2:])


def _e27(h: Header) -> None:
    assert h.value("wavelength units") == ""
    assert h.value("calibration pack") == ""
    assert [(d.key, where(d)) for d in h.diagnostics] == [
        ("wavelength units", (FIRST, 19, FIRST, 19)), ("calibration pack", (FIRST + 1, 20, FIRST + 1, 20))]
    assert isinstance(h.lines[-1], Comment)


def _e28(h: Header) -> None:
    assert h.value("note") == "a = b"
    assert h.value("history") == r"FLAASH 5.1 result (input file = D:\hyperion\x.L1R)"
    assert h.value("gps start time") == "UTC TIME: 10:47:32"


def _e29(h: Header) -> None:
    value_error(h, "x start")
    assert h.value("errors") == "?"
    assert h.value("map info")[3:5] == ("XX", "XX")


# -- C. Comments -------------------------------------------------------------------------------------------


def _e30(h: Header) -> None:
    assert isinstance(h.lines[-1], Comment)
    assert h.get("; a comment") is None
    # PlantCV puts comments right after the ENVI line.
    assert codes(b"ENVI\n; written by plantcv\n" + hdr()[5:]) == []


def _e31(h: Header) -> None:
    assert isinstance(h.lines[-1], Comment)
    assert where(only(h, "comment-indented")) == (FIRST, 1, FIRST, 18)
    assert h.get("; indented") is None


def _e32(h: Header) -> None:
    d = only(h, "comment-in-list")
    assert (d.key, where(d)) == ("band names", (FIRST + 1, 1, FIRST + 1, 15))
    assert h.value("band names") == ("a", "b", "c")


def _e33(h: Header) -> None:
    assert h.value("sensor type") == "X ; trailing"
    assert entry(h, "fwhm").tail == "; c"
    assert h.value("fwhm") == (1.0, 2.0, 3.0)
    assert where(only(h, "semicolon-in-scalar")) == (FIRST, 17, FIRST, 27)
    assert where(only(h, "text-after-list")) == (FIRST + 1, 18, FIRST + 1, 21)
    bil = hdr("interleave = bil ; comment\n", drop=("interleave",))
    assert codes(bil) == ["semicolon-in-scalar"]
    value_error(bil, "interleave")


def _e34(h: Header) -> None:
    assert h.value("band names") == ("MF Score (caltech_small_mnf (0;0))", "b", "c")


# -- D. Braces and lists -----------------------------------------------------------------------------------


def _e35(h: Header) -> None:
    assert h.value("default bands") == (2, 1, 0)
    assert h.value("wavelength") == (400.0, 500.0, 600.0)
    assert h.value("fwhm") == (1.0, 2.0, 3.0)


def _e36(h: Header) -> None:
    assert h.value("wavelength") == (400.0, 500.0, 600.0)
    assert entry(h, "wavelength").text.count("\n") == 5


def _e37(h: Header) -> None:
    assert h.value("wavelength") == (379.027, 379.663, 380.3)
    # No comma at the line break: one item "400\n500" (GDAL would read 400500).
    assert entry(h, "fwhm").items == ("400\n500", "600")
    d = only(h, "line-break-in-item")
    assert (d.key, d.item, where(d)) == ("fwhm", 0, (FIRST + 5, 9, FIRST + 6, 4))
    assert value_error(h, "fwhm").item == 0


def _e38(h: Header) -> None:
    assert h.value("wavelength") == (400.0, 500.0, 824.89)
    d = only(h, "trailing-comma")
    assert (d.item, where(d)) == (3, (FIRST, 31, FIRST, 32))


def _e39(h: Header) -> None:
    assert h.value("band names") == ()
    assert h.value("fwhm") == ()


def _e40(h: Header) -> None:
    assert h.value("read procedures") == ("resample:{10, 20, 30}", "crop:{0:1, 0:1, 0:2}", "rotate:clockwise")


def _e41(h: Header) -> None:
    e = entry(h, "band names")
    assert (e.items, e.tail) == (("a",), "b, c, d}")


def _e42(h: Header) -> None:
    assert h.value("band names") == ("a", "b", "c")
    assert entry(h, "band names").tail == "trailing junk"
    assert h.value("sensor type") == "x"  # SPy swallows this line; we do not
    assert where(only(h, "text-after-list")) == (FIRST, 24, FIRST, 37)


def _e43(h: Header) -> None:
    assert h.value("wavelength") == (400.0, 500.0, 600.0)
    assert entry(h, "wavelength").tail == ","


def _e44(h: Header) -> None:
    e = entry(h, "wavelength")
    assert not e.closed
    assert e.value_raw == "{400, 500,\nsensor type = x\n"  # runs to the end of the input, as in GDAL
    assert h.get("sensor type") is None
    d = only(h, "unclosed-list")
    assert (d.key, where(d)) == ("wavelength", (FIRST, 14, FIRST, 15))
    value_error(h, "wavelength")


def _e45(h: Header) -> None:
    assert h.value("sensor type") == "Foo {bar"
    assert h.value("fwhm") == (1.0, 2.0, 3.0)  # GDAL swallows this line; we do not


def _e46(h: Header) -> None:
    value_error(h, "wavelength")  # an empty scalar where a list is expected
    d = only(h, "value-on-next-line")
    assert (d.key, where(d)) == ("wavelength", (FIRST + 1, 1, FIRST + 1, 16))


def _e47(h: Header) -> None:
    assert h.value("wavelength") == (400.0, 500.0, 600.0)


def _e48(h: Header) -> None:
    assert entry(h, "wavelength").items == ("400", "500", "600")


def _e49(h: Header) -> None:
    assert h.value("sensor type") == "Specim, FX10"
    assert h.value("sensor model") == "FENIX , Lumo - Recorder v2018-512"


def _e50(h: Header) -> None:
    # No quoting in ENVI: the comma inside the quotes separates items, and the quotes stay.
    assert h.value("band names") == ('"Band 1"', '"Band', '2"', '"Band 3"')
    with pytest.raises(ValueError):
        format_list(["Band 1", "Band, 2"])


def _e51(h: Header) -> None:
    assert entry(h, "wavelength").value == "[400. 500. 600.]"
    value_error(h, "wavelength")


def _e52(h: Header) -> None:
    value_error(h, "wavelength")


LONG_WAVELENGTHS = [round(400.123456 + i * 0.4321, 6) for i in range(1500)]


def _e53(h: Header) -> None:
    d = only(h, "line-too-long")
    assert d.line == FIRST
    assert d.end_offset - d.offset > 10_000
    assert h.value("wavelength") == tuple(LONG_WAVELENGTHS)
    assert h.value("sensor type") == "after"  # GDAL loses every field after the long line; we do not
    again = reparsed_canonical(h)
    assert again.diagnostics == []
    assert max(len(line) for line in again.to_bytes().split(b"\n")) <= MAX_LINE
    assert again.value("wavelength") == tuple(LONG_WAVELENGTHS)
    assert again.value("sensor type") == "after"
    # The limit is 10,000 bytes: a line of exactly 10,000 bytes is fine, one more byte is not.
    for extra, expected in ((0, []), (1, ["line-too-long"])):
        line = "note = " + "x" * (10_000 - 7 + extra)
        assert codes(hdr(line + "\n")) == expected


HYPERION_NAMES = [f"Band {i:03d} (Hyperion L1R radiance; gain 40/80; detector VNIR-{i % 70:02d}) " + "x" * 120
                  for i in range(242)]


def _e54(h: Header) -> None:
    assert len(h.to_bytes()) > 44_000
    assert h.value("band names") == tuple(HYPERION_NAMES)


# -- E. description ------------------------------------------------------------------------------------------


def _e55(h: Header) -> None:
    assert h.value("description") == "Line one, with comma\n  Line two {inner} = x"
    assert entry(h, "description").items == ("Line one, with comma\n  Line two {inner} = x",)


def _e56(h: Header) -> None:
    assert h.value("description") == "220309h1450"
    assert not entry(h, "description").is_list


def _e57(h: Header) -> None:
    assert h.value("description") == "{wrapped}"


def _e58(h: Header) -> None:
    assert h.value("description") == r"C:\source\data\rfc.bsq"
    assert h.value("dem file") == r"D:\Field Hyperion\dem.img"


# -- F. Core fields: values and typing ----------------------------------------------------------------------


def _e59(h: Header) -> None:
    value_error(h, "samples")
    for text in ("2e0", "2 pixels", "0x2", "٢", "2_0"):
        value_error(hdr(f"samples = {text}\n", drop=("samples",)), "samples")
    assert value_of(hdr("samples = +3\n", drop=("samples",)), "samples") == 3
    trailing = hdr("bands = 60 \n", drop=("bands",))
    assert codes(trailing) == []
    assert value_of(trailing, "bands") == 60


def _e60(h: Header) -> None:
    # Typing accepts them; the range judgement is the field rules' (positive / minimum 0).
    assert h.value("lines") == 0
    assert h.value("header offset") == -5
    assert field_spec("lines").positive
    assert field_spec("header offset").minimum == 0


def _e61(h: Header) -> None:
    value_error(h, "data type")
    value_error(hdr("data type = 0x4\n", drop=("data type",)), "data type")


def _e62(h: Header) -> None:
    value_error(h, "data type")
    for code in ("8", "10", "11", "0", "16", "-1"):
        value_error(hdr(f"data type = {code}\n", drop=("data type",)), "data type")


def _e63(h: Header) -> None:
    assert h.value("data type") is DataType.INT64
    assert value_of(hdr("data type = 15\n", drop=("data type",)), "data type") is DataType.UINT64
    assert DataType.INT64.dtype(0) == np.dtype("<i8")
    assert DataType.UINT64.dtype(1) == np.dtype(">u8")


def _e64(h: Header) -> None:
    assert h.value("data type") is DataType.COMPLEX64
    assert value_of(hdr("data type = 9\n", drop=("data type",)), "data type") is DataType.COMPLEX128


def _e65(h: Header) -> None:
    assert h.value("byte order") is None
    assert "byte order" not in h
    assert Scope.ROOT in field_spec("byte order").required_in


def _e66(h: Header) -> None:
    value_error(h, "byte order")
    value_error(hdr("byte order = big\n", drop=("byte order",)), "byte order")


def _e67(h: Header) -> None:
    assert h.value("byte order") is ByteOrder.BIG
    assert h.value("data type").dtype(h.value("byte order")) == np.dtype(">f4")


def _e68(h: Header) -> None:
    assert h.value("interleave") is Interleave.BIL
    for text, expected in (("BIL", Interleave.BIL), ("BSQ", Interleave.BSQ), ("bip", Interleave.BIP)):
        assert value_of(hdr(f"interleave = {text}\n", drop=("interleave",)), "interleave") is expected
    value_error(hdr("interleave = band\n", drop=("interleave",)), "interleave")
    assert value_of(hdr(drop=("interleave",)), "interleave") is None


def _e69(h: Header) -> None:
    assert h.value("header offset") is None
    assert Scope.ROOT not in field_spec("header offset").required_in
    assert reparsed_canonical(h).value("header offset") == 0  # writers write it explicitly
    assert value_of(hdr("header offset = 16\n", drop=("header offset",)), "header offset") == 16
    value_error(hdr("header offset = 16.0\n", drop=("header offset",)), "header offset")


def _e70(h: Header) -> None:
    assert h.value("file type") is None
    assert Scope.ROOT in field_spec("file type").required_in


def _e71(h: Header) -> None:
    assert h.value("file type") == "ENVI Spectral Library"
    for text in ("envi standard", "ENVI", "TIFF", "PCI", "Hypercloud"):
        assert value_of(hdr(f"file type = {text}\n", drop=("file type",)), "file type") == text
    assert ROOT_FILE_TYPES == ("ENVI Standard",)


def _e72(h: Header) -> None:
    assert h.value("major frame offsets") == ("4", "0")
    assert h.value("minor frame offsets") == ("0", "0")


def _e73(h: Header) -> None:
    assert h.value("file compression") == "1"


# -- G. Spectral / optional fields ---------------------------------------------------------------------------


def _e74(h: Header) -> None:
    assert len(h.value("wavelength")) == 16
    assert h.value("bands") == 3
    assert field_spec("wavelength").count == "bands"


def _e75(h: Header) -> None:
    assert value_error(h, "wavelength").item == 1


def _e76(h: Header) -> None:
    assert h.value("wavelength") == (675.78, 654.56, 700.0)


def _e77(h: Header) -> None:
    assert h.value("wavelength units") == "nm"
    for unit in ("Nanometers", "nanometers", "Nanometer", "Micrometers", "um", "µm", "Unknown"):
        assert value_of(hdr(f"wavelength units = {unit}\n"), "wavelength units") == unit
    assert value_of(hdr(), "wavelength units") is None


def _e78(h: Header) -> None:
    assert len(h.value("fwhm")) == 21
    assert field_spec("fwhm").count == "bands"


def _e79(h: Header) -> None:
    assert h.value("bbl") == (1.0, 0.0, 1.0)


def _e80(h: Header) -> None:
    assert math.isnan(h.value("data ignore value"))
    for text, expected in (("-9999", -9999.0), ("241.000000", 241.0), ("-9.999e+03", -9999.0)):
        assert value_of(hdr(f"data ignore value = {text}\n"), "data ignore value") == expected
    value_error(hdr("data ignore value = {0,0,0}\n"), "data ignore value")


def _e81(h: Header) -> None:
    assert h.value("data gain values") == (1.0, 2.0, 0.5)
    assert h.value("data offset values") == (0.0, 0.0, 1.0)
    value_error(hdr("data offset values = 1.0\n"), "data offset values")


def _e82(h: Header) -> None:
    assert h.value("reflectance scale factor") == 0.0
    assert field_spec("reflectance scale factor").positive


def _e83(h: Header) -> None:
    assert h.value("default bands") == (3, 2, 1)
    for text, expected in (("{2, 1, 0}", (2, 1, 0)), ("{15, 12, 0}", (15, 12, 0)), ("{1}", (1,))):
        assert value_of(hdr(f"default bands = {text}\n"), "default bands") == expected
    spec = field_spec("default bands")
    assert (spec.count, spec.minimum) == ("1|3", 1)


def _e84(h: Header) -> None:
    assert h.value("band names") == ("Red (650 nm)", "NIR: 800/10; x", "SWIR-1 \\ y")
    with pytest.raises(ValueError):
        format_list(["Red, channel"])


def _e85(h: Header) -> None:
    info = h.value("map info")
    assert len(info) == 11
    assert info[5] == "3.0000000000e+001"
    assert info[-1] == "units=Meters"


WKT = ('PROJCS["WGS_1984_UTM_Zone_33N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",'
       'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
       'PROJECTION["Transverse_Mercator"],UNIT["Meter",1.0]]')


def _e86(h: Header) -> None:
    assert h.value("coordinate system string") == WKT
    assert entry(h, "coordinate system string").items == (WKT,)
    assert reparsed_canonical(h).value("coordinate system string") == WKT


def _e87(h: Header) -> None:
    assert h.value("acquisition time") == "2009-08-20T09:44:50"
    assert h.value("acquisition date") == "DATE(yyyy-mm-dd): 2019-01-29"  # vendor key: custom, verbatim
    for text in ("DATE(yyyy-mm-dd): 2019-01-29", "18-08-2022"):
        value_error(hdr(f"acquisition time = {text}\n"), "acquisition time")


def _e88(h: Header) -> None:
    value_error(h, "temperature")
    assert entry(h, "temperature").items == ("147.00", "28.19", "30.5")
    assert value_of(hdr("temperature = 25.5\n"), "temperature") == 25.5


def _e89(h: Header) -> None:
    assert h.value("sensor type") == "FX10e , Lumo - Scanner v2019-535"
    for text in ("Unknown", "Landsat TM", "SPECIM IQ"):
        assert value_of(hdr(f"sensor type = {text}\n"), "sensor type") == text


def _e90(h: Header) -> None:
    assert h.value("errors") == ("none",)
    for text in ("{recover}", "none", "?"):
        data = hdr(f"errors = {text}\n")
        assert codes(data) == []
        assert entry(parse_header(data), "errors").value_raw == text


# -- H. Writers ----------------------------------------------------------------------------------------------


def _w1(h: Header) -> None:
    # SPy's writer turns ',' in items into '-' and mangles nested lists; ours refuses or keeps them.
    with pytest.raises(ValueError):
        format_list(["a,b", "c", "d"])
    again = reparsed_canonical(h)
    assert again.diagnostics == []
    for key in ("band names", "read procedures", "sensor type", "description"):
        assert again.value(key) == h.value(key), key
    assert again.value("read procedures") == ("resample:{10, 20, 30}", "crop:{0:1, 0:1, 0:2}")
    assert again.value("sensor type") == "Specim, FX10"
    assert again.value("description") == "line one\n  line two, with comma"


def _w2(h: Header) -> None:
    before = h.to_bytes()
    with pytest.raises(ValueError):
        h.set("band names", ["Red, channel", "G", "Band 3"])
    assert h.to_bytes() == before  # a refused value leaves the header alone
    again = reparsed_canonical(h)
    assert again.value("map info")[-2:] == ("North", "WGS-84")
    assert again.value("fps_set") == "100"  # GDAL rewrites it as 'fps set'
    assert "fps set" not in again
    assert again.value("description") == "keep me"  # GDAL writes the file path here
    assert "band names" not in again  # GDAL invents band names from the wavelengths


def _w3(h: Header) -> None:
    before = h.to_bytes()
    h.set("exposure", "3.0")
    h.set("Data Ignore Value", 7)
    after = h.to_bytes()
    # Only the edited value and the appended entry change; comments, '=' values, key spelling and order survive.
    assert after == before.replace(b"Data Ignore Value = 5\n", b"Data Ignore Value = 7\n") + b"exposure = 3.0\n"
    assert len(h.get_all("data ignore value")) == 1
    assert entry(h, "data ignore value").key_raw == "Data Ignore Value"
    assert isinstance(h.lines[FIRST - 1], Comment)
    assert h.value("pixel size") == ("1", "1", "units=Meters")
    assert h.value("note") == "a = b"
    assert h.value("fps_set") == "100"
    assert "band names" not in h
    canonical = canonical_bytes(h)
    assert b"\n; my comment\n" in canonical
    assert b"\nnote = a = b\n" in canonical
    assert b"\npixel size = {1, 1, units=Meters}\n" in canonical


_WAVE16 = "{" + ", ".join(str(400 + 10 * i) for i in range(16)) + "}"
_FWHM21 = "{" + ", ".join("2.5" for _ in range(21)) + "}"

CASES: tuple[Case, ...] = (
    # A. File start, encoding, line endings
    Case("E01-first-line-envi", hdr(), (), _e01),
    Case("E02-magic-trailing-blanks", hdr(magic=b"ENVI   \n"), ("magic-trailing-blanks",), _e02),
    Case("E03-magic-leading-blanks", hdr(magic=b"  ENVI\n"), ("magic-indented",), _e03),
    Case("E04-magic-prefix-only", hdr(magic=b"ENVIRONMENT\n"), ("magic-trailing-text",), _e04),
    Case("E05-magic-lower-case", hdr(magic=b"envi\n"), not_header=True,
         not_header_variants=(hdr(magic=b"Envi\n"), b"envi")),
    Case("E06-utf8-bom", hdr(magic=b"\xef\xbb\xbfENVI\n"), ("bom",), _e06),
    Case("E07-blank-or-comment-before-envi", b"\n" + hdr(), not_header=True,
         not_header_variants=(b";comment\n" + hdr(), b"\r\n" + hdr(), b"  \nENVI\n", b"; ENVI\n")),
    Case("E08-field-on-first-line", hdr(magic=b"ENVI samples = 2\n", drop=("samples",)),
         ("magic-trailing-text",), _e08),
    Case("E09-crlf-everywhere", hdr("wavelength = {1,\r\n2,\r\n3}\r\n", magic=b"ENVI\r\n", eol=b"\r\n"),
         ("line-ending-crlf",), _e09),
    Case("E10-bare-cr", hdr("wavelength = {1,\r2,\r3}\r", magic=b"ENVI\r", eol=b"\r"),
         ("line-ending-cr",), _e10),
    Case("E11-crlf-first-line-only", hdr(magic=b"ENVI\r\n"), ("line-ending-mixed",), _e11),
    Case("E12-no-final-newline", hdr("sensor type = x"), ("no-final-newline",), _e12),
    Case("E13-utf8-non-ascii", hdr("wavelength units = µm\ntemperature = 25 °C\noperator = Jürgen\n"), (), _e13),
    Case("E14-latin1-byte", hdr(b"operator = J\xfcrgen\n"), ("not-utf8",), _e14),
    Case("E15-nul-in-value", hdr(b"sensor type = A\x00B\n"), ("nul",), _e15),
    # B. Separator and keys
    Case("E16-no-spaces-around-equals", hdr("samples=2\n", drop=("samples",)), ("separator-spacing",), _e16),
    Case("E17-tabs-around-equals", hdr("samples\t=\t2\nband names \t\t= {a, b, c}\n", drop=("samples",)),
         ("separator-spacing", "separator-spacing"), _e17),
    Case("E18-leading-blanks-before-key", hdr("  sensor type = x\n"), ("indented-entry",), _e18),
    Case("E19-double-space-in-key", hdr("data  type = 4\nScb temperature channel4  = 22.26\n", drop=("data type",)),
         ("key-blanks", "key-case", "separator-spacing"), _e19),
    Case("E20-mixed-case-keys",
         hdr("Samples = 2\nData Ignore Value = 0\nWavelength = {1, 2, 3}\nDescription = {x}\nGPS Start Time = 10:00\n",
             drop=("samples",)),
         ("key-case",) * 5, _e20),
    Case("E21-case-variant-duplicates", hdr("Sensor Type = A\nsensor type = B\n"),
         ("duplicate-key", "key-case"), _e21),
    Case("E22-exact-duplicates", hdr("sensor type = first\nsensor type = second\nbands = 1\n"),
         ("duplicate-key", "duplicate-key"), _e22),
    Case("E23-space-and-underscore-keys", hdr("band names = {a, b, c}\nband_names = {a, b, c}\n"),
         ("near-duplicate-key",), _e23),
    Case("E24-key-charset-in-the-wild",
         hdr("fps_qpf = 1\ntint1 = 2\ncamera 0 pose = 3\nsensor bit-depth = 12\n;Array Pixel Pitch (um) = 5\n"),
         (), _e24),
    Case("E25-empty-key", hdr(" = orphan\n"), ("empty-key",), _e25),
    Case("E26-line-without-equals", hdr("junk text\nsensor type\n"), ("junk-line", "junk-line"), _e26),
    Case("E27-empty-value", hdr("wavelength units =\ncalibration pack = \n;Nuc folder = \n"),
         ("empty-value", "empty-value"), _e27),
    Case("E28-equals-in-value",
         hdr("note = a = b\nhistory = FLAASH 5.1 result (input file = D:\\hyperion\\x.L1R)\n"
             "GPS Start Time = UTC TIME: 10:47:32\n"),
         ("key-case",), _e28),
    Case("E29-placeholder-values", hdr("x start = ?\nerrors = ?\nmap info = {UTM, 1, 1, XX, XX, 30, 30}\n"),
         (), _e29),
    # C. Comments
    Case("E30-comment-column-0", hdr("; a comment = with equals\n"), (), _e30),
    Case("E31-indented-comment", hdr("   ; indented = x\n"), ("comment-indented",), _e31),
    Case("E32-comment-inside-braces", hdr("band names = {a,\n; comment line\n b, c}\n"),
         ("comment-in-list",), _e32),
    Case("E33-trailing-comment", hdr("sensor type = X ; trailing\nfwhm = {1, 2, 3} ; c\n"),
         ("semicolon-in-scalar", "text-after-list"), _e33),
    Case("E34-semicolon-inside-item", hdr("band names = { MF Score (caltech_small_mnf (0;0)), b, c }\n"),
         (), _e34),
    # D. Braces and lists
    Case("E35-single-line-and-padded-lists",
         hdr("default bands = { 2, 1, 0 }\nwavelength = {  400 ,500 ,  600  }\nfwhm = {1, 2, 3}\n"), (), _e35),
    Case("E36-multi-line-list-trailing-commas", hdr("wavelength = {\n400,\n500,\n600\n}\n"), (), _e36),
    Case("E37-leading-commas-and-no-comma-at-break",
         hdr("wavelength = {\n379.027\n,379.663\n,380.3\n}\nfwhm = {400\n500, 600}\n"),
         ("line-break-in-item",), _e37),
    Case("E38-trailing-comma", hdr("wavelength = {400, 500, 824.89,}\n"), ("trailing-comma",), _e38),
    Case("E39-empty-braces", hdr("band names = {}\nfwhm = { }\n"), (), _e39),
    Case("E40-nested-braces",
         hdr("read procedures = {resample:{10, 20, 30}, crop:{0:1, 0:1, 0:2}, rotate:clockwise}\n"), (), _e40),
    Case("E41-closing-brace-inside-item", hdr("band names = {a}b, c, d}\n"), ("text-after-list",), _e41),
    Case("E42-text-after-closing-brace", hdr("band names = {a, b, c} trailing junk\nsensor type = x\n"),
         ("text-after-list",), _e42),
    Case("E43-comma-after-closing-brace", hdr("wavelength = {400, 500,\n 600},\n"), ("text-after-list",), _e43),
    Case("E44-unclosed-brace-to-eof", hdr("wavelength = {400, 500,\nsensor type = x\n"), ("unclosed-list",), _e44),
    Case("E45-brace-in-scalar", hdr("sensor type = Foo {bar\nfwhm = {1, 2, 3}\n"), ("brace-in-scalar",), _e45),
    Case("E46-value-on-next-line", hdr("wavelength =\n{400, 500, 600}\n"),
         ("empty-value", "junk-line", "value-on-next-line"), _e46),
    Case("E47-blank-lines-inside-braces", hdr("wavelength = {400,\n\n500,\n   \n600}\n"), (), _e47),
    Case("E48-tabs-inside-lists", hdr("wavelength = {400\t,\t500,600}\n"), (), _e48),
    Case("E49-commas-outside-braces",
         hdr("sensor type = Specim, FX10\nsensor model = FENIX , Lumo - Recorder v2018-512\n"), (), _e49),
    Case("E50-quoted-items", hdr('band names = {"Band 1", "Band, 2", "Band 3"}\n'), (), _e50),
    Case("E51-square-bracket-list", hdr("wavelength = [400. 500. 600.]\n"), (), _e51),
    Case("E52-scalar-for-list-field", hdr("wavelength = 550\n"), (), _e52),
    Case("E53-very-long-line",
         hdr("wavelength = {" + ", ".join(map(str, LONG_WAVELENGTHS)) + "}\nsensor type = after\n"),
         ("line-too-long",), _e53),
    Case("E54-huge-header", hdr("band names = {\n" + ",\n".join(HYPERION_NAMES) + "}\n"), (), _e54),
    # E. description
    Case("E55-multi-line-description",
         hdr("description = {\n  Line one, with comma\n  Line two {inner} = x\n}\n"), (), _e55),
    Case("E56-description-without-braces", hdr("description = 220309h1450\n"), (), _e56),
    Case("E57-double-braces", hdr("description = {{wrapped}}\n"), (), _e57),
    Case("E58-backslashes",
         hdr("description = {C:\\source\\data\\rfc.bsq}\ndem file = D:\\Field Hyperion\\dem.img\n"), (), _e58),
    # F. Core fields: values and typing
    Case("E59-integer-with-junk", hdr("samples = 2.0\n", drop=("samples",)), (), _e59),
    Case("E60-zero-lines-negative-offset", hdr("lines = 0\nheader offset = -5\n", drop=("lines", "header offset")),
         (), _e60),
    Case("E61-data-type-formats", hdr("data type = 04\n", drop=("data type",)), (), _e61),
    Case("E62-undefined-data-types", hdr("data type = 7\n", drop=("data type",)), (), _e62),
    Case("E63-data-types-64-bit", hdr("data type = 14\n", drop=("data type",)), (), _e63),
    Case("E64-data-types-complex", hdr("data type = 6\n", drop=("data type",)), (), _e64),
    Case("E65-byte-order-missing", hdr(drop=("byte order",)), (), _e65),
    Case("E66-byte-order-2-or-big", hdr("byte order = 2\n", drop=("byte order",)), (), _e66),
    Case("E67-byte-order-big-endian", hdr("byte order = 1\ndata type = 4\n", drop=("byte order", "data type")),
         (), _e67),
    Case("E68-interleave-variants", hdr("interleave = Bil\n", drop=("interleave",)), (), _e68),
    Case("E69-header-offset-missing", hdr(drop=("header offset",)), (), _e69),
    Case("E70-file-type-missing", hdr(drop=("file type",)), (), _e70),
    Case("E71-file-type-values", hdr("file type = ENVI Spectral Library\n", drop=("file type",)), (), _e71),
    Case("E72-frame-offsets", hdr("major frame offsets = {4, 0}\nminor frame offsets = {0, 0}\n"), (), _e72),
    Case("E73-file-compression", hdr("file compression = 1\n"), (), _e73),
    # G. Spectral / optional fields
    Case("E74-wavelength-count-differs", hdr(f"wavelength = {_WAVE16}\n"), (), _e74),
    Case("E75-non-numeric-wavelength", hdr("wavelength = {400, abc, 600}\n"), (), _e75),
    Case("E76-non-monotonic-wavelength", hdr("wavelength = {675.78, 654.56, 700}\n"), (), _e76),
    Case("E77-wavelength-units-spellings", hdr("wavelength = {400, 500, 600}\nwavelength units = nm\n"), (), _e77),
    Case("E78-fwhm-count-differs", hdr(f"fwhm = {_FWHM21}\n"), (), _e78),
    Case("E79-bbl-floats", hdr("bbl = {1, 0, 1.0}\n"), (), _e79),
    Case("E80-data-ignore-value", hdr("data ignore value = NaN\n"), (), _e80),
    Case("E81-gain-offset-lists", hdr("data gain values = {1.0, 2.0, 0.5}\ndata offset values = {0, 0, 1}\n"),
         (), _e81),
    Case("E82-reflectance-scale-factor-zero", hdr("reflectance scale factor = 0.000000\n"), (), _e82),
    Case("E83-default-bands", hdr("default bands = {3,2,1}\n"), (), _e83),
    Case("E84-band-names-punctuation", hdr("band names = {Red (650 nm), NIR: 800/10; x, SWIR-1 \\ y}\n"), (), _e84),
    Case("E85-map-info-units-and-exponents",
         hdr("map info = {UTM, 1.000, 1.000, 380952.370, 5820372.350, 3.0000000000e+001, 3.0000000000e+001, "
             "33, North, WGS-84, units=Meters}\n"), (), _e85),
    Case("E86-coordinate-system-string", hdr("coordinate system string = {" + WKT + "}\n"), (), _e86),
    Case("E87-acquisition-time-forms",
         hdr("acquisition time = 2009-08-20T09:44:50\nacquisition date = DATE(yyyy-mm-dd): 2019-01-29\n"), (), _e87),
    Case("E88-temperature-list", hdr("temperature = {147.00, 28.19, 30.5}\n"), (), _e88),
    Case("E89-sensor-type-values", hdr("sensor type = FX10e , Lumo - Scanner v2019-535\n"), (), _e89),
    Case("E90-errors-custom-field", hdr("errors = {none}\n"), (), _e90),
    # H. Writers
    Case("W1-spy-writer-losses",
         hdr("band names = {a, b, c}\nread procedures = {resample:{10, 20, 30}, crop:{0:1, 0:1, 0:2}}\n"
             "Sensor Type = Specim, FX10\ndescription = {\n  line one\n  line two, with comma}\n"),
         ("key-case",), _w1),
    Case("W2-gdal-create-losses",
         hdr("description = {keep me}\nwavelength = {400, 500, 600}\nwavelength units = Nanometers\n"
             "map info = {UTM, 1, 1, 500000, 4000000, 30, 30, 33, North, WGS-84}\nfps_set = 100\n"), (), _w2),
    Case("W3-gdal-update-losses",
         hdr("; my comment\npixel size = {1, 1, units=Meters}\nnote = a = b\nData Ignore Value = 5\n"
             "fps_set = 100\nwavelength = {400, 500, 600}\n"),
         ("key-case",), _w3),
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_edge_case(case: Case) -> None:
    if case.not_header:
        for data in (case.data, *case.not_header_variants):
            with pytest.raises(NotAnEnviHeaderError):
                parse_header(data)
        return
    header = parse_header(case.data)
    assert header.to_bytes() == case.data
    assert codes(header) == sorted(case.codes)
    if case.check is not None:
        case.check(header)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize("case", [c for c in CASES if not c.not_header and _is_utf8(c.data)], ids=lambda c: c.id)
def test_edge_case_as_text(case: Case) -> None:
    """Text input is judged like the UTF-8 bytes it encodes (same codes and positions)."""
    from_text = parse_header(case.data.decode("utf-8"))
    from_bytes = parse_header(case.data)
    assert from_text.to_bytes() == case.data
    assert from_text.diagnostics == from_bytes.diagnostics


def test_table_covers_every_numbered_case_once() -> None:
    numbers = [re.match(r"(E\d\d|W\d)-", c.id) for c in CASES]
    assert all(numbers)
    names = [m.group(1) for m in numbers if m]
    assert names == [f"E{i:02d}" for i in range(1, 91)] + ["W1", "W2", "W3"]


def test_table_codes_are_known() -> None:
    used = {code for c in CASES for code in c.codes}
    assert used <= set(BY_CODE)


def test_not_an_envi_header_reports_offset() -> None:
    with pytest.raises(NotAnEnviHeaderError) as info:
        parse_header(b"\xef\xbb\xbfenvi\n")
    assert info.value.offset == 3
