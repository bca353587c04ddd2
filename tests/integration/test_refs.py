"""kerchunk references (issue 14 section 2; spec/refs.md): read back by xarray/zarr, kerchunk's reference
filesystem and VirtualiZarr, equal to ``Container.cube``; locally, over a loopback HTTP server and moto S3.
"""

from __future__ import annotations

import json
import random
import struct
import sys
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("kerchunk")
pytest.importorskip("zarr")
pytest.importorskip("xarray")

import fsspec
import xarray as xr

import hsi_conform
from hsi_conform.container.write import write_container
from hsi_conform.corpus.export import case_rule, golden_files
from hsi_conform.corpus.golden import load_cases
from hsi_conform.errors import ContainerError, DatasetError, ExitCode, HsiConformError, MissingDependencyError
from hsi_conform.fields import ByteOrder, Interleave
from hsi_conform.members import DATA_SUFFIX
from hsi_conform.refs import combine_references, references
from hsi_conform.testing.generate import ContainerSpec, build_valid
from hsi_conform.testing.mutations import CATALOGUE, applicable
from hsi_conform.testing.scene import SceneSpec, write_scene
from hsi_conform.testing.zipcraft import Entry, write
from tests._http import RangeServer
from tests._support import CliRunner

MIB = 1 << 20


def _open(refs: Path | dict[str, Any], **options: Any) -> Any:
    """The issue's own reading: xarray's zarr engine over fsspec's reference filesystem (no hsi-conform)."""
    storage = {"fo": refs if isinstance(refs, dict) else str(refs)} | options
    return xr.open_dataset("reference://", engine="zarr", mask_and_scale=False,
                           backend_kwargs={"consolidated": False, "storage_options": storage})


def _assert_like_the_engine(ds: Any, path: Path) -> None:
    """Every variable equals the hsi engine's, values, dims and dtype (byte order aside); the previews the memmap."""
    with xr.open_dataset(path, engine="hsi") as want, hsi_conform.open(path) as c:
        assert np.array_equal(ds["cube"].values, np.asarray(c.cube))
        for name, variable in want.variables.items():
            got = ds[name]
            assert got.dims == variable.dims, name
            assert np.array_equal(got.values, variable.values), name
            assert got.dtype.newbyteorder("=") == variable.dtype.newbyteorder("="), name
        for lod in c.previews:
            assert np.array_equal(ds["preview" + (f"_{lod}" if lod else "")].values, np.asarray(c.preview(lod)))
        assert {k: v for k, v in ds.attrs.items() if k != "Conventions"} == want.attrs


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("refs")
    out = {}
    for il in Interleave:
        for order in ByteOrder:
            spec = SceneSpec(lines=24, samples=20, bands=12, interleave=il, byte_order=order)
            out[f"{il.value}-{order.name.lower()}"] = write_scene(folder / f"{il.value}-{order.value}.hsi", spec)
    return out


# -- local files: every interleave, both byte orders, several chunkings ----------------------------------------


@pytest.mark.parametrize("target", [None, 1000, 7], ids=["default", "1000B", "7B"])
@pytest.mark.parametrize("which", ["bsq-little", "bsq-big", "bil-little", "bil-big", "bip-little", "bip-big"])
def test_references_read_back_as_the_cube(scenes: dict[str, Path], tmp_path: Path, which: str,
                                          target: int | None) -> None:
    path = scenes[which]
    refs = references(path, target_bytes=target)
    dest = tmp_path / "refs.json"
    dest.write_text(json.dumps(refs))
    with _open(dest) as ds:
        _assert_like_the_engine(ds, path)
    cube = json.loads(refs["refs"]["cube/.zarray"])
    # the stored byte order is declared (zarr swaps while decoding): no copy of the data is needed
    assert cube["dtype"] == (">u2" if which.endswith("big") else "<u2") and cube["compressor"] is None
    chunk_bytes = 2 * int(np.prod(cube["chunks"]))
    assert chunk_bytes <= (target or 8 * MIB) or cube["chunks"] == [1, 1, 1]


def test_kerchunks_reference_filesystem_serves_the_member_bytes(scenes: dict[str, Path]) -> None:
    path = scenes["bsq-big"]
    refs = references(path, target_bytes=20 * 24 * 2)  # one band per chunk
    fs = fsspec.filesystem("reference", fo=refs)
    with hsi_conform.open(path) as c:
        band = np.asarray(c.cube[5])
        assert fs.cat("cube/5.0.0") == band.tobytes()
        info = c.info("data.envi")
    url, offset, length = refs["refs"]["cube/5.0.0"]
    assert (url, offset, length) == (str(path.resolve()), info.offset + 5 * band.nbytes, band.nbytes)


