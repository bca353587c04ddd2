"""The calibration's math (spec/calibration.md): formula, references, exposure, guards, lines, refusals."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hsi_conform
from hsi_conform.errors import CalibrationError, InvalidArgumentError
from hsi_conform.fields import Interleave
from hsi_conform.finding import Finding, Severity
from hsi_conform.members import CALIBRATION_RECORD
from hsi_conform.pipeline.calibration import CalibrationPlan, CalibrationWarning, reflectance
from tests._raw_containers import raw_container

Array = np.ndarray[Any, Any]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _refl(path: Path, lines: slice | None = None) -> tuple[Array, list[Finding]]:
    found: list[Finding] = []
    with hsi_conform.open(path) as c:
        return reflectance(c, lines, findings=found), found


def _scene(lines: int = 6, samples: int = 5, bands: int = 4, seed: int = 0) -> dict[str, Array]:
    rng = np.random.default_rng(seed)
    black = rng.integers(50, 150, (1, samples, bands)).astype("<u2")
    white = (black + rng.integers(2000, 3000, (1, samples, bands))).astype("<u2")
    cube = rng.integers(0, 4000, (lines, samples, bands)).astype("<u2")
    return {"cube": cube, "white": white, "black": black}


def _close(result: Array, expected: Array) -> None:
    """Assert ``result`` is ``expected`` within float32 arithmetic (spec/calibration.md#formula), NaN where it is."""
    assert result.dtype == np.float32 and result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-6, equal_nan=True)


def _expected(cube: Array, white: Array, black: Array, dark: Array | None = None, ratio: float = 1.0) -> Array:
    """Return the formula in plain numpy: push-broom references averaged over their lines, in float64."""
    def ref(a: Array) -> Array:
        return a.astype(np.float64) if a.shape[0] == cube.shape[0] else a.astype(np.float64).mean(axis=0,
                                                                                              keepdims=True)
    w, b = ref(white), ref(black)
    d = ref(dark) if dark is not None else b
    den = (w - d) * ratio
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (cube.astype(np.float64) - b) * np.where(den > 0, 1 / den, np.nan)
    return out.astype(np.float32)


# -- the formula ----------------------------------------------------------------------------------------------

@SETTINGS
@given(data=st.data(), interleave=st.sampled_from(["bsq", "bil", "bip"]),
       dtype=st.sampled_from(["<u2", ">u2", "<i2", "<u1", "<f4", ">f8"]))
def test_calibrating_the_white_gives_1_and_the_black_gives_0(tmp_path_factory: pytest.TempPathFactory,
                                                               data: st.DataObject, interleave: str,
                                                               dtype: str) -> None:
    samples, bands = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 5))
    black = np.asarray(data.draw(st.lists(st.integers(0, 100), min_size=samples * bands,
                                          max_size=samples * bands))).reshape(1, samples, bands)
    gain = np.asarray(data.draw(st.lists(st.integers(1, 150), min_size=samples * bands,
                                         max_size=samples * bands))).reshape(1, samples, bands)
    white = black + gain
    rows = data.draw(st.lists(st.booleans(), min_size=1, max_size=6))  # True: a line of white, False: of black
    cube = np.concatenate([white if r else black for r in rows]).astype(dtype)
    path = raw_container(tmp_path_factory.mktemp("c") / "c.hsi", cube, white=white.astype(dtype),
                         black=black.astype(dtype), interleave=interleave)
    r, found = _refl(path)
    expected = np.concatenate([np.ones_like(white) if r else np.zeros_like(black) for r in rows])
    assert r.dtype == np.float32 and r.shape == cube.shape
    np.testing.assert_allclose(r, expected, rtol=2.0**-22, atol=0)  # 1 within float32 rounding
    assert (r[expected == 0] == 0).all()  # the black exactly 0
    assert [f.rule for f in found] == []


def test_every_interleave_and_byte_order_gives_the_same_reflectance(tmp_path: Path) -> None:
    s = _scene()
    results = []
    for i, (il, dtype) in enumerate([("bsq", "<u2"), ("bil", ">u2"), ("bip", "<u2"), ("bil", "<f4")]):
        path = raw_container(tmp_path / f"{i}.hsi", s["cube"].astype(dtype), white=s["white"], black=s["black"],
                             interleave=il, ref_interleave="bip" if il == "bsq" else None)
        results.append(_refl(path)[0])
    for r in results:
        assert np.array_equal(r, results[0])  # the same arithmetic whatever the storage order
    _close(results[0], _expected(s["cube"], s["white"], s["black"]))


@SETTINGS
@given(a=st.integers(-9, 9), b=st.integers(-9, 9))
def test_a_lines_slice_equals_the_full_result_sliced(tmp_path_factory: pytest.TempPathFactory, a: int,
                                                      b: int) -> None:
    s = _scene(lines=7)
    snapshot = _scene(lines=7, seed=1)  # per-pixel references: only the selected lines are read
    for name, white, black in (("push", s["white"], s["black"]), ("snap", snapshot["cube"] + 3000, snapshot["cube"])):
        path = raw_container(tmp_path_factory.mktemp(name) / "c.hsi", s["cube"], white=white, black=black)
        full, _ = _refl(path)
        part, _ = _refl(path, slice(a, b))
        assert np.array_equal(part, full[a:b])


