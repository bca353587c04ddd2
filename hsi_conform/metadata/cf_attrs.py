"""A container's CF-1.10 attributes as JSON: global attributes and the attributes of each variable.

The attributes the HDF5 export writes (``converters/hdf5.toml``, ``converters/xarray.toml``,
:mod:`hsi_conform.converters.cf`), with the global attributes of the crosswalk's ``cf`` column (ACDD names where CF
has none, as CF recommends); spec/metadata-crosswalk.md#cf.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hsi_conform.container.reader import Container
from hsi_conform.converters.cf import CONVENTIONS, GRID_MAPPING, XARRAY, X, Y, cf_georeferencing, fill_value
from hsi_conform.converters.hdf5_cf import TABLE as HDF5
from hsi_conform.fields import DataType, wavelength_udunits
from hsi_conform.metadata.values import band_list, utc_time, value

__all__ = ["cf_attributes"]

_CUBE = XARRAY["names"]["cube"]


def cf_attributes(container: Container) -> dict[str, Any]:
    """Return ``{"global": {...}, "variables": {name: {...}}}`` for a container."""
    header = container.header
    out: dict[str, Any] = {"global": _global(container), "variables": {}}
    variables: dict[str, dict[str, Any]] = out["variables"]
    bands = value(header, "bands")
    units = value(header, "wavelength units")
    udunits = wavelength_udunits(units) if isinstance(units, str) else None
    count = bands if isinstance(bands, int) else None
    for key, extra in (("wavelength", {"standard_name": HDF5["cf"]["wavelength_standard_name"]}), ("fwhm", {})):
        if band_list(header, key, count) is not None:
            attrs = {"long_name": XARRAY["band_coordinates"][key], **extra}
            variables[key] = attrs | ({"units": udunits} if udunits else {})
    names = value(header, "band names")
    if isinstance(names, list | tuple) and len(names) == count:
        variables[HDF5["datasets"]["band_names"]] = {"long_name": XARRAY["band_coordinates"]["band names"]}
    variables[_CUBE] = _cube(container)
    lines, samples = value(header, "lines"), value(header, "samples")
    if isinstance(lines, int) and isinstance(samples, int):
        geo = cf_georeferencing(header, lines, samples)
        if geo is not None:
            if geo.grid_mapping:
                variables[GRID_MAPPING] = dict(geo.grid_mapping)
                variables[_CUBE]["grid_mapping"] = GRID_MAPPING
            if geo.x is not None:
                variables[X], variables[Y] = dict(geo.x_attrs), dict(geo.y_attrs)
    return out


def _global(container: Container) -> dict[str, Any]:
    header = container.header
    attrs: dict[str, Any] = {"Conventions": CONVENTIONS}
    for key, name in (("measurement", "id"), ("description", "comment")):
        text = value(header, key)
        if isinstance(text, str) and text.strip():
            attrs[name] = text.strip()
    sources = [v.strip() for k in ("device", "sensor type") if isinstance(v := value(header, k), str) and v.strip()]
    if sources:
        attrs["source"] = "; ".join(dict.fromkeys(sources))
    when = utc_time(header)
    if when is not None and when.instant is not None:
        attrs["time_coverage_start"] = when.instant.isoformat().replace("+00:00", "Z")
    return attrs


def _cube(container: Container) -> dict[str, Any]:
    """Return the cube's ``_FillValue`` and the header fields the HDF5 export writes on it (``[cube_fields]``)."""
    header = container.header
    attrs: dict[str, Any] = {}
    try:
        dtype = DataType(int(value(header, "data type"))).dtype(int(value(header, "byte order") or 0))
    except (TypeError, ValueError):
        dtype = None
    fill = fill_value(header, np.dtype(dtype)) if dtype is not None else None
    if fill is not None:
        attrs["_FillValue"] = fill
    for key, name in HDF5["cube_fields"].items():
        found = value(header, key)
        if found is not None and not isinstance(found, bool):
            attrs[name] = list(found) if isinstance(found, tuple) else found
    return attrs
