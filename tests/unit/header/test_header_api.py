"""``header["key"]``, ``key in header`` and a short ``repr`` (issue 20 items 15 and 18; spec/python-api.md)."""

from __future__ import annotations

import pytest

from hsi_conform import parse_header
from hsi_conform.errors import HsiConformError, NoSuchFieldError

TEXT = b"ENVI\nsamples = 3\nLines = 4\nbands = 2\ndata type = 12\ninterleave = bil\n"


def test_getitem_is_the_typed_value_and_keys_are_case_insensitive() -> None:
    header = parse_header(TEXT + b"wavelength = {400, 500}\n")
    assert header["samples"] == 3 and header["lines"] == 4 and header["Wavelength"] == (400.0, 500.0)
    assert "wavelength" in header and "LINES" in header and "fwhm" not in header


def test_a_missing_field_is_a_key_error() -> None:
    with pytest.raises(KeyError) as info:
        parse_header(TEXT)["fwhm"]
    assert isinstance(info.value, NoSuchFieldError) and isinstance(info.value, HsiConformError)
    assert info.value.key == "fwhm"


def test_repr_is_a_summary_not_a_dump() -> None:
    waves = ", ".join(str(400 + i) for i in range(2000)).encode()
    header = parse_header(TEXT + b"wavelength = {" + waves + b"}\n")
    text = repr(header)
    assert len(text) < 200 and "6 fields" in text and "samples=3" in text and "interleave=bil" in text


def test_repr_counts_diagnostics() -> None:
    header = parse_header(TEXT + b"no equals sign\n")
    assert header.diagnostics and f"{len(header.diagnostics)} diagnostics" in repr(header)
    assert "diagnostics" not in repr(parse_header(TEXT.replace(b"Lines", b"lines")))


def test_a_key_normalised_again_gives_the_same_lookup_form() -> None:
    from hsi_conform.header.nodes import _normalize, normalize_key

    keys = ["Data Type", " data  type ", "data\ttype", "DATA_TYPE", "wavelength", "x" * 200 + "  Y"]
    for _ in range(2):  # the second round reads the kept forms
        assert [normalize_key(k) for k in keys] == [_normalize(k) for k in keys]
    assert normalize_key(" data  type ") == "data type" and normalize_key("DATA_TYPE") == "data_type"
