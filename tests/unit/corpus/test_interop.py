"""hsi_conform.corpus.interop: the comparisons behind docs/interop.md and the table it renders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hsi_conform.corpus import interop
from hsi_conform.corpus.thirdparty import Dataset, Reference

rasterio_crs = pytest.importorskip("rasterio.crs")
UTM = rasterio_crs.CRS.from_epsg(32611)
TRANSFORM = (60.0, 0.0, 440720.0, 0.0, -60.0, 3751320.0)
PIXELS = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4)


def ref(**changes: object) -> Reference:
    values: dict[str, object] = {"pixels": PIXELS, "crs": UTM, "transform": TRANSFORM, "wavelength": (400.0, 500.0),
                                 "fwhm": None}
    values.update(changes)
    return Reference(**values)  # type: ignore[arg-type]  # the fields are typed, the dict is not


def test_pixels_equal_in_any_byte_order() -> None:
    assert interop.check_pixels(PIXELS.astype(">u2"), ref()) == interop.OK


@pytest.mark.parametrize(("pixels", "cell"), [
    (PIXELS[:, ::-1, :], "wrong: upside down"),
    (PIXELS + 1, "wrong: pixels"),
    (PIXELS[:1], "wrong: shape (1, 3, 4)"),
])
def test_pixels_that_differ_say_how(pixels: np.ndarray, cell: str) -> None:
    assert interop.check_pixels(pixels, ref()) == cell


def test_nan_pixels_are_equal_to_nan() -> None:
    floats = PIXELS.astype("f4")
    floats[0, 0, 0] = np.nan
    assert interop.check_pixels(floats.copy(), ref(pixels=floats)) == interop.OK


@pytest.mark.parametrize(("crs", "transform", "cell"), [
    (UTM, TRANSFORM, interop.OK),
    (UTM.to_wkt(), TRANSFORM, interop.OK),
    (None, TRANSFORM, "wrong: CRS"),
    (rasterio_crs.CRS.from_epsg(4326), TRANSFORM, "wrong: CRS"),
    (UTM, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), "wrong: transform"),
    (UTM, None, "wrong: transform"),
])
def test_georeferencing(crs: object, transform: object, cell: str) -> None:
    assert interop.check_georeferencing(crs, transform, ref()) == cell


@pytest.mark.parametrize(("values", "cell"), [
    ([400.0, 500.0], interop.OK), (["400", "500"], interop.OK), (None, "wrong: no wavelengths"),
    ([400.0, 501.0], "wrong: wavelengths"),
])
def test_wavelengths(values: object, cell: str) -> None:
    assert interop.check_wavelengths(values, ref()) == cell
    assert interop.check_wavelengths(None, ref(wavelength=None)) == interop.OK


def test_a_missing_output_or_a_raising_reader_fails() -> None:
    def boom(d: Dataset, r: Reference, o: interop.Outputs) -> str:
        raise OSError("cannot open")

    d = Dataset(name="x", folder=Path("x"), header="x.hdr", data="x", outcome="ok")
    assert interop.run_probe(boom, "hsi", d, ref(), interop.Outputs()) == interop.FAILS
    assert interop.run_probe(boom, "hsi", d, ref(), interop.Outputs(hsi=Path("x.hsi"))) == interop.FAILS


def test_refused_datasets_have_no_reader_cells() -> None:
    d = Dataset(name="x", folder=Path("x"), header="x.hdr", data=None, outcome="refused")
    assert interop.matrix_row(d, None, interop.Outputs()) == ["`x`", "refused", *["—"] * len(interop.READERS)]
    assert interop.import_cell(d, None, interop.Outputs(hsi=Path("x.hsi"))) == "wrong: not refused"


def test_the_table_bolds_every_gap() -> None:
    table = interop.render_table([["`x`", "ok", "wrong: CRS", *["fails"] * (len(interop.READERS) - 1)]])
    head, rule, row = table.splitlines()
    assert head.count("|") == rule.count("|") == row.count("|") == len(interop.READERS) + 3
    assert "| ok | **wrong: CRS** | **fails** |" in row
