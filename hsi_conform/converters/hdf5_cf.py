"""The CF-1.10 views beside each cube of an HSI-HDF5 file (spec/hdf5-mapping.md#cf).

The verbatim header stays the source of truth; what this module writes next to the cube are views of it, so that
xarray (netCDF4 and h5netcdf engines, ``open_datatree``), rioxarray, netCDF4 and GDAL's netCDF driver read the cube
with its wavelengths, its map coordinates and its CRS: a dimension scale on every axis (``wavelength`` or ``band``,
``y``, ``x``), the per-band coordinates with units, the grid-mapping variable, ``_FillValue`` and the header fields
of ``[cube_fields]``. The georeferencing is the one :mod:`hsi_conform.converters.cf` gives the xarray engine.
Names are data: ``converters/hdf5.toml``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hsi_conform.converters._stream import band_values, safe_value
from hsi_conform.converters.base import mapping_table
from hsi_conform.converters.cf import GRID_MAPPING, XARRAY, X, Y, cf_georeferencing, fill_value
from hsi_conform.fields import wavelength_udunits
from hsi_conform.header import Header

TABLE = mapping_table("hdf5")
_D, _A = TABLE["datasets"], TABLE["cube_attrs"]
#: netCDF-4's NAME of a dimension scale that is a dimension but no variable (netCDF-C and h5netcdf read it so).
NOT_A_VARIABLE = "This is a netCDF dimension but not a netCDF variable.%10d"


def write_views(h5py: Any, group: Any, cube: Any, header: Header) -> None:
    """Write the dimension scales, coordinates, grid mapping and CF attributes of one ENVI group's cube."""
    bands, lines, samples = cube.shape
    fields = TABLE["header_fields"]
    units = safe_value(header, fields["wavelength_units"])
    udunits = wavelength_udunits(units) if isinstance(units, str) else None
    first = _band_scale(group, header, bands, udunits)
    geo = cf_georeferencing(header, lines, samples)
    y = _axis(group, Y, lines, None if geo is None else geo.y, {} if geo is None else geo.y_attrs)
    x = _axis(group, X, samples, None if geo is None else geo.x, {} if geo is None else geo.x_attrs)
    if cube.size or cube.shape == (0, 0, 0):
        for axis, scale in enumerate((first, y, x)):
            cube.dims[axis].attach_scale(scale)
    coords = _band_coordinates(h5py, group, header, bands, udunits, first)
    if geo is not None and geo.grid_mapping:
        mapping = group.create_dataset(GRID_MAPPING, data=np.int32(0))
        for key, value in geo.grid_mapping.items():
            mapping.attrs[key] = value
        cube.attrs[_A["grid_mapping"]] = GRID_MAPPING
        coords.append(GRID_MAPPING)  # so xarray makes it a coordinate of the cube, where rioxarray looks for it
    if coords:
        cube.attrs[_A["coordinates"]] = " ".join(coords)
    _field_attrs(h5py, cube, header)


def _band_scale(group: Any, header: Header, bands: int, udunits: str | None) -> Any:
    """Return the scale of axis 0: ``wavelength`` (one per band) or ``band`` (1-based numbers)."""
    waves = band_values(header, TABLE["header_fields"]["wavelength"], bands, float)
    if waves is None:
        scale = group.create_dataset(_D["band"], data=np.arange(1, bands + 1, dtype=np.int32))
        scale.make_scale(_D["band"])
        return scale
    scale = group.create_dataset(_D["wavelength"], data=np.asarray(waves, dtype=np.float64))
    scale.attrs["long_name"] = XARRAY["band_coordinates"]["wavelength"]
    scale.attrs["standard_name"] = TABLE["cf"]["wavelength_standard_name"]
    if udunits is not None:
        scale.attrs["units"] = udunits
    scale.make_scale(_D["wavelength"])
    return scale


def _axis(group: Any, name: str, n: int, values: np.ndarray[Any, Any] | None, attrs: dict[str, str]) -> Any:
    """Return the scale of an image axis: map coordinates of pixel centres, or a dimension without values."""
    if values is None:
        scale = group.create_dataset(name, shape=(n,), dtype=np.float32)  # never written: takes no space
        scale.make_scale(NOT_A_VARIABLE % n)
        return scale
    scale = group.create_dataset(name, data=values)
    for key, value in attrs.items():
        scale.attrs[key] = value
    scale.make_scale(name)
    return scale


def _band_coordinates(h5py: Any, group: Any, header: Header, bands: int, udunits: str | None,
                      first: Any) -> list[str]:
    """Write ``fwhm`` and ``band_names`` on axis 0 when the header has one per band; return their names."""
    fields = TABLE["header_fields"]
    written = []
    fwhm = band_values(header, fields["fwhm"], bands, float)
    if fwhm is not None:
        ds = group.create_dataset(_D["fwhm"], data=np.asarray(fwhm, dtype=np.float64))
        ds.attrs["long_name"] = XARRAY["band_coordinates"]["fwhm"]
        if udunits is not None:
            ds.attrs["units"] = udunits
        written.append(ds)
    names = band_values(header, fields["band_names"], bands, str)
    if names is not None:
        ds = group.create_dataset(_D["band_names"], data=np.array(names, dtype=h5py.string_dtype()))
        ds.attrs["long_name"] = XARRAY["band_coordinates"]["band names"]
        written.append(ds)
    for ds in written:
        ds.dims[0].attach_scale(first)
    return [ds.name.rsplit("/", 1)[-1] for ds in written]


def _field_attrs(h5py: Any, cube: Any, header: Header) -> None:
    """Write ``_FillValue`` and the header fields of ``[cube_fields]`` as typed attributes of the cube."""
    fill = fill_value(header, cube.dtype)
    if fill is not None:
        cube.attrs[_A["fill_value"]] = np.array(fill, dtype=cube.dtype)  # netCDF needs the variable's type
    for key, name in TABLE["cube_fields"].items():
        value = safe_value(header, key)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, list | tuple) and all(isinstance(v, int | float) for v in value):
            cube.attrs[name] = np.asarray(value)
        elif isinstance(value, list | tuple):
            cube.attrs[name] = np.array([str(v) for v in value], dtype=h5py.string_dtype())
        elif isinstance(value, int | float):
            cube.attrs[name] = value
        else:
            cube.attrs[name] = str(value)