def test_virtualizarr_reads_the_references(scenes: dict[str, Path], tmp_path: Path) -> None:
    pytest.importorskip("virtualizarr")
    obstore = pytest.importorskip("obstore.store")
    registry = pytest.importorskip("obspec_utils.registry")
    from virtualizarr import open_virtual_dataset
    from virtualizarr.parsers import KerchunkJSONParser

    path = scenes["bip-big"]
    dest = tmp_path / "refs.json"
    refs = references(path, target_bytes=4096)
    dest.write_text(json.dumps(refs))
    coords = json.loads(refs["refs"][".zattrs"])["coordinates"].split()
    # VirtualiZarr 2.5 does not read inline data (its issue 489): the coordinates are skipped
    parser = KerchunkJSONParser(skip_variables=coords)
    stores = registry.ObjectStoreRegistry({"file://": obstore.LocalStore()})
    virtual = open_virtual_dataset(dest.as_uri(), registry=stores, parser=parser, loadable_variables=[])
    entries = virtual["cube"].data.manifest.dict()
    ours = {k.removeprefix("cube/"): v for k, v in refs["refs"].items() if k.startswith("cube/") and ".z" not in k}
    assert {k: (e["offset"], e["length"]) for k, e in entries.items()} == {k: (o, n) for k, (_, o, n) in ours.items()}
    loaded = open_virtual_dataset(dest.as_uri(), registry=stores, parser=parser, loadable_variables=["cube"])
    with hsi_conform.open(path) as c:
        assert np.array_equal(loaded["cube"].values, np.asarray(c.cube))


# -- the local header's extra field, not the central directory's ------------------------------------------------


_HEADER = ("ENVI\nsamples = 5\nlines = 3\nbands = 4\nheader offset = 0\nfile type = ENVI Standard\n"
           "data type = 12\ninterleave = bsq\nbyte order = 1\ndata ignore value = 7\n"
           "wavelength = {400, 500, 600, 700}\nwavelength units = nm\n")


def _extra(size: int) -> bytes:
    return struct.pack("<HH", 0xCAFE, size) + bytes(size)  # an unknown extra field: skipped by every reader


def test_offsets_come_from_the_local_header_when_its_extra_field_differs(tmp_path: Path) -> None:
    cube = (np.arange(4 * 3 * 5) % 11).astype(">u2").reshape(4, 3, 5)
    path = tmp_path / "extra.hsi"
    write(path, [Entry("data.hdr", _HEADER.encode()),
                 Entry("data.envi", cube.tobytes(), extra=_extra(4), l_extra=_extra(300))])
    with hsi_conform.open(path) as c:
        local = c.info("data.envi").offset
        (record,) = [m for m in c.structure.members if m.name == "data.envi"]  # type: ignore[union-attr]
    refs = references(path)
    (_, offset, length) = refs["refs"]["cube/0.0.0"]
    assert offset == local and length == cube.nbytes
    central_guess = record.local_header_offset + 30 + len(b"data.envi") + 8
    assert central_guess != local  # what a reader of the central directory alone would get wrong
    with _open(refs) as ds:
        assert np.array_equal(ds["cube"].values, cube) and ds["cube"].dims == ("band", "y", "x")
        assert ds["cube"].attrs["_FillValue"] == 7  # data ignore value -> zarr fill_value -> CF _FillValue
        assert list(ds["wavelength"].values) == [400, 500, 600, 700]
        assert ds["wavelength"].attrs == {"units": "nm", "long_name": "centre wavelength",
                                          "standard_name": "radiation_wavelength"}
    masked = xr.open_dataset("reference://", engine="zarr",
                             backend_kwargs={"consolidated": False, "storage_options": {"fo": refs}})
    assert int(np.isnan(masked["cube"].values).sum()) == int((cube == 7).sum()) > 0  # CF decoding, as for HDF5


def test_an_unreadable_reference_is_left_out_with_a_warning(cli: CliRunner, tmp_path: Path) -> None:
    cube = (np.arange(4 * 3 * 5) % 11).astype(">u2").reshape(4, 3, 5)
    white = _HEADER.replace("lines = 3", "lines = 1")
    path = tmp_path / "white.hsi"
    write(path, [Entry("data.hdr", _HEADER.encode()), Entry("data.envi", cube.tobytes()),
                 Entry("Reference/white.hdr", white.encode()), Entry("Reference/white.envi", bytes(10))])
    dest = tmp_path / "refs.json"
    result = cli(["refs", path, "-o", dest])
    assert result.code == ExitCode.OK, result.err
    assert "warning: Reference/white.envi left out of the references" in result.err
    with _open(dest) as ds:
        assert "reference_white" not in ds and np.array_equal(ds["cube"].values, cube)


