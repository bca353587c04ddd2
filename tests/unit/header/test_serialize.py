"""The canonical writer: lower-case keys, ` = `, LF, wrapped lists, explicit header offset.

The form is spec/header-syntax.md#canonical-form. SPy and GDAL must read what it writes, including a 300-band
header whose lists need wrapping.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hsi_conform import parse_header
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.header import build_header_text, canonical_bytes
from hsi_conform.header.serialize import MAX_LINE, format_entry, format_list, format_scalar, format_text
from tests.unit.header.test_edge_cases import CASES, codes, hdr

# Diagnostics that the canonical form cannot remove, because they are about a value or a key itself.
PERSISTENT_CODES = {
    "near-duplicate-key", "not-utf8", "nul", "control-character", "key-charset", "empty-item", "brace-in-scalar",
    "semicolon-in-scalar", "empty-value", "unclosed-list", "nesting-too-deep", "line-break-in-item", "line-too-long",
}


def lines_of(data: bytes) -> list[bytes]:
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


# -- format_* ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "text"), [
    (True, "1"), (np.bool_(False), "0"), (3, "3"), (np.int64(-5), "-5"), (np.uint16(7), "7"),
    (0.1, "0.1"), (1e-300, "1e-300"), (400.0, "400.0"), (np.float64(2.5), "2.5"),
    (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"),
    (DataType.FLOAT32, "4"), (ByteOrder.BIG, "1"), (Interleave.BIL, "bil"), ("Specim, FX10", "Specim, FX10"),
])
def test_format_scalar(value: object, text: str) -> None:
    assert format_scalar(value) == text


def test_format_scalar_float32_reads_back_exactly() -> None:
    x = np.float32(0.1)
    assert np.float32(float(format_scalar(x))) == x


@pytest.mark.parametrize("text", ["a\nb", "a\rb", "a\r\nb"])
def test_format_scalar_refuses_line_breaks(text: str) -> None:
    with pytest.raises(ValueError):
        format_scalar(text)


@pytest.mark.parametrize("item", ["a,b", "a{", "}", "{x}"])
def test_format_list_refuses_separators(item: str) -> None:
    with pytest.raises(ValueError):
        format_list(["ok", item])


def test_format_list_short() -> None:
    assert format_list([]) == "{}"
    assert format_list(["a"]) == "{a}"
    assert format_list([1, 2.5, "x y"]) == "{1, 2.5, x y}"


def test_format_list_wraps_after_commas() -> None:
    items = [f"{400 + i * 0.123456:.6f}" for i in range(1000)]
    text = format_list(items, key_width=len("wavelength = "))
    lines = ("wavelength = " + text).split("\n")
    assert len(lines) > 1
    assert max(map(len, lines)) <= MAX_LINE
    assert all(line.endswith(",") for line in lines[:-1])
    assert lines[-1].endswith("}")


@settings(max_examples=60)
@given(st.lists(st.text(alphabet="abc xyz0123456789.-", min_size=1, max_size=300).map(str.strip)
                .filter(bool), max_size=60),
       st.integers(min_value=40, max_value=MAX_LINE))
@example(["0" * 35], 40)
def test_format_list_wrapped_lines_fit_and_read_back(items: list[str], max_line: int) -> None:
    text = "x = " + format_list(items, key_width=4, max_line=max_line)
    longest_item = max((len(i) for i in items), default=0)
    # An item longer than a line gets a line of its own, which also holds "x = {" (the key's 4 and the brace) and
    # its "}" or ",": 6 more characters (a 35-character item with max_line 40 makes a line of 41).
    assert all(len(line) <= max(max_line, longest_item + 6) for line in text.split("\n"))
    h = parse_header(f"ENVI\n{text}\n")
    assert h.diagnostics == []
    assert h.value("x") == tuple(items)


def test_format_text() -> None:
    assert format_text("a, b = c\r\nd\re") == "{a, b = c\nd\ne}"
    assert format_text("{inner}") == "{{inner}}"
    with pytest.raises(ValueError):
        format_text("a { b")


def test_format_entry() -> None:
    assert format_entry("description", "x, y") == "description = {x, y}"
    assert format_entry("sensor type", "x, y") == "sensor type = x, y"
    assert format_entry("wavelength", (1, 2)) == "wavelength = {1, 2}"
    assert format_entry("byte order", ByteOrder.LITTLE) == "byte order = 0"
    assert format_entry("data ignore value", float("nan")) == "data ignore value = nan"


# -- build_header_text -------------------------------------------------------------------------------------


FIELDS: dict[str, object] = {
    "Wavelength": [400.0, 500.5, 600.0],
    "Byte Order": ByteOrder.LITTLE,
    "interleave": Interleave.BIL,
    "data type": DataType.UINT16,
    "file type": "ENVI Standard",
    "bands": 3,
    "lines": 4,
    "samples": 5,
    "description": "made by a test,\nwith = signs",
    "band names": ["Red (650 nm)", "G", "B"],
    "default bands": [1, 2, 3],
    "data ignore value": float("nan"),
    "acquisition time": "2009-08-20T09:44:50Z",
    "sensor type": "Specim, FX10",
}


def test_build_header_text_layout() -> None:
    text = build_header_text(FIELDS)
    lines = text.split("\n")
    assert lines[0] == "ENVI"
    assert text.endswith("\n") and "\r" not in text
    keys = [e.key_raw for e in parse_header(text).entries()]
    assert keys[:9] == ["description", "samples", "lines", "bands", "header offset", "file type", "data type",
                        "interleave", "byte order"]
    assert all(k == k.lower() for k in keys)
    assert "header offset = 0" in lines


def test_build_header_text_reads_back() -> None:
    h = parse_header(build_header_text(FIELDS))
    assert h.diagnostics == []
    assert h.value("wavelength") == (400.0, 500.5, 600.0)
    assert h.value("byte order") is ByteOrder.LITTLE
    assert h.value("interleave") is Interleave.BIL
    assert h.value("data type") is DataType.UINT16
    assert h.value("description") == "made by a test,\nwith = signs"
    assert h.value("band names") == ("Red (650 nm)", "G", "B")
    assert h.value("default bands") == (1, 2, 3)
    assert math.isnan(h.value("data ignore value"))
    assert h.value("header offset") == 0
    assert h.value("sensor type") == "Specim, FX10"


def test_build_header_text_keeps_explicit_header_offset() -> None:
    text = build_header_text({"samples": 1, "header offset": 512})
    assert text.count("header offset") == 1
    assert parse_header(text).value("header offset") == 512


# -- canonical_bytes ---------------------------------------------------------------------------------------


def test_canonical_form_of_a_messy_header() -> None:
    messy = (b"\xef\xbb\xbfENVI  \r\n   ; a comment\r\nSamples=2\r\nLINES =\t3\r\n  Band\t Names = {a ,b,\r\n c,}\r\n"
             b"junk line\r\n\r\nsamples = 4\r\nwavelength = {1, 2, 3} ; tail\r\nDescription = {\r\n x, y\r\n}\r\n")
    h = parse_header(messy)
    out = canonical_bytes(h)
    assert out == (b"ENVI\n; a comment\nlines = 3\nband names = {a, b, c}\nsamples = 4\nheader offset = 0\n"
                   b"wavelength = {1, 2, 3}\ndescription = {x, y}\n")
    again = parse_header(out)
    assert again.diagnostics == []
    for key in ("samples", "lines", "band names", "wavelength", "description"):
        assert again.value(key) == h.value(key)


def test_canonical_form_of_a_clean_header_is_itself() -> None:
    data = build_header_text(FIELDS).encode()
    assert canonical_bytes(parse_header(data)) == data


def test_canonical_form_keeps_nested_items() -> None:
    h = parse_header(b"ENVI\nread procedures = {resample:{10,\n 20,   30}, crop:{0:1, 0:1, 0:2}}\n")
    again = parse_header(canonical_bytes(h))
    assert again.value("read procedures") == ("resample:{10, 20, 30}", "crop:{0:1, 0:1, 0:2}")


def test_canonical_form_wraps_long_lists() -> None:
    wl = [round(400 + i * 0.987654321, 9) for i in range(2000)]
    h = parse_header(hdr("wavelength = {" + ", ".join(map(str, wl)) + "}\n"))
    assert codes(h) == ["line-too-long"]
    out = canonical_bytes(h)
    assert max(map(len, lines_of(out))) <= MAX_LINE
    again = parse_header(out)
    assert again.diagnostics == []
    assert again.value("wavelength") == tuple(wl)


def test_canonical_form_of_an_unclosed_list_does_not_swallow_header_offset() -> None:
    h = parse_header(b"ENVI\r\nsamples = 2\r\nwavelength = {1,\r\n2\r\n")
    out = canonical_bytes(h)
    assert out == b"ENVI\nsamples = 2\nheader offset = 0\nwavelength = {1,\n2\n"
    again = parse_header(out)
    assert again.value("header offset") == 0
    assert codes(again) == ["unclosed-list"]
    assert canonical_bytes(again) == out


@pytest.mark.parametrize("case", [c for c in CASES if not c.not_header], ids=lambda c: c.id)
def test_canonical_form_of_every_edge_case(case: object) -> None:
    data: bytes = case.data  # type: ignore[attr-defined]
    h = parse_header(data)
    out = canonical_bytes(h)
    assert b"\r" not in out
    assert out.startswith(b"ENVI\n")
    again = parse_header(out)
    assert {d.code for d in again.diagnostics} <= PERSISTENT_CODES
    assert {d.code for d in again.diagnostics} <= {d.code for d in h.diagnostics}
    assert canonical_bytes(again) == out
    assert again.value("header offset") is not None or h.get("header offset") is not None
    for e in again.entries():
        assert e.key_raw == e.key
        assert e.text.split("=", 1)[0].endswith(" ")
    if not h.diagnostics or set(codes(h)) <= {"line-too-long"}:
        assert max(map(len, lines_of(out))) <= MAX_LINE
        for key in {e.key for e in h.entries()}:
            assert again.get(key) is not None
            assert again.get(key).value == h.get(key).value  # type: ignore[union-attr]


@settings(max_examples=150)
@given(st.text(alphabet=list("aB =;{},\t\r\n_1"), max_size=150))
def test_canonical_form_is_idempotent(text: str) -> None:
    once = canonical_bytes(parse_header("ENVI\n" + text))
    assert canonical_bytes(parse_header(once)) == once


# -- other readers -----------------------------------------------------------------------------------------

WAVELENGTHS = [round(400.0 + i * 2.0137, 4) for i in range(300)]


def _write_pair(tmp_path: Path) -> tuple[Path, Path]:
    text = build_header_text({
        "description": "canonical, 300 bands",
        "samples": 2, "lines": 3, "bands": 300, "data type": DataType.FLOAT32, "interleave": Interleave.BSQ,
        "byte order": ByteOrder.LITTLE, "file type": "ENVI Standard",
        "wavelength": WAVELENGTHS, "fwhm": [2.5] * 300, "wavelength units": "Nanometers",
        "band names": [f"Band {i + 1}" for i in range(300)],
    })
    assert max(map(len, text.split("\n"))) <= MAX_LINE
    assert text.count("\n") > 10  # the lists were wrapped
    header = tmp_path / "cube.hdr"
    data = tmp_path / "cube.img"
    header.write_bytes(text.encode())
    np.arange(300 * 3 * 2, dtype="<f4").tofile(data)
    return header, data


def test_spy_reads_canonical_300_band_header(tmp_path: Path) -> None:
    envi = pytest.importorskip("spectral.io.envi")
    header, _ = _write_pair(tmp_path)
    h = envi.read_envi_header(str(header))
    assert [float(w) for w in h["wavelength"]] == WAVELENGTHS
    assert len(h["fwhm"]) == 300
    assert h["band names"][-1] == "Band 300"
    assert h["description"] == "canonical, 300 bands"
    assert int(h["header offset"]) == 0


def test_gdal_reads_canonical_300_band_header(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    _, data = _write_pair(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NotGeoreferencedWarning
        with rasterio.open(data) as ds:
            assert (ds.count, ds.height, ds.width) == (300, 3, 2)
            assert [float(ds.tags(b)["wavelength"]) for b in range(1, 301)] == WAVELENGTHS
            assert ds.tags(300)["wavelength_units"] == "Nanometers"
            assert ds.read(300)[2, 1] == 300 * 6 - 1
