"""The CF-1.10 description of an image: pixel-centre x/y, the grid mapping, the fill value (spec/georeferencing.md#cf).

One mapping for the two writers of CF: the xarray engine (``xarray_backend.py``) and the HDF5 export
(``converters/hdf5.py``). Both take the georeferencing from :func:`hsi_conform.header.georef.georeferencing`, so the
coordinates and the CRS xarray, rioxarray and GDAL's netCDF driver see are the ones GDAL reads from the ENVI
header. Names and units are data: ``converters/xarray.toml`` (dimensions, the grid-mapping name, map units) and
``converters/georef.toml`` (CF projections).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hsi_conform.converters.base import mapping_table
from hsi_conform.errors import FieldValueError
from hsi_conform.header import Header
from hsi_conform.header.georef import Crs, Georeferencing, georeferencing
from hsi_conform.header.wkt import Node, parse_wkt

XARRAY = mapping_table("xarray")
_CF = mapping_table("georef")["cf"]
#: The CF dimension names of the image axes: (y, x).
Y, X = XARRAY["dims"]["lines"], XARRAY["dims"]["samples"]
#: The name of the grid-mapping variable (rioxarray's).
GRID_MAPPING: str = XARRAY["names"]["grid_mapping"]
CONVENTIONS: str = _CF["conventions"]


@dataclass(frozen=True, slots=True)
class CfGeoreferencing:
    """What CF says about where an image lies.

    Attributes:
        x: the map x of each column's centre (None for a rotated grid, which has no x axis).
        y: the map y of each row's centre, north first (None for a rotated grid).
        x_attrs: CF attributes of ``x`` (standard name, units, axis).
        y_attrs: CF attributes of ``y``.
        grid_mapping: attributes of the grid-mapping variable: ``crs_wkt`` and ``spatial_ref`` (the WKT), CF's
            ``grid_mapping_name`` and parameters where the projection has them, GDAL's ``GeoTransform``.
    """

    x: np.ndarray[Any, np.dtype[np.float64]] | None
    y: np.ndarray[Any, np.dtype[np.float64]] | None
    x_attrs: dict[str, str] = field(default_factory=dict)
    y_attrs: dict[str, str] = field(default_factory=dict)
    grid_mapping: dict[str, Any] = field(default_factory=dict)


def cf_georeferencing(header: Header, lines: int, samples: int) -> CfGeoreferencing | None:
    """Return the CF georeferencing of an image of ``lines`` x ``samples`` pixels; None when it has none."""
    geo = georeferencing(header)
    if geo is None:
        return None
    grid: dict[str, Any] = grid_mapping_attrs(geo.crs) if geo.crs is not None else {}
    if geo.transform is not None:
        grid["GeoTransform"] = " ".join(repr(float(v)) for v in geo.transform)
    gt = geo.transform
    if gt is None or not geo.axis_aligned or gt[1] <= 0 or gt[5] >= 0:
        return CfGeoreferencing(x=None, y=None, grid_mapping=grid)  # no x and y axes: GeoTransform says it all
    xs = gt[0] + (np.arange(samples, dtype=np.float64) + 0.5) * gt[1]
    ys = gt[3] + (np.arange(lines, dtype=np.float64) + 0.5) * gt[5]
    x_attrs, y_attrs = _axis_attrs(geo)
    return CfGeoreferencing(x=xs, y=ys, x_attrs=x_attrs, y_attrs=y_attrs, grid_mapping=grid)


def grid_mapping_attrs(crs: Crs) -> dict[str, Any]:
    """Return the grid-mapping attributes of a CRS: the WKT twice, and CF's own description where it has one."""
    attrs: dict[str, Any] = {}
    node = parse_wkt(crs.wkt)
    if node is not None:
        attrs |= _cf_projection(node)
    return attrs | {"crs_wkt": crs.wkt, "spatial_ref": crs.wkt}