# -- over HTTP and S3 --------------------------------------------------------------------------------------------


def _header_like(path: Path) -> int:
    with hsi_conform.open(path) as c:
        return sum(m.size for m in c.members if not m.name.endswith(DATA_SUFFIX))


def test_references_of_a_url_read_the_headers_only_and_read_back_over_http(
        cli: CliRunner, http_server: RangeServer, tmp_path: Path) -> None:
    pytest.importorskip("aiohttp")
    path = write_scene(tmp_path / "big.hsi", SceneSpec(lines=256, samples=200, bands=48,
                                                      interleave=Interleave.BSQ))
    url = http_server.serve(path, "/refs/big.hsi")
    dest = tmp_path / "refs.json"
    result = cli(["refs", url, "-o", dest, "--chunk-bytes", str(256 * 200 * 2 * 4)])
    assert result.code == ExitCode.OK, result.err
    stats = http_server.stats(url)
    assert stats.bytes <= MIB + _header_like(path), stats  # nothing of the cube was read
    http_server.reset(url)
    with _open(dest, remote_protocol="http", remote_options={"asynchronous": True}) as ds, \
            hsi_conform.open(path) as c:
        assert np.array_equal(ds["cube"][7].values, np.asarray(c.cube[7]))
        assert http_server.stats(url).bytes == 4 * 256 * 200 * 2  # one chunk of four bands: its bytes only
        _assert_like_the_engine(ds, path)
    assert json.loads(dest.read_text())["refs"]["cube/0.0.0"][0] == url


def test_references_over_s3(s3_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s3fs = pytest.importorskip("s3fs")
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": s3_server,
                       "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    path = write_scene(tmp_path / "s3.hsi", SceneSpec(lines=16, samples=12, bands=8, interleave=Interleave.BIP,
                                                     byte_order=ByteOrder.BIG))
    fs = s3fs.S3FileSystem(endpoint_url=s3_server, key="testing", secret="testing", skip_instance_cache=True)
    if not fs.exists("hsi-refs"):
        fs.mkdir("hsi-refs")
    fs.pipe("hsi-refs/s3.hsi", path.read_bytes())
    refs = references("s3://hsi-refs/s3.hsi")
    assert refs["refs"]["cube/0.0.0"][0] == "s3://hsi-refs/s3.hsi"
    options = {"endpoint_url": s3_server, "key": "testing", "secret": "testing", "asynchronous": True}
    with _open(refs, remote_protocol="s3", remote_options=options) as ds:
        _assert_like_the_engine(ds, path)


def test_a_missing_url_is_exit_3_naming_it(cli: CliRunner, http_server: RangeServer, tmp_path: Path) -> None:
    pytest.importorskip("aiohttp")
    url = http_server.base + "/refs//nothing-here.hsi"
    result = cli(["refs", url, "-o", tmp_path / "refs.json"])
    assert result.code == ExitCode.UNREADABLE and url in result.err and not (tmp_path / "refs.json").exists()


def test_a_zip64_cube_beyond_4_gib_and_a_header_offset(tmp_path: Path) -> None:
    lines, samples, bands, skip = 65_536, 16_384, 2, 16  # 4 GiB of uint16, sparse on disk
    header = _HEADER.replace("samples = 5", f"samples = {samples}").replace("lines = 3", f"lines = {lines}")
    header = header.replace("bands = 4", f"bands = {bands}").replace("header offset = 0", f"header offset = {skip}")
    header = header.replace("wavelength = {400, 500, 600, 700}", "wavelength = {400, 500}")
    path = tmp_path / "big.hsi"
    write(path, [Entry("data.hdr", header.encode()),
                 Entry("data.envi", b"\xff" * skip, sparse=lines * samples * bands * 2, zip64=True)])
    refs = references(path, target_bytes=64 * MIB)  # 2048 lines of a band
    with hsi_conform.open(path) as c:
        start = c.info("data.envi").offset + skip
    chunks = sorted(v for v in refs["refs"].values() if isinstance(v, list))
    assert len(chunks) == 64 and chunks[0][1] == start and chunks[-1][1] + chunks[-1][2] == start + 4 * 1024 * MIB
    assert chunks[-1][1] + chunks[-1][2] > 1 << 32  # past 4 GiB: ZIP64 sizes, offsets exact in JSON
    fs = fsspec.filesystem("reference", fo=refs)
    assert refs["refs"]["cube/1.31.0"] == chunks[-1]
    assert fs.cat("cube/1.31.0") == bytes(64 * MIB)  # the sparse member's last 64 MiB


