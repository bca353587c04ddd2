"""Where an ENVI image lies on the map, as GDAL's ENVI driver reads it (spec/georeferencing.md).

One implementation for every format that carries georeferencing: the xarray engine, the HDF5 export (CF) and the
TIFF export (GeoTIFF) all take the CRS and the affine transform from :func:`georeferencing`, and the tests compare
both with GDAL's read of the same header.

The CRS comes from the sources in GDAL's order: a ``coordinate system string`` that is a WKT 1 text (ESRI's
dialect included) wins; otherwise ``map info`` names it (UTM with zone, hemisphere and datum; Geographic Lat/Lon
with its datum), or ``projection info`` gives it (ENVI's projection codes with a datum or an ellipsoid). What GDAL
would only guess (an unknown datum, a LOCAL_CS, State Plane zones, units other than metres and degrees) gives no
CRS. Datum names, CRS definitions and projection parameters are data: ``converters/georef.toml``.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
from dataclasses import dataclass
from typing import Any

from hsi_conform._resources import data_file
from hsi_conform.errors import FieldValueError
from hsi_conform.header.mapinfo import MapInfo, parse_map_info
from hsi_conform.header.model import Header
from hsi_conform.header.values import parse_float
from hsi_conform.header.wkt import Node, bare, parse_wkt, to_wkt

#: `units=` of a projected `map info` that GDAL converts the CRS to: not built (see the module docstring).
_OTHER_LINEAR_UNITS = frozenset({"feet", "km", "yards", "miles", "nautical miles"})
#: `units=` of a geographic `map info` that are not degrees (GDAL rescales or changes the angular unit).
_OTHER_ANGULAR_UNITS = frozenset({"radians", "minutes", "seconds"})
_DEGREE = 0.0174532925199433


@functools.cache
def _table() -> dict[str, Any]:
    with data_file("converters", "georef.toml").open("rb") as f:
        return tomllib.load(f)


@dataclass(frozen=True, slots=True, kw_only=True)
class Crs:
    """A coordinate reference system.

    Attributes:
        wkt: its WKT 1 text: built from ``map info``, the EPSG definition a ``coordinate system string`` was
            recognised as, or that string verbatim.
        epsg: its EPSG code when it is one (a recognised definition, or an ``AUTHORITY["EPSG", ...]`` of the WKT).
        geographic: longitude and latitude in degrees (otherwise a projected or other CRS).
        name: its name (the WKT's first string).
    """

    wkt: str
    epsg: int | None = None
    geographic: bool = False
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Georeferencing:
    """The georeferencing of one image.

    Attributes:
        crs: the CRS; None when the header has none GDAL would read the same way.
        map_info: the parsed ``map info``; None when absent or unreadable.
        transform: GDAL's six-number affine transform (rotation included, as GDAL computes it); None without
            ``map info``.
    """

    crs: Crs | None
    map_info: MapInfo | None
    transform: tuple[float, float, float, float, float, float] | None

    @property
    def axis_aligned(self) -> bool:
        """True when rows and columns follow the map axes, so x and y are one-dimensional coordinates."""
        return self.transform is not None and self.transform[2] == 0 and self.transform[4] == 0


def georeferencing(header: Header) -> Georeferencing | None:
    """Return the georeferencing of a header; None when it has neither a CRS nor a readable ``map info``."""
    items = _items(header, "map info")
    info = _map_info(items)
    crs = header_crs(header)
    transform = info.transform if info is not None else None
    if info is not None and info.units is not None and info.units.strip().lower() in _OTHER_ANGULAR_UNITS:
        crs, transform = None, None  # GDAL rescales these grids; matching it is not worth a guess
    if crs is None and transform is None:
        return None
    return Georeferencing(crs=crs, map_info=info, transform=transform)


def header_crs(header: Header) -> Crs | None:
    """Return the CRS of a header in GDAL's order of sources (see the module docstring).

    GDAL reads every source of the CRS only when the header has a ``map info`` of at least seven items (a CRS
    without a grid places nothing), and so does this function.
    """
    items = _items(header, "map info")
    if items is None or len(items) < 7:
        return None
    text = _text(header, "coordinate system string")
    crs = wkt_crs(text) if text else None
    return crs if crs is not None else map_info_crs(items, _items(header, "projection info"))


def wkt_crs(text: str) -> Crs | None:
    """Return the CRS of a WKT 1 text (None when it is not one).

    A geographic CRS whose datum, ellipsoid, prime meridian and unit are those of a CRS of the table becomes that
    EPSG definition (latitude before longitude, as GDAL reports it); any other text is kept verbatim.
    """
    node = parse_wkt(text)
    if node is None:
        return None
    if node.keyword == "GEOGCS":
        code = _recognised_geographic(node)
        if code is not None:
            return _geographic(code)
    return Crs(wkt=text.strip(), epsg=_authority(node), geographic=node.keyword == "GEOGCS", name=node.name or "")


def map_info_crs(items: tuple[str, ...], projection: tuple[str, ...] | None = None) -> Crs | None:
    """Return the CRS of ``map info`` items (and ``projection info`` items), as GDAL's ENVI driver builds it."""
    items = tuple(i.strip() for i in items)
    if len(items) < 7:
        return None
    units = next((i.partition("=")[2].strip().lower() for i in items if i.startswith("units=")), None)
    kind = items[0].lower()
    if kind.startswith("utm") and len(items) >= 9:
        datum = items[9] if len(items) >= 10 and "=" not in items[9] else None
        crs = _utm(items[7], items[8], datum)
    elif kind.startswith("geographic lat") and len(items) > 7:
        code = _envi_datum(items[7]) if "=" not in items[7] else _table()["defaults"]["geographic_datum"]
        return None if code is None or units in _OTHER_ANGULAR_UNITS else _geographic(code)
    else:
        crs = _projection_info(projection)
    return None if crs is None or units in _OTHER_LINEAR_UNITS else crs


# -- recognising ---------------------------------------------------------------------------------------------------


def _recognised_geographic(node: Node) -> int | None:
    datum, primem, unit = node.child("DATUM"), node.child("PRIMEM"), node.child("UNIT")
    spheroid = datum.child("SPHEROID") if datum is not None else None
    if datum is None or spheroid is None or unit is None or len(spheroid.numbers()) < 2:
        return None
    if (primem is not None and primem.numbers()[:1] != [0.0]) or not math.isclose(
            unit.numbers()[0] if unit.numbers() else 0.0, _DEGREE, rel_tol=1e-9):
        return None
    alias = _alias(datum.name or "")
    a, inverse = spheroid.numbers()[:2]
    for code, definition in _table()["geographic"].items():
        _, a_ref, inverse_ref, _ = definition["spheroid"]
        if alias in definition["aliases"] and math.isclose(a, a_ref, rel_tol=1e-9) and math.isclose(
                inverse, inverse_ref, rel_tol=1e-9):
            return int(code)
    return None


def _alias(name: str) -> str:
    text = name.lower()
    text = text.removeprefix("d_")
    return re.sub(r"[^a-z0-9]", "", text.replace("datum", ""))


def _authority(node: Node) -> int | None:
    authority = node.child("AUTHORITY")
    if authority is None or len(authority.args) < 2 or str(authority.args[0]).upper() != "EPSG":
        return None
    code = authority.args[1]
    text = code if isinstance(code, str) else repr(code)
    return int(float(text)) if re.fullmatch(r"\d+(\.0)?", text.strip()) else None


def _envi_datum(name: str) -> int | None:
    table = _table()
    key = name.strip().lower()
    if key in table["envi_datums"]:
        return int(table["envi_datums"][key])
    for part, code in table["envi_datum_contains"].items():
        if part in name:
            return int(code)
    return next((int(c) for prefix, c in table["envi_datum_prefixes"].items() if key.startswith(prefix)), None)


# -- building ------------------------------------------------------------------------------------------------------


def _geographic_node(code: int, *, root: bool) -> Node:
    definition = _table()["geographic"][str(code)]
    datum_name, datum_code = definition["datum"]
    spheroid_name, a, inverse, spheroid_code = definition["spheroid"]
    spheroid = Node("SPHEROID", [spheroid_name, float(a), float(inverse), _epsg(spheroid_code)])
    args: list[Any] = [definition["name"], Node("DATUM", [datum_name, spheroid, _epsg(datum_code)]),
                       Node("PRIMEM", ["Greenwich", 0.0, _epsg(8901)]),
                       Node("UNIT", ["degree", _DEGREE, _epsg(9122)])]
    if root:  # EPSG's axis order, as GDAL reports a geographic CRS it identified
        args += [Node("AXIS", ["Latitude", bare("NORTH")]), Node("AXIS", ["Longitude", bare("EAST")])]
    return Node("GEOGCS", [*args, _epsg(code)])


def _geographic(code: int) -> Crs:
    node = _geographic_node(code, root=True)
    return Crs(wkt=to_wkt(node), epsg=code, geographic=True, name=str(node.name))


def _epsg(code: int) -> Node:
    return Node("AUTHORITY", ["EPSG", str(code)])


def _projected(name: str, geogcs: Node, projection: str, parameters: list[tuple[str, float]],
               code: int | None = None) -> Crs:
    args: list[Any] = [name, geogcs, Node("PROJECTION", [projection])]
    args += [Node("PARAMETER", [key, float(value)]) for key, value in parameters]
    args += [Node("UNIT", ["metre", 1.0, _epsg(9001)]), Node("AXIS", ["Easting", bare("EAST")]),
             Node("AXIS", ["Northing", bare("NORTH")])]
    if code is not None:
        args.append(_epsg(code))
    return Crs(wkt=to_wkt(Node("PROJCS", args)), epsg=code, name=name)


def _utm(zone_text: str, hemisphere: str, datum: str | None) -> Crs | None:
    try:
        zone = int(zone_text)
    except ValueError:
        return None
    geographic = _envi_datum(datum) if datum is not None else _table()["defaults"]["utm_datum"]
    if geographic is None or not 1 <= zone <= 60:
        return None
    north = hemisphere.lower() != "south"
    codes = _table()["utm"].get(str(geographic), {})
    first, last = codes.get("zones", [0, -1])
    start = codes.get("north" if north else "south")
    code = start + zone if start is not None and first <= zone <= last else None
    geog_name = _table()["geographic"][str(geographic)]["name"]
    name = f"{geog_name} / UTM zone {zone}{'N' if north else 'S'}" if code is not None else "unnamed"
    parameters = [("latitude_of_origin", 0.0), ("central_meridian", zone * 6.0 - 183.0), ("scale_factor", 0.9996),
                  ("false_easting", 500000.0), ("false_northing", 0.0 if north else 10000000.0)]
    return _projected(name, _geographic_node(geographic, root=False), "Transverse_Mercator", parameters, code)


def _projection_info(items: tuple[str, ...] | None) -> Crs | None:
    if not items:
        return None
    items = tuple(i.strip() for i in items)
    spec = _table()["projections"].get(items[0])
    if spec is None or len(items) < spec["min_items"]:
        return None
    try:
        parameters = [(key, float(where) if isinstance(where, float) else parse_float(items[where]))
                      for key, where in spec["parameters"]]
    except FieldValueError:
        return None
    geogcs = _projection_datum(items)
    return None if geogcs is None else _projected("unnamed", geogcs, spec["name"], parameters)


def _projection_datum(items: tuple[str, ...]) -> Node | None:
    """Return the datum of ``projection info``: the item before the name (and a ``units=``), else the ellipsoid."""
    index = len(items) - 1
    if "=" in items[index]:
        index -= 1
    candidate = items[index - 1] if index >= 1 else ""
    if re.search(r"[A-Za-z]", candidate):
        code = _envi_datum(candidate)
        return None if code is None else _geographic_node(code, root=False)
    try:
        a, b = parse_float(items[1]), parse_float(items[2])
    except FieldValueError:
        return None
    inverse = a / (a - b) if abs(a - b) >= 0.1 else 0.0
    spheroid = Node("SPHEROID", ["Unnamed", a, inverse])
    return Node("GEOGCS", ["Ellipse Based", Node("DATUM", ["Ellipse Based", spheroid]),
                           Node("PRIMEM", ["Greenwich", 0.0]), Node("UNIT", ["degree", _DEGREE])])


# -- header access -------------------------------------------------------------------------------------------------


def _items(header: Header, key: str) -> tuple[str, ...] | None:
    entry = header.get(key)
    if entry is None or entry.items is None:
        return None
    return tuple(entry.items)


def _text(header: Header, key: str) -> str | None:
    try:
        value = header.value(key)
    except FieldValueError:
        return None
    return value if isinstance(value, str) else None


def _map_info(items: tuple[str, ...] | None) -> MapInfo | None:
    try:
        return None if items is None else parse_map_info(items)
    except FieldValueError:
        return None  # kept verbatim in the header; no transform beats a wrong one
