from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hsi_conform
from hsi_conform.converters import convert, detect, get_converter
from hsi_conform.converters.hdf5 import chunk_shape
from hsi_conform.errors import ConfigError, ContainerError, ConverterUnavailableError
from hsi_conform.finding import Severity
from hsi_conform.members import SOURCE_REPORT
from hsi_conform.testing.samples import sample_members, write_members, write_sample_container
from tests._paths import FIXTURES
from tests._support import member_digests

h5py = pytest.importorskip("h5py")
GOLDEN = FIXTURES / "convert" / "hdf5-sample" / "expected" / "layout.json"
DTYPES = ["u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8", "c8", "c16"]


def roundtrip(src: Path, tmp_path: Path, **options: Any) -> Path:
    mid = convert(src, tmp_path / "x.h5", **options)
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    return convert(mid, tmp_path / "back.hsi", from_format="hdf5")


def cube(dtype: str, interleave: str, order: str) -> np.ndarray[Any, Any]:
    """Return random bytes as a small cube; floats start with -0.0 and a NaN with a payload."""
    shape = {"bsq": (4, 5, 3), "bil": (5, 4, 3), "bip": (5, 3, 4)}[interleave]
    dt = np.dtype(dtype).newbyteorder(order)
    raw = np.random.default_rng(7).integers(0, 256, size=60 * dt.itemsize, dtype=np.uint8)
    data = raw.view(dt)
    if dt.kind == "f":
        data[0] = -0.0
        data[1:2].view(f"{order}u{dt.itemsize}")[0] = (0x7FC00123 if dt.itemsize == 4 else 0x7FF8000000000123)
    return data.reshape(shape)


@pytest.mark.parametrize("options", [{}, {"compression": "gzip"}, {"chunks": None}, {"chunks": (2, 4, 4)},
                                     {"checksum": False}])
def test_sample_roundtrip_is_byte_identical(tmp_path: Path, options: dict[str, Any]) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    back = roundtrip(src, tmp_path, **options)
    assert member_digests(back) == member_digests(src)
    with hsi_conform.open(back) as a, hsi_conform.open(src) as b:
        assert a.names == b.names
    report = hsi_conform.check(back)
    assert not [f for f in report.findings if f.severity >= Severity.ERROR]


@pytest.mark.parametrize("compression", ["zstd", "blosc"])
def test_plugin_compression_roundtrip(tmp_path: Path, compression: str) -> None:
    pytest.importorskip("hdf5plugin")
    src = write_sample_container(tmp_path / "s.hsi")
    assert member_digests(roundtrip(src, tmp_path, compression=compression)) == member_digests(src)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
@pytest.mark.parametrize("order", ["<", ">"])
def test_every_type_interleave_and_byte_order(tmp_path: Path, dtype: str, interleave: str, order: str) -> None:
    data = cube(dtype, interleave, order)
    src = hsi_conform.write_container(tmp_path / "s.hsi", data, interleave=interleave,
                                      fields={"wavelength units": "nm", "wavelength": [400.0, 500.5, 600.0, 700.25]})
    back = roundtrip(src, tmp_path, compression="gzip")
    assert member_digests(back) == member_digests(src)
    with h5py.File(tmp_path / "x.h5") as f:
        stored = f["envi/data/cube"]
        assert stored.shape == (4, 5, 3)
        assert stored.dtype.byteorder in ("|", order, "=" if order == "<" else "")
        assert stored.attrs["envi_interleave"] == interleave


def test_embedded_header_and_trailing_bytes(tmp_path: Path) -> None:
    members = sample_members()
    text = members["data.hdr"].decode().replace("header offset = 0", "header offset = 7")
    members["data.hdr"] = text.encode()
    members["data.envi"] = b"PREFIX!" + members["data.envi"] + b"tail bytes"
    src = write_members(tmp_path / "s.hsi", members)  # trailing bytes: nonconformant, converted on request
    back = member_digests(roundtrip(src, tmp_path, allow_nonconformant=True))
    assert back.pop(SOURCE_REPORT) and back == member_digests(src)
    with h5py.File(tmp_path / "x.h5") as f:
        assert bytes(f["envi/data/raw/embedded_header_bytes"][()]) == b"PREFIX!"
        assert bytes(f["envi/data/raw/trailing_bytes"][()]) == b"tail bytes"


