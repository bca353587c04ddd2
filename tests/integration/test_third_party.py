"""The third-party test set (fixtures/third-party/): real ENVI files of other tools through every converter.

Every dataset goes through ``hsi-conform convert`` to ``.hsi`` and, when imported, from the ``.hsi`` to HDF5, TIFF
and ENVI and back; pixels are compared with GDAL's read of the source (rasterio), fields with the source header,
and every reader of docs/interop.md opens the output it is used with. ``expected.toml`` states what a correct tool
does (issue 12); where today's code falls short, the case is ``xfail(strict=True)`` naming the issue item, so it
turns red when the gap closes and the mark (and docs/interop.md) must follow.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import os
from pathlib import Path

import pytest

from hsi_conform.cli.main import main
from hsi_conform.container.opening import open_container
from hsi_conform.corpus import interop
from hsi_conform.corpus.thirdparty import (
    EXPECTED,
    SOURCES,
    Dataset,
    Reference,
    field_value,
    load_datasets,
    read_sources,
    reference,
)
from hsi_conform.finding import Severity
from hsi_conform.members import CUBE_HEADER
from hsi_conform.validate import check
from tests._paths import FIXTURES, ROOT

THIRD_PARTY = FIXTURES / "third-party"
INTEROP = ROOT / "docs" / "interop.md"
DATASETS = load_datasets(THIRD_PARTY)
IMPORTED = [d for d in DATASETS if d.imports]
EXPORTS = {"hdf5": ".h5", "tiff": ".tif", "envi": "-envi.img"}

HDF5_READERS = ("GDAL (HDF5)", "rioxarray (HDF5)", "xarray (HDF5)", "netCDF4 (HDF5)")
TIFF_READERS = ("GDAL (TIFF)", "rioxarray (TIFF)")
_READ_AFTER_IMPORT = ("findings", "pixels", *(f"export-{f}" for f in EXPORTS), *interop.READERS)

#: Today's gaps: (check, dataset) -> what is missing, with the issue 12 items that close it. A check is a test's
#: short name (``exit``, ``findings``, ``pixels``, ``fields``, ``sidecars``, ``export-<fmt>``, ``visible-<fmt>``)
#: or a reader column of docs/interop.md.
GAPS: dict[tuple[str, str], str] = {}


def _gap(check_name: str, name: str, why: str) -> None:
    GAPS[check_name, name] = f"{GAPS[check_name, name]}; {why}" if (check_name, name) in GAPS else why


for _check in HDF5_READERS[1:]:
    _gap(_check, "gdal-cfloat32", "reader default: netCDF4 (xarray's default engine) reads HDF5 complex numbers "
                                  "(compound r, i) as structured arrays unless auto_complex=True; h5netcdf reads "
                                  "them as complex (spec/hdf5-mapping.md#complex)")


def marks(check_name: str, name: str) -> list[pytest.MarkDecorator]:
    """xfail(strict) where :data:`GAPS` lists today's gap for this check and dataset."""
    gap = GAPS.get((check_name, name))
    return [pytest.mark.xfail(strict=True, reason=gap)] if gap else []


def cases(check_name: str, datasets: list[Dataset]) -> list[object]:
    """One parameter per dataset, marked by :func:`marks`."""
    return [pytest.param(d, id=d.name, marks=marks(check_name, d.name)) for d in datasets]


