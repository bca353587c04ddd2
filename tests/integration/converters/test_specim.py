"""The ``specim`` converter: SPECIM IQ and Lumo folders <-> container, byte-exact restore, header normalisation."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hsi_conform
from hsi_conform.converters import convert, detect, get_converter
from hsi_conform.converters.base import payload_bytes
from hsi_conform.converters.hsi import HsiConverter, write_dataset
from hsi_conform.converters.specim.converter import SpecimConverter, read_specim, write_specim
from hsi_conform.converters.specim.export import SpecimExportWarning
from hsi_conform.converters.specim.header import acquisition_time, infer_wavelength_units, normalise_header
from hsi_conform.converters.specim.table import specim_table
from hsi_conform.errors import ConfigError, ContainerError, HsiConformError, InputUnreadableError
from hsi_conform.header import parse_header
from hsi_conform.testing.samples import write_sample_container
from hsi_conform.testing.specim_samples import CAMERAS, write_iq_folder, write_lumo_folder
from tests._paths import FIXTURES
from tests._support import assert_no_errors

CONVERT = FIXTURES / "convert"
MANIFEST = "Metadata/specim.json"


def tree(root: Path) -> dict[str, str]:
    """Return ``relative path -> sha256`` of every file, and ``path/ -> ''`` of every directory."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        out[rel + "/" if p.is_dir() else rel] = "" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def to_container(folder: Path, dest: Path) -> Path:
    return write_dataset(SpecimConverter().read(folder), dest)


