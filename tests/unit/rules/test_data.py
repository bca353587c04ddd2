from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hsi_conform.rules.data as dat
from hsi_conform.container.reader import CubeLayout
from hsi_conform.container.write import cube_header_fields
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.finding import Report
from hsi_conform.header import build_header_text
from hsi_conform.rules import load_builtin_rules
from hsi_conform.testing.samples import sample_members, wavelengths, write_members
from hsi_conform.validate import CheckOptions, Content, check
from hsi_conform.validate.engine import Policy

load_builtin_rules()
DAT = Policy(select=("DAT",))
AXES = {"bsq": (1, 0, 2), "bil": (0, 1, 2), "bip": (0, 2, 1)}  # (lines, bands, samples) -> storage order


def run(tmp_path: Path, members: dict[str, bytes], content: str = "full", policy: Policy = DAT) -> Report:
    report = check(write_members(tmp_path / "c.hsi", members), policy=policy,
                   options=CheckOptions(content=Content(content)))
    assert not report.internal_errors
    return report


def cube_members(cube_lbs: np.ndarray[Any, Any], interleave: str = "bil") -> dict[str, bytes]:
    """Sample members with data.hdr/data.envi replaced by a (lines, bands, samples) cube stored as given."""
    stored = np.ascontiguousarray(cube_lbs.transpose(AXES[interleave]))
    fields = {"wavelength units": "nm", "wavelength": wavelengths(cube_lbs.shape[1])}
    header = build_header_text(cube_header_fields(stored, interleave, fields)).encode()
    return sample_members() | {"data.hdr": header, "data.envi": stored.tobytes()}


def layout(shape_lbs: tuple[int, int, int], dtype: str, interleave: str) -> CubeLayout:
    lines, bands, samples = shape_lbs
    order = ByteOrder.BIG if np.dtype(dtype).byteorder == ">" else ByteOrder.LITTLE
    return CubeLayout(lines=lines, samples=samples, bands=bands, data_type=DataType.from_dtype(np.dtype(dtype)),
                      byte_order=order, interleave=Interleave(interleave), header_offset=0)


def storage(cube_lbs: np.ndarray[Any, Any], interleave: str) -> np.ndarray[Any, Any]:
    return np.ascontiguousarray(cube_lbs.transpose(AXES[interleave]))


@pytest.mark.parametrize("content", ["none", "crc"])
def test_skipped_below_the_full_tier(tmp_path: Path, content: str) -> None:
    report = run(tmp_path, sample_members(), content=content)
    assert {s.target for s in report.skipped} >= {"DAT001", "DAT002", "DAT003", "DAT004"}
    assert report.findings == ()


def test_sample_is_clean_in_the_full_tier(tmp_path: Path) -> None:
    report = run(tmp_path, sample_members(), policy=Policy())
    assert report.findings == ()
    assert not [s for s in report.skipped if s.target.startswith("DAT")]


@pytest.mark.parametrize("shape", [(7, 5, 3), (1, 1, 1), (40, 3, 50)])
@pytest.mark.parametrize("limit", [8, 64, 1 << 20])
def test_chunks_cover_the_array_exactly_once(monkeypatch: pytest.MonkeyPatch, shape: tuple[int, int, int],
                                             limit: int) -> None:
    monkeypatch.setattr(dat, "CHUNK_BYTES", limit)
    array = np.arange(np.prod(shape), dtype="<u2").reshape(shape)
    seen = np.zeros(shape, dtype=int)
    for (i, j), block in dat.chunks(array):
        seen[i : i + block.shape[0], j : j + block.shape[1]] += 1
        assert np.array_equal(block, array[i : i + block.shape[0], j : j + block.shape[1]])
        assert block.nbytes <= max(limit, shape[2] * 2)
    assert (seen == 1).all()


