from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.container.interop import to_spectral
from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import as_interleave
from hsi_conform.container.write import iter_slabs, write_container
from hsi_conform.container.zipread import read_zip_structure
from hsi_conform.errors import ContainerError, InputUnreadableError
from hsi_conform.fields import DataType, Interleave
from hsi_conform.header import build_header_text
from hsi_conform.testing import zipcraft
from hsi_conform.testing.samples import sample_members, write_members, write_sample_container
from tests._support import write_tree

LINES, SAMPLES, BANDS = 5, 4, 3
SHAPES = {Interleave.BSQ: (BANDS, LINES, SAMPLES), Interleave.BIL: (LINES, BANDS, SAMPLES),
          Interleave.BIP: (LINES, SAMPLES, BANDS)}


def _cube(code: DataType, il: Interleave, order: int) -> np.ndarray:
    dtype = code.dtype(order)
    raw = np.random.default_rng(int(code) * 7 + order).integers(0, 256, SHAPES[il] + (dtype.itemsize,),
                                                                dtype=np.uint8)
    cube = raw.view(dtype).reshape(SHAPES[il])
    if dtype.kind == "f":  # special values must survive bit for bit: NaN payloads, -0.0, infinities
        flat = cube.reshape(-1)
        flat[0] = -0.0
        flat[1] = np.inf
    return cube


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("il", list(Interleave))
@pytest.mark.parametrize("code", list(DataType))
def test_write_read_bit_identity(tmp_path: Path, code: DataType, il: Interleave, order: int) -> None:
    cube = _cube(code, il, order)
    path = write_container(tmp_path / "c.hsi", cube, interleave=il, fields={"wavelength": [500.0, 600.0, 700.0]})
    with hsi_conform.open(path) as c:
        expected_order = order if code.itemsize > 1 else 0  # single bytes have no order; writers say 0
        assert c.layout.data_type is code and int(c.layout.byte_order) == expected_order
        assert c.layout.interleave is il
        got = c.cube
        assert got.dtype == cube.dtype and got.shape == cube.shape
        assert got.tobytes() == cube.tobytes()
        assert c.info("data.envi").offset % 4096 == 0


def test_data_offset_matches_independent_computation(tmp_path: Path) -> None:
    path = write_sample_container(tmp_path / "s.hsi")
    with zipfile.ZipFile(path) as zf, open(path, "rb") as f, hsi_conform.open(path) as c:
        assert zf.testzip() is None
        for zi in zf.infolist():
            f.seek(zi.header_offset)
            fields = struct.unpack("<4s5H3L2H", f.read(30))
            expected = zi.header_offset + 30 + fields[9] + fields[10]
            assert c.info(zi.filename).offset == expected
            assert c.read_bytes(zi.filename) == zf.read(zi.filename)


def test_views_previews_references_and_spectral(tmp_path: Path) -> None:
    path = write_sample_container(tmp_path / "s.hsi")
    with hsi_conform.open(path) as c:
        bil = c.cube
        assert np.shares_memory(c.bsq(), bil) and c.bsq().shape == (10, 16, 12)
        assert np.array_equal(c.bip()[3, 4], bil[3, :, 4])
        assert c.previews == ("",)
        assert c.preview().shape == (8, 10, 6)
        assert c.reference("white").shape == (1, 10, 12)
        with pytest.raises(ContainerError):
            c.reference("grey")
        img = to_spectral(c)
        assert img.shape == (16, 12, 10)
        assert np.array_equal(np.asarray(img.read_band(2)), c.bsq()[2])
        assert np.array_equal(np.asarray(img.read_pixel(3, 5)), c.bip()[3, 5])
        assert img.bands.centers == list(c.header.value("wavelength"))


def test_spectral_gets_what_spectral_envi_open_gets(tmp_path: Path) -> None:
    envi = pytest.importorskip("spectral.io.envi")
    cube = np.arange(3 * 4 * 5, dtype="<u2").reshape(4, 3, 5)
    fields = {"wavelength units": "Nanometers", "wavelength": [450.0, 550.5, 650.0], "fwhm": [9.5, 10.0, 11.0],
              "reflectance scale factor": 10000, "bbl": [1, 0, 1], "description": "flight 7, strip 2"}
    path = write_container(tmp_path / "s.hsi", cube, interleave="bil", fields=fields)
    with hsi_conform.open(path) as c:
        mine = to_spectral(c)
        (tmp_path / "s.hdr").write_bytes(c.read_bytes("data.hdr"))
        (tmp_path / "s.img").write_bytes(c.read_bytes("data.envi"))
        theirs = envi.open(str(tmp_path / "s.hdr"), image=str(tmp_path / "s.img"))
        assert mine.bands.centers == theirs.bands.centers == [450.0, 550.5, 650.0]
        assert mine.bands.bandwidths == theirs.bands.bandwidths == [9.5, 10.0, 11.0]
        assert mine.bands.band_unit == theirs.bands.band_unit == "Nanometers"
        assert mine.bands.band_quantity == "Wavelength"
        assert mine.scale_factor == theirs.scale_factor == 10000.0
        assert mine.metadata["bbl"] == theirs.metadata["bbl"] == [1, 0, 1]
        assert mine.metadata["description"] == theirs.metadata["description"] == "flight 7, strip 2"
        assert np.array_equal(np.asarray(mine.load()), np.asarray(theirs.load()))  # both divide by the factor


