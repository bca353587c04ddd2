from __future__ import annotations

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
        stored = f["hsi_cube"]
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
        with rasterio.open(f'HDF5:"{tmp_path / "x.h5"}"://hsi_cube') as ds, hsi_conform.open(src) as c:
            assert ds.count == c.header.value("bands")
            np.testing.assert_array_equal(ds.read(), c.bsq())


def test_xarray_sees_wavelength_coordinate(tmp_path: Path) -> None:
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    src = write_sample_container(tmp_path / "s.hsi")
    convert(src, tmp_path / "x.h5")
    with xr.open_dataset(tmp_path / "x.h5", group="envi/data", engine="h5netcdf", phony_dims="sort") as ds, \
            hsi_conform.open(src) as c:
        assert ds["cube"].dims == ("wavelength", "line", "sample")
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
get_converter(fmt).write(dataset, tmp / ("out." + fmt))
done.append(1); t.join()
print(peak[0] - base)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
def test_anonymous_memory_is_bounded(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path), "hdf5"], capture_output=True,
                         text=True, check=True)
    assert int(out.stdout.strip()) <= 128 << 20
    with h5py.File(tmp_path / "out.hdf5") as f:
        assert f["hsi_cube"].shape == (128, 1024, 1024)
