"""What other readers see in the files hsi-conform writes from the third-party test set (``docs/interop.md``).

Each dataset of :mod:`hsi_conform.corpus.thirdparty` is converted to ``.hsi`` and from there to HDF5, TIFF and
ENVI; each reader then opens the output it is used with (GDAL through ``/vsizip/{scene.hsi}/data.envi``, the
GeoTIFF, and the HDF5 file; rioxarray the GeoTIFF and the HDF5 file; xarray and netCDF4 the HDF5 file; SPy the
``.hsi`` through :func:`hsi_conform.to_spectral`). A cell is ``ok`` when the reader sees what GDAL reads from the
source (pixels, right side up; CRS and geotransform when georeferenced; wavelengths where the reader has a place for
them), ``wrong: <what>`` when it opens the file but sees something else, ``fails`` when it cannot open or read it.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform.container.opening import open_container
from hsi_conform.corpus.thirdparty import Dataset, Reference
from hsi_conform.members import CUBE_DATA

__all__ = ["FAILS", "OK", "READERS", "Outputs", "check_georeferencing", "check_pixels", "find_cube",
           "import_cell", "matrix_row", "render_table", "write_outputs"]

OK = "ok"
FAILS = "fails"
NOT_APPLICABLE = "—"


@dataclass(frozen=True, slots=True)
class Outputs:
    """The files written for one dataset (None: not written)."""

    hsi: Path | None = None
    hdf5: Path | None = None
    tiff: Path | None = None
    envi: Path | None = None


def write_outputs(dataset: Dataset, folder: Path) -> Outputs:
    """Convert the dataset to ``.hsi`` and from there to HDF5, TIFF and ENVI in ``folder``; failures give None."""
    from hsi_conform.converters import convert

    def attempt(source: Path, dest: Path, *, allow_nonconformant: bool = False) -> Path | None:
        try:
            return convert(source, dest, allow_nonconformant=allow_nonconformant)
        except Exception:  # a refused or failed conversion is a result here, not an error
            return None

    hsi = attempt(dataset.header_path, folder / f"{dataset.name}.hsi")
    if hsi is None:
        return Outputs()
    # The readers are scored on what the container holds: a container that does not conform (most of GDAL's test
    # files have no wavelengths) is still exported, as `convert --allow-nonconformant` would.
    return Outputs(hsi=hsi, hdf5=attempt(hsi, folder / f"{dataset.name}.h5", allow_nonconformant=True),
                   tiff=attempt(hsi, folder / f"{dataset.name}.tif", allow_nonconformant=True),
                   envi=attempt(hsi, folder / f"{dataset.name}-envi.img", allow_nonconformant=True))


# -- comparisons ---------------------------------------------------------------------------------------------------

def check_pixels(pixels: np.ndarray[Any, Any], ref: Reference) -> str:
    """Compare ``(band, line, sample)`` pixels with the reference: ``ok`` or ``wrong: <what>``."""
    if tuple(pixels.shape) != ref.shape:
        return f"wrong: shape {tuple(pixels.shape)}"
    if np.array_equal(pixels, ref.pixels, equal_nan=True):
        return OK
    if np.array_equal(pixels[:, ::-1, :], ref.pixels, equal_nan=True):
        return "wrong: upside down"
    return "wrong: pixels"


def check_georeferencing(crs: Any, transform: Any, ref: Reference) -> str:
    """Compare a reader's CRS and geotransform (GDAL order) with the reference's."""
    if (crs is None) != (ref.crs is None) or (crs is not None and not _same_crs(crs, ref.crs)):
        return "wrong: CRS"
    if transform is None or not all(math.isclose(a, b, rel_tol=1e-8, abs_tol=1e-10)
                                    for a, b in zip(tuple(transform)[:6], ref.transform, strict=True)):
        return "wrong: transform"
    return OK


def _same_crs(crs: Any, ref_crs: Any) -> bool:
    rasterio_crs = importlib.import_module("rasterio.crs")
    theirs = crs if isinstance(crs, rasterio_crs.CRS) else rasterio_crs.CRS.from_user_input(crs)
    return bool(theirs == ref_crs)


def check_wavelengths(values: Any, ref: Reference) -> str:
    """Compare a reader's wavelength list with the source header's (``ok`` when the source has none)."""
    if ref.wavelength is None:
        return OK
    if values is None or len(values) != len(ref.wavelength):
        return "wrong: no wavelengths"
    same = all(math.isclose(float(a), b, rel_tol=1e-6) for a, b in zip(values, ref.wavelength, strict=True))
    return OK if same else "wrong: wavelengths"


def _first_problem(*results: Callable[[], str]) -> str:
    for result in results:
        cell = result()
        if cell != OK:
            return cell
    return OK


# -- readers ---------------------------------------------------------------------------------------------------------

def _rasterio() -> Any:
    return importlib.import_module("rasterio")


def _gdal_cell(path: str, dataset: Dataset, ref: Reference, *, wavelengths: bool, driver: str | None,
               georeferencing: bool = True) -> str:
    # The driver is named where the format is known: GDAL would otherwise let a foreign file that landed in
    # data.envi (an ERDAS .img taken for the data) be read by its own driver and hide the wrong pairing.
    with _rasterio().open(path, driver=driver) as src:
        pixels, crs, transform = src.read(), src.crs, tuple(src.transform)
        tags = [src.tags(band).get("wavelength") for band in range(1, src.count + 1)]
    return _first_problem(
        lambda: check_pixels(pixels, ref),
        lambda: check_georeferencing(crs, transform, ref) if dataset.georeferenced and georeferencing else OK,
        lambda: check_wavelengths(None if None in tags else tags, ref) if wavelengths else OK)


def gdal_hsi(dataset: Dataset, ref: Reference, out: Outputs) -> str:
    """GDAL's ENVI driver on the cube inside the container (``/vsizip/{scene.hsi}/data.envi``)."""
    assert out.hsi is not None
    return _gdal_cell(f"/vsizip/{{{out.hsi.resolve()}}}/{CUBE_DATA}", dataset, ref, wavelengths=True,
                      driver="ENVI")