# -- combine -----------------------------------------------------------------------------------------------------


def _alike(folder: Path, name: str, seed: int, shape: tuple[int, int, int] = (6, 5, 7)) -> tuple[Path, np.ndarray]:
    cube = np.random.default_rng(seed).integers(0, 4000, size=shape, dtype=np.uint16)  # bil: lines, bands, samples
    fields = {"wavelength": [400.0 + 10 * i for i in range(shape[1])], "wavelength units": "nm"}
    return write_container(folder / name, cube, interleave="bil", fields=fields), cube


def test_combine_stacks_alike_containers(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    (folder / "sub").mkdir(parents=True)
    made = [_alike(folder, name, seed) for seed, name in enumerate(["b.hsi", "a.hsi", "sub/c.hsi"])]
    (folder / "notes.txt").write_text("not a container")
    dest = tmp_path / "stack.json"
    result = cli(["refs", "--combine", folder, "-o", dest])
    assert result.code == ExitCode.OK, result.err
    with _open(dest) as ds:
        assert list(ds["container"].values) == ["a.hsi", "b.hsi", "sub/c.hsi"]  # sorted walk
        assert ds["cube"].dims == ("container", "y", "band", "x")
        by_name = {p.relative_to(folder).as_posix(): cube for p, cube in made}
        for i, name in enumerate(ds["container"].values):
            assert np.array_equal(ds["cube"][i].values, by_name[str(name)])
        assert list(ds["wavelength"].values) == [400.0 + 10 * i for i in range(5)]


def test_combine_urls_over_http(http_server: RangeServer, tmp_path: Path) -> None:
    pytest.importorskip("aiohttp")
    made = [_alike(tmp_path, f"{name}.hsi", seed) for seed, name in enumerate("xyz")]
    urls = [http_server.serve(path, f"/stack/{path.name}") for path, _ in made]
    refs = combine_references(urls)
    with _open(refs, remote_protocol="http", remote_options={"asynchronous": True}) as ds:
        assert list(ds["container"].values) == ["x.hsi", "y.hsi", "z.hsi"]
        for i, (_, cube) in enumerate(made):
            assert np.array_equal(ds["cube"][i].values, cube)


def test_combine_refuses_containers_that_differ(cli: CliRunner, tmp_path: Path) -> None:
    _alike(tmp_path, "a.hsi", 1)
    _alike(tmp_path, "b.hsi", 2, shape=(6, 5, 8))
    dest = tmp_path / "out" / "stack.json"
    dest.parent.mkdir()
    result = cli(["refs", "--combine", tmp_path, "-o", dest])
    assert result.code == DatasetError.exit_code == ExitCode.UNREADABLE
    assert "b.hsi" in result.err and "shape" in result.err and not dest.exists()
    with pytest.raises(DatasetError):
        combine_references([tmp_path / "a.hsi", tmp_path / "b.hsi"])


# -- hostile and unusable input ----------------------------------------------------------------------------------


def _deflated(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize("case", ["not-zip", "compressed", "short", "missing"])
def test_unusable_input_is_a_clear_error(cli: CliRunner, tmp_path: Path, case: str) -> None:
    src = tmp_path / "bad.hsi"
    cube = bytes(4 * 3 * 5 * 2)
    if case == "not-zip":
        src.write_bytes(b"PK\x03\x04 this is no archive" * 10)
    elif case == "compressed":
        write(src, [Entry("data.hdr", _HEADER.encode()),
                    Entry("data.envi", _deflated(cube), method=8, plain=cube)])
    elif case == "short":  # the header claims more bytes than the member holds
        write(src, [Entry("data.hdr", _HEADER.encode()), Entry("data.envi", cube[:-2])])
    dest = tmp_path / "refs.json"
    result = cli(["refs", src, "-o", dest])
    assert result.code == ExitCode.UNREADABLE, (result.out, result.err)
    assert "Traceback" not in result.err and src.name in result.err
    assert not dest.exists()
    if case in ("compressed", "short"):
        with pytest.raises(ContainerError):
            references(src)


def test_an_expanded_folder_references_each_member_file(scenes: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "scene"
    with zipfile.ZipFile(scenes["bip-big"]) as z:
        z.extractall(folder)
    refs = references(folder)
    assert refs["refs"]["cube/0.0.0"][0] == str(folder.resolve() / "data.envi")
    assert refs["refs"]["preview/0.0.0"][0] == str(folder.resolve() / "preview.envi")
    with _open(refs) as ds:
        _assert_like_the_engine(ds, scenes["bip-big"])


def _hostile_inputs(folder: Path) -> Iterator[Path]:
    """Every hostile ZIP file of the golden corpus and every single-defect mutant of the mutation catalogue."""
    for corpus_file in golden_files([c for c in load_cases() if case_rule(c).startswith("ZIP")]):
        path = folder / corpus_file.file
        path.write_bytes(corpus_file.data)
        yield path
    for mutation in CATALOGUE:
        rnd = random.Random(11)
        path = folder / f"{mutation.name}.hsi"
        path.write_bytes(mutation.apply(build_valid(applicable(mutation, ContainerSpec(), rnd), rnd), rnd))
        yield path


@pytest.mark.slow
def test_hostile_inputs_give_references_that_read_the_cube_or_a_clear_error(tmp_path: Path) -> None:
    outcomes = {"referenced": 0, "refused": 0}
    for path in _hostile_inputs(tmp_path):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # images left out: the cube is what is compared
                refs = references(path)
        except HsiConformError as exc:  # a documented error with its exit code, never another exception
            assert exc.exit_code in (ExitCode.UNREADABLE, ExitCode.USAGE, ExitCode.NONCONFORMANT), path.name
            outcomes["refused"] += 1
            continue
        fs = fsspec.filesystem("reference", fo=refs)
        with hsi_conform.open(path) as c:
            want = np.asarray(c.cube).tobytes()
        keys = sorted((k for k in refs["refs"] if k.startswith("cube/") and ".z" not in k),
                      key=lambda k: tuple(int(i) for i in k.removeprefix("cube/").split(".")))
        served = fs.cat(keys)
        assert b"".join(served[k] for k in keys) == want, path.name  # contiguous chunks in C order: the member
        outcomes["referenced"] += 1
    assert outcomes["referenced"] > 50 and outcomes["refused"] > 5, outcomes


def test_usage_errors(cli: CliRunner, scenes: dict[str, Path], tmp_path: Path) -> None:
    src = scenes["bsq-little"]
    assert cli(["refs", "-o", tmp_path / "x.json"]).code == ExitCode.USAGE  # neither SRC nor --combine
    assert cli(["refs", src, "--combine", tmp_path, "-o", tmp_path / "x.json"]).code == ExitCode.USAGE
    assert cli(["refs", src, "-o", src]).code == ExitCode.USAGE  # the output is the input
    assert cli(["refs", src, "-o", tmp_path / "x.json", "--chunk-bytes", "0"]).code == ExitCode.USAGE
    made = cli(["refs", src, "-o", tmp_path / "no-such-folder" / "x.json"])  # a missing folder is made
    assert made.code == ExitCode.OK and (tmp_path / "no-such-folder" / "x.json").is_file()
    (tmp_path / "a-file").write_bytes(b"")
    result = cli(["refs", src, "-o", tmp_path / "a-file" / "x.json"])  # an output-side failure: exit 5
    assert result.code == ExitCode.UNWRITABLE and "a-file/x.json" in result.err and "Traceback" not in result.err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli(["refs", "--combine", empty, "-o", tmp_path / "x.json"]).code == ExitCode.UNREADABLE


def test_url_option_names_where_readers_find_the_file(cli: CliRunner, scenes: dict[str, Path],
                                                       tmp_path: Path) -> None:
    dest = tmp_path / "refs.json"
    assert cli(["refs", scenes["bil-big"], "-o", dest, "--url", "https://example.org/x.hsi"]).code == ExitCode.OK
    chunks = [v for v in json.loads(dest.read_text())["refs"].values() if isinstance(v, list)]
    assert chunks and {c[0] for c in chunks} == {"https://example.org/x.hsi"}


@pytest.mark.parametrize("module", ["kerchunk", "zarr", "hsi_conform.xarray_backend"])
def test_a_missing_dependency_says_what_to_install(cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    module: str) -> None:
    a, _ = _alike(tmp_path, "a.hsi", 1)
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # what an import finds when the package is not installed
    with pytest.raises(MissingDependencyError) as info:
        combine_references([a])
    assert info.value.install_command == "pip install 'hsi-conform[refs]'"
    result = cli(["refs", "--combine", tmp_path, "-o", tmp_path / "out.json"])
    assert result.code == ExitCode.UNREADABLE and "pip install 'hsi-conform[refs]'" in result.err
