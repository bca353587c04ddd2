"""ENVI import of other tools' files: pairing by size, file types, gzip data, sidecars, unit spellings (issue 12)."""

from __future__ import annotations

import gc
import gzip
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.cli.main import main
from hsi_conform.converters.envi import EnviConverter, find_pair
from hsi_conform.converters.envi_sidecars import aux_fields
from hsi_conform.converters.hsi import HsiConverter
from hsi_conform.converters.migrate import iter_journal, migrate
from hsi_conform.errors import InputUnreadableError
from hsi_conform.testing.samples import write_sample_container
from tests._support import member_digests

HDR = ("ENVI\nsamples = 5\nlines = 4\nbands = 3\nheader offset = {offset}\nfile type = {ftype}\ndata type = 12\n"
       "interleave = bil\nbyte order = 0\n{extra}")
CUBE = np.arange(60, dtype="<u2").reshape(4, 3, 5) * 7
SIZE = CUBE.nbytes


def header(folder: Path, *, offset: int = 0, ftype: str = "ENVI Standard", extra: str = "",
           name: str = "x.hdr") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(HDR.format(offset=offset, ftype=ftype, extra=extra))
    return path


def data(path: Path, content: bytes = CUBE.tobytes()) -> Path:
    path.write_bytes(content)
    return path


def to_hsi(source: Path, dest: Path) -> hsi_conform.Container:
    HsiConverter().write(EnviConverter().read(source), dest)
    return hsi_conform.open(dest)


# -- pairing (issue 12 item 1) ---------------------------------------------------------------------------------

def test_the_candidate_of_the_headers_size_wins_over_the_extension_order(tmp_path: Path) -> None:
    hdr = header(tmp_path)
    data(tmp_path / "x.img", b"EHFA_HEADER_TAG" + bytes(1000))  # an unrelated file earlier in the order
    raw = data(tmp_path / "x.raw")
    pair = find_pair(hdr)
    assert pair is not None and pair.data == raw
    assert find_pair(raw) == pair
    assert find_pair(tmp_path / "x.img") is None  # not this header's data: no second pair
    assert np.array_equal(to_hsi(hdr, tmp_path / "x.hsi").cube, CUBE)


def test_the_order_breaks_ties_and_exact_beats_trailing_bytes(tmp_path: Path) -> None:
    hdr = header(tmp_path)
    data(tmp_path / "x.dat")
    data(tmp_path / "x.img")
    assert find_pair(hdr).data.name == "x.img"  # type: ignore[union-attr]
    data(tmp_path / "x.img", CUBE.tobytes() + b"\0")
    assert find_pair(hdr).data.name == "x.dat"  # type: ignore[union-attr]


def test_a_few_trailing_bytes_pair_a_file_many_do_not(tmp_path: Path) -> None:
    hdr = header(tmp_path)
    data(tmp_path / "x.img", CUBE.tobytes() + bytes(SIZE))  # as many bytes again as the cube: still its data
    assert find_pair(hdr) is not None
    data(tmp_path / "x.img", CUBE.tobytes() + bytes(SIZE + 1))
    assert find_pair(hdr) is None