def run(*argv: str | os.PathLike[str]) -> int:
    """Run ``hsi-conform`` in-process, quietly; return its exit code."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            return main([os.fspath(a) for a in argv])
        except SystemExit as exc:  # argparse's usage errors
            return exc.code if isinstance(exc.code, int) else 1


class Converted:
    """Every conversion of the module, run once through the command line and kept in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.codes: dict[tuple[str, str], int] = {}

    def convert(self, source: Path, dest: Path, *flags: str) -> int:
        key = (str(source), str(dest))
        if key not in self.codes:
            self.codes[key] = run("convert", source, dest, *flags)
        return self.codes[key]

    def hsi(self, d: Dataset) -> tuple[int, Path]:
        dest = self.folder / f"{d.name}.hsi"
        return self.convert(d.header_path, dest), dest

    def export(self, d: Dataset, fmt: str) -> tuple[int, Path]:
        code, hsi = self.hsi(d)
        assert hsi.exists(), f"no .hsi (exit {code})"
        dest = self.folder / f"{d.name}{EXPORTS[fmt]}"
        # Most of GDAL's test files have no wavelengths: their containers do not conform, and convert refuses a
        # nonconformant source unless told otherwise.
        return self.convert(hsi, dest, "--allow-nonconformant"), dest

    def outputs(self, d: Dataset) -> interop.Outputs:
        _, hsi = self.hsi(d)
        if not hsi.exists():
            return interop.Outputs()
        paths = {fmt: self.export(d, fmt)[1] for fmt in EXPORTS}
        return interop.Outputs(hsi=hsi, **{f: p if p.exists() else None for f, p in paths.items()})


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Converted:
    return Converted(tmp_path_factory.mktemp("third-party"))


@functools.cache
def _reference(d: Dataset) -> Reference:
    return reference(d)


_CELLS: dict[str, list[str]] = {}


def _cells(converted: Converted, d: Dataset) -> list[str]:
    """The dataset's row of docs/interop.md, computed once from this module's conversions."""
    if d.name not in _CELLS:
        ref = _reference(d) if d.imports and d.data else None
        _CELLS[d.name] = interop.matrix_row(d, ref, converted.outputs(d))
    return _CELLS[d.name]


def _fields(header: bytes, d: Dataset) -> dict[str, object]:
    return {key: field_value(header, key) for key in d.fields}


# -- the set itself ----------------------------------------------------------------------------------------------------

def test_every_file_is_recorded_in_sources() -> None:
    records = {r.path: r for r in read_sources(THIRD_PARTY)}
    files = {p.relative_to(THIRD_PARTY).as_posix() for p in THIRD_PARTY.rglob("*") if p.is_file()}
    assert files - {"README.md", "LICENSES", SOURCES, EXPECTED} == set(records)
    for path, record in records.items():
        assert hashlib.sha256((THIRD_PARTY / path).read_bytes()).hexdigest() == record.sha256, path
        assert record.licence == "MIT" and len(record.commit) == 40 and record.repository.startswith("https://")


def test_every_dataset_folder_has_expectations() -> None:
    folders = {p.name for p in THIRD_PARTY.iterdir() if p.is_dir()}
    assert folders == {d.name for d in DATASETS}
    for d in DATASETS:
        named = [d.header, *([d.data] if d.data else []), *d.decoys, *d.sidecars]
        assert all((d.folder / name).is_file() for name in named), d.name
        assert not d.imports or (d.data is not None and d.fields), d.name


# -- import ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("d", cases("exit", DATASETS))
def test_import_exit_code(d: Dataset, converted: Converted) -> None:
    code, hsi = converted.hsi(d)
    assert code == d.exit_code
    assert hsi.exists() == d.imports


@pytest.mark.parametrize("d", cases("findings", IMPORTED))
def test_import_findings(d: Dataset, converted: Converted) -> None:
    _, hsi = converted.hsi(d)
    report = check(hsi)
    assert sorted({f.rule for f in report.findings if f.severity >= Severity.ERROR}) == sorted(d.errors)
    assert not {f.rule for f in report.findings} & set(d.absent)


@pytest.mark.parametrize("d", cases("pixels", IMPORTED))
def test_import_pixels_equal_gdal(d: Dataset, converted: Converted) -> None:
    assert interop.import_cell(d, _reference(d), converted.outputs(d)) == interop.OK


@pytest.mark.parametrize("d", cases("fields", IMPORTED))
def test_import_keeps_fields(d: Dataset, converted: Converted) -> None:
    _, hsi = converted.hsi(d)
    with open_container(hsi) as container:
        header = container.read_bytes(CUBE_HEADER)
    assert _fields(header, d) == _fields(d.header_path.read_bytes(), d)


