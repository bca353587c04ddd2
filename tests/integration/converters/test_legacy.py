from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.converters.hsi import HsiConverter
from hsi_conform.converters.legacy import LegacyConverter, QuantizationError, choose_scale, quantize_dataset
from hsi_conform.errors import ConfigError
from tests._support import assert_no_errors

HDR = ("ENVI\ndescription = {processed reflectance}\nsamples = 6\nlines = 5\nbands = 4\nheader offset = 0\n"
       "file type = ENVI Standard\ndata type = 4\ninterleave = bsq\nbyte order = 0\nwavelength units = nm\n"
       "wavelength = {400, 500, 600, 700}\n")


def reflectance(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((4, 5, 6)) * 1.2 - 0.05).astype("<f4")


def make_legacy(folder: Path, cube: np.ndarray, header: str = HDR) -> Path:
    folder.mkdir(parents=True)
    (folder / "scan.dat").write_bytes(cube.tobytes())
    (folder / "scan.hdr").write_text(header)
    (folder / "scan.log").write_bytes(b"VEsolve export log\r\n")
    (folder / "settings").mkdir()
    (folder / "settings" / "calibration.xml").write_bytes(b"<cal gain='1.0'/>\n")
    return folder


def test_detects_a_folder_with_one_float_pair_only(tmp_path: Path) -> None:
    folder = make_legacy(tmp_path / "ds", reflectance())
    conv = LegacyConverter()
    assert conv.can_read(folder)
    assert not conv.can_read(folder / "scan.hdr")  # single files are the envi converter's
    (tmp_path / "int").mkdir()
    (tmp_path / "int" / "a.img").write_bytes(bytes(240))
    (tmp_path / "int" / "a.hdr").write_text(HDR.replace("data type = 4", "data type = 12"))
    assert not conv.can_read(tmp_path / "int")


def test_float_data_verbatim_and_every_side_file_kept(tmp_path: Path) -> None:
    folder = make_legacy(tmp_path / "ds", reflectance())
    dataset = LegacyConverter().read(folder)
    out = HsiConverter().write(dataset, tmp_path / "ds.hsi")
    c = hsi_conform.open(out)
    assert c.read_bytes("data.envi") == (folder / "scan.dat").read_bytes()
    for rel in ("scan.hdr", "scan.log", "settings/calibration.xml"):
        assert c.read_bytes(f"Metadata/legacy/{rel}") == (folder / rel).read_bytes()
    assert "Metadata/legacy/scan.dat" not in c
    assert_no_errors(out)
    assert sorted(p.name for p in LegacyConverter().source_files(folder)) == [
        "calibration.xml", "scan.dat", "scan.hdr", "scan.log"]


@pytest.mark.parametrize("target", ["int16", "uint16"])
def test_quantisation_meets_the_reported_error_bound(tmp_path: Path, target: str) -> None:
    cube = np.abs(reflectance()) if target == "uint16" else reflectance()
    cube.flat[0] = -0.0
    folder = make_legacy(tmp_path / "ds", cube)
    quantised = LegacyConverter().read(folder, {"quantize": target})
    assert len(quantised.notes) == len(LegacyConverter().read(folder).notes) + 1
    dataset = LegacyConverter().read(folder)
    result = quantize_dataset(dataset, target)
    q = np.asarray(dataset.cube)
    assert q.dtype == np.dtype("<i2" if target == "int16" else "<u2")
    scale = dataset.header.value("reflectance scale factor")
    error = np.abs(q.astype(np.float64) / scale - cube.astype(np.float64)).max()
    assert scale == result.scale
    assert error <= result.max_abs_error * (1 + 1e-9)
    assert result.max_abs_error <= result.bound == 0.5 / scale
    assert result.clipped == 0
    assert int(dataset.header.value("data type")) == (2 if target == "int16" else 12)
    out = HsiConverter().write(dataset, tmp_path / "q.hsi")
    assert_no_errors(out)
    assert np.array_equal(np.asarray(hsi_conform.open(out).cube), q)


def test_uint16_clips_negative_values_and_counts_them(tmp_path: Path) -> None:
    cube = reflectance()
    negatives = int(np.count_nonzero(np.rint(cube * 1000) < 0))
    dataset = LegacyConverter().read(make_legacy(tmp_path / "ds", cube))
    result = quantize_dataset(dataset, "uint16")
    assert negatives > 0
    assert result.clipped == int(np.count_nonzero(np.rint(cube.astype(np.float64) * result.scale) < 0))
    assert result.max_abs_error >= float(-cube.min())
    assert int(np.asarray(dataset.cube).min()) == 0


def test_nan_and_inf_refuse_quantisation(tmp_path: Path) -> None:
    for i, bad in enumerate((np.nan, np.inf, -np.inf)):
        cube = reflectance()
        cube[1, 2, 3] = bad
        folder = make_legacy(tmp_path / f"ds{i}", cube)
        with pytest.raises(QuantizationError) as info:
            LegacyConverter().read(folder, {"quantize": "int16"})
        assert info.value.count == 1
        assert np.asarray(LegacyConverter().read(folder).cube).dtype == np.dtype("<f4")  # verbatim still works


def test_declared_ignore_values_map_to_the_ignore_code(tmp_path: Path) -> None:
    cube = reflectance()
    cube[0, 0, :] = np.nan
    folder = make_legacy(tmp_path / "ds", cube, HDR + "data ignore value = nan\n")
    dataset = LegacyConverter().read(folder, {"quantize": "int16"})
    q = np.asarray(dataset.cube)
    assert (q[0, 0, :] == -32768).all()
    assert int(dataset.header.value("data ignore value")) == -32768
    scale = dataset.header.value("reflectance scale factor")
    keep = ~np.isnan(cube)
    assert np.abs(q[keep] / scale - cube[keep]).max() <= 0.5 / scale * (1 + 1e-9)


def test_existing_scale_factor_is_multiplied_and_bad_targets_refused(tmp_path: Path) -> None:
    cube = reflectance() * 10000
    folder = make_legacy(tmp_path / "ds", cube, HDR + "reflectance scale factor = 10000\n")
    dataset = LegacyConverter().read(folder, {"quantize": "int16"})
    factor = dataset.header.value("reflectance scale factor")
    reflect = np.asarray(dataset.cube).astype(np.float64) / factor
    assert np.abs(reflect - cube / 10000).max() < 1e-4
    with pytest.raises(ConfigError):
        LegacyConverter().read(folder, {"quantize": "int8"})


def test_choose_scale_fits_the_range() -> None:
    for lo, hi in ((-0.05, 1.15), (0.0, 3e-6), (-7.0, 2.0), (0.0, 0.0)):
        scale = choose_scale(lo, hi, -32767, 32767)
        assert max(abs(lo), abs(hi)) * scale <= 32767
        assert scale > 0
    assert choose_scale(0.0, 1.0, 0, 65534) == pytest.approx(65530)


def test_the_source_folder_is_not_modified(tmp_path: Path) -> None:
    folder = make_legacy(tmp_path / "ds", reflectance())
    before = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
              for p in folder.rglob("*") if p.is_file()}
    HsiConverter().write(LegacyConverter().read(folder, {"quantize": "int16"}), tmp_path / "x.hsi")
    after = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
             for p in folder.rglob("*") if p.is_file()}
    assert before == after
    with pytest.raises(ConfigError):
        LegacyConverter().write(LegacyConverter().read(folder), tmp_path / "y")