def test_spectral_leaves_out_what_does_not_parse(tmp_path: Path) -> None:
    members = sample_members()
    members["data.hdr"] += b"fwhm = {a, b}\nbbl = {1, x}\n"
    with hsi_conform.open(write_members(tmp_path / "s.hsi", members)) as c:
        image = to_spectral(c)
        assert image.bands.bandwidths is None and image.metadata["bbl"] == ["1", "x"] and image.scale_factor == 1


@pytest.mark.parametrize("il", list(Interleave))
def test_spectral_reads_every_interleave_and_byte_order(tmp_path: Path, il: Interleave) -> None:
    for order in (0, 1):
        cube = _cube(DataType.INT16, il, order)
        path = write_container(tmp_path / f"c{order}.hsi", cube, interleave=il)
        with hsi_conform.open(path) as c:
            img = to_spectral(c)
            assert np.array_equal(img.load(dtype=cube.dtype.newbyteorder("=")), c.bip())


def test_as_interleave_round_trip() -> None:
    cube = np.arange(BANDS * LINES * SAMPLES).reshape(SHAPES[Interleave.BSQ])
    for il in Interleave:
        view = as_interleave(cube, Interleave.BSQ, il)
        assert view.shape == SHAPES[il]
        assert np.array_equal(as_interleave(view, il, Interleave.BSQ), cube)


def test_expanded_folder_opens_like_the_archive(tmp_path: Path) -> None:
    members = sample_members()
    write_tree(tmp_path / "f", members)
    archive = write_members(tmp_path / "a.hsi", members)
    with hsi_conform.open(tmp_path / "f") as folder, hsi_conform.open(archive) as zipped:
        assert not folder.is_zip and folder.structure is None
        assert np.array_equal(folder.cube, zipped.cube)
        assert set(zipped.names) <= set(folder.names)


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(InputUnreadableError):
        hsi_conform.open(tmp_path / "missing.hsi")
    (tmp_path / "junk.hsi").write_bytes(b"not a zip at all")
    with pytest.raises(ContainerError):
        hsi_conform.open(tmp_path / "junk.hsi")


def test_truncated_cube_is_refused_before_mapping(tmp_path: Path) -> None:
    members = sample_members()
    members["data.envi"] = members["data.envi"][:-2]
    with hsi_conform.open(write_members(tmp_path / "t.hsi", members)) as c:
        with pytest.raises(ContainerError):
            _ = c.cube
        assert c.header.value("bands") == 10


def test_compressed_member_cannot_be_mapped(tmp_path: Path) -> None:
    members = sample_members()
    entries = [zipcraft.Entry(name.encode(), data) for name, data in members.items() if name != "data.envi"]
    entries.append(zipcraft.Entry(b"data.envi", members["data.envi"], method=8))
    path = tmp_path / "deflated.hsi"
    path.write_bytes(zipcraft.build(entries))
    with hsi_conform.open(path) as c, pytest.raises(ContainerError):
        _ = c.cube


class _CountingFile(io.FileIO):
    read_bytes = 0

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        data = super().read(size)
        _CountingFile.read_bytes += len(data)
        return data

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = super().readinto(buffer) or 0
        _CountingFile.read_bytes += n
        return n


def test_sparse_zip64_cube_over_4_gib_opens_without_reading_it(tmp_path: Path) -> None:
    lines, samples, bands = 65_536, 16_384, 2  # 4 GiB of uint16
    size = lines * samples * bands * 2
    header = build_header_text({"samples": samples, "lines": lines, "bands": bands, "header offset": 0,
                                "file type": "ENVI Standard", "data type": 12, "interleave": "bsq",
                                "byte order": 0, "wavelength": [500.0, 600.0]}).encode()
    path = tmp_path / "big.hsi"
    zipcraft.write(path, [zipcraft.Entry(b"data.hdr", header),
                          zipcraft.Entry(b"data.envi", sparse=size, zip64=True)])
    assert path.stat().st_size > 4 << 30 and path.stat().st_blocks * 512 < 64 << 20
    with _CountingFile(path) as f:
        structure = hsi_conform.container.zipread.read_zip_structure(f)
    assert not structure.fatal and _CountingFile.read_bytes < 1 << 20
    with hsi_conform.open(path) as c:
        assert c.info("data.envi").size == size
        cube = c.cube
        assert cube.shape == (bands, lines, samples)
        assert int(cube[1, -1, -1]) == 0