def gdal_tiff(dataset: Dataset, ref: Reference, out: Outputs) -> str:
    """GDAL's GeoTIFF driver on the TIFF export (wavelengths from its band metadata)."""
    assert out.tiff is not None
    return _gdal_cell(os.fspath(out.tiff), dataset, ref, wavelengths=True, driver="GTiff")


def gdal_hdf5(dataset: Dataset, ref: Reference, out: Outputs) -> str:
    """GDAL on the HDF5 export: pixels through the HDF5 driver, georeferencing through the netCDF driver.

    The HDF5 driver opens the file itself (or its subdataset with the cube's shape) but reads no CF
    georeferencing; GDAL's netCDF driver reads the same cube variable (``NETCDF:"x.h5":/envi/data/cube``) with its
    CRS and transform, so a georeferenced dataset is checked there too.
    """
    assert out.hdf5 is not None
    path = os.fspath(out.hdf5)
    with _rasterio().open(path) as src:
        candidates = [path] if src.count else list(src.subdatasets)
    for name in candidates:
        with _rasterio().open(name) as src:
            if (src.count, src.height, src.width) != ref.shape:
                continue
        pixels = _gdal_cell(name, dataset, ref, wavelengths=False, driver=None, georeferencing=False)
        if pixels != OK or not dataset.georeferenced:
            return pixels
        variable = _hdf5_variable(name) if name != path else _only_variable(out.hdf5, ref.shape)
        if variable is None:
            return "wrong: no cube"
        return _gdal_cell(f'NETCDF:"{path}":{variable}', dataset, ref, wavelengths=False, driver="netCDF")
    return "wrong: no cube"


def _hdf5_variable(subdataset: str) -> str | None:
    """Return the variable of a GDAL HDF5 subdataset (``HDF5:"x.h5"://envi/data/cube`` -> ``/envi/data/cube``)."""
    _, sep, tail = subdataset.rpartition('":/')
    return "/" + tail.lstrip("/") if sep else None


def _only_variable(path: Path, shape: tuple[int, ...]) -> str | None:
    """Return the HDF5 path of the one dataset with the cube's shape (GDAL opened the file as that raster)."""
    h5py = importlib.import_module("h5py")
    found: list[str] = []
    with h5py.File(path, "r") as h5:
        h5.visititems(lambda name, obj: found.append("/" + name) if getattr(obj, "shape", None) == shape else None)
    return found[0] if len(found) == 1 else None