def test_layout_matches_golden(tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    convert(src, tmp_path / "x.h5")
    layout: dict[str, Any] = {}
    with h5py.File(tmp_path / "x.h5") as f:
        def visit(name: str, obj: Any) -> None:
            entry: dict[str, Any] = {"attrs": sorted(obj.attrs)}
            if isinstance(obj, h5py.Dataset):
                entry.update(shape=list(obj.shape), dtype=obj.dtype.str, chunks=obj.chunks and list(obj.chunks))
            layout[name] = entry
        f.visititems(visit)
        layout["/"] = {"attrs": sorted(f.attrs), "order": list(f.attrs["source_member_order"])}
    if os.environ.get("HSI_REGEN_GOLDENS"):
        GOLDEN.write_text(json.dumps(layout, indent=1, sort_keys=True) + "\n")
    assert layout == json.loads(GOLDEN.read_text())


def test_header_text_is_verbatim(tmp_path: Path) -> None:
    members = sample_members()
    members["data.hdr"] = members["data.hdr"].replace(b"\n", b"\r\n") + "; °C µm\r\n".encode()
    src = write_members(tmp_path / "s.hsi", members)
    convert(src, tmp_path / "x.h5")
    with h5py.File(tmp_path / "x.h5") as f:
        assert f["envi/data/header"][()] == members["data.hdr"]
        assert f["files/Metadata/sample-camera.txt"][()].tobytes() == members["Metadata/sample-camera.txt"]
    assert member_digests(convert(tmp_path / "x.h5", tmp_path / "b.hsi")) == member_digests(src)


def test_gdal_opens_every_band(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    src = write_sample_container(tmp_path / "s.hsi")
    convert(src, tmp_path / "x.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(f'HDF5:"{tmp_path / "x.h5"}"://envi/data/cube') as ds, hsi_conform.open(src) as c:
            assert ds.count == c.header.value("bands")
            np.testing.assert_array_equal(ds.read(), c.bsq())


def test_xarray_sees_wavelength_coordinate(tmp_path: Path) -> None:
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    src = write_sample_container(tmp_path / "s.hsi")
    convert(src, tmp_path / "x.h5")
    with xr.open_dataset(tmp_path / "x.h5", group="envi/data", engine="h5netcdf", phony_dims="sort") as ds, \
            hsi_conform.open(src) as c:
        assert ds["cube"].dims == ("wavelength", "y", "x")
        np.testing.assert_array_equal(ds["wavelength"].values, c.header.value("wavelength"))
        assert ds["wavelength"].attrs["units"] == "nm"
        assert "fwhm" in ds["cube"].coords
        np.testing.assert_array_equal(ds["cube"].values, c.bsq())


def test_detect_and_checksum_mismatch(tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    h5 = convert(src, tmp_path / "x.h5")
    assert detect(h5).name == "hdf5"
    with h5py.File(h5, "r+") as f:
        f["files/Metadata/sample-camera.txt"][0] ^= 1
    with pytest.raises(ContainerError):
        get_converter("hdf5").read(h5)


def test_options_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    for bad in ({"compression": "lzma"}, {"chunks": "big"}, {"colour": 1}, {"compression": "gzip", "chunks": None}):
        with pytest.raises(ConfigError):
            convert(src, tmp_path / "x.h5", **bad)
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "hdf5plugin" else real(n, *a))
    with pytest.raises(ConverterUnavailableError) as info:
        convert(src, tmp_path / "x.h5", compression="zstd")
    assert info.value.requires == ("hdf5plugin",)
    assert not (tmp_path / "x.h5").exists()


@pytest.mark.parametrize("shape", [(512, 1024, 1024), (204, 512, 512), (64, 2048, 640), (300, 100, 4000)])
def test_chunk_shape_balances_band_and_spectrum_reads(shape: tuple[int, int, int]) -> None:
    cb, cl, cs = chunk_shape(shape, 2)
    bands, lines, samples = shape
    assert cb * cl * cs * 2 <= 1 << 20
    assert cs == samples  # whole lines: the writer streams contiguous line slabs
    band_read, spectrum_read = -(-lines // cl), -(-bands // cb)
    assert max(band_read, spectrum_read) <= 1.5 * min(band_read, spectrum_read) + 1


def test_chunk_shape_examples() -> None:
    assert chunk_shape((512, 1024, 1024), 2) == (16, 32, 1024)
    assert chunk_shape((10, 16, 12), 2) == (10, 16, 12)
    assert chunk_shape((4, 8, 400_000), 2) == (1, 1, 400_000)  # one line of one band still fits 1 MiB
    cb, cl, cs = chunk_shape((4, 8, 1_000_000), 2)  # it does not: square tiles
    assert cs < 1_000_000 and cb * cl * cs * 2 <= 1 << 20


MEMORY_SCRIPT = r"""
import sys, threading, time
from pathlib import Path
import numpy as np
from hsi_conform.converters import get_converter
from hsi_conform.converters.base import HsiDataset
from hsi_conform.container.write import cube_header_fields
from hsi_conform.header import build_header_text, parse_header

def anon():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0

tmp = Path(sys.argv[1]); fmt = sys.argv[2]
lines, bands, samples = 1024, 128, 1024          # 256 MiB of uint16, BIL, a sparse file
raw = tmp / "cube.raw"
with open(raw, "wb") as f:
    f.truncate(lines * bands * samples * 2)
cube = np.memmap(raw, dtype="<u2", mode="r", shape=(lines, bands, samples))
fields = cube_header_fields(cube, "bil", {"wavelength units": "nm", "wavelength": list(range(400, 400 + bands))})
dataset = HsiDataset(header=parse_header(build_header_text(fields)), cube=cube)
base = anon(); peak = [base]; done = []
def sample():
    while not done:
        peak[0] = max(peak[0], anon()); time.sleep(0.002)
t = threading.Thread(target=sample); t.start()
get_converter(fmt).write(dataset, tmp / ("out." + fmt), dict(o.split("=", 1) for o in sys.argv[3:]))
done.append(1); t.join()
print(peak[0] - base)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("options", [[], ["chunks=none"]], ids=["chunked", "contiguous"])
def test_anonymous_memory_is_bounded(tmp_path: Path, options: list[str]) -> None:
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path), "hdf5", *options],
                         capture_output=True, text=True, check=True)
    assert int(out.stdout.strip()) <= 128 << 20
    with h5py.File(tmp_path / "out.hdf5") as f:
        assert f["envi/data/cube"].shape == (128, 1024, 1024)


# -- CF-1.10 views: every reader opens every file, georeferenced as GDAL reads the source ----------------------------

GEO_FIELDS = {"wavelength units": "Nanometers", "wavelength": [400.0, 500.5, 600.0, 700.25],
              "fwhm": [10.0, 10.0, 12.0, 12.0], "data ignore value": 7, "reflectance scale factor": 10000,
              "default bands": [3, 2, 1], "acquisition time": "2024-05-01T10:00:00Z",
              "map info": ["UTM", "1", "1", "440720", "3751320", "60", "30", "11", "North", "WGS-84",
                           "units=Meters"]}


def geo_h5(tmp_path: Path, **fields: Any) -> tuple[Path, Path]:
    data = np.arange(4 * 5 * 3, dtype=">u2").reshape(5, 4, 3)  # bil, big-endian
    src = hsi_conform.write_container(tmp_path / "g.hsi", data, interleave="bil", fields=GEO_FIELDS | fields)
    return src, convert(src, tmp_path / "g.h5")


def test_there_is_no_root_link_and_every_engine_opens_the_file(tmp_path: Path) -> None:
    xr = pytest.importorskip("xarray")
    pytest.importorskip("netCDF4")
    pytest.importorskip("h5netcdf")
    src, h5 = geo_h5(tmp_path)
    with h5py.File(h5) as f:
        # no /hsi_cube link; /files holds the thumbnail write_container rendered
        assert list(f) == ["envi", "files"] and f.attrs["Conventions"] == "CF-1.10"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # h5netcdf: the member datasets have no dimension scales (phony dims)
        for engine in ("netcdf4", "h5netcdf"):
            with xr.open_dataset(h5, engine=engine) as root:
                assert root.attrs["Conventions"] == "CF-1.10"
            with xr.open_datatree(h5, engine=engine) as tree, hsi_conform.open(src) as c:
                cube = tree["envi/data"]["cube"]
                assert cube.dims == ("wavelength", "y", "x")
                np.testing.assert_array_equal(cube.values, np.where(c.bsq() == 7, np.nan, c.bsq()))
    assert member_digests(convert(h5, tmp_path / "back.hsi")) == member_digests(src)


def test_cf_attributes_carry_units_fill_value_and_fields(tmp_path: Path) -> None:
    _, h5 = geo_h5(tmp_path)
    with h5py.File(h5) as f:
        group = f["envi/data"]
        cube = group["cube"]
        fill = cube.attrs["_FillValue"]
        assert fill == 7 and fill.dtype == cube.dtype.newbyteorder("=")  # the cube's type (h5py reads it native)
        assert cube.attrs["grid_mapping"] == "spatial_ref"
        assert cube.attrs["coordinates"].split() == ["fwhm", "spatial_ref"]
        assert cube.attrs["reflectance_scale_factor"] == 10000
        assert list(cube.attrs["default_bands"]) == [3, 2, 1]
        assert cube.attrs["acquisition_time"] == "2024-05-01T10:00:00Z"
        assert "data_ignore_value" not in cube.attrs
        assert group["wavelength"].attrs["units"] == group["fwhm"].attrs["units"] == "nm"
        assert group["x"].attrs["units"] == "m" and group["y"].attrs["standard_name"] == "projection_y_coordinate"
        np.testing.assert_array_equal(group["x"][()], 440720 + 60 * (np.arange(3) + 0.5))
        np.testing.assert_array_equal(group["y"][()], 3751320 - 30 * (np.arange(5) + 0.5))
        mapping = group["spatial_ref"].attrs
        assert mapping["grid_mapping_name"] == "transverse_mercator"
        assert mapping["longitude_of_central_meridian"] == -117 and mapping["false_easting"] == 500000
        assert mapping["crs_wkt"] == mapping["spatial_ref"] and 'AUTHORITY["EPSG","32611"]' in mapping["crs_wkt"]
        assert [float(v) for v in mapping["GeoTransform"].split()] == [440720, 60, -0.0, 3751320, -0.0, -30]


def test_without_georeferencing_y_and_x_are_dimensions_without_values(tmp_path: Path) -> None:
    xr = pytest.importorskip("xarray")
    src = write_sample_container(tmp_path / "s.hsi")
    h5 = convert(src, tmp_path / "x.h5")
    with h5py.File(h5) as f:
        assert "spatial_ref" not in f["envi/data"] and "grid_mapping" not in f["envi/data/cube"].attrs
        assert f["envi/data/y"].attrs["NAME"].startswith(b"This is a netCDF dimension but not a netCDF variable.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # h5netcdf: phony dimensions of the member datasets
        for engine in ("netcdf4", "h5netcdf"):
            with xr.open_dataset(h5, engine=engine), xr.open_datatree(h5, engine=engine) as tree:
                assert "y" not in tree["envi/data"].coords and tree["envi/data"].sizes["y"] == 16
                assert tree["envi/Reference/white"]["cube"].dims == ("wavelength", "y", "x")


def test_readers_see_the_georeferencing_gdal_reads_in_the_container(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    xr = pytest.importorskip("xarray")
    pytest.importorskip("rioxarray")
    src, h5 = geo_h5(tmp_path, **{"map info": ["UTM", "2", "3", "736600.089", "4078126.75", "2.7", "2.7", "12",
                                               "North", "WGS-84", "units=Meters", "rotation=-66"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(f"/vsizip/{{{src}}}/data.envi") as source:
            crs, transform = source.crs, source.transform
        with rasterio.open(f'NETCDF:"{h5}":/envi/data/cube') as cf:
            assert cf.crs == crs and cf.transform.almost_equals(transform)
    with xr.open_datatree(h5) as tree:  # rioxarray's accessor on the cube xarray reads
        cube = tree["envi/data"]["cube"]
        assert cube.rio.crs == crs and cube.rio.transform().almost_equals(transform)


def test_a_complex_cube_opens_with_h5netcdf(tmp_path: Path) -> None:
    xr = pytest.importorskip("xarray")
    data = (np.arange(24, dtype="<f4") + 1j).astype("<c8").reshape(2, 3, 4)
    src = hsi_conform.write_container(tmp_path / "c.hsi", data, interleave="bsq", fields={"wavelength": [1.0, 2.0]})
    h5 = convert(src, tmp_path / "c.h5")
    with xr.open_datatree(h5, engine="h5netcdf", phony_dims="sort") as tree:
        np.testing.assert_array_equal(tree["envi/data"]["cube"].values, data)


# -- the cube read once: data.envi's SHA-256 and CRC-32 from the writer's reads (spec/hdf5-mapping.md#streaming) --

def h5_content(path: Path) -> dict[str, Any]:
    """Every group's and dataset's attributes and every dataset's values (references by name), layout aside."""
    found: dict[str, Any] = {}
    with h5py.File(path) as f:
        def plain(value: Any) -> Any:
            if isinstance(value, h5py.Reference):
                return f[value].name
            if isinstance(value, list | tuple):
                return [plain(v) for v in value]
            return value

        def described(obj: Any) -> Any:
            attrs = {}
            for key in obj.attrs:
                value = np.asarray(obj.attrs[key])
                attrs[key] = (repr(plain(value.tolist())) if value.dtype.hasobject else value.tobytes(),
                              obj.attrs.get_id(key).dtype.str)
            if not isinstance(obj, h5py.Dataset):
                return attrs
            value = obj[()]
            data = value.tobytes() if isinstance(value, np.ndarray) and not value.dtype.hasobject else repr(value)
            return attrs, obj.dtype.str, obj.shape, data

        found["/"] = described(f)
        f.visititems(lambda name, obj: found.__setitem__(name, described(obj)))
    return found


@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
@pytest.mark.parametrize("dtype", [">i2", "c8"])
def test_every_layout_and_write_path_stores_the_same_data_and_attributes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interleave: str, dtype: str) -> None:
    from hsi_conform.converters import hdf5_cube

    data = cube(dtype.lstrip("<>"), interleave, ">" if dtype[0] == ">" else "<")
    src = hsi_conform.write_container(tmp_path / "s.hsi", data, interleave=interleave,
                                      fields={"wavelength": [400.0 + i for i in range(4)],
                                              "wavelength units": "nm"})
    contiguous = h5_content(convert(src, tmp_path / "c.h5", chunks="none"))
    chunked = h5_content(convert(src, tmp_path / "k.h5"))
    monkeypatch.setattr(hdf5_cube, "SLAB_LIMIT", 0)  # the chunked cube block by block, its digest in a thread
    blocks = h5_content(convert(src, tmp_path / "b.h5"))
    assert contiguous == chunked == blocks
    stored = contiguous["envi/data/cube"]
    with hsi_conform.open(src) as container:
        envi = container.read_bytes("data.envi")
        expected = np.ascontiguousarray(container.cube.transpose(*{"bsq": (0, 1, 2), "bil": (1, 0, 2),
                                                                     "bip": (2, 0, 1)}[interleave]))
    assert stored[3] == expected.tobytes()  # the values as (band, line, sample)
    assert stored[0]["source_sha256"][0] == np.asarray(hashlib.sha256(envi).hexdigest()).tobytes()


@pytest.mark.parametrize("options", [{}, {"chunks": "none", "checksum": False}], ids=["chunked", "contiguous"])
def test_the_hdf5_writer_checks_the_cube_crc_it_reads(tmp_path: Path, options: dict[str, Any]) -> None:
    from hsi_conform.converters.hsi import HsiConverter
    from hsi_conform.errors import ExitCode, MemberCrcError
    from hsi_conform.members import CUBE_DATA
    from tests.integration.test_refuse import flipped, snapshot

    dataset = HsiConverter().read(flipped(write_sample_container(tmp_path / "src.hsi"), CUBE_DATA))
    before = snapshot(tmp_path)
    with pytest.raises(MemberCrcError) as caught:
        get_converter("hdf5").write(dataset, tmp_path / "out.h5", options)
    assert caught.value.member == CUBE_DATA and caught.value.exit_code is ExitCode.NONCONFORMANT
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("options", [{}, {"chunks": "none"}], ids=["chunked", "contiguous"])
def test_an_allowed_nonconformant_source_is_exported_with_its_damaged_cube_and_report(
        tmp_path: Path, options: dict[str, Any]) -> None:
    from hsi_conform.members import CUBE_DATA
    from tests.integration.test_refuse import flipped

    src = flipped(write_sample_container(tmp_path / "src.hsi"), CUBE_DATA)
    convert(src, tmp_path / "x.h5", allow_nonconformant=True, **options)
    back = member_digests(convert(tmp_path / "x.h5", tmp_path / "back.hsi"))
    with hsi_conform.open(tmp_path / "back.hsi") as out:
        assert "ZIP050" in out.read_bytes(SOURCE_REPORT).decode()
    assert back[CUBE_DATA] == member_digests(src)[CUBE_DATA]  # the damaged bytes, exactly


@pytest.mark.parametrize("options", [{}, {"chunks": "none"}], ids=["chunked", "contiguous"])
def test_an_interrupted_hdf5_export_publishes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      options: dict[str, Any]) -> None:
    from hsi_conform.converters import cube_slabs
    from tests.integration.test_refuse import snapshot

    src = write_sample_container(tmp_path / "src.hsi")
    before = snapshot(tmp_path)

    def checkpoint() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cube_slabs, "checkpoint", checkpoint)
    with pytest.raises(KeyboardInterrupt):
        convert(src, tmp_path / "x.h5", **options)
    assert snapshot(tmp_path) == before
