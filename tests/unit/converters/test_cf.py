"""The CF description of georeferencing: CF's own grid-mapping parameters describe the same CRS as the WKT."""

from __future__ import annotations

import numpy as np
import pytest

from hsi_conform.converters.cf import cf_georeferencing, fill_value, grid_mapping_attrs
from hsi_conform.header import Header, build_header_text, parse_header
from hsi_conform.header.georef import map_info_crs, wkt_crs
from tests.unit.header.test_georef import ESRI_NAD27_UTM, ESRI_WGS84

GRID = ("X", "1", "1", "0", "0", "30", "30")
CRSS = {
    "utm": map_info_crs(("UTM", "1", "1", "0", "0", "1", "1", "32", "North", "WGS-84")),
    "utm-south-nad27": map_info_crs(("UTM", "1", "1", "0", "0", "1", "1", "11", "North")),
    "geographic": wkt_crs(ESRI_WGS84),
    "esri-projected": wkt_crs(ESRI_NAD27_UTM),
    "albers": map_info_crs(GRID, ("9", "6378206.4", "6356583.8", "23", "-96", "0", "0", "29.5", "45.5", "A")),
    "lcc": map_info_crs(GRID, ("4", "6378137", "6356752.3", "46.5", "3", "700000", "6600000", "49", "44", "WGS-84",
                               "L")),
    "laea-sphere": map_info_crs(GRID, ("11", "6370997", "6370997", "45", "-100", "0", "0", "L")),
    "azimuthal-equidistant": map_info_crs(GRID, ("12", "6378137", "6356752.3", "52", "10", "0", "0", "A")),
    "stereographic": map_info_crs(GRID, ("7", "6378137", "6356752.3", "52.1", "5.3", "155000", "463000", "0.9999",
                                         "WGS-84", "S")),
    "transverse-mercator": map_info_crs(GRID, ("3", "6378137", "6356752.3", "0", "9", "500000", "0", "0.9996",
                                               "WGS-84", "T")),
}


@pytest.mark.parametrize("name", list(CRSS))
def test_cf_parameters_alone_give_the_crs_of_the_wkt(name: str) -> None:
    pyproj = pytest.importorskip("pyproj")
    crs = CRSS[name]
    assert crs is not None
    attrs = grid_mapping_attrs(crs)
    assert attrs["crs_wkt"] == attrs["spatial_ref"] == crs.wkt
    cf_only = {k: v for k, v in attrs.items() if k not in ("crs_wkt", "spatial_ref")}
    from_cf, from_wkt = pyproj.CRS.from_cf(cf_only), pyproj.CRS.from_wkt(crs.wkt)
    assert from_cf.ellipsoid.semi_major_metre == pytest.approx(from_wkt.ellipsoid.semi_major_metre)
    assert from_cf.ellipsoid.inverse_flattening == pytest.approx(from_wkt.ellipsoid.inverse_flattening)
    assert from_cf.is_geographic == from_wkt.is_geographic
    if from_wkt.is_projected:  # CF names none of the datum: compare what the projections compute
        points = ([-100.5, -95.0, 3.5, 9.2, 5.0, 10.5], [40.0, 30.5, 46.0, 1.5, 52.5, 51.0])
        xy = [pyproj.Transformer.from_crs(c.geodetic_crs, c, always_xy=True).transform(*points)
              for c in (from_cf, from_wkt)]
        np.testing.assert_allclose(xy[0], xy[1], atol=1e-3)


def test_a_projection_cf_cannot_name_gets_the_wkt_only() -> None:
    polyconic = map_info_crs(GRID, ("10", "6378137", "6356752.3", "10", "20", "0", "0", "P"))
    assert polyconic is not None and set(grid_mapping_attrs(polyconic)) == {"crs_wkt", "spatial_ref"}


def _header(**fields: object) -> Header:
    base = {"samples": 3, "lines": 2, "bands": 1, "header offset": 0, "file type": "ENVI Standard", "data type": 4,
            "interleave": "bsq", "byte order": 0}
    return parse_header(build_header_text(base | fields).encode())


def test_north_up_grids_get_pixel_centres_and_rotated_ones_only_the_transform() -> None:
    utm = ["UTM", "1", "1", "100", "200", "2", "3", "32", "North", "WGS-84"]
    geo = cf_georeferencing(_header(**{"map info": utm}), 2, 3)
    assert geo is not None and geo.x is not None and geo.y is not None
    np.testing.assert_array_equal(geo.x, [101, 103, 105])
    np.testing.assert_array_equal(geo.y, [198.5, 195.5])
    assert geo.x_attrs["units"] == "m"
    assert [float(v) for v in geo.grid_mapping["GeoTransform"].split()] == [100, 2, 0, 200, 0, -3]
    rotated = cf_georeferencing(_header(**{"map info": [*utm, "rotation=10"]}), 2, 3)
    assert rotated is not None and rotated.x is None and rotated.y is None
    assert len(rotated.grid_mapping["GeoTransform"].split()) == 6
    assert cf_georeferencing(_header(), 2, 3) is None


@pytest.mark.parametrize(("dtype", "value", "expected"), [
    ("<u2", 65535, 65535), ("<u2", -1, None), ("<u2", 0.5, None), ("<i2", -9999, -9999), ("<f4", 0.1, 0.1),
    ("<f4", float("nan"), "nan"), ("<c8", 1, None)])
def test_the_fill_value_is_one_the_type_holds(dtype: str, value: float, expected: object) -> None:
    fill = fill_value(_header(**{"data ignore value": value}), np.dtype(dtype))
    if expected == "nan":
        assert fill is not None and np.isnan(fill)
    elif isinstance(expected, float):
        assert fill == pytest.approx(expected) and fill == float(np.float32(expected))
    else:
        assert fill == expected