def spy_hsi(dataset: Dataset, ref: Reference, out: Outputs) -> str:
    """SPy through :func:`hsi_conform.to_spectral` (wavelengths as ``bands.centers``, fwhm as bandwidths)."""
    from hsi_conform.container.interop import to_spectral

    assert out.hsi is not None
    with open_container(out.hsi) as container:
        image = to_spectral(container)
        pixels = np.asarray(image.load()).transpose(2, 0, 1)
        centers, widths = image.bands.centers, image.bands.bandwidths
    fwhm_ok = ref.fwhm is None or (widths is not None and np.allclose(widths, ref.fwhm))
    return _first_problem(lambda: check_pixels(pixels, ref), lambda: check_wavelengths(centers, ref),
                          lambda: OK if fwhm_ok else "wrong: no fwhm")


def rioxarray_tiff(dataset: Dataset, ref: Reference, out: Outputs) -> str:
    """Read the TIFF export with rioxarray's ``open_rasterio``."""
    rioxarray = importlib.import_module("rioxarray")
    assert out.tiff is not None
    with rioxarray.open_rasterio(out.tiff) as array:
        pixels, crs, transform = array.values, array.rio.crs, array.rio.transform()
    return _first_problem(lambda: check_pixels(pixels, ref),
                          lambda: check_georeferencing(crs, transform, ref) if dataset.georeferenced else OK)


def find_cube(path: Path, shape: tuple[int, ...]) -> Iterator[Any]:
    """Yield the xarray variables of an HDF5 file with the cube's shape: the root group first, then the tree.

    ``xr.open_dataset(path)`` with the default engine must open the file (issue 12 item 4) even when the cube is
    in a group; the tree (``xr.open_datatree``) is searched after the root.
    """
    xr = importlib.import_module("xarray")
    with xr.open_dataset(path) as root:
        yield from (root[name] for name in root.data_vars if root[name].shape == shape)
    with xr.open_datatree(path) as tree:
        for node in tree.subtree:
            yield from (node[name] for name in node.data_vars if node[name].shape == shape)


def _hdf5_array(out: Outputs, ref: Reference) -> Any:
    assert out.hdf5 is not None
    for variable in find_cube(out.hdf5, ref.shape):
        return variable.load()
    return None


def xarray_hdf5(dataset: Dataset, ref: Reference, out: Outputs) -> str:
    """Read the HDF5 export with xarray (default engine): pixels, the wavelength coordinate, x/y at pixel centres."""
    array = _hdf5_array(out, ref)
    if array is None:
        return "wrong: no cube"
    wavelength = array.coords["wavelength"].values if "wavelength" in array.coords else None
    return _first_problem(lambda: check_pixels(array.values, ref), lambda: check_wavelengths(wavelength, ref),
                          lambda: _check_centres(array, ref) if dataset.georeferenced else OK)


def _check_centres(array: Any, ref: Reference) -> str:
    a, b, c, d, e, f = ref.transform
    if b or d:
        return OK  # a rotated grid has no x/y axes; its georeferencing is checked by rioxarray
    if "x" not in array.coords or "y" not in array.coords:
        return "wrong: no x/y"
    x_ok = np.allclose(array.coords["x"].values, c + a * (np.arange(ref.shape[2]) + 0.5))
    y_ok = np.allclose(array.coords["y"].values, f + e * (np.arange(ref.shape[1]) + 0.5))
    return OK if x_ok and y_ok else "wrong: x/y"


def rioxarray_hdf5(dataset: Dataset, ref: Reference, out: Outputs) -> str:
    """Read the CRS and transform rioxarray gives the cube that xarray finds in the HDF5 export."""
    importlib.import_module("rioxarray")  # registers the .rio accessor
    array = _hdf5_array(out, ref)
    if array is None:
        return "wrong: no cube"
    return _first_problem(
        lambda: check_pixels(array.values, ref),
        lambda: check_georeferencing(array.rio.crs, array.rio.transform(), ref) if dataset.georeferenced else OK)