@pytest.mark.parametrize("d", cases("sidecars", [d for d in IMPORTED if d.sidecars]))
def test_import_keeps_sidecars(d: Dataset, converted: Converted) -> None:
    _, hsi = converted.hsi(d)
    with open_container(hsi) as container:
        for name in d.sidecars:
            assert f"Metadata/{name}" in container
            assert container.read_bytes(f"Metadata/{name}") == (d.folder / name).read_bytes()


# -- export and back ---------------------------------------------------------------------------------------------------

EXPORT_CASES = [pytest.param(d, fmt, id=f"{d.name}-{fmt}", marks=marks(f"export-{fmt}", d.name))
                for fmt in EXPORTS for d in IMPORTED]


_GDAL_PIXELS = {"hdf5": interop.gdal_hdf5, "tiff": interop.gdal_tiff}


@pytest.mark.parametrize(("d", "fmt"), EXPORT_CASES)
def test_export_pixels_and_fields(d: Dataset, fmt: str, converted: Converted, tmp_path: Path) -> None:
    code, out = converted.export(d, fmt)
    assert code == 0
    pixels_only = dataclasses.replace(d, georeferenced=False, wavelengths=False)
    if fmt == "envi":
        with pytest.importorskip("rasterio").open(out, driver="ENVI") as src:
            assert interop.check_pixels(src.read(), _reference(d)) == interop.OK
    else:
        outputs = interop.Outputs(**{fmt: out})
        assert _GDAL_PIXELS[fmt](pixels_only, _reference(d), outputs) == interop.OK
    # The source's errors come back with it (exit 1); an HDF5 or TIFF source is judged by its reader.
    assert run("convert", out, tmp_path / "back.hsi", "--allow-nonconformant") in (0, 1)
    with open_container(tmp_path / "back.hsi") as container:
        assert _fields(container.read_bytes(CUBE_HEADER), d) == _fields(d.header_path.read_bytes(), d)


def _tiff_items(path: Path) -> set[str]:
    rasterio = pytest.importorskip("rasterio")
    with rasterio.open(path) as src:
        domains = [None, *src.tag_namespaces()]
        return {k for ns in domains for k in src.tags(ns=ns)} | {k for k in src.tags(1)}


def _hdf5_items(path: Path, d: Dataset) -> set[str]:
    ref = _reference(d)
    for variable in interop.find_cube(path, ref.shape):
        return set(variable.attrs)
    return set()


def _normal(key: str) -> str:
    return " ".join(key.lower().replace("_", " ").split())


@pytest.mark.parametrize(("d", "fmt"), [
    pytest.param(d, fmt, id=f"{d.name}-{fmt}", marks=marks(f"visible-{fmt}", d.name))
    for fmt in ("tiff", "hdf5") for d in IMPORTED if d.visible])
def test_export_shows_fields_as_metadata(d: Dataset, fmt: str, converted: Converted) -> None:
    _, out = converted.export(d, fmt)
    items = _tiff_items(out) if fmt == "tiff" else _hdf5_items(out, d)
    assert {_normal(k) for k in d.visible} <= {_normal(k) for k in items}


# -- readers (docs/interop.md) -----------------------------------------------------------------------------------------

READER_CASES = [pytest.param(d, column, id=f"{d.name}-{column}", marks=marks(column, d.name))
                for column in interop.READERS for d in IMPORTED]


@pytest.mark.parametrize(("d", "column"), READER_CASES)
def test_reader_sees_the_source(d: Dataset, column: str, converted: Converted) -> None:
    pytest.importorskip("rioxarray")
    pytest.importorskip("netCDF4")
    cells = _cells(converted, d)
    assert cells[2 + list(interop.READERS).index(column)] == interop.OK


def test_interop_matrix_is_current(converted: Converted) -> None:
    pytest.importorskip("rioxarray")
    pytest.importorskip("netCDF4")
    table = interop.render_table([_cells(converted, d) for d in DATASETS])
    assert table in INTEROP.read_text(encoding="utf-8"), "run: python scripts/interop_matrix.py"
