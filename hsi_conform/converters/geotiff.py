"""GeoTIFF tags for the ``gdal`` TIFF profile (spec/tiff-mapping.md#geotiff).

The georeferencing is the one GDAL reads from the ENVI header (:func:`hsi_conform.header.georef.georeferencing`,
shared with the HDF5 export and the xarray engine), so GDAL and rasterio read the TIFF with the same CRS and
transform as the source. A north-up grid is written as a pixel scale and a tie point, any other grid as the
transformation matrix; a CRS with an EPSG code as that code, any other as its WKT in the PCS citation under a
user-defined model (GDAL's "ESRI PE String" convention, which it reads back exactly). No pyproj is needed. Tag and
key numbers are data: ``converters/tiff.toml``.
"""

from __future__ import annotations

from typing import Any

from hsi_conform.converters.base import mapping_table
from hsi_conform.header import Header
from hsi_conform.header.georef import Crs, georeferencing

_TABLE = mapping_table("tiff")
_G, _KEYS, _TYPES = _TABLE["geotiff"], _TABLE["geotiff"]["keys"], _TABLE["tag_types"]

#: A TIFF tag as tifffile's ``extratags`` take it: (code, type, count, value, write once).
ExtraTag = tuple[int, int, int, Any, bool]


def geotiff_tags(header: Header) -> list[ExtraTag]:
    """Return the GeoTIFF tags of a header's georeferencing (empty when it has none)."""
    geo = georeferencing(header)
    if geo is None:
        return []
    tags: list[ExtraTag] = []
    if geo.transform is not None:
        tags += _transform_tags(geo.transform)
    if geo.crs is not None:
        tags += _key_tags(geo.crs)
    return tags


def _transform_tags(gt: tuple[float, float, float, float, float, float]) -> list[ExtraTag]:
    double = _TYPES["double"]
    if gt[2] == 0 and gt[4] == 0 and gt[1] > 0 and gt[5] < 0:
        return [(_G["pixel_scale"], double, 3, (gt[1], -gt[5], 0.0), True),
                (_G["tiepoint"], double, 6, (0.0, 0.0, 0.0, gt[0], gt[3], 0.0), True)]
    matrix = (gt[1], gt[2], 0.0, gt[0], gt[4], gt[5], 0.0, gt[3], 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    return [(_G["transformation"], double, 16, matrix, True)]


def _key_tags(crs: Crs) -> list[ExtraTag]:
    """Return the GeoKeyDirectory and GeoAsciiParams tags of a CRS."""
    keys: dict[int, int | str] = {_KEYS["raster_type"]: _G["pixel_is_area"]}
    if crs.epsg is not None and crs.geographic:
        keys |= {_KEYS["model_type"]: _TABLE["geotiff"]["models"]["geographic"],
                 _KEYS["geographic_type"]: crs.epsg, _KEYS["geog_angular_units"]: _G["units"]["degree"],
                 _KEYS["citation"]: crs.name}
    elif crs.epsg is not None and crs.wkt.lstrip().upper().startswith("PROJCS"):
        keys |= {_KEYS["model_type"]: _TABLE["geotiff"]["models"]["projected"],
                 _KEYS["projected_type"]: crs.epsg, _KEYS["citation"]: crs.name}
    else:
        keys |= {_KEYS["model_type"]: _G["user_defined"], _KEYS["pcs_citation"]: _G["pe_string"] + crs.wkt}
    directory = [*_G["version"], len(keys)]
    ascii_params = ""
    for key in sorted(keys):
        value = keys[key]
        if isinstance(value, str):
            text = value.encode("ascii", "replace").decode("ascii").replace("|", "/") + "|"
            directory += [key, _G["ascii_params"], len(text), len(ascii_params)]
            ascii_params += text
        else:
            directory += [key, 0, 1, value]
    tags: list[ExtraTag] = [(_G["key_directory"], _TYPES["short"], len(directory), tuple(directory), True)]
    if ascii_params:
        tags.append((_G["ascii_params"], _TYPES["ascii"], 0, ascii_params, True))
    return tags
