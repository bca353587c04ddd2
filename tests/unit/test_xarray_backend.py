"""The xarray engine ``hsi``, tested the way xarray tests its own backends: through ``open_dataset`` with the
engine's name and with its class, lazy indexing against numpy, dask chunks, pickling, closing, netCDF writing."""

from __future__ import annotations

import gc
import io
import json
import pickle
import subprocess
import sys
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import hsi_conform
from hsi_conform.errors import ContainerError
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.testing.samples import sample_members, write_members
from hsi_conform.testing.scene import SceneSpec, write_scene
from hsi_conform.xarray_backend import HsiBackendArray, HsiBackendEntrypoint, preferred_chunks
from tests._paths import ROOT
from tests._support import write_tree

UTM_WKT = ('PROJCS["WGS 84 / UTM zone 32N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,'
           '298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
           'PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",9],PARAMETER["scale_factor",0.9996],'
           'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1]]')
GEO_WKT = ('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
           'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')
MAP_INFO = ["UTM", "1", "1", "500000", "5000000", "2", "3", "32", "North", "WGS-84", "units=Meters"]
DIMS = {Interleave.BSQ: ("band", "y", "x"), Interleave.BIL: ("y", "band", "x"), Interleave.BIP: ("y", "x", "band")}


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic scene: references, a classification file and one mask per class."""
    return write_scene(tmp_path_factory.mktemp("scene") / "scene.hsi", SceneSpec(lines=20, samples=14, bands=9))


@pytest.fixture
def opened(scene: Path) -> Iterator[Any]:
    with xr.open_dataset(scene, engine="hsi") as ds:
        yield ds


def geo_container(path: Path, **fields: object) -> Path:
    cube = np.arange(4 * 3 * 5, dtype="<f4").reshape(4, 3, 5)
    base: dict[str, object] = {"wavelength": [500.0, 600.0, 700.0, 800.0], "wavelength units": "Nanometers",
                               "fwhm": [10.0] * 4, "map info": MAP_INFO, "coordinate system string": UTM_WKT}
    hsi_conform.write_container(path, cube, interleave="bsq", fields=base | fields)
    return path


# -- registration ------------------------------------------------------------------------------------------------


def test_pyproject_registers_the_engine_and_the_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["xarray.backends"] == {"hsi": "hsi_conform.xarray_backend:HsiBackendEntrypoint"}
    assert any(req.startswith("xarray") for req in project["optional-dependencies"]["xarray"])
    assert isinstance(xr.backends.list_engines()["hsi"], HsiBackendEntrypoint)


def test_the_engine_name_and_the_class_open_the_same_dataset(scene: Path) -> None:
    with xr.open_dataset(scene, engine="hsi") as by_name, \
            xr.open_dataset(scene, engine=HsiBackendEntrypoint) as by_class:
        xr.testing.assert_identical(by_name, by_class)


def test_xarray_picks_the_engine_for_a_hsi_file_by_itself(scene: Path) -> None:
    with xr.open_dataset(scene) as ds:
        assert "cube" in ds


@pytest.mark.parametrize(("name", "expected"), [("a.hsi", True), ("A.HSI", True), ("a.nc", False),
                                                 ("a.hsi.zip", False)])
def test_guess_can_open_by_suffix(name: str, expected: bool) -> None:
    assert HsiBackendEntrypoint().guess_can_open(name) is expected


def test_guess_can_open_folders_with_a_cube_header_only(tmp_path: Path) -> None:
    write_tree(tmp_path / "expanded", sample_members())
    (tmp_path / "other").mkdir()
    backend = HsiBackendEntrypoint()
    assert backend.guess_can_open(tmp_path / "expanded") is True
    assert backend.guess_can_open(str(tmp_path / "expanded")) is True
    assert backend.guess_can_open(tmp_path / "other") is False
    assert backend.guess_can_open(tmp_path / "missing") is False
    assert backend.guess_can_open(io.BytesIO(b"PK")) is False


def test_only_paths_can_be_opened() -> None:
    with pytest.raises(TypeError):
        HsiBackendEntrypoint().open_dataset(io.BytesIO(b"PK\x03\x04"))


def test_without_xarray_the_module_says_what_to_install() -> None:
    probe = ("import sys\nsys.modules['xarray'] = None\n"
             "from hsi_conform.errors import ConverterUnavailableError\n"
             "try:\n    import hsi_conform.xarray_backend\n"
             "except ConverterUnavailableError as exc:\n    print(exc.install_command)\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "pip install 'hsi-conform[xarray]'"


# -- the cube ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("interleave", list(Interleave))
@pytest.mark.parametrize("byte_order", list(ByteOrder))
def test_dims_follow_the_storage_order_and_values_the_memmap(tmp_path: Path, interleave: Interleave,
                                                            byte_order: ByteOrder) -> None:
    spec = SceneSpec(lines=6, samples=5, bands=4, interleave=interleave, byte_order=byte_order,
                     data_type=DataType.INT16, minimal=True)
    path = write_scene(tmp_path / "s.hsi", spec)
    with xr.open_dataset(path, engine="hsi") as ds, hsi_conform.open(path) as c:
        assert ds.cube.dims == DIMS[interleave]
        assert ds.sizes == {"band": 4, "y": 6, "x": 5}
        assert ds.cube.dtype == np.dtype("int16")  # native byte order whatever the file's
        np.testing.assert_array_equal(ds.cube.values, c.cube)
        np.testing.assert_array_equal(ds.cube.transpose("band", "y", "x").values, c.bsq())


def test_load_equals_the_cube_and_the_references(opened: Any, scene: Path) -> None:
    opened.load()
    with hsi_conform.open(scene) as c:
        np.testing.assert_array_equal(opened.cube.values, c.cube)
        np.testing.assert_array_equal(opened.reference_white.values, c.reference("white"))
        np.testing.assert_array_equal(opened.reference_black.values, c.reference("black"))


def _outer(array: np.ndarray[Any, Any], key: tuple[Any, ...]) -> np.ndarray[Any, Any]:
    """Index each axis on its own (xarray's orthogonal indexing), the last axis first so positions stay put."""
    for axis in reversed(range(len(key))):
        k = key[axis]
        array = array[(slice(None),) * axis + (k,)] if not isinstance(k, list) else np.take(array, k, axis=axis)
    return array


ORTHOGONAL = [
    {"y": 3},
    {"y": -1, "x": 0},
    {"y": slice(2, 9), "band": slice(1, None, 2)},
    {"y": slice(None, None, -1)},
    {"x": slice(12, 1, -3), "band": slice(None, None, -2)},
    {"y": slice(5, 5)},
    {"band": [0, 4, 2]},
    {"band": [8, 0], "x": [3, 3, 1], "y": slice(None, None, -4)},
    {"y": [-1, 0, 7], "x": -2, "band": [1, 2]},
]


@pytest.mark.parametrize("index", ORTHOGONAL, ids=str)
def test_lazy_indexing_equals_numpy_on_the_memmap(opened: Any, scene: Path, index: dict[str, Any]) -> None:
    with hsi_conform.open(scene) as c:
        key = tuple(index.get(dim, slice(None)) for dim in opened.cube.dims)
        np.testing.assert_array_equal(opened.cube.isel(index).values, _outer(np.asarray(c.cube), key))
        np.testing.assert_array_equal(opened.cube[key].values, _outer(np.asarray(c.cube), key))


def test_vectorized_indexing_equals_numpy(opened: Any, scene: Path) -> None:
    ys, xs = [0, 7, 19, 7], [13, 0, 5, 5]
    points = opened.cube.isel(y=xr.DataArray(ys, dims="p"), x=xr.DataArray(xs, dims="p"))
    with hsi_conform.open(scene) as c:
        np.testing.assert_array_equal(points.transpose("p", "band").values, c.bip()[ys, xs])


def test_indexing_results_stay_lazy_until_read(opened: Any) -> None:
    part = opened.cube.isel(y=slice(None, None, -1), band=[1, 3])
    assert not isinstance(part.variable._data, np.ndarray)
    assert isinstance(part.values, np.ndarray)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of values each read of a member returns (a spy around the real method)."""
    counted: list[int] = []
    real = HsiBackendArray._raw_indexing_method

    def spy(self: HsiBackendArray, key: tuple[Any, ...]) -> np.ndarray[Any, Any]:
        result = real(self, key)
        counted.append(result.size)
        return result

    monkeypatch.setattr(HsiBackendArray, "_raw_indexing_method", spy)
    return counted


def test_opening_reads_no_array_and_indexing_reads_only_what_it_selects(scene: Path, reads: list[int]) -> None:
    with xr.open_dataset(scene, engine="hsi") as ds:
        repr(ds)
        json.dumps(ds.attrs)
        assert ds.cube.shape == (20, 9, 14) and ds.wavelength.size == 9
        assert reads == []
        assert ds.cube.isel(y=2, band=slice(0, 3), x=slice(4, 6)).values.shape == (3, 2)
        assert reads == [6]


def test_values_come_from_the_file_when_read_not_when_opened(tmp_path: Path) -> None:
    path = write_members(tmp_path / "s.hsi", sample_members())
    with hsi_conform.open(path) as c:
        info = c.info("data.envi")
        assert c.cube.min() > 0
    with xr.open_dataset(path, engine="hsi") as ds:
        with open(path, "r+b") as f:  # the cube's bytes change after the open
            f.seek(info.offset)
            f.write(bytes(info.size))
        assert not ds.cube.values.any()


def test_a_file_changed_while_closed_is_not_read_with_the_old_layout(tmp_path: Path) -> None:
    path = write_members(tmp_path / "s.hsi", sample_members(lines=16))
    ds = xr.open_dataset(path, engine="hsi")
    ds.close()
    write_members(path, sample_members(lines=8))
    with pytest.raises(ContainerError) as caught:
        ds.cube.load()
    assert caught.value.member == "data.envi"


def _bytes_read() -> int:
    with open("/proc/self/io", encoding="ascii") as f:
        return int(next(line for line in f if line.startswith("rchar:")).split()[1])


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux's per-process I/O counters")
def test_opening_reads_the_headers_not_the_cube(tmp_path: Path, scene: Path) -> None:
    big = write_scene(tmp_path / "big.hsi", SceneSpec(lines=256, samples=128, bands=128, minimal=True))
    xr.open_dataset(scene, engine="hsi").close()  # the first open imports what the engine needs
    before = _bytes_read()
    with xr.open_dataset(big, engine="hsi") as ds:
        during = _bytes_read() - before
        assert ds.cube.nbytes == 256 * 128 * 128 * 2
    assert during < ds.cube.nbytes // 64


def test_dask_chunks_are_lazy_and_compute_to_the_cube(scene: Path) -> None:
    pytest.importorskip("dask")
    with xr.open_dataset(scene, engine="hsi", chunks={}) as ds, hsi_conform.open(scene) as c:
        assert ds.cube.chunks is not None and type(ds.cube.data).__module__.startswith("dask")
        assert dict(ds.cube.encoding["preferred_chunks"]) == {"y": 20, "band": 9, "x": 14}
        np.testing.assert_array_equal(ds.cube.compute().values, c.cube)
        np.testing.assert_array_equal(ds.cube.isel(x=slice(None, None, -1)).values, c.cube[:, :, ::-1])


def test_preferred_chunks_are_slabs_of_the_outer_storage_axis() -> None:
    assert preferred_chunks(("y", "band", "x"), (100, 8, 50), 2, target_bytes=8 * 50 * 2 * 10) == {
        "y": 10, "band": 8, "x": 50}
    assert preferred_chunks(("band", "y", "x"), (4, 10, 10), 4, target_bytes=1) == {"band": 1, "y": 10, "x": 10}
    assert preferred_chunks(("y", "x", "band"), (3, 2, 2), 1)["y"] == 3


def test_a_pickled_dataset_reads_the_file_again_without_carrying_its_bytes(tmp_path: Path) -> None:
    path = write_scene(tmp_path / "p.hsi", SceneSpec(lines=64, samples=64, bands=64, minimal=True))
    with xr.open_dataset(path, engine="hsi") as ds:
        data = pickle.dumps(ds)
        assert len(data) < ds.cube.nbytes // 10
        with pickle.loads(data) as again, hsi_conform.open(path) as c:
            np.testing.assert_array_equal(again.cube.values, c.cube)


def _mapped(path: Path) -> bool:
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
        return any(line.rstrip().endswith(str(path)) for line in f)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's list of mappings")
def test_closing_the_dataset_releases_the_file(tmp_path: Path) -> None:
    path = write_scene(tmp_path / "c.hsi", SceneSpec(lines=8, samples=8, bands=8))
    ds = xr.open_dataset(path, engine="hsi")
    ds.load()
    assert _mapped(path)
    ds.close()
    gc.collect()
    assert not _mapped(path)
    assert ds.cube.shape == (8, 8, 8)  # loaded values stay


def test_a_container_too_short_for_its_cube_is_refused_on_open(tmp_path: Path) -> None:
    members = sample_members()
    members["data.envi"] = members["data.envi"][:-2]
    path = write_members(tmp_path / "short.hsi", members)
    with pytest.raises(ContainerError) as caught:
        xr.open_dataset(path, engine="hsi")
    assert caught.value.member == "data.envi"


# -- the other images --------------------------------------------------------------------------------------------


def test_references_and_exploration_images_are_variables_with_their_own_dims(opened: Any, scene: Path) -> None:
    assert list(opened.data_vars) == ["cube", "reference_white", "reference_black", "classification",
                                      "mask_background", "mask_leaf", "mask_panel"]
    assert opened.reference_white.dims == ("reference_white_y", "band", "x")
    assert opened.classification.dims == ("y", "classification_band", "x")
    assert opened.classification.attrs["source_member"] == "Exploration/classification.envi"
    assert opened.classification.attrs["file type"] == "ENVI Classification"
    with hsi_conform.open(scene) as c:
        np.testing.assert_array_equal(opened.mask_leaf.values, c.open_array("Exploration/leaf.envi"))


def test_an_unreadable_reference_is_left_out_with_a_warning(tmp_path: Path) -> None:
    members = sample_members()
    members["Reference/white.envi"] = members["Reference/white.envi"][:3]
    path = write_members(tmp_path / "w.hsi", members)
    with pytest.warns(RuntimeWarning, match="Reference/white.envi"):
        ds = xr.open_dataset(path, engine="hsi")
    with ds:
        assert "reference_white" not in ds and "reference_black" in ds


def test_exploration_images_without_a_role_and_a_name_taken_twice(tmp_path: Path) -> None:
    members = sample_members()
    plane = np.zeros((16, 1, 12), "<u1")
    header = members["Reference/white.hdr"].replace(b"bands = 10", b"bands = 1").replace(b"data type = 12",
                                                                                           b"data type = 1")
    header = b"\n".join(line for line in header.split(b"\n") if not line.startswith(b"wavelength"))
    header = header.replace(b"lines = 1", b"lines = 16")
    for stem in ("pca/first", "pca_first"):
        members[f"Exploration/{stem}.hdr"] = header
        members[f"Exploration/{stem}.envi"] = plane.tobytes()
    path = write_members(tmp_path / "e.hsi", members)
    with pytest.warns(RuntimeWarning, match="Exploration/pca_first.envi"):
        ds = xr.open_dataset(path, engine="hsi")
    with ds:
        assert ds.exploration_pca_first.attrs["source_member"] == "Exploration/pca/first.envi"
        assert ds.exploration_pca_first.dims == ("y", "exploration_pca_first_band", "x")


def test_dropped_variables_are_not_opened(scene: Path) -> None:
    with xr.open_dataset(scene, engine="hsi", drop_variables=["reference_white", "fwhm", "mask_leaf"]) as ds:
        assert not {"reference_white", "fwhm", "mask_leaf"} & set(ds.variables)
        assert {"cube", "reference_black", "wavelength"} <= set(ds.variables)
    with xr.open_dataset(scene, engine="hsi", drop_variables="cube") as ds:
        assert "cube" not in ds and "reference_white" in ds


def test_an_expanded_folder_opens_like_its_archive(tmp_path: Path) -> None:
    members = sample_members()
    archive = write_members(tmp_path / "s.hsi", members)
    folder = write_tree(tmp_path / "s", members)
    with xr.open_dataset(archive, engine="hsi") as a, xr.open_dataset(folder, engine="hsi") as b:
        xr.testing.assert_identical(a.load(), b.load())


# -- coordinates and attributes --------------------------------------------------------------------------------


def test_per_band_fields_are_band_coordinates_with_units(opened: Any, scene: Path) -> None:
    with hsi_conform.open(scene) as c:
        waves, fwhm = c.header.value("wavelength"), c.header.value("fwhm")
    np.testing.assert_array_equal(opened.wavelength.values, waves)
    np.testing.assert_array_equal(opened.fwhm.values, fwhm)
    assert opened.wavelength.dims == ("band",) and opened.wavelength.attrs["units"] == "nm"
    assert opened.fwhm.attrs["units"] == "nm"
    assert "wavelength" not in opened.attrs and "fwhm" not in opened.attrs
    assert opened.attrs["wavelength units"] == "nm"


def test_band_names_and_a_wrong_count(tmp_path: Path) -> None:
    cube = np.zeros((3, 2, 2), "<u2")
    hsi_conform.write_container(tmp_path / "b.hsi", cube, interleave="bsq", fields={
        "wavelength": [1.0, 2.0, 3.0], "wavelength units": "Micrometers", "band names": ["r", "g", "b"],
        "bbl": [1, 0, 1], "fwhm": [0.1, 0.2]})
    with xr.open_dataset(tmp_path / "b.hsi", engine="hsi") as ds:
        assert list(ds.band_names.values) == ["r", "g", "b"] and list(ds.bbl.values) == [1.0, 0.0, 1.0]
        assert ds.wavelength.attrs["units"] == "um"
        assert "fwhm" not in ds.coords and ds.attrs["fwhm"] == [0.1, 0.2]  # not one per band: an attribute


def test_map_info_gives_pixel_centres_and_a_grid_mapping(tmp_path: Path) -> None:
    with xr.open_dataset(geo_container(tmp_path / "g.hsi"), engine="hsi") as ds:
        np.testing.assert_array_equal(ds.x.values, 500000 + 2 * (np.arange(5) + 0.5))
        np.testing.assert_array_equal(ds.y.values, 5000000 - 3 * (np.arange(3) + 0.5))
        assert ds.x.attrs["units"] == ds.y.attrs["units"] == "m"
        assert ds.x.attrs["standard_name"] == "projection_x_coordinate"
        assert ds.cube.attrs["grid_mapping"] == "spatial_ref"
        assert ds.spatial_ref.attrs["crs_wkt"] == ds.spatial_ref.attrs["spatial_ref"] == UTM_WKT
        assert [float(v) for v in ds.spatial_ref.attrs["GeoTransform"].split()] == [500000, 2, 0, 5000000, 0, -3]
        assert ds.attrs["map info"] == MAP_INFO
        np.testing.assert_array_equal(ds.cube.sel(x=500003.0, y=4999995.5).values, [6.0, 21.0, 36.0, 51.0])


def test_gdal_puts_the_pixels_where_the_coordinates_say(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    path = geo_container(tmp_path / "g.hsi")
    with xr.open_dataset(path, engine="hsi") as ds, rasterio.open(f"/vsizip/{{{path}}}/data.envi") as src:
        for row, col in ((0, 0), (2, 4), (1, 3)):
            assert src.xy(row, col) == pytest.approx((float(ds.x[col]), float(ds.y[row])))


def test_geographic_coordinates_are_longitude_and_latitude(tmp_path: Path) -> None:
    geographic = ["Geographic Lat/Lon", "1", "1", "9.5", "47.25", "0.001", "0.001", "WGS-84", "units=Degrees"]
    path = geo_container(tmp_path / "g.hsi", **{"map info": geographic, "coordinate system string": GEO_WKT})
    with xr.open_dataset(path, engine="hsi") as ds:
        assert ds.x.attrs["standard_name"] == "longitude" and ds.y.attrs["units"] == "degrees_north"
        assert ds.spatial_ref.attrs["grid_mapping_name"] == "latitude_longitude"


def test_a_rotated_grid_has_gdals_transform_and_no_coordinates(tmp_path: Path) -> None:
    rotated = [*MAP_INFO[:7], "rotation=15"]
    with xr.open_dataset(geo_container(tmp_path / "g.hsi", **{"map info": rotated}), engine="hsi") as ds:
        assert "x" not in ds.coords and "y" not in ds.coords
        gt = [float(v) for v in ds.spatial_ref.attrs["GeoTransform"].split()]
        turn = np.radians(-15)
        assert gt == pytest.approx([500000, 2 * np.cos(turn), -2 * np.sin(turn), 5000000, -3 * np.sin(turn),
                                    -3 * np.cos(turn)])
        assert ds.spatial_ref.attrs["crs_wkt"] == UTM_WKT and ds.attrs["map info"] == rotated


def test_an_unreadable_map_info_gives_no_coordinates(tmp_path: Path) -> None:
    unreadable = ["UTM", "1", "1", "a", "b", "1", "1"]
    with xr.open_dataset(geo_container(tmp_path / "g.hsi", **{"map info": unreadable}), engine="hsi") as ds:
        assert "x" not in ds.coords and "y" not in ds.coords
        assert "GeoTransform" not in ds.spatial_ref.attrs and ds.spatial_ref.attrs["crs_wkt"] == UTM_WKT
        assert ds.attrs["map info"] == unreadable


def test_no_georeferencing_no_grid_mapping(opened: Any) -> None:
    assert "spatial_ref" not in opened.variables and "grid_mapping" not in opened.cube.attrs


def test_header_fields_are_typed_attributes(opened: Any, scene: Path) -> None:
    attrs = opened.attrs
    assert attrs["lines"] == 20 and attrs["data type"] == 12 and attrs["interleave"] == "bil"
    assert attrs["temperature"] == 21.5 and attrs["class names"] == ["background", "leaf", "panel"]
    assert type(attrs["data type"]) is int and type(attrs["interleave"]) is str
    with hsi_conform.open(scene) as c:
        assert attrs["default bands"] == list(c.header.value("default bands"))
    assert json.loads(json.dumps(attrs)) == attrs


def test_an_unparsable_field_stays_verbatim(tmp_path: Path) -> None:
    members = sample_members()
    members["data.hdr"] = members["data.hdr"].replace(b"wavelength units", b"temperature = warm\nwavelength units")
    with xr.open_dataset(write_members(tmp_path / "t.hsi", members), engine="hsi") as ds:
        assert ds.attrs["temperature"] == "warm"


def test_data_ignore_value_is_the_fill_value_and_masks_on_request(tmp_path: Path) -> None:
    path = geo_container(tmp_path / "g.hsi", **{"data ignore value": 13})
    with xr.open_dataset(path, engine="hsi") as raw:
        assert raw.cube.attrs["_FillValue"] == 13.0 and float(raw.cube[0, 2, 3]) == 13.0
    with xr.open_dataset(path, engine="hsi", mask_and_scale=True) as masked:
        assert np.isnan(masked.cube[0, 2, 3]) and int(masked.cube.isnull().sum()) == 1
        assert masked.cube.encoding["_FillValue"] == 13.0


@pytest.mark.parametrize(("value", "expected"), [(-1, None), (70000, None), (0.5, None), (65535, 65535)])
def test_a_fill_value_the_dtype_cannot_hold_is_not_set(tmp_path: Path, value: float, expected: int | None) -> None:
    cube = np.zeros((2, 2, 2), "<u2")
    hsi_conform.write_container(tmp_path / "u.hsi", cube, interleave="bsq", fields={
        "wavelength": [1.0, 2.0], "data ignore value": value})
    with xr.open_dataset(tmp_path / "u.hsi", engine="hsi") as ds:
        assert ds.cube.attrs.get("_FillValue") == expected


def test_the_dataset_writes_to_netcdf_and_reads_back(tmp_path: Path) -> None:
    pytest.importorskip("h5netcdf")
    path = geo_container(tmp_path / "g.hsi", **{"data ignore value": -9999, "band names": ["a", "b", "c", "d"],
                                                 "description": "a, b = c\nµm"})
    with xr.open_dataset(path, engine="hsi") as ds:
        ds.to_netcdf(tmp_path / "g.nc", engine="h5netcdf")
        with xr.open_dataset(tmp_path / "g.nc", engine="h5netcdf", mask_and_scale=False) as back:
            xr.testing.assert_equal(back.cube, ds.cube)
            assert back.attrs["description"] == "a, b = c\nµm"
            assert list(back.attrs["map info"]) == MAP_INFO
            assert back.spatial_ref.attrs["crs_wkt"] == UTM_WKT and list(back.band_names.values) == list("abcd")
            for variable in ds.variables.values():
                json.dumps(variable.attrs)


def test_the_scene_writes_to_netcdf(opened: Any, tmp_path: Path) -> None:
    pytest.importorskip("h5netcdf")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opened.to_netcdf(tmp_path / "scene.nc", engine="h5netcdf")
    with xr.open_dataset(tmp_path / "scene.nc", engine="h5netcdf") as back:
        assert set(back.data_vars) == set(opened.data_vars)