def fill_value(header: Header, dtype: np.dtype[Any]) -> Any:
    """Return ``data ignore value`` in the array's dtype; None when absent or when no value of the dtype is it.

    A float type takes the nearest value of its precision (what the header's writer meant), as a plain number.
    """
    try:
        value = header.value("data ignore value")
    except FieldValueError:
        return None
    if value is None:
        return None
    if dtype.kind == "f":
        cast = dtype.type(value)
        return cast.item() if np.isfinite(cast) == np.isfinite(value) else None
    if dtype.kind in "ui" and float(value).is_integer():
        info = np.iinfo(dtype)
        return int(value) if info.min <= value <= info.max else None
    return None


def _axis_attrs(geo: Georeferencing) -> tuple[dict[str, str], dict[str, str]]:
    geographic = geo.crs.geographic if geo.crs is not None else (
        geo.map_info is not None and geo.map_info.projection.lower().startswith("geographic"))
    if geographic:
        return ({"standard_name": "longitude", "units": "degrees_east", "axis": "X"},
                {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"})
    x = {"standard_name": "projection_x_coordinate", "long_name": "x coordinate of pixel centre", "axis": "X"}
    y = {"standard_name": "projection_y_coordinate", "long_name": "y coordinate of pixel centre", "axis": "Y"}
    units = _map_units(geo)
    if units:
        x["units"] = y["units"] = units
    return x, y


def _map_units(geo: Georeferencing) -> str | None:
    """Return the UDUNITS spelling of the map units: ``map info``'s ``units=``, else the WKT's linear unit."""
    named = geo.map_info.units if geo.map_info is not None else None
    if not named:
        node = parse_wkt(geo.crs.wkt) if geo.crs is not None else None
        unit = node.child("UNIT") if node is not None else None
        named = unit.name if unit is not None else None
    units = XARRAY["map_units"].get((named or "").strip().lower())
    return str(units) if units else None


def _cf_projection(node: Node) -> dict[str, Any]:
    """CF's ``grid_mapping_name``, its parameters and the ellipsoid, read from a WKT 1 tree."""
    geogcs = node if node.keyword == "GEOGCS" else node.child("GEOGCS")
    attrs: dict[str, Any] = _ellipsoid(geogcs) if geogcs is not None else {}
    if node.keyword == "GEOGCS":
        return {"grid_mapping_name": _CF["geographic"]} | attrs
    projection = node.child("PROJECTION")
    name = (projection.name or "").lower() if projection is not None else ""
    cf = next(((k, v) for k, v in _CF["projections"].items() if name in v["wkt"]), None)
    if node.keyword != "PROJCS" or cf is None:
        return {}
    attrs["grid_mapping_name"] = cf[0]
    parallels: list[float] = []
    for parameter in (a for a in node.args if isinstance(a, Node) and a.keyword == "PARAMETER"):
        key = cf[1]["parameters"].get((parameter.name or "").lower())
        if key is None or not parameter.numbers():
            continue
        if key == "standard_parallel":
            parallels.append(parameter.numbers()[0])
        else:
            attrs[key] = parameter.numbers()[0]
    if parallels:
        attrs["standard_parallel"] = parallels[0] if len(parallels) == 1 else parallels
    return attrs


def _ellipsoid(geogcs: Node) -> dict[str, float]:
    datum = geogcs.child("DATUM")
    spheroid = datum.child("SPHEROID") if datum is not None else None
    primem = geogcs.child("PRIMEM")
    attrs: dict[str, float] = {}
    if spheroid is not None and len(spheroid.numbers()) >= 2:
        a, inverse = spheroid.numbers()[:2]
        attrs |= {"semi_major_axis": a, "inverse_flattening": inverse} if inverse else {"earth_radius": a}
    if primem is not None and primem.numbers():
        attrs["longitude_of_prime_meridian"] = primem.numbers()[0]
    return attrs
