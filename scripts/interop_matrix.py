"""Regenerate docs/interop.md: the third-party test set as other readers see what hsi-conform writes from it.

Usage: ``python scripts/interop_matrix.py [--output docs/interop.md]``. tests/integration/test_third_party.py
computes the same table and fails when the page is stale.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from importlib import metadata
from pathlib import Path

from hsi_conform.corpus.interop import matrix_row, render_table, write_outputs
from hsi_conform.corpus.thirdparty import load_datasets, reference

ROOT = Path(__file__).resolve().parent.parent
INTRO = """# Interop matrix

Real ENVI files written by other tools (the third-party test set, `fixtures/third-party/`: its README says what each
dataset is, `SOURCES` where it comes from, `expected.toml` what a correct tool does with it) converted by hsi-conform
to `.hsi`, and from the `.hsi` to HDF5 and TIFF; then each reader opens the file it is used with. Regenerate with
`python scripts/interop_matrix.py`; `tests/integration/test_third_party.py` fails when this page is stale and marks
every gap below `xfail` with the item of issue 12 that closes it.

The reference is GDAL's read of the source data file (rasterio {rasterio}, GDAL {gdal}). A cell is **ok** when the
reader sees the same pixels right side up, the same CRS and geotransform when the source is georeferenced, and the
wavelengths where the reader has a place for them; **wrong: …** names the first thing it sees differently;
**fails** means it cannot open or read the file; `—`: there is no `.hsi` to read (the import refused the dataset).

- **hsi-conform import**: `hsi-conform convert HEADER scene.hsi`: refused where `expected.toml` says so, otherwise
  the container's cube equal to GDAL's read of the source.
- **SPy (.hsi)**: SPy {spectral} through `hsi_conform.to_spectral(hsi_conform.open("scene.hsi"))`: pixels,
  `bands.centers`, `bands.bandwidths`.
- **GDAL (.hsi)**: the ENVI driver on `/vsizip/{{scene.hsi}}/data.envi` (the braces are needed: GDAL does not know
  `.hsi` as a ZIP extension); wavelengths from the band metadata.
- **GDAL (TIFF)** / **GDAL (HDF5)**: the GeoTIFF export; the HDF5 export: pixels through the HDF5 driver (the file,
  or its subdataset with the cube's shape), CRS and geotransform through the netCDF driver on the same variable
  (`NETCDF:"scene.h5":/envi/data/cube`), since GDAL's HDF5 driver reads no CF georeferencing.
- **rioxarray (TIFF)** / **rioxarray (HDF5)**: rioxarray {rioxarray}: `open_rasterio` on the TIFF; `.rio.crs` and
  `.rio.transform()` of the cube xarray finds in the HDF5 file.
- **xarray (HDF5)**: xarray {xarray}: `xr.open_dataset(path)` (default engine) must open the file; the cube is
  looked up in the root group, then in `xr.open_datatree(path)`; wavelength coordinate, x/y at pixel centres.
- **netCDF4 (HDF5)**: netCDF4 {netcdf4}: the cube variable, its group's `wavelength` variable, its CF grid mapping
  (`crs_wkt` or `spatial_ref`).

The netCDF4 library reads HDF5 complex numbers (`gdal-cfloat32`) as structured arrays of `r` and `i` unless it is
told `auto_complex=True` (`xr.open_dataset(path, auto_complex=True)`), which the xarray, rioxarray and netCDF4
columns do not pass; `engine="h5netcdf"` reads them as complex numbers.

"""


def _versions() -> dict[str, str]:
    import rasterio

    names = {"spectral": "spectral", "rioxarray": "rioxarray", "xarray": "xarray", "netcdf4": "netCDF4"}
    versions = {key: metadata.version(dist) for key, dist in names.items()}
    return {"rasterio": rasterio.__version__, "gdal": rasterio.__gdal_version__, **versions}


def main(argv: list[str] | None = None) -> int:
    """Convert every dataset, run every reader, write the Markdown page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "interop.md")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # readers warn about the very files whose defects the table records
    rows = []
    with tempfile.TemporaryDirectory(prefix="hsi-interop-") as tmp:
        for dataset in load_datasets():
            ref = reference(dataset) if dataset.imports and dataset.data else None
            rows.append(matrix_row(dataset, ref, write_outputs(dataset, Path(tmp))))
    args.output.write_text(INTRO.format(**_versions()) + render_table(rows), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