def netcdf4_hdf5(dataset: Dataset, ref: Reference, out: Outputs) -> str:
    """netCDF4 on the HDF5 export: the cube's values, its group's ``wavelength``, its CF grid mapping."""
    netcdf4 = importlib.import_module("netCDF4")
    assert out.hdf5 is not None
    with netcdf4.Dataset(out.hdf5) as root:
        root.set_auto_maskandscale(False)  # raw values: _FillValue masking is the reader's business
        found = next(((g, v) for g in _groups(root) for v in g.variables.values() if v.shape == ref.shape), None)
        if found is None:
            return "wrong: no cube"
        group, variable = found
        pixels = variable[...]
        wavelength = group.variables["wavelength"][...] if "wavelength" in group.variables else None
        mapping = _grid_mapping_wkt(group, variable)
    return _first_problem(
        lambda: check_pixels(np.asarray(pixels), ref), lambda: check_wavelengths(wavelength, ref),
        lambda: _check_mapping(mapping, ref) if dataset.georeferenced else OK)


def _groups(group: Any) -> Iterator[Any]:
    yield group
    for child in group.groups.values():
        yield from _groups(child)


def _grid_mapping_wkt(group: Any, variable: Any) -> str | None:
    name = getattr(variable, "grid_mapping", None)
    if not name or name not in group.variables:
        return None
    mapping = group.variables[name]
    wkt = getattr(mapping, "crs_wkt", None) or getattr(mapping, "spatial_ref", None)
    return None if wkt is None else str(wkt)


def _check_mapping(wkt: str | None, ref: Reference) -> str:
    if wkt is None:
        return "wrong: no grid mapping"
    return OK if _same_crs(wkt, ref.crs) else "wrong: CRS"


Probe = Callable[[Dataset, Reference, Outputs], str]

#: Column title -> (the output the reader opens, the probe).
READERS: dict[str, tuple[str, Probe]] = {
    "SPy (.hsi)": ("hsi", spy_hsi),
    "GDAL (.hsi)": ("hsi", gdal_hsi),
    "GDAL (TIFF)": ("tiff", gdal_tiff),
    "GDAL (HDF5)": ("hdf5", gdal_hdf5),
    "rioxarray (TIFF)": ("tiff", rioxarray_tiff),
    "rioxarray (HDF5)": ("hdf5", rioxarray_hdf5),
    "xarray (HDF5)": ("hdf5", xarray_hdf5),
    "netCDF4 (HDF5)": ("hdf5", netcdf4_hdf5),
}


def run_probe(probe: Probe, output: str, dataset: Dataset, ref: Reference, out: Outputs) -> str:
    """Run one reader: ``fails`` when its output is missing or the reader raises."""
    if getattr(out, output) is None:
        return FAILS
    try:
        return probe(dataset, ref, out)
    except Exception:  # any reader error is the cell's answer
        return FAILS


def import_cell(dataset: Dataset, ref: Reference | None, out: Outputs) -> str:
    """hsi-conform's import: refused where it must be, otherwise the container's cube equal to GDAL's read."""
    if not dataset.imports:
        return "refused" if out.hsi is None else "wrong: not refused"
    if out.hsi is None or ref is None:
        return "wrong: refused"
    with open_container(out.hsi) as container:
        return check_pixels(np.asarray(container.bsq()), ref)


def matrix_row(dataset: Dataset, ref: Reference | None, out: Outputs) -> list[str]:
    """One table row: dataset, import, then one cell per reader (``—`` for a dataset that is refused)."""
    cells = [f"`{dataset.name}`", import_cell(dataset, ref, out)]
    for output, probe in READERS.values():
        if not dataset.imports or ref is None or out.hsi is None:
            cells.append(NOT_APPLICABLE)
        else:
            cells.append(run_probe(probe, output, dataset, ref, out))
    return cells


def render_table(rows: list[list[str]]) -> str:
    """Render the matrix as a Markdown table (``ok`` cells plain, others bold so gaps stand out)."""
    head = ["dataset", "hsi-conform import", *READERS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = row[:1] + [c if c in (OK, "refused", NOT_APPLICABLE) else f"**{c}**" for c in row[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
