"""The field table and the enums it leans on."""

from __future__ import annotations

import re

import numpy as np
import pytest

from hsi_conform.fields import (
    ALL_SCOPES,
    BY_KEY,
    FIELDS,
    WAVELENGTH_UNIT_SYNONYMS,
    WAVELENGTH_UNITS,
    ByteOrder,
    DataType,
    FieldSpec,
    Interleave,
    Kind,
    Scope,
    envi_wavelength_unit,
    field_spec,
    is_opaque_text,
    required_fields,
    wavelength_udunits,
)
from hsi_conform.header.model import normalize_key

COUNT_RULES = {None, "bands", "classes", "3*classes", "1|3", "2", "3"}


# -- the table ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", FIELDS, ids=lambda f: f.key)
def test_field_spec_is_well_formed(spec: FieldSpec) -> None:
    assert normalize_key(spec.key) == spec.key
    assert spec.key == spec.key.strip() and "_" not in spec.key
    assert re.fullmatch(r"fields\.md#[a-z0-9]+(?:-[a-z0-9]+)*", spec.anchor), spec.anchor
    assert isinstance(spec.kind, Kind) and spec.kind is not Kind.ANY
    assert spec.section in {"2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "ENVI"}
    assert spec.summary.strip()
    assert spec.required_in <= ALL_SCOPES
    assert spec.recommended_in <= ALL_SCOPES
    assert not spec.required_in & spec.recommended_in
    assert spec.count in COUNT_RULES
    if spec.count is not None:
        assert spec.is_list
    assert bool(spec.allowed) == (spec.kind is Kind.ENUM)
    if spec.nonfinite:
        assert spec.kind in (Kind.FLOAT, Kind.FLOAT_LIST)
    if spec.positive or spec.minimum is not None:
        assert spec.kind in (Kind.INT, Kind.FLOAT, Kind.INT_LIST, Kind.FLOAT_LIST)


def test_keys_and_anchors_are_unique() -> None:
    keys = [f.key for f in FIELDS]
    assert len(keys) == len(set(keys))
    anchors = [f.anchor for f in FIELDS]
    assert len(anchors) == len(set(anchors))
    assert {f.key: f for f in FIELDS} == BY_KEY


def test_is_list() -> None:
    assert {f.key for f in FIELDS if f.is_list} >= {"wavelength", "fwhm", "band names", "default bands", "bbl",
                                                   "class lookup", "class names", "read procedures"}
    assert not field_spec("samples").is_list
    assert not field_spec("description").is_list


def test_unknown_key_is_any() -> None:
    spec = field_spec("fps_set")
    assert (spec.key, spec.kind, spec.section) == ("fps_set", Kind.ANY, "custom")
    assert not spec.required_in


def test_opaque_text_fields() -> None:
    assert is_opaque_text("description")
    assert is_opaque_text("coordinate system string")
    assert not is_opaque_text("band names")
    assert not is_opaque_text("Description")  # normalised keys only


def test_required_fields() -> None:
    root = {f.key for f in required_fields(Scope.ROOT)}
    assert root == {"samples", "lines", "bands", "byte order", "data type", "file type", "interleave", "wavelength"}
    for scope in Scope:
        assert {"samples", "lines", "bands", "byte order", "data type", "interleave"} <= {
            f.key for f in required_fields(scope)}
        assert "header offset" not in {f.key for f in required_fields(scope)}


def test_enum_fields_allow_exactly_the_enum_values() -> None:
    assert field_spec("data type").allowed == ("1", "2", "3", "4", "5", "6", "9", "12", "13", "14", "15")
    assert field_spec("byte order").allowed == ("0", "1")
    assert field_spec("interleave").allowed == ("bsq", "bil", "bip")


def test_wavelength_units() -> None:
    assert {"nm", "Nanometers", "um", "Micrometers", "Unknown", "Index"} <= set(WAVELENGTH_UNITS)
    assert len({u.lower() for u in WAVELENGTH_UNITS}) == len(WAVELENGTH_UNITS)


def test_wavelength_unit_synonyms_name_units_of_the_table() -> None:
    assert set(WAVELENGTH_UNIT_SYNONYMS.values()) <= set(WAVELENGTH_UNITS)
    assert not {s.lower() for s in WAVELENGTH_UNIT_SYNONYMS} & {u.lower() for u in WAVELENGTH_UNITS}
    assert all(s == s.lower() for s in WAVELENGTH_UNIT_SYNONYMS)
    for spelling, unit in [("micron", "Micrometers"), (" \u00b5m ", "Micrometers"), ("\u03bcm", "Micrometers"),
                           ("\u00c5", "Angstroms"), ("\u212b", "Angstroms"), ("NANOMETERS", "Nanometers"),
                           ("cm", "cm"), ("m", "m"), ("parsec", None)]:
        assert envi_wavelength_unit(spelling) == unit, spelling
    assert wavelength_udunits("microns") == "um"
    assert wavelength_udunits("Index") is None


# -- DataType ----------------------------------------------------------------------------------------------

NUMPY = {1: "u1", 2: "i2", 3: "i4", 4: "f4", 5: "f8", 6: "c8", 9: "c16", 12: "u2", 13: "u4", 14: "i8", 15: "u8"}


def test_data_type_codes() -> None:
    assert sorted(int(d) for d in DataType) == sorted(NUMPY)
    for undefined in (0, 7, 8, 10, 11, 16):
        with pytest.raises(ValueError):
            DataType(undefined)


@pytest.mark.parametrize("code", sorted(NUMPY))
@pytest.mark.parametrize(("order", "prefix"), [(0, "<"), (1, ">")])
def test_data_type_dtype(code: int, order: int, prefix: str) -> None:
    dt = DataType(code)
    expected = np.dtype(prefix + NUMPY[code])
    assert dt.dtype(order) == expected
    assert dt.dtype(ByteOrder(order)) == expected
    if expected.itemsize > 1:
        assert dt.dtype(order).str[0] == prefix
    assert dt.itemsize == expected.itemsize
    assert DataType.from_dtype(expected) is dt
    assert DataType.from_dtype(expected.newbyteorder()) is dt
    assert DataType.from_dtype(np.dtype(NUMPY[code])) is dt


def test_data_type_dtype_default_is_little_endian() -> None:
    assert DataType.INT16.dtype() == np.dtype("<i2")


def test_data_type_values_round_trip_through_bytes() -> None:
    values = np.array([1, 258, 65535], dtype="u2")
    big = values.astype(DataType.UINT16.dtype(1)).tobytes()
    assert big == b"\x00\x01\x01\x02\xff\xff"
    assert np.frombuffer(big, dtype=DataType.UINT16.dtype(1)).tolist() == [1, 258, 65535]


@pytest.mark.parametrize("name", ["i1", "f2", "bool", "U4", "O", "M8[s]", "V4"])
def test_from_dtype_without_envi_code(name: str) -> None:
    with pytest.raises(ValueError):
        DataType.from_dtype(np.dtype(name))


# -- Interleave and ByteOrder ------------------------------------------------------------------------------


def test_interleave_shape() -> None:
    assert Interleave.BSQ.shape(lines=2, samples=3, bands=5) == (5, 2, 3)
    assert Interleave.BIL.shape(lines=2, samples=3, bands=5) == (2, 5, 3)
    assert Interleave.BIP.shape(lines=2, samples=3, bands=5) == (2, 3, 5)


def test_interleave_shapes_index_the_same_cube() -> None:
    lines, samples, bands = 2, 3, 4
    cube = np.arange(lines * samples * bands).reshape(bands, lines, samples)  # BSQ
    as_bil = cube.transpose(1, 0, 2).copy()
    as_bip = cube.transpose(1, 2, 0).copy()
    assert as_bil.shape == Interleave.BIL.shape(lines, samples, bands)
    assert as_bip.shape == Interleave.BIP.shape(lines, samples, bands)
    assert as_bil[1, 3, 2] == as_bip[1, 2, 3] == cube[3, 1, 2]


def test_interleave_values_are_lower_case() -> None:
    assert [i.value for i in Interleave] == ["bsq", "bil", "bip"]
    assert Interleave("bil") is Interleave.BIL


def test_byte_order_values() -> None:
    assert (ByteOrder.LITTLE, ByteOrder.BIG) == (0, 1)