def round_trip(folder: Path, tmp: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    container = to_container(folder, tmp / "c.hsi")
    assert_no_errors(container)
    return SpecimConverter().write(HsiConverter().read(container), tmp / "back" / folder.name)


# -- round trips -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("white_dark", [False, True])
def test_iq_round_trip_is_byte_identical(tmp_path: Path, white_dark: bool) -> None:
    src = write_iq_folder(tmp_path / "in", white_dark=white_dark)
    before = tree(src)
    back = round_trip(src, tmp_path)
    assert tree(back) == before
    assert tree(src) == before  # the source is never modified
    assert (back / ".validated").is_file()


@pytest.mark.parametrize("camera", sorted(CAMERAS))
def test_lumo_round_trip_is_byte_identical(tmp_path: Path, camera: str) -> None:
    src = write_lumo_folder(tmp_path / "in", camera=camera)
    before = tree(src)
    back = round_trip(src, tmp_path)
    assert tree(back) == before
    assert tree(src) == before


def test_round_trip_through_convert_api_and_mtimes(tmp_path: Path) -> None:
    src = write_lumo_folder(tmp_path / "in")
    raw = src / "capture" / f"{src.name}.raw"
    os.utime(raw, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    (src / "results").mkdir()  # an empty directory is part of the tree too
    container = convert(src, tmp_path / "c.hsi")
    back = convert(container, tmp_path / "back", to_format="specim")
    assert tree(back) == tree(src)
    assert (back / "capture" / raw.name).stat().st_mtime_ns == 1_600_000_000_000_000_000


def test_folder_to_folder_without_container(tmp_path: Path) -> None:
    src = write_iq_folder(tmp_path / "in")
    back = write_specim(read_specim(src), tmp_path / "out")
    assert tree(back) == tree(src)


# -- import contents -------------------------------------------------------------------------------------------
def test_raw_bytes_are_data_envi_and_originals_are_kept(tmp_path: Path) -> None:
    src = write_iq_folder(tmp_path / "in")
    got = members(to_container(src, tmp_path / "c.hsi"))
    rec = src.name
    assert got["data.envi"] == (src / "capture" / f"{rec}.raw").read_bytes()
    assert f"Metadata/specim/capture/{rec}.raw" not in got  # stored once, as data.envi
    for p in src.rglob("*"):
        rel = p.relative_to(src).as_posix()
        if p.is_file() and rel != f"capture/{rec}.raw":
            assert got[f"Metadata/specim/{rel}"] == p.read_bytes()
    manifest = json.loads(got[MANIFEST])
    listed = {f["path"]: f for f in manifest["files"]}
    assert listed[f"capture/{rec}.raw"]["member"] == "data.envi"
    assert listed[f"capture/{rec}.raw"]["sha256"] == hashlib.sha256(got["data.envi"]).hexdigest()
    assert set(manifest["dirs"]) == {"capture", "metadata", "results"}


def test_iq_one_line_references_are_copied(tmp_path: Path) -> None:
    src = write_iq_folder(tmp_path / "in", white_dark=True)
    got = members(to_container(src, tmp_path / "c.hsi"))
    for prefix, name in (("DARKREF_", "black"), ("WHITEREF_", "white"), ("WHITEDARKREF_", "whitedark")):
        assert got[f"Reference/{name}.envi"] == (src / "capture" / f"{prefix}{src.name}.raw").read_bytes()
        header = parse_header(got[f"Reference/{name}.hdr"])
        assert header.value("lines") == 1
        assert header.get("file type").value_raw == "ENVI Standard"  # type: ignore[union-attr]


def test_lumo_multi_line_references_are_averaged(tmp_path: Path) -> None:
    src = write_lumo_folder(tmp_path / "in", lines=6, samples=5, bands=7, reference_lines=5)
    path = to_container(src, tmp_path / "c.hsi")
    got = members(path)
    for prefix, name in (("DARKREF_", "black"), ("WHITEREF_", "white")):
        original = np.frombuffer((src / "capture" / f"{prefix}{src.name}.raw").read_bytes(), "<u2").reshape(5, 7, 5)
        expected = original.astype(np.float64).mean(axis=0, keepdims=True).astype("<f4")
        stored = np.frombuffer(got[f"Reference/{name}.envi"], "<f4").reshape(1, 7, 5)
        assert stored.view("<u4").tolist() == expected.view("<u4").tolist()
        assert not np.array_equal(stored, np.round(stored))  # the mean kept its fraction
        header = parse_header(got[f"Reference/{name}.hdr"])
        assert (header.value("lines"), header.value("samples"), header.value("bands")) == (1, 5, 7)
        assert int(header.value("data type")) == 4
        assert any(line.text.startswith("; reference aggregated") for line in header.lines)
        assert got[f"Metadata/specim/capture/{prefix}{src.name}.raw"] == original.tobytes()
    with hsi_conform.open(path) as c:
        assert c.reference("black").shape == (1, 7, 5)


def test_mean_over_lines_handles_every_interleave() -> None:
    from hsi_conform.converters.specim.refs import mean_over_lines
    from hsi_conform.fields import Interleave

    bil = np.arange(4 * 3 * 2, dtype="<u2").reshape(4, 3, 2)
    expected = bil.mean(axis=0)
    for il, array in ((Interleave.BIL, bil), (Interleave.BSQ, bil.transpose(1, 0, 2)),
                      (Interleave.BIP, bil.transpose(0, 2, 1))):
        mean = mean_over_lines(np.ascontiguousarray(array), il, np.dtype("<f4"))
        as_bil = {Interleave.BIL: mean, Interleave.BSQ: mean.transpose(1, 0, 2),
                  Interleave.BIP: mean.transpose(0, 2, 1)}[il]
        assert np.array_equal(as_bil[0], expected.astype("<f4"))


# -- header normalisation --------------------------------------------------------------------------------------
def test_crlf_mixed_case_header_is_normalised(tmp_path: Path) -> None:
    src = write_lumo_folder(tmp_path / "in", camera="SWIR")
    raw_header = (src / "capture" / f"{src.name}.hdr").read_bytes()
    assert b"\r\n" in raw_header and b"Wavelength = {" in raw_header and b"Start Time" in raw_header
    ds = read_specim(src)
    text = ds.header.to_bytes()
    assert b"\r" not in text
    keys = ds.header.keys()
    assert all(k == k.lower() for k in keys)
    assert "scb temperature channel4" in keys and "wavelength" in keys
    assert ds.header.get("file type").value_raw == "ENVI Standard"  # type: ignore[union-attr]
    assert "temperature" not in keys and "sensor type" not in keys
    assert ds.header.get("sensor temperatures").items == ("147.00", "28.19", "21.76", "29.76", "22.26")  # type: ignore[union-attr]
    assert ds.header.get("device").value_raw == CAMERAS["SWIR"].sensor_type  # type: ignore[union-attr]
    for vendor in ("tint", "fps_qpf", "himg", "sensorid", "calibration pack", "errors", "swir temperature"):
        assert vendor in keys
    assert ds.header.get("measurement").value_raw == src.name  # type: ignore[union-attr]
    assert ds.header.value("wavelength") == parse_header(raw_header).value("wavelength")


def _header(lines: list[str]) -> Any:
    return parse_header(("\r\n".join(["ENVI", "samples = 1", "lines = 1", "bands = 3", "data type = 12",
                                      "interleave = bil", "byte order = 0", "file type = ENVI", *lines]) + "\r\n")
                        .encode())


@pytest.mark.parametrize(("lines", "expected"), [
    (["acquisition date = DATE(yyyy-mm-dd): 2019-01-29", "Start Time = UTC TIME: 14:46:16"], "2019-01-29T14:46:16Z"),
    (["acquisition date = DATE(yyyy-mm-dd): 2018-01-24"], "2018-01-24"),
    (["acquisition date = DATE(dd-mm-yyyy): 24-01-2018", "Start Time = UTC TIME: 22:47:35.25"],
     "2018-01-24T22:47:35.25Z"),
    (["acquisition date = 03-02-2021"], "2021-02-03"),
    (["acquisition date = 18-08-2022", "start time = TIME: 09:05:01"], "2022-08-18T09:05:01"),
    (["Acquisition Date = 03.02.2021"], "2021-02-03"),
    (["acquisition date = 2021/02/03"], "2021-02-03"),
])
def test_vendor_dates_become_iso(lines: list[str], expected: str) -> None:
    table = specim_table()
    header, _ = normalise_header(_header(lines), table)
    assert header.get("acquisition time").value_raw == expected  # type: ignore[union-attr]
    assert header.get("acquisition date") is not None  # the vendor key is kept
    hsi_conform.header.values.parse_date(expected)


@pytest.mark.parametrize("value", ["31-02-2021", "sometime in 2021", "DATE(yyyy-mm-dd): 2021-13-01"])
def test_unknown_or_impossible_dates_give_a_note_not_a_field(value: str) -> None:
    header, notes = normalise_header(_header([f"acquisition date = {value}"]), specim_table())
    assert header.get("acquisition time") is None
    assert notes
    assert acquisition_time(_header([f"acquisition date = {value}"]), specim_table())[0] is None


def test_an_invalid_acquisition_time_is_kept_as_a_vendor_key() -> None:
    header, _ = normalise_header(_header(["acquisition time = 29.01.2019 14:46", "acquisition date = 03-02-2021"]),
                                 specim_table())
    assert header.get("acquisition time").value_raw == "2021-02-03"  # type: ignore[union-attr]
    assert header.get("specim acquisition time").value_raw == "29.01.2019 14:46"  # type: ignore[union-attr]


@pytest.mark.parametrize(("waves", "unit"), [
    ("{397.32, 600.1, 1003.58}", "Nanometers"),
    ("{0.4, 1.2, 2.5}", "Micrometers"),
    ("{0.01, 0.02, 0.03}", None),
])
def test_wavelength_units_are_inferred_and_marked(waves: str, unit: str | None) -> None:
    table = specim_table()
    vendor = _header([f"Wavelength = {waves}"])
    assert infer_wavelength_units(vendor, table) == unit
    header, notes = normalise_header(vendor, table)
    entry = header.get("wavelength units")
    assert notes
    if unit is None:
        assert entry is None
        return
    assert entry is not None and entry.value_raw == unit
    lines = header.to_text().splitlines()
    at = lines.index(f"wavelength units = {unit}")
    assert lines[at - 1] == table.unit_comment
    assert lines[at - 2].startswith("wavelength = ")


def test_existing_units_are_kept_or_respelled() -> None:
    table = specim_table()
    kept, notes = normalise_header(_header(["wavelength = {400, 500, 600}", "wavelength units = nm"]), table)
    assert kept.get("wavelength units").value_raw == "nm"  # type: ignore[union-attr]
    assert table.unit_comment not in kept.to_text() and not notes
    fixed, _ = normalise_header(_header(["wavelength = {400, 500, 600}", "Wavelength Units = Nanometer"]), table)
    assert fixed.get("wavelength units").value_raw == "Nanometers"  # type: ignore[union-attr]


def test_lumo_folder_with_units_needs_no_inference(tmp_path: Path) -> None:
    ds = read_specim(write_lumo_folder(tmp_path, units="Nanometers"))
    assert specim_table().unit_comment not in ds.header.to_text()
    assert not any("inferred" in n for n in ds.notes)


def test_rename_conflict_uses_the_vendor_prefix() -> None:
    header, _ = normalise_header(_header(["device = rig-7", "sensor type = SPECIM IQ"]), specim_table())
    assert header.get("device").value_raw == "rig-7"  # type: ignore[union-attr]
    assert header.get("specim sensor type").value_raw == "SPECIM IQ"  # type: ignore[union-attr]
    assert header.get("sensor type") is None


# -- detection -------------------------------------------------------------------------------------------------
def test_detection(tmp_path: Path) -> None:
    iq = write_iq_folder(tmp_path)
    lumo = write_lumo_folder(tmp_path, camera="FX17")
    for folder in (iq, lumo):
        assert isinstance(detect(folder), SpecimConverter)
        assert SpecimConverter().can_read(folder)
    assert isinstance(get_converter("specim"), SpecimConverter)
    container = write_sample_container(tmp_path / "s.hsi")
    assert not SpecimConverter().can_read(container)
    assert not SpecimConverter().can_read(iq / "capture")
    assert not SpecimConverter().can_read(iq / "capture" / f"{iq.name}.hdr")
    empty = tmp_path / "empty" / "capture"
    empty.mkdir(parents=True)
    assert not SpecimConverter().can_read(empty.parent)
    # a Lumo folder without references and without the IQ markers is not recognised
    for p in lumo.glob("capture/*REF_*"):
        p.unlink()
    assert not SpecimConverter().can_read(lumo)


# -- errors ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("change", ["truncate", "extend", "garbage-header"])
def test_corrupt_recording_raises_a_documented_error(tmp_path: Path, change: str) -> None:
    src = write_lumo_folder(tmp_path)
    raw = src / "capture" / f"{src.name}.raw"
    if change == "truncate":
        raw.write_bytes(raw.read_bytes()[:-3])
    elif change == "extend":
        raw.write_bytes(raw.read_bytes() + b"\0\0")
    else:
        (src / "capture" / f"{src.name}.hdr").write_bytes(b"\x89PNG not a header")
    with pytest.raises(InputUnreadableError):
        SpecimConverter().read(src)


def test_corrupt_reference_raises_a_documented_error(tmp_path: Path) -> None:
    src = write_lumo_folder(tmp_path)
    ref = src / "capture" / f"DARKREF_{src.name}.raw"
    ref.write_bytes(ref.read_bytes()[:10])
    with pytest.raises(HsiConformError):
        SpecimConverter().read(src)


def test_restore_refuses_an_edited_cube(tmp_path: Path) -> None:
    ds = read_specim(write_iq_folder(tmp_path / "in"))
    ds.cube_raw = None
    ds.cube = np.zeros_like(ds.cube)
    with pytest.raises(ContainerError):
        write_specim(ds, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.tmp-*"))


@pytest.mark.parametrize("path", ["../evil.txt", "/etc/evil", "a/../../b", "C:/x", "a\\b"])
def test_restore_refuses_unsafe_manifest_paths(tmp_path: Path, path: str) -> None:
    ds = read_specim(write_lumo_folder(tmp_path / "in"))
    manifest = json.loads(payload_bytes(ds.members[MANIFEST]))
    manifest["files"][0]["path"] = path
    ds.members[MANIFEST] = json.dumps(manifest).encode()
    with pytest.raises(ContainerError):
        write_specim(ds, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def test_export_options_and_destination(tmp_path: Path) -> None:
    ds = read_specim(write_iq_folder(tmp_path / "in"))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_bytes(b"")
    with pytest.raises(ConfigError):
        write_specim(ds, busy)
    with pytest.raises(ConfigError):
        write_specim(ds, tmp_path / "o", mode="zip")
    with pytest.raises(ConfigError):
        SpecimConverter().write(ds, tmp_path / "o", {"colour": True})
    (tmp_path / "empty").mkdir()
    assert tree(write_specim(ds, tmp_path / "empty")) == tree(tmp_path / "in" / "2021-02-03_005")


# -- export of a container that did not come from SPECIM -------------------------------------------------------
def test_non_specim_container_becomes_a_lumo_folder(tmp_path: Path) -> None:
    container = write_sample_container(tmp_path / "s.hsi")
    ds = HsiConverter().read(container)
    with pytest.raises(ConfigError):
        write_specim(ds, tmp_path / "r", mode="restore")
    with pytest.warns(SpecimExportWarning, match="thumbnail.jpg"):
        out = write_specim(ds, tmp_path / "lumo")
    got = members(container)
    assert tree(out).keys() == {"capture/", "capture/sample-0001.hdr", "capture/sample-0001.raw",
                                "capture/DARKREF_sample-0001.hdr", "capture/DARKREF_sample-0001.raw",
                                "capture/WHITEREF_sample-0001.hdr", "capture/WHITEREF_sample-0001.raw"}
    assert (out / "capture" / "sample-0001.raw").read_bytes() == got["data.envi"]
    assert (out / "capture" / "sample-0001.hdr").read_bytes() == got["data.hdr"]
    assert (out / "capture" / "DARKREF_sample-0001.raw").read_bytes() == got["Reference/black.envi"]
    assert (out / "capture" / "WHITEREF_sample-0001.hdr").read_bytes() == got["Reference/white.hdr"]
    # and the synthesised folder imports again, with the same cube bytes
    assert SpecimConverter().can_read(out)
    again = members(to_container(out, tmp_path / "again.hsi"))
    assert again["data.envi"] == got["data.envi"]
    assert_no_errors(tmp_path / "again.hsi")


def test_synthesise_mode_ignores_the_manifest(tmp_path: Path) -> None:
    ds = read_specim(write_lumo_folder(tmp_path / "in"))
    with pytest.warns(SpecimExportWarning):
        out = write_specim(ds, tmp_path / "out", mode="synthesise")
    assert (out / "capture" / "FX10e_sample_001.raw").read_bytes() == payload_bytes(ds.cube_raw)  # type: ignore[arg-type]
    assert not (out / "metadata").exists()


# -- goldens ---------------------------------------------------------------------------------------------------
GOLDENS = {"specim-iq": lambda root: write_iq_folder(root, white_dark=True),
           "specim-lumo-fx10e": lambda root: write_lumo_folder(root, camera="FX10e", lines=4, samples=5, bands=6,
                                                               reference_lines=3)}


def _golden_members(case: Path, tmp: Path) -> dict[str, Any]:
    (folder,) = (case / "input").iterdir()
    got = members(to_container(folder, tmp / "c.hsi"))
    return {n: hashlib.sha256(b).hexdigest() for n, b in got.items() if n != MANIFEST}


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden_fixture(tmp_path: Path, name: str) -> None:
    case = CONVERT / name
    if os.environ.get("HSI_REGENERATE_FIXTURES"):
        shutil.rmtree(case / "input", ignore_errors=True)
        GOLDENS[name](case / "input")
        (folder,) = (case / "input").iterdir()
        (case / "data.hdr.expected").write_bytes(read_specim(folder).header.to_bytes())
        expected = _golden_members(case, tmp_path)
        (case / "members.expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    (folder,) = (case / "input").iterdir()
    generated = GOLDENS[name](tmp_path / "gen")
    assert tree(generated) == tree(folder)  # the generator still writes the fixture
    assert read_specim(folder).header.to_bytes() == (case / "data.hdr.expected").read_bytes()
    assert _golden_members(case, tmp_path) == json.loads((case / "members.expected.json").read_text())
    back = round_trip(folder, tmp_path / "rt")
    assert tree(back) == tree(folder)


def test_source_files_lists_the_whole_folder(tmp_path: Path) -> None:
    src = write_iq_folder(tmp_path)
    listed = {p.relative_to(src).as_posix() for p in SpecimConverter().source_files(src)}
    assert listed == {k for k in tree(src) if not k.endswith("/")}


# -- the manifest last (spec/specim-mapping.md#manifest-last) --------------------------------------------------
def test_the_manifest_comes_after_the_members_it_digests_and_equals_the_hashed_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hsi_conform.converters import digested

    ds = read_specim(write_lumo_folder(tmp_path / "in", name="rec"))
    from_files = payload_bytes(ds.members[MANIFEST])  # every original hashed from its file

    def no_second_pass(path: Path) -> str:
        raise AssertionError(f"{path} was read again for its digest")

    monkeypatch.setattr(digested, "file_sha256", no_second_pass)  # the writer's copies give every digest
    container = write_dataset(ds, tmp_path / "c.hsi")
    with zipfile.ZipFile(container) as z:
        offsets = {i.filename: i.header_offset for i in z.infolist()}
        assert z.read(MANIFEST) == from_files
    manifest = json.loads(from_files)
    assert all(offsets[f["member"]] < offsets[MANIFEST] for f in manifest["files"])
    root = tmp_path / "in" / "rec"
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {
        f["path"]: hashlib.sha256((root / f["path"]).read_bytes()).hexdigest() for f in manifest["files"]}


def test_a_cube_replaced_before_writing_is_not_digested_from_its_copy(tmp_path: Path) -> None:
    ds = read_specim(write_iq_folder(tmp_path / "in"))
    ds.cube_raw = None
    ds.cube = np.array(ds.cube) ^ 1  # not the raw file any more: the manifest keeps the file's digest
    container = write_dataset(ds, tmp_path / "c.hsi")
    with pytest.raises(ContainerError, match="sha256"):
        write_specim(HsiConverter().read(container), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_original_that_changes_after_reading_is_caught_on_restore(tmp_path: Path) -> None:
    folder = write_lumo_folder(tmp_path / "in", name="rec")
    ds = read_specim(folder)
    log = next(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".raw")
    log.write_bytes(bytes(b ^ 0xFF for b in log.read_bytes()))  # same size, other bytes
    container = write_dataset(ds, tmp_path / "c.hsi")  # the digest is that of the bytes copied
    back = SpecimConverter().write(HsiConverter().read(container), tmp_path / "back" / "rec")
    assert (back / log.relative_to(folder)).read_bytes() == log.read_bytes()