@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
@pytest.mark.parametrize("dtype", ["<f4", ">f8", "<c8"])
def test_first_nonfinite_value_and_its_offset(monkeypatch: pytest.MonkeyPatch, interleave: str, dtype: str) -> None:
    monkeypatch.setattr(dat, "CHUNK_BYTES", 64)
    cube = np.ones((6, 4, 5), dtype=dtype)  # (lines, bands, samples)
    cube[3, 2, 1] = np.nan
    cube[5, 3, 4] = np.inf
    stored = storage(cube, interleave)
    scan = dat.scan_array(stored, layout(cube.shape, dtype, interleave))
    assert scan.nonfinite == 2
    assert scan.first is not None
    (band, line, sample), offset = scan.first
    flat = np.frombuffer(stored.tobytes(), dtype=dtype)
    assert not np.isfinite(flat[offset // stored.itemsize])
    assert (band, line, sample) in {(2, 3, 1), (3, 5, 4)}
    if interleave != "bsq":  # line-major orders meet line 3 first
        assert (band, line, sample) == (2, 3, 1)


@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
def test_zero_and_saturated_bands(monkeypatch: pytest.MonkeyPatch, interleave: str) -> None:
    monkeypatch.setattr(dat, "CHUNK_BYTES", 32)
    cube = np.full((5, 6, 7), 1000, dtype=">u2")
    cube[:, 1] = 0
    cube[:, 4] = 65535
    cube[2, 5, 3] = 0  # one zero value does not make a zero band
    scan = dat.scan_array(storage(cube, interleave), layout(cube.shape, ">u2", interleave))
    assert (scan.zero_bands, scan.saturated_bands, scan.nonfinite) == ([1], [4], 0)


def test_float_data_has_no_saturation() -> None:
    cube = np.full((2, 3, 4), np.finfo("<f4").max, dtype="<f4")
    assert dat.scan_array(cube, layout(cube.shape, "<f4", "bil")).saturated_bands == []


def test_white_black_comparison_broadcasts_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dat, "CHUNK_BYTES", 8)
    white = np.full((1, 4, 3), 10.0)  # (line, sample, band)
    black = np.zeros((5, 4, 3), dtype="<u2")
    black[3, 2, 1] = 10
    black[4, :, :] = 11
    assert dat.count_white_not_above_black(white, black) == (1 + 12, 60, (3, 2, 1))
    assert dat.count_white_not_above_black(black[:1] + 20, white) == (0, 12, None)


def test_nan_in_a_big_endian_bsq_cube_is_located(tmp_path: Path) -> None:
    cube = np.full((16, 10, 12), 5.0, dtype=">f4")
    cube[7, 2, 9] = np.nan
    report = run(tmp_path, cube_members(cube, "bsq"))
    [finding] = report.findings
    assert finding.rule == "DAT001" and finding.location.member == "data.envi"
    assert finding.location.offset == (2 * 16 * 12 + 7 * 12 + 9) * 4


def test_zero_and_saturated_bands_are_reported_for_previews(tmp_path: Path) -> None:
    members = sample_members()
    preview = np.frombuffer(members["preview.envi"], dtype="<u2").reshape(8, 10, 6).copy()
    preview[:, 0] = 0
    preview[:, 9] = 65535
    report = run(tmp_path, members | {"preview.envi": preview.tobytes()})
    assert sorted((f.rule, f.location.member) for f in report.findings) == [
        ("DAT002", "preview.envi"), ("DAT003", "preview.envi")]


def test_masks_and_black_references_may_have_zero_planes(tmp_path: Path) -> None:
    members = sample_members() | {"Reference/black.envi": bytes(240)}
    assert run(tmp_path, members).findings == ()


def test_swapped_references(tmp_path: Path) -> None:
    members = sample_members()
    swapped = members | {"Reference/white.envi": members["Reference/black.envi"],
                         "Reference/black.envi": members["Reference/white.envi"]}
    report = run(tmp_path, swapped)
    [finding] = report.findings
    assert (finding.rule, finding.location.member) == ("DAT004", "Reference/white.envi")


def test_arrays_with_failed_prerequisites_are_not_read(tmp_path: Path) -> None:
    members = sample_members()
    cube = np.frombuffer(members["data.envi"], dtype="<u2").reshape(16, 10, 12).copy()
    cube[:, 0] = 0  # a zero band that is not reported: the member is too short to be read
    report = run(tmp_path, members | {"data.envi": cube.tobytes()[:-2],
                                      "Reference/white.envi": b"\x00"}, policy=Policy(select=("DAT", "XRF")))
    assert sorted(f.rule for f in report.findings) == ["XRF001", "XRF001"]
