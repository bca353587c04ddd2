"""``metadata`` on every third-party dataset the converter imports: IEEE 4001, CF and STAC as GDAL reads it.

A STAC Item needs a time and most of GDAL's test files have none: the export refuses them (spec/metadata-crosswalk.md
#datetime), so the STAC check runs on a copy with an ``acquisition time`` added through the pipeline's writer.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest
import rasterio

from hsi_conform.cli.main import main
from hsi_conform.container.opening import open_container
from hsi_conform.corpus.thirdparty import Dataset, load_datasets
from hsi_conform.errors import DatasetError
from hsi_conform.metadata import export_metadata
from hsi_conform.pipeline.output import publish
from tests._paths import FIXTURES
from tests.unit.metadata._stac_schemas import errors

IMPORTED = [d for d in load_datasets(FIXTURES / "third-party") if d.imports]


def convert(d: Dataset, dest: Path) -> Path:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(["convert", os.fspath(d.header_path), os.fspath(dest)])
    assert dest.exists(), d.name
    return dest


def with_time(source: Path, dest: Path) -> Path:
    with open_container(source) as c:
        header = c.header
        header.set("acquisition time", "2024-05-01T10:00:00Z")
        return publish(c, dest, header=header)


@pytest.mark.parametrize("d", IMPORTED, ids=[d.name for d in IMPORTED])
def test_every_imported_dataset_exports_its_metadata(d: Dataset, tmp_path: Path) -> None:
    hsi = convert(d, tmp_path / f"{d.name}.hsi")
    assert json.loads(export_metadata(hsi, "ieee4001"))["metadata"]
    assert json.loads(export_metadata(hsi, "cf"))["global"]["Conventions"].startswith("CF-")
    with open_container(hsi) as c:
        timed = c.header.get("acquisition time") is not None
    if not timed:
        with pytest.raises(DatasetError, match="acquisition time"):
            export_metadata(hsi, "stac")
        hsi = with_time(hsi, tmp_path / "timed.hsi")
    item = json.loads(export_metadata(hsi, "stac"))
    assert errors(item) == []
    with open_container(hsi) as c:
        bands, units = c.header.value("bands"), c.header.get("wavelength units")
    if d.wavelengths and units is not None:  # without a unit no micrometres (spec/metadata-crosswalk.md#stac)
        assert len(item["properties"]["eo:bands"]) == bands
        assert all("center_wavelength" in b for b in item["properties"]["eo:bands"])
    if d.georeferenced:
        props = item["properties"]
        with rasterio.open(f"/vsizip/{{{hsi}}}/data.envi") as ds:
            assert props["proj:transform"] == pytest.approx(list(ds.transform)[:6])
            assert props["proj:shape"] == [ds.height, ds.width]
            epsg = ds.crs.to_epsg() if ds.crs is not None else None
        assert props.get("proj:code") == (None if epsg is None else f"EPSG:{epsg}")
        assert item["geometry"] is None or len(item["geometry"]["coordinates"][0]) == 5
