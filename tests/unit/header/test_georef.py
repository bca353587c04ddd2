"""The georeferencing of a header: CRS and affine transform, each compared with GDAL's read of the same header."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from hsi_conform.header import build_header_text, parse_header
from hsi_conform.header.georef import georeferencing, header_crs, map_info_crs, wkt_crs
from hsi_conform.header.mapinfo import parse_map_info
from hsi_conform.header.wkt import Node, parse_wkt, to_wkt

ESRI_WGS84 = ('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
              'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')
ESRI_NAD27_UTM = ('PROJCS["NAD_1927_UTM_Zone_11N",GEOGCS["GCS_North_American_1927",DATUM["D_North_American_1927",'
                  'SPHEROID["Clarke_1866",6378206.4,294.978698213898]],PRIMEM["Greenwich",0.0],'
                  'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
                  'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
                  'PARAMETER["Central_Meridian",-117.0],PARAMETER["Scale_Factor",0.9996],'
                  'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')
UTM = "UTM, 1, 1, 440720, 3751320, 60, 60"
GRID = "X, 1, 1, 0, 0, 30, 30"

#: Header fields -> the EPSG code the CRS must be (None: a CRS without one). Every case is also compared with GDAL.
BUILT: dict[str, tuple[dict[str, str], int | None]] = {
    "utm-without-datum-is-nad27": ({"map info": f"{{{UTM}, 11, North}}"}, 26711),
    "utm-wgs84": ({"map info": f"{{{UTM}, 32, North, WGS-84, units=Meters}}"}, 32632),
    "utm-wgs84-south": ({"map info": f"{{{UTM}, 33, South, WGS-84}}"}, 32733),
    "utm-nad83": ({"map info": f"{{{UTM}, 17, North, North America 1983}}"}, 26917),
    "utm-nad27": ({"map info": f"{{{UTM}, 17, North, North America 1927}}"}, 26717),
    "utm-ed50": ({"map info": f"{{{UTM}, 31, North, European 1950 (mean)}}"}, 23031),
    "utm-wgs72": ({"map info": f"{{{UTM}, 31, North, WGS-72}}"}, 32231),
    "utm-osgb36": ({"map info": f"{{{UTM}, 30, North, Ordnance Survey of Great Britain '36}}"}, None),
    "utm-gda94": ({"map info": f"{{{UTM}, 55, South, Geocentric Datum of Australia 1994}}"}, None),
    "utm-agd84": ({"map info": f"{{{UTM}, 55, South, Australian Geodetic 1984}}"}, None),
    "utm-ntf": ({"map info": f"{{{UTM}, 31, North, Nouvelle Triangulation Francaise IGN}}"}, None),
    "utm-grs80-is-nad83": ({"map info": f"{{{UTM}, 31, North, GRS 80}}"}, None),
    "geographic-wgs84": ({"map info": "{Geographic Lat/Lon, 1, 1, 9.5, 47.25, 0.001, 0.001, WGS-84}"}, 4326),
    "geographic-units-only": ({"map info": "{Geographic Lat/Lon, 1, 1, 9.5, 47.25, 0.001, 0.001, units=Degrees}"},
                              4326),
    "geographic-nad27": ({"map info": "{Geographic Lat/Lon, 1, 1, -100, 40, 0.01, 0.01, North America 1927}"}, 4267),
    "albers-ellipsoid": ({"map info": f"{{{GRID}}}", "projection info":
                          "{9, 6378206.4, 6356583.8, 23, -96, 0., 0., 29.5, 45.5, Albers Equal Area Example}"}, None),
    "albers-datum": ({"map info": f"{{{GRID}}}", "projection info":
                      "{9, 6378137.0, 6356752.3, 23, -96, 0, 0, 29.5, 45.5, North America 1983, Albers}"}, None),
    "transverse-mercator": ({"map info": f"{{{GRID}}}", "projection info":
                             "{3, 6378137.0, 6356752.3, 0, 9, 500000, 0, 0.9996, WGS-84, TM}"}, None),
    "lambert-conformal-conic": ({"map info": f"{{{GRID}}}", "projection info":
                                 "{4, 6378137.0, 6356752.3, 46.5, 3, 700000, 6600000, 49, 44, WGS-84, LCC, "
                                 "units=Meters}"}, None),
    "stereographic": ({"map info": f"{{{GRID}}}", "projection info":
                       "{7, 6378137.0, 6356752.3, 52.1, 5.3, 155000, 463000, 0.9999, WGS-84, ST}"}, None),
    "polyconic": ({"map info": f"{{{GRID}}}", "projection info": "{10, 6378137.0, 6356752.3, 10, 20, 0, 0, P}"},
                  None),
    "lambert-azimuthal-sphere": ({"map info": f"{{{GRID}}}", "projection info":
                                  "{11, 6370997, 6370997, 45, -100, 0, 0, L}"}, None),
    "azimuthal-equidistant": ({"map info": f"{{{GRID}}}", "projection info":
                               "{12, 6378137.0, 6356752.3, 52, 10, 0, 0, A}"}, None),
    "esri-geographic-is-epsg": ({"map info": "{Geographic Lat/Lon, 1, 1, -44.8, -22.9, 0.003, 0.003, WGS-84}",
                                 "coordinate system string": f"{{{ESRI_WGS84}}}"}, 4326),
    "esri-projected-verbatim": ({"map info": f"{{{UTM}, 11, North}}",
                                 "coordinate system string": f"{{{ESRI_NAD27_UTM}}}"}, None),
    "reference-pixel": ({"map info": "{UTM, 10.5, 3.5, 440720, 3751320, 60, 30, 11, North, WGS-84}"}, 32611),
    "rotated": ({"map info": "{UTM, 2, 3, 736600.089, 4078126.75, 2.7, 2.7, 12, North, WGS-84, rotation=-66}"},
                32612),
    "upside-down": ({"map info": "{UTM, 1, 1, 440720, 3751320, 2, 3, 11, North, WGS-84, rotation=180}"}, 32611),
}

#: Headers GDAL reads only by guessing, or as a LOCAL_CS: no CRS (the transform is still GDAL's).
NOT_BUILT = {
    "unknown-datum": {"map info": f"{{{UTM}, 11, North, Mars 2000}}"},
    "arbitrary": {"map info": "{Arbitrary, 1, 1, 0, 0, 1, 1}"},
    "feet": {"map info": f"{{{UTM}, 11, North, WGS-84, units=Feet}}"},
    "state-plane": {"map info": "{State Plane (NAD 83), 1, 1, 0, 0, 1, 1, 401}"},
    "polar-stereographic": {"map info": f"{{{GRID}}}", "projection info": "{31, 6378137, 6356752.3, -71, 0, 0, 0, PS}"},
    "oblique-mercator": {"map info": f"{{{GRID}}}", "projection info": "{6, 6378137, 6356752.3, 1, 2, 3, 4, 5, 6, O}"},
}


def header(fields: dict[str, str]) -> str:
    base = build_header_text({"samples": 3, "lines": 2, "bands": 1, "header offset": 0, "file type": "ENVI Standard",
                              "data type": 1, "interleave": "bsq", "byte order": 0})
    return base + "".join(f"{key} = {value}\n" for key, value in fields.items())


def gdal_read(tmp_path: Path, text: str) -> tuple[object, tuple[float, ...]]:
    """Return GDAL's CRS and geotransform of the header (over a 3 x 2 byte image)."""
    rasterio = pytest.importorskip("rasterio")
    (tmp_path / "g.hdr").write_text(text)
    (tmp_path / "g.img").write_bytes(bytes(6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(tmp_path / "g.img") as src:
            return src.crs, src.transform.to_gdal()


@pytest.mark.parametrize(("fields", "epsg"), list(BUILT.values()), ids=list(BUILT))
def test_crs_and_transform_equal_gdals(tmp_path: Path, fields: dict[str, str], epsg: int | None) -> None:
    crs_module = pytest.importorskip("rasterio.crs")
    text = header(fields)
    geo = georeferencing(parse_header(text.encode()))
    assert geo is not None and geo.crs is not None and geo.transform is not None
    gdal_crs, gdal_transform = gdal_read(tmp_path, text)
    assert crs_module.CRS.from_wkt(geo.crs.wkt) == gdal_crs
    assert geo.crs.epsg == epsg
    assert geo.transform == pytest.approx(gdal_transform, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("fields", list(NOT_BUILT.values()), ids=list(NOT_BUILT))
def test_what_gdal_would_guess_gives_no_crs(fields: dict[str, str]) -> None:
    geo = georeferencing(parse_header(header(fields).encode()))
    assert geo is not None and geo.crs is None and geo.transform is not None


def test_a_crs_needs_a_map_info_as_in_gdal() -> None:
    assert georeferencing(parse_header(header({"coordinate system string": f"{{{ESRI_WGS84}}}"}).encode())) is None
    assert georeferencing(parse_header(header({}).encode())) is None


def test_an_unreadable_map_info_keeps_the_crs_and_gives_no_transform() -> None:
    text = header({"map info": "{UTM, 1, 1, a, b, 1, 1}", "coordinate system string": f"{{{ESRI_WGS84}}}"})
    geo = georeferencing(parse_header(text.encode()))
    assert geo is not None and geo.transform is None and geo.map_info is None
    assert geo.crs is not None and geo.crs.epsg == 4326


def test_minutes_and_seconds_grids_are_not_guessed() -> None:
    text = header({"map info": "{Geographic Lat/Lon, 1, 1, 9, 47, 1, 1, WGS-84, units=Seconds}"})
    assert georeferencing(parse_header(text.encode())) is None


def test_an_esri_geographic_wkt_becomes_the_epsg_definition() -> None:
    crs = wkt_crs(ESRI_WGS84)
    assert crs is not None and crs.epsg == 4326 and crs.geographic
    assert 'AXIS["Latitude",NORTH]' in crs.wkt and crs.wkt.endswith('AUTHORITY["EPSG","4326"]]')


def test_other_wkt_is_kept_verbatim_with_its_authority() -> None:
    crs = wkt_crs(ESRI_NAD27_UTM)
    assert crs is not None and crs.wkt == ESRI_NAD27_UTM and crs.epsg is None and not crs.geographic
    with_authority = ESRI_NAD27_UTM[:-1] + ',AUTHORITY["EPSG","26711"]]'
    assert wkt_crs(with_authority) == crs.__class__(wkt=with_authority, epsg=26711, name="NAD_1927_UTM_Zone_11N")
    odd_datum = ESRI_WGS84.replace("6378137.0", "6378136.0")
    odd = wkt_crs(odd_datum)
    assert odd is not None and odd.epsg is None


@pytest.mark.parametrize("text", ['GEOGCRS["WGS 84"]', 'GEOGCS["x"', 'GEOGCS["x"] trailing', "EPSG:4326",
                                  'GEOGCS["unclosed]', 'DATUM["not a root"]', "[" * 40 + "]" * 40])
def test_what_is_not_wkt1_is_not_a_crs(text: str) -> None:
    assert parse_wkt(text) is None and wkt_crs(text) is None


def test_wkt_reads_and_writes_back() -> None:
    node = parse_wkt(ESRI_WGS84)
    assert node is not None and node.keyword == "GEOGCS" and node.name == "GCS_WGS_1984"
    datum = node.child("datum")
    assert datum is not None and datum.child("SPHEROID") == Node("SPHEROID", ["WGS_1984", 6378137.0, 298.257223563])
    assert parse_wkt(to_wkt(node)) == node
    assert to_wkt(Node("A", ['say "hi"', 1.5, 2.0])) == 'A["say ""hi""",1.5,2]'


def test_header_crs_takes_the_first_source_that_reads() -> None:
    esri = parse_header(header({"map info": f"{{{UTM}, 11, North}}", "coordinate system string": "{not a wkt}"})
                        .encode())
    crs = header_crs(esri)
    assert crs is not None and crs.epsg == 26711  # the map info, as GDAL falls back to it
    assert map_info_crs(("UTM", "1", "1", "0", "0", "1", "1", "99", "North")) is None  # no such zone


def test_the_rotated_transform_turns_about_the_tie_point() -> None:
    info = parse_map_info(("UTM", "1", "1", "100", "200", "2", "2", "rotation=90"))
    a, b, c, d, e, f = info.transform
    assert (a, d) == (100.0, 200.0)
    assert (b, c, e, f) == pytest.approx((0.0, 2.0, 2.0, 0.0), abs=1e-12)  # rows run east, columns north
    assert info.geotransform is None
    assert parse_map_info(("UTM", "1", "1", "100", "200", "2", "2")).transform == (100.0, 2.0, -0.0, 200.0, -0.0,
                                                                                   -2.0)
