"""The documented GDAL access to the cube inside a container works, and the form it replaced does not.

GDAL opens only names ending in a known ZIP extension as archives, so a ``.hsi`` needs ``/vsizip/{path}/member``
(or ``CPL_VSIL_ZIP_ALLOWED_EXTENSIONS=.hsi``); README.md and spec/ show these forms (README's example runs in
tests/integration/test_readme.py too).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.testing.samples import write_sample_container

rasterio = pytest.importorskip("rasterio")


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_container(tmp_path_factory.mktemp("gdal") / "scene.hsi")


@pytest.fixture(autouse=True)
def _not_georeferenced_is_fine() -> None:
    warnings.filterwarnings("ignore", category=rasterio.errors.NotGeoreferencedWarning)


def test_the_braces_form_reads_every_band_and_wavelength(scene: Path) -> None:
    with rasterio.open(f"/vsizip/{{{scene}}}/data.envi") as src, hsi_conform.open(scene) as c:
        assert src.driver == "ENVI"
        np.testing.assert_array_equal(src.read(), c.bsq())
        waves = [float(src.tags(b)["wavelength"]) for b in range(1, src.count + 1)]
        assert waves == list(c.header.value("wavelength"))


def test_the_allowed_extensions_option_reads_without_braces(scene: Path) -> None:
    with rasterio.Env(CPL_VSIL_ZIP_ALLOWED_EXTENSIONS=".hsi"), rasterio.open(f"/vsizip/{scene}/data.envi") as src:
        assert src.count == 10


@pytest.mark.parametrize("form", ["/vsizip/{path}/data.envi", "zip://{path}!data.envi"])
def test_the_forms_without_braces_fail(scene: Path, form: str) -> None:
    with pytest.raises(rasterio.errors.RasterioIOError):
        rasterio.open(form.format(path=scene))