def test_iter_slabs_streams_in_bounded_pieces() -> None:
    array = np.arange(64 * 10 * 8, dtype="<u2").reshape(64, 10, 8)
    slabs = list(iter_slabs(array, slab_bytes=500))
    assert max(s.nbytes for s in slabs) <= 500 and b"".join(bytes(s) for s in slabs) == array.tobytes()


def test_failure_while_writing_leaves_target_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.hsi"
    target.write_bytes(b"previous content")

    def failing(array: np.ndarray, slab_bytes: int = 0):  # type: ignore[no-untyped-def]
        yield memoryview(np.ascontiguousarray(array[:1])).cast("B")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("hsi_conform.container.write.iter_slabs", failing)
    with pytest.raises(OSError):
        write_container(target, np.zeros((4, 3, 2), dtype="<u2"))
    assert target.read_bytes() == b"previous content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.hsi"]


def test_writer_refuses_its_own_input(tmp_path: Path) -> None:
    path = write_sample_container(tmp_path / "s.hsi")
    with hsi_conform.open(path) as c, pytest.raises(ValueError):
        write_container(path, c.cube, interleave="bil")
    with pytest.raises(ValueError):
        write_container(tmp_path / "x.hsi", np.zeros((2, 2, 2), "<u2"), members={"Metadata/x": tmp_path / "x.hsi"})


def test_writer_rejects_fields_that_contradict_the_array(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_container(tmp_path / "x.hsi", np.zeros((2, 3, 4), "<u2"), fields={"bands": 7})
    assert not (tmp_path / "x.hsi").exists()


def test_references_and_previews_are_written_with_headers(tmp_path: Path) -> None:
    cube = np.ones((6, 3, 4), "<u2")  # BIL: 6 lines, 3 bands, 4 samples
    path = write_container(tmp_path / "r.hsi", cube, interleave="bil",
                           fields={"wavelength": [1.0, 2.0, 3.0], "wavelength units": "um"},
                           references={"white": np.full((1, 3, 4), 9, "<u2"), "black": np.zeros((1, 3, 4), "<u2")},
                           previews={"": cube[::2, :, ::2], "2": cube[::3]})
    with hsi_conform.open(path) as c:
        assert c.previews == ("", "2")
        assert c.preview("2").shape == (2, 3, 4)
        assert int(c.reference("white")[0, 0, 0]) == 9
        assert c.read_header("Reference/white.hdr").value("wavelength") == (1.0, 2.0, 3.0)
        assert all(c.info(n).offset % 4096 == 0 for n in c.names if n.endswith(".envi"))
    assert hsi_conform.check(path).conformant


def _overwrite_in_place(path: Path) -> None:
    """Zero every byte of the file, same inode, same size: a later read of the descriptor sees zeros."""
    with path.open("r+b") as f:
        f.write(b"\x00" * path.stat().st_size)


def test_members_in_the_strict_reads_tail_are_served_from_it(tmp_path: Path) -> None:
    # spec/container.md#one-read-for-the-tail: the validator's container reads a small archive once.
    path = write_sample_container(tmp_path / "small.hsi")
    structure = read_zip_structure(path)
    with open_container(path, structure=structure) as c:
        _overwrite_in_place(path)
        assert c.read_bytes("data.hdr") == sample_members()["data.hdr"]
        assert c.read_prefix("thumbnail.jpg", 4) == sample_members()["thumbnail.jpg"][:4]
        assert c.header.value("samples") == 12


def test_members_before_the_tail_are_read_from_the_file(tmp_path: Path) -> None:
    header = b"ENVI\nsamples = 1\n"
    path = tmp_path / "big.hsi"
    zipcraft.write(path, [zipcraft.Entry(b"data.hdr", header), zipcraft.Entry(b"data.envi", b"\x01" * 200_000)])
    structure = read_zip_structure(path)
    with open_container(path, structure=structure) as c:
        assert structure.held(c.info("data.hdr").offset, len(header)) is None
        assert c.read_bytes("data.hdr") == header
        _overwrite_in_place(path)
        assert c.read_bytes("data.hdr") == b"\x00" * len(header)  # read again: the tail does not hold it
