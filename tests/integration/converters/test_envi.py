from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.converters import detect, get_converter
from hsi_conform.converters.envi import EnviConverter, find_pair
from hsi_conform.converters.hsi import HsiConverter
from hsi_conform.errors import ConfigError, ContainerError, InputUnreadableError
from hsi_conform.header import parse_header
from hsi_conform.testing.samples import sample_members, write_members, write_sample_container
from tests._paths import FIXTURES
from tests._support import assert_no_errors, member_digests

GOLDEN = FIXTURES / "convert" / "envi-basic"
HDR = b"ENVI\nsamples = 5\nlines = 4\nbands = 3\nheader offset = 0\nfile type = ENVI Standard\ndata type = 12\n" \
      b"interleave = bil\nbyte order = 0\nwavelength units = nm\nwavelength = {400, 500, 600}\n"


def to_hsi(source: Path, dest: Path) -> Path:
    dataset = EnviConverter().read(source)
    return HsiConverter().write(dataset, dest)


def cube() -> np.ndarray:
    return (np.arange(4 * 3 * 5, dtype="<u2").reshape(4, 3, 5) * 11)


# -- export and the reverse --------------------------------------------------------------------------------------

def test_container_to_envi_and_back_is_byte_identical(tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    (tmp_path / "out").mkdir()
    hdr = EnviConverter().write(HsiConverter().read(src), tmp_path / "out" / "x.hdr")
    assert hdr == tmp_path / "out" / "x.hdr"
    c = hsi_conform.open(src)
    assert (tmp_path / "out" / "x.img").read_bytes() == c.read_bytes("data.envi")
    assert hdr.read_bytes() == c.read_bytes("data.hdr")
    side = tmp_path / "out" / "x.hsi.d"
    assert (side / "Reference" / "white.envi").read_bytes() == c.read_bytes("Reference/white.envi")
    assert not (side / "data.hdr").exists()
    back = to_hsi(hdr, tmp_path / "back.hsi")
    assert member_digests(back, directories=False) == member_digests(src, directories=False)
    assert_no_errors(back)


def test_export_is_read_by_gdal_and_spy_without_arguments(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    spy_envi = pytest.importorskip("spectral.io.envi")
    src = write_sample_container(tmp_path / "s.hsi")
    hdr = EnviConverter().write(HsiConverter().read(src), tmp_path / "x")
    c = hsi_conform.open(src)
    expected = np.asarray(c.bsq())
    waves = c.header.value("wavelength")
    with rasterio.open(tmp_path / "x.img") as r:
        assert r.count == expected.shape[0]
        assert np.array_equal(r.read(), expected)
        assert [float(r.tags(i + 1)["wavelength"]) for i in range(r.count)] == pytest.approx(waves)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        img = spy_envi.open(str(hdr))
    assert img.bands.centers == pytest.approx(waves)
    assert np.array_equal(img.open_memmap(), np.asarray(c.bip()))


def test_long_header_line_is_wrapped_on_export_and_restored_exactly(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    members = sample_members()
    long_lines = "vendor notes = " + "x" * 12000 + "\nvendor list = {" + ", ".join(["1.25"] * 4000) + "}\n"
    text = members["data.hdr"].decode()
    members["data.hdr"] = text.replace("wavelength units", long_lines + "wavelength units", 1).encode()
    src = write_members(tmp_path / "s.hsi", members)
    waves = hsi_conform.open(src).header.value("wavelength")
    hdr = EnviConverter().write(HsiConverter().read(src), tmp_path / "x.hdr")
    assert (tmp_path / "x.hsi.d" / "data.hdr").read_bytes() == members["data.hdr"]
    assert max(len(line) for line in hdr.read_bytes().splitlines()) <= 10000
    exported = parse_header(hdr.read_bytes())
    assert list(exported.value("vendor list")) == ["1.25"] * 4000
    assert exported.get("vendor notes") is None  # a scalar cannot be wrapped: left out, kept in the sidecar
    with rasterio.open(tmp_path / "x.img") as r:
        assert float(r.tags(1)["wavelength"]) == pytest.approx(waves[0])
    back = to_hsi(tmp_path / "x.img", tmp_path / "back.hsi")
    assert member_digests(back, directories=False) == member_digests(src, directories=False)


def test_export_without_sidecar_writes_the_pair_only(tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    EnviConverter().write(HsiConverter().read(src), tmp_path / "x.img", {"sidecar": "false"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.hsi", "x.hdr", "x.img"]


def test_export_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    (tmp_path / "x.img").write_bytes(cube().tobytes())
    (tmp_path / "x.hdr").write_bytes(HDR)
    dataset = EnviConverter().read(tmp_path / "x.hdr")
    with pytest.raises(ConfigError):
        EnviConverter().write(dataset, tmp_path / "x.hdr")
    assert (tmp_path / "x.hdr").read_bytes() == HDR


def test_export_replaces_an_existing_export_and_leaves_no_temp_files(tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    (tmp_path / "out").mkdir()
    for _ in range(2):
        EnviConverter().write(HsiConverter().read(src), tmp_path / "out" / "x.hdr")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x.hdr", "x.hsi.d", "x.img"]


def test_a_failed_export_leaves_the_previous_export_and_no_temps(tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    (tmp_path / "out").mkdir()
    EnviConverter().write(HsiConverter().read(src), tmp_path / "out" / "x.hdr")
    before = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    dataset = HsiConverter().read(src)
    dataset.members["Metadata/../../escape.txt"] = b"refused only after the pair is written"
    with pytest.raises(ContainerError):
        EnviConverter().write(dataset, tmp_path / "out" / "x.hdr")
    after = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x.hdr", "x.hsi.d", "x.img"]


# -- import --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data_name", ["x", "x.img", "x.DAT", "x.raw", "x.bil", "x.bin", "x.hyspex", "x.sli"])
def test_import_finds_data_under_common_extensions(tmp_path: Path, data_name: str) -> None:
    (tmp_path / data_name).write_bytes(cube().tobytes())
    (tmp_path / "x.hdr").write_bytes(HDR)
    pair = find_pair(tmp_path / "x.hdr")
    assert pair is not None and pair.data.name == data_name
    assert find_pair(tmp_path / data_name) == pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert detect(tmp_path / "x.hdr").name == "envi"


def test_appended_header_takes_precedence_like_gdal(tmp_path: Path) -> None:
    (tmp_path / "x.img").write_bytes(cube().tobytes())
    (tmp_path / "x.hdr").write_bytes(HDR)
    (tmp_path / "x.img.hdr").write_bytes(HDR.replace(b"{400, 500, 600}", b"{401, 501, 601}"))
    pair = find_pair(tmp_path / "x.img")
    assert pair is not None and pair.header.name == "x.img.hdr"
    dataset = EnviConverter().read(tmp_path / "x.img")
    assert list(dataset.header.value("wavelength")) == [401.0, 501.0, 601.0]
    assert dataset.members["Metadata/x.img.hdr"] == (tmp_path / "x.img.hdr").read_bytes()


def test_a_tiff_sidecar_header_is_not_paired_with_the_tiff(tmp_path: Path) -> None:
    (tmp_path / "x.tif").write_bytes(b"II*\x00" + bytes(116))
    (tmp_path / "x.tif.hdr").write_bytes(HDR)
    assert find_pair(tmp_path / "x.tif.hdr") is None
    assert find_pair(tmp_path / "x.tif") is None


def test_import_keeps_data_and_header_bytes_and_normalises(tmp_path: Path) -> None:
    src = GOLDEN / "input"
    out = to_hsi(src / "scene.hdr", tmp_path / "scene.hsi")
    c = hsi_conform.open(out)
    assert c.read_bytes("data.envi") == (src / "scene.img").read_bytes()
    assert c.read_bytes("Metadata/scene.hdr") == (src / "scene.hdr").read_bytes()
    header = c.header
    assert all(e.key == e.key_raw for e in header.entries())
    assert header.get("file type").value_raw == "ENVI Standard"
    assert header.value("header offset") == 0
    assert header.get("wavelength units").value_raw == "Nanometers"
    assert header.get("fps_qpf").value_raw == "29.84"
    assert np.array_equal(np.asarray(c.cube), np.frombuffer((src / "scene.img").read_bytes(), "<u2").reshape(4, 3, 5))
    assert_no_errors(out)


def test_a_fine_header_is_kept_verbatim_and_notes_say_what_changed(tmp_path: Path) -> None:
    (tmp_path / "x.img").write_bytes(cube().tobytes())
    (tmp_path / "x.hdr").write_bytes(HDR)
    dataset = EnviConverter().read(tmp_path / "x.hdr")
    assert dataset.header.to_bytes() == HDR
    assert len(dataset.notes) == 1  # only: the original header was kept
    (tmp_path / "x.hdr").write_bytes(HDR.replace(b"header offset = 0\n", b"").replace(b"byte order = 0\n", b""))
    dataset = EnviConverter().read(tmp_path / "x.hdr")
    assert dataset.header.value("header offset") == 0
    assert dataset.header.value("byte order") == 0
    assert len(dataset.notes) == 3


def test_embedded_header_offset_and_trailing_bytes_are_kept_verbatim(tmp_path: Path) -> None:
    data = b"H" * 16 + cube().tobytes()
    (tmp_path / "x.img").write_bytes(data)
    (tmp_path / "x.hdr").write_bytes(HDR.replace(b"header offset = 0", b"header offset = 16"))
    dataset = EnviConverter().read(tmp_path / "x.hdr")
    assert np.array_equal(dataset.cube, cube())
    out = HsiConverter().write(dataset, tmp_path / "x.hsi")
    assert hsi_conform.open(out).read_bytes("data.envi") == data
    assert_no_errors(out)


def test_short_data_and_spectral_libraries_are_refused(tmp_path: Path) -> None:
    (tmp_path / "x.img").write_bytes(cube().tobytes()[:-2])
    (tmp_path / "x.hdr").write_bytes(HDR)
    with pytest.raises(InputUnreadableError):
        EnviConverter().read(tmp_path / "x.hdr")
    (tmp_path / "x.img").write_bytes(cube().tobytes())
    (tmp_path / "x.hdr").write_bytes(HDR.replace(b"ENVI Standard", b"ENVI Spectral Library"))
    with pytest.raises(InputUnreadableError):
        EnviConverter().read(tmp_path / "x.hdr")


@pytest.mark.parametrize("dtype", ["<f4", ">f4", "<i2", ">u2", "<f8", "u1", "<i4", "<u4", "<c8"])
@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
def test_import_export_round_trip_over_types_and_interleaves(tmp_path: Path, dtype: str, interleave: str) -> None:
    from hsi_conform.fields import DataType, Interleave

    values = np.arange(60, dtype=np.float64).reshape(Interleave(interleave).shape(4, 5, 3)) - 7
    array = values.astype(dtype)
    if array.dtype.kind == "f":
        array.flat[:3] = [np.nan, -0.0, np.inf]
    raw = array.tobytes()
    order = 1 if array.dtype.byteorder == ">" else 0
    header = (HDR.replace(b"interleave = bil", b"interleave = " + interleave.encode())
              .replace(b"data type = 12", f"data type = {int(DataType.from_dtype(array.dtype))}".encode())
              .replace(b"byte order = 0", f"byte order = {order}".encode()))
    (tmp_path / "x.bin").write_bytes(raw)
    (tmp_path / "x.hdr").write_bytes(header)
    out = to_hsi(tmp_path / "x.bin", tmp_path / "x.hsi")
    assert hsi_conform.open(out).read_bytes("data.envi") == raw
    (tmp_path / "e").mkdir()
    EnviConverter().write(HsiConverter().read(out), tmp_path / "e" / "y.hdr")
    assert (tmp_path / "e" / "y.img").read_bytes() == raw
    back = to_hsi(tmp_path / "e" / "y.hdr", tmp_path / "back.hsi")
    assert member_digests(back, directories=False) == member_digests(out, directories=False)


def test_goldens(tmp_path: Path) -> None:
    dataset = get_converter("envi").read(GOLDEN / "input" / "scene.hdr")
    out = HsiConverter().write(dataset, tmp_path / "scene.hsi")
    manifest = {"members": member_digests(out, directories=False), "notes": dataset.notes}
    expected_file = GOLDEN / "container.expected" / "manifest.json"
    if os.environ.get("HSI_REGEN_GOLDENS"):
        expected_file.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert manifest == json.loads(expected_file.read_text(encoding="utf-8"))
    assert_no_errors(out)
    copy = tmp_path / "copy"
    shutil.copytree(GOLDEN / "input", copy)
    assert sorted(p.name for p in copy.iterdir()) == ["scene.hdr", "scene.img"]


def test_can_read_is_cheap_and_negative_for_other_files(tmp_path: Path) -> None:
    (tmp_path / "x.hdr").write_bytes(b"not envi")
    (tmp_path / "x.img").write_bytes(b"")
    conv = EnviConverter()
    assert not conv.can_read(tmp_path / "x.hdr")
    assert not conv.can_read(tmp_path)
    assert not conv.can_read(tmp_path / "missing.hdr")
    assert parse_header(HDR).value("bands") == 3