def test_lines_must_be_a_contiguous_slice(tmp_path: Path) -> None:
    s = _scene()
    path = raw_container(tmp_path / "c.hsi", s["cube"], white=s["white"], black=s["black"])
    with hsi_conform.open(path) as c:
        with pytest.raises(InvalidArgumentError):
            reflectance(c, slice(0, 4, 2))
        with pytest.raises(InvalidArgumentError):
            reflectance(c, 3)  # type: ignore[arg-type]


# -- references -----------------------------------------------------------------------------------------------

def test_multi_line_push_broom_references_are_averaged_over_their_lines(tmp_path: Path) -> None:
    s = _scene(lines=6)
    rng = np.random.default_rng(5)
    white = (s["white"] + rng.integers(-40, 40, (3, 5, 4))).astype("<u2")  # 3 lines: neither 1 nor 6
    black = (s["black"] + rng.integers(0, 9, (2, 5, 4))).astype("<f4")
    path = raw_container(tmp_path / "c.hsi", s["cube"], white=white, black=black, ref_interleave="bsq")
    r, _ = _refl(path)
    _close(r, _expected(s["cube"], white, black))
    with hsi_conform.open(path) as c:
        plan = CalibrationPlan.of(c)
        assert plan.white.mean is not None and plan.black.mean is not None and plan.inverse is not None
        np.testing.assert_allclose(plan.white.mean, white.mean(axis=0, keepdims=True), rtol=1e-12)
        assert plan.white.by_order[Interleave.BIL].shape == (1, 4, 5)  # (lines, bands, samples)


def test_references_with_the_cube_lines_apply_per_pixel(tmp_path: Path) -> None:
    s = _scene(lines=6)
    rng = np.random.default_rng(7)
    white = (s["white"] + rng.integers(0, 500, (6, 5, 4))).astype("<u2")
    black = s["black"]  # one line, broadcast against the per-pixel white
    path = raw_container(tmp_path / "c.hsi", s["cube"], white=white, black=black, ref_interleave="bip")
    r, _ = _refl(path)
    _close(r, _expected(s["cube"], white, black))
    with hsi_conform.open(path) as c:
        plan = CalibrationPlan.of(c)
        assert plan.white.per_pixel and not plan.black.per_pixel and plan.inverse is None


def test_the_white_dark_reference_is_the_denominator_s_dark(tmp_path: Path) -> None:
    s = _scene()
    whitedark = (s["black"] + 30).astype("<u2")
    path = raw_container(tmp_path / "c.hsi", s["cube"], white=s["white"], black=s["black"], whitedark=whitedark)
    r, _ = _refl(path)
    _close(r, _expected(s["cube"], s["white"], s["black"], dark=whitedark))
    assert not np.allclose(r, _expected(s["cube"], s["white"], s["black"]))
    with hsi_conform.open(path) as c:
        assert np.array_equal(c.reference("whitedark"), whitedark.transpose(0, 2, 1))  # mapped as stored (BIL)


# -- exposure -------------------------------------------------------------------------------------------------

def test_differing_integration_times_scale_white_minus_dark(tmp_path: Path) -> None:
    s = _scene()
    path = raw_container(tmp_path / "c.hsi", s["cube"], white=s["white"], black=s["black"], fields={"tint": 20},
                         ref_fields={"white": {"tint": "8.0"}, "black": {"tint": 20}})
    r, _ = _refl(path)
    _close(r, _expected(s["cube"], s["white"], s["black"], ratio=2.5))
    with hsi_conform.open(path) as c:
        plan = CalibrationPlan.of(c)
        assert (plan.exposure, plan.white.exposure, plan.ratio) == (20.0, 8.0, 2.5)
        assert len(plan.notes) == 1  # the scaling is said


@pytest.mark.parametrize(("cube_tint", "white_tint", "notes"), [
    (20, 20, 0), (20, None, 0), (None, 8, 0), ("fast", 8, 1), (20, -1, 1), (20, "nan", 1),
])
def test_no_ratio_unless_both_state_a_usable_time(tmp_path: Path, cube_tint: object, white_tint: object,
                                                   notes: int) -> None:
    s = _scene()
    fields = {} if cube_tint is None else {"tint": cube_tint}
    refs = {} if white_tint is None else {"white": {"tint": white_tint}}
    path = raw_container(tmp_path / "c.hsi", s["cube"], white=s["white"], black=s["black"], fields=fields,
                         ref_fields=refs)
    with hsi_conform.open(path) as c:
        plan = CalibrationPlan.of(c)
    assert plan.ratio == 1.0 and len(plan.notes) == notes
    _close(_refl(path)[0], _expected(s["cube"], s["white"], s["black"]))