def test_no_fitting_candidate_is_refused_naming_each_candidate(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    hdr = header(tmp_path)
    data(tmp_path / "x.img", bytes(7000))
    data(tmp_path / "x.raw", bytes(11))
    assert EnviConverter().can_read(hdr)
    with pytest.raises(InputUnreadableError) as info:
        EnviConverter().read(hdr)
    # the error's point is to name every candidate with its size, and the size the header needs
    assert all(part in str(info.value) for part in ("x.img (7000 bytes)", "x.raw (11 bytes)", f"{SIZE} bytes"))
    assert main(["convert", str(tmp_path / "x.img"), str(tmp_path / "out.hsi")]) == 3
    assert "x.raw (11 bytes)" in capsys.readouterr().err
    assert not (tmp_path / "out.hsi").exists()


def test_a_header_without_any_candidate_is_not_claimed(tmp_path: Path) -> None:
    hdr = header(tmp_path)
    assert not EnviConverter().can_read(hdr)
    assert main(["convert", str(hdr), str(tmp_path / "out.hsi")]) == 3


def test_migrate_makes_one_container_of_one_header(tmp_path: Path) -> None:
    src = tmp_path / "src"
    header(src, extra="wavelength units = nm\nwavelength = {400, 500, 600}\n")
    data(src / "x.img", b"EHFA_HEADER_TAG" + bytes(1000))
    data(src / "x.raw")
    summary = migrate(src, tmp_path / "dst")
    assert summary.exit_code == 0, summary.lines()
    entries = list(iter_journal(tmp_path / "dst"))
    assert [(e["source"], sorted(e["files"]), e["status"]) for e in entries] == [
        ("x.hdr", ["x.hdr", "x.raw"], "ok")]
    assert summary.unrecognised == ["x.img"]


def test_a_data_file_with_its_own_header_is_not_another_headers(tmp_path: Path) -> None:
    src = tmp_path / "src"
    header(src, extra="wavelength = {400, 500, 600}\n")
    header(src, extra="wavelength = {401, 501, 601}\n", name="x.img.hdr")
    img = data(src / "x.img")
    assert find_pair(src / "x.hdr") is None
    assert find_pair(img) == find_pair(src / "x.img.hdr")  # GDAL's precedence, from either side
    migrate(src, tmp_path / "dst")
    assert [e["source"] for e in iter_journal(tmp_path / "dst")] == ["x.img.hdr"]


def test_an_export_pairs_with_its_img_whatever_its_size(tmp_path: Path) -> None:
    src = write_sample_container(tmp_path / "s.hsi")
    dataset = HsiConverter().read(src)
    dataset.cube_raw = bytes(7)  # a truncated cube: nonconformant, still carried byte for byte
    (tmp_path / "out").mkdir()
    hdr = EnviConverter().write(dataset, tmp_path / "out" / "x.hdr")
    data(tmp_path / "out" / "x.raw")  # a file of the header's size does not displace the export's own
    back = tmp_path / "back.hsi"
    HsiConverter().write(EnviConverter().read(hdr), back)
    assert hsi_conform.open(back).read_bytes("data.envi") == bytes(7)
    assert member_digests(back, directories=False)["data.hdr"] == member_digests(src, directories=False)["data.hdr"]


# -- file type and compression (issue 12 item 2) ---------------------------------------------------------------

@pytest.mark.parametrize("ftype", ["TIFF", "ENVI Spectral Library", "Hypercloud", "ENVI Meta File"])
def test_file_types_that_are_not_raw_pixels_are_refused(tmp_path: Path, ftype: str) -> None:
    hdr = header(tmp_path, ftype=ftype)
    data(tmp_path / "x.img")
    with pytest.raises(InputUnreadableError, match=r"\[file type\]"):
        EnviConverter().read(hdr)
    assert main(["convert", str(hdr), str(tmp_path / "out.hsi")]) == 3


def test_the_file_type_is_refused_before_the_pairing_is(tmp_path: Path) -> None:
    hdr = header(tmp_path, ftype="TIFF")
    data(tmp_path / "x.bin", bytes(10 * SIZE))  # a GeoTIFF of another size than the header's cube
    with pytest.raises(InputUnreadableError, match=r"\[file type\]"):
        EnviConverter().read(hdr)


@pytest.mark.parametrize("ftype", ["ENVI", "ENVI Standard", "ENVI Classification", "PCA"])
def test_the_containers_own_file_types_are_imported(tmp_path: Path, ftype: str) -> None:
    hdr = header(tmp_path, ftype=ftype)
    data(tmp_path / "x.img")
    assert np.array_equal(EnviConverter().read(hdr).cube, CUBE)


def test_gzip_data_is_decompressed_and_the_change_listed(tmp_path: Path) -> None:
    hdr = header(tmp_path, extra="file compression = 1\n")
    data(tmp_path / "x.img", b"not gzip" + bytes(SIZE))  # the gzip magic decides, not the order
    data(tmp_path / "x.dat", gzip.compress(CUBE.tobytes()))
    dataset = EnviConverter().read(hdr)
    assert np.array_equal(dataset.cube, CUBE)
    assert dataset.header.get("file compression") is None
    assert any("gzip" in note and "x.dat" in note for note in dataset.notes)
    HsiConverter().write(dataset, tmp_path / "x.hsi")
    c = hsi_conform.open(tmp_path / "x.hsi")
    assert c.read_bytes("data.envi") == CUBE.tobytes()
    assert c.read_bytes("Metadata/x.hdr") == hdr.read_bytes()


def test_gzip_data_keeps_an_embedded_header_and_trailing_bytes(tmp_path: Path) -> None:
    hdr = header(tmp_path, offset=16, extra="file compression = 1\n")
    stream = b"H" * 16 + CUBE.tobytes() + b"\n"
    data(tmp_path / "x.img", gzip.compress(stream))
    dataset = EnviConverter().read(hdr)
    assert np.array_equal(dataset.cube, CUBE)
    HsiConverter().write(dataset, tmp_path / "x.hsi")
    assert hsi_conform.open(tmp_path / "x.hsi").read_bytes("data.envi") == stream


@pytest.mark.parametrize(("content", "extra"), [
    (gzip.compress(CUBE.tobytes()[:-1], mtime=0), "file compression = 1\n"),    # too short
    (gzip.compress(CUBE.tobytes() * 3, mtime=0), "file compression = 1\n"),     # more than twice the cube
    (gzip.compress(CUBE.tobytes(), mtime=0)[:40], "file compression = 1\n"),    # cut stream
    (gzip.compress(CUBE.tobytes(), mtime=0), "file compression = 2\n"),         # no such compression
], ids=["too-short", "too-long", "cut-stream", "unknown-compression"])  # ids: the same in every test process
def test_bad_gzip_data_is_refused(tmp_path: Path, content: bytes, extra: str) -> None:
    hdr = header(tmp_path, extra=extra)
    data(tmp_path / "x.img", content)
    assert main(["convert", str(hdr), str(tmp_path / "out.hsi")]) == 3
    assert not (tmp_path / "out.hsi").exists()


def test_gzip_data_is_streamed_and_its_scratch_file_removed(tmp_path: Path) -> None:
    big = 48 << 20
    text = (f"ENVI\nsamples = {big // 1024}\nlines = 1024\nbands = 1\nheader offset = 0\nfile type = ENVI Standard\n"
            "data type = 1\ninterleave = bsq\nbyte order = 0\nfile compression = 1\n")
    (tmp_path / "big.hdr").write_text(text)
    with gzip.open(tmp_path / "big.img", "wb") as f:
        for _ in range(big >> 20):
            f.write(bytes(1 << 20))
    tracemalloc.start()
    try:
        dataset = EnviConverter().read(tmp_path / "big.hdr")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < big // 2
    scratch = Path(dataset.cube.filename)  # type: ignore[attr-defined]
    assert scratch.is_file() and scratch.stat().st_size == big
    del dataset
    gc.collect()
    assert not scratch.exists()


# -- sidecars (issue 12 item 5) --------------------------------------------------------------------------------

AUX = """<PAMDataset>
  <PAMRasterBand band="1"><NoDataValue>-1</NoDataValue><Metadata>
    <MDI key="wavelength">450</MDI><MDI key="wavelength_units">Nanometers</MDI></Metadata></PAMRasterBand>
  <PAMRasterBand band="2"><NoDataValue>-1</NoDataValue><Metadata>
    <MDI key="wavelength">550</MDI><MDI key="wavelength_units">Nanometers</MDI></Metadata></PAMRasterBand>
  <PAMRasterBand band="3"><NoDataValue>-1</NoDataValue><Metadata>
    <MDI key="wavelength">650</MDI><MDI key="wavelength_units">Nanometers</MDI></Metadata></PAMRasterBand>
</PAMDataset>
"""


def test_sidecars_are_kept_and_the_aux_xml_fills_what_the_header_lacks(tmp_path: Path) -> None:
    hdr = header(tmp_path)
    img = data(tmp_path / "x.img")
    (tmp_path / "x.img.aux.xml").write_text(AUX)
    (tmp_path / "x.sta").write_bytes(b"AMIN\0\0\0\2")
    pair = find_pair(hdr)
    assert pair is not None and {p.name for p in pair.aux} == {"x.img.aux.xml", "x.sta"}
    assert set(EnviConverter().source_files(hdr)) == {hdr, img, *pair.aux}
    c = to_hsi(hdr, tmp_path / "x.hsi")
    assert c.read_bytes("Metadata/x.sta") == (tmp_path / "x.sta").read_bytes()
    assert c.read_bytes("Metadata/x.img.aux.xml") == AUX.encode()
    assert c.header.value("wavelength") == (450.0, 550.0, 650.0)
    assert c.header.get("wavelength units").value_raw == "Nanometers"
    assert c.header.value("data ignore value") == -1.0


def test_gdal_reads_the_aux_xml_wavelengths_as_the_import_does(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    header(tmp_path)
    img = data(tmp_path / "x.img")
    (tmp_path / "x.img.aux.xml").write_text(AUX)
    with rasterio.open(img) as src:
        items = [src.tags(b) for b in (1, 2, 3)]
    c = to_hsi(tmp_path / "x.hdr", tmp_path / "x.hsi")
    assert list(c.header.value("wavelength")) == [float(i["wavelength"]) for i in items]
    assert c.header.get("wavelength units").value_raw == items[0]["wavelength_units"]


def test_the_header_wins_over_the_aux_xml(tmp_path: Path) -> None:
    hdr = header(tmp_path, extra="wavelength = {1, 2, 3}\n")
    data(tmp_path / "x.img")
    (tmp_path / "x.img.aux.xml").write_text(AUX)
    dataset = EnviConverter().read(hdr)
    assert dataset.header.value("wavelength") == (1.0, 2.0, 3.0)
    assert dataset.header.get("wavelength units") is None  # the sidecar's unit is of its own wavelengths


def test_a_broken_aux_xml_is_kept_not_used(tmp_path: Path) -> None:
    hdr = header(tmp_path)
    data(tmp_path / "x.img")
    (tmp_path / "x.img.aux.xml").write_text("<PAMDataset><PAMRasterBand")
    dataset = EnviConverter().read(hdr)
    assert "Metadata/x.img.aux.xml" in dataset.members
    assert dataset.header.get("wavelength") is None


def test_aux_fields_from_the_envi_domain_and_the_imagery_domain() -> None:
    envi = ('<PAMDataset><Metadata domain="ENVI"><MDI key="wavelength">{0.45, 0.55}</MDI>'
            '<MDI key="wavelength_units">micron</MDI><MDI key="data_ignore_value">0</MDI></Metadata></PAMDataset>')
    assert aux_fields(envi.encode(), 2) == {"wavelength": ["0.45", "0.55"], "wavelength units": "Micrometers",
                                            "data ignore value": "0"}
    assert aux_fields(envi.encode(), 3) == {"data ignore value": "0"}  # not one value per band
    imagery = "".join(f'<PAMRasterBand band="{b}"><Metadata domain="IMAGERY">'
                      f'<MDI key="CENTRAL_WAVELENGTH_UM">{w}</MDI><MDI key="FWHM_UM">0.010</MDI></Metadata>'
                      f"</PAMRasterBand>" for b, w in ((1, "0.450"), (2, "0.550")))
    xml = f"<PAMDataset>{imagery}</PAMDataset>".encode()
    assert aux_fields(xml, 2) == {"wavelength": ["0.450", "0.550"], "wavelength units": "Micrometers",
                                  "fwhm": ["0.010", "0.010"]}
    assert aux_fields(xml, 2, "Nanometers") == {"wavelength": ["450.0", "550.0"], "wavelength units": "Nanometers",
                                                "fwhm": ["10.0", "10.0"]}


# -- wavelength units (issue 12 item 8) ------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "kept"), [("micron", "Micrometers"), ("\u00b5m", "Micrometers"),
                                               ("\u00c5", "Angstroms"), ("nanometer", "Nanometers"),
                                               ("nanometers", "nanometers"), ("cm", "cm")])
def test_unit_spellings_are_written_as_envis(tmp_path: Path, written: str, kept: str) -> None:
    hdr = header(tmp_path, extra=f"wavelength units = {written}\nwavelength = {{1, 2, 3}}\n")
    data(tmp_path / "x.img")
    dataset = EnviConverter().read(hdr)
    assert dataset.header.get("wavelength units").value_raw == kept  # type: ignore[union-attr]
    assert any(written in note for note in dataset.notes) == (written != kept)