def test_a_dark_recorded_with_another_time_is_noted_not_scaled(tmp_path: Path) -> None:
    s = _scene()
    path = raw_container(tmp_path / "c.hsi", s["cube"], white=s["white"], black=s["black"], fields={"tint": 20},
                         ref_fields={"white": {"tint": 20}, "black": {"tint": 10}})
    with hsi_conform.open(path) as c:
        plan = CalibrationPlan.of(c)
    assert plan.ratio == 1.0 and len(plan.notes) == 1
    _close(_refl(path)[0], _expected(s["cube"], s["white"], s["black"]))


# -- guards ---------------------------------------------------------------------------------------------------

def test_white_not_above_its_dark_gives_nan_and_a_dat004_count(tmp_path: Path) -> None:
    s = _scene(lines=6)
    white = s["white"].copy()
    white[0, 1, 2] = s["black"][0, 1, 2]  # equal: 0 denominator
    white[0, 3, 0] = s["black"][0, 3, 0] - 1  # below
    path = raw_container(tmp_path / "c.hsi", s["cube"], white=white, black=s["black"])
    r, found = _refl(path)
    assert np.isnan(r[:, 1, 2]).all() and np.isnan(r[:, 3, 0]).all()
    assert np.count_nonzero(np.isnan(r)) == 12 and np.isfinite(r).sum() == r.size - 12
    [finding] = found
    assert (finding.rule, finding.severity, finding.location.member) == ("DAT004", Severity.WARNING,
                                                                          "Reference/white.envi")
    assert "12 of 120" in finding.message
    _, part = _refl(path, slice(0, 2))
    assert "4 of 40" in part[0].message  # counts are of the lines computed


def test_saturated_raw_values_are_counted_in_dat005_and_still_calibrated(tmp_path: Path) -> None:
    s = _scene()
    cube = s["cube"].copy()
    cube[2, 3, 1] = cube[4, 0, 0] = cube[4, 0, 3] = 65535
    path = raw_container(tmp_path / "c.hsi", cube, white=s["white"], black=s["black"], interleave="bsq")
    r, found = _refl(path)
    _close(r, _expected(cube, s["white"], s["black"]))
    [finding] = found
    assert (finding.rule, finding.severity, finding.location.member) == ("DAT005", Severity.WARNING, "data.envi")
    assert finding.message.startswith("3 ")
    # The first in line order (line 2, sample 3, band 1), at its byte offset in the BSQ member (6 lines x 5 samples).
    assert finding.location.offset == (1 * 6 * 5 + 2 * 5 + 3) * 2


def test_the_data_ignore_value_gives_nan_and_is_no_saturation(tmp_path: Path) -> None:
    s = _scene()
    cube = s["cube"].copy()
    cube[1, 1, 1] = cube[3, 2, 0] = 65535
    path = raw_container(tmp_path / "c.hsi", cube, white=s["white"], black=s["black"],
                         fields={"data ignore value": 65535})
    r, found = _refl(path)
    assert np.isnan(r[1, 1, 1]) and np.isnan(r[3, 2, 0]) and np.count_nonzero(np.isnan(r)) == 2
    assert found == []


def test_without_a_findings_list_findings_are_warnings(tmp_path: Path) -> None:
    s = _scene()
    white = s["white"].copy()
    white[0, 0, 0] = 0
    path = raw_container(tmp_path / "c.hsi", s["cube"], white=white, black=s["black"])
    with hsi_conform.open(path) as c, pytest.warns(CalibrationWarning) as caught:
        hsi_conform.reflectance(c)
    assert [w.message.finding.rule for w in caught if isinstance(w.message, CalibrationWarning)] == ["DAT004"]
    with hsi_conform.open(path) as c, warnings.catch_warnings():
        warnings.simplefilter("error")
        hsi_conform.reflectance(c, findings=[])  # a list: nothing is warned


# -- refused --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["no-white", "no-black", "samples", "bands", "scale-factor", "calibrated"])
def test_containers_that_cannot_be_calibrated_are_refused(tmp_path: Path, case: str) -> None:
    s = _scene()
    white, black = s["white"], s["black"]
    fields: dict[str, object] = {}
    members: dict[str, bytes] = {}
    if case == "no-white":
        white = None  # type: ignore[assignment]
    elif case == "no-black":
        black = None  # type: ignore[assignment]
    elif case == "samples":
        white = white[:, :3]
    elif case == "bands":
        black = black[:, :, :2]
    elif case == "scale-factor":
        fields["reflectance scale factor"] = 10000
    else:
        members[CALIBRATION_RECORD] = b"{}\n"
    path = raw_container(tmp_path / "c.hsi", s["cube"], white=white, black=black, fields=fields, members=members)
    with hsi_conform.open(path) as c, pytest.raises(CalibrationError) as caught:
        reflectance(c)
    assert caught.value.exit_code == 2
