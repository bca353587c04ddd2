"""``hsi-conform calibrate`` and ``hsi_conform.calibrate``: the calibrated container (spec/calibration.md#output)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hsi_conform
from hsi_conform.container.reader import Container
from hsi_conform.finding import Finding
from hsi_conform.members import CALIBRATION_RECORD, SOURCE_REPORT, THUMBNAIL
from hsi_conform.pipeline.calibrate import NAN_CODE
from hsi_conform.testing.scene import SceneSpec, write_scene
from tests._raw_containers import raw_container
from tests._support import CliRunner, member_digests, traced_peak

Array = np.ndarray[Any, Any]


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic scene: uint16 BIL with push-broom references, a preview, Exploration/ and Metadata/."""
    return write_scene(tmp_path_factory.mktemp("scene") / "scene.hsi", SceneSpec(lines=24, samples=20, bands=12))


def _source_reflectance(path: Path) -> Array:
    with hsi_conform.open(path) as c:
        return hsi_conform.reflectance(c, findings=[])


def _arrays() -> dict[str, Array]:
    rng = np.random.default_rng(3)
    black = rng.integers(50, 150, (1, 7, 5)).astype("<u2")
    white = (black + rng.integers(2000, 3000, (1, 7, 5))).astype("<u2")
    return {"cube": rng.integers(0, 4000, (9, 7, 5)).astype("<u2"), "white": white, "black": black}


def _small(tmp_path: Path, interleave: str = "bil", **kwargs: Any) -> Path:
    a = _arrays()
    return raw_container(tmp_path / f"raw-{interleave}.hsi", a["cube"], white=a["white"], black=a["black"],
                         interleave=interleave, **kwargs)


# -- the command ----------------------------------------------------------------------------------------------

def test_calibrate_writes_a_conformant_float32_reflectance_container(cli: CliRunner, scene: Path,
                                                                      tmp_path: Path) -> None:
    dest = tmp_path / "refl.hsi"
    result = cli(["calibrate", scene, dest])
    assert result.code == 0, result.out + result.err
    assert hsi_conform.check(dest).conformant and hsi_conform.check(dest, content="full").conformant
    with hsi_conform.open(dest) as c:
        assert (c.layout.data_type.value, c.layout.interleave.value, c.layout.byte_order.value) == (4, "bil", 0)
        assert np.array_equal(c.bip(), _source_reflectance(scene))
        assert np.isnan(c.header.value("data ignore value")) and "reflectance scale factor" not in c.header
        assert "Calibrated by hsi-conform" in c.header.value("description")
        assert THUMBNAIL in c


def test_references_and_other_members_are_kept_byte_for_byte_previews_left_out(cli: CliRunner, scene: Path,
                                                                                tmp_path: Path) -> None:
    dest = tmp_path / "refl.hsi"
    assert cli(["calibrate", scene, dest]).code == 0
    before, after = member_digests(scene), member_digests(dest)
    changed = {"data.hdr", "data.envi", THUMBNAIL}
    previews = {n for n in before if n.startswith("preview")}
    assert previews and not previews & set(after)
    assert {n: d for n, d in before.items() if n not in changed | previews} == \
        {n: d for n, d in after.items() if n not in changed | {CALIBRATION_RECORD}}
    assert any(n.startswith("Reference/") for n in after) and any(n.startswith("Exploration/") for n in after)


def test_the_record_names_the_inputs_by_sha256_and_the_options(cli: CliRunner, scene: Path, tmp_path: Path) -> None:
    dest = tmp_path / "refl.hsi"
    assert cli(["calibrate", "--dtype", "uint16", "--scale", "4000", scene, dest]).code == 0
    with hsi_conform.open(dest) as c:
        record = json.loads(c.read_bytes(CALIBRATION_RECORD))
    with hsi_conform.open(scene) as src:
        digests = {n: hashlib.sha256(src.read_bytes(n)).hexdigest() for n in record["inputs"]}
    assert set(record["inputs"]) == {"data.hdr", "data.envi", "Reference/white.hdr", "Reference/white.envi",
                                     "Reference/black.hdr", "Reference/black.envi"}
    assert {n: i["sha256"] for n, i in record["inputs"].items()} == digests
    assert record["format"] == "hsi-conform/calibration" and record["source"] == scene.name
    assert record["options"] == {"dtype": "uint16", "scale": 4000.0, "interleave": "bil"}
    assert record["references"]["B_w"] == "Reference/black" and record["nan"] == NAN_CODE
    assert "(W - B_w)" in record["formula"]


def test_uint16_stores_round_r_times_scale_with_nan_as_the_ignore_value(cli: CliRunner, tmp_path: Path) -> None:
    arrays = _arrays()
    white = arrays["white"].copy()
    white[0, 2, 1] = 0  # white below black there: NaN
    src = raw_container(tmp_path / "nan.hsi", arrays["cube"], white=white, black=arrays["black"])
    dest = tmp_path / "u16.hsi"
    result = cli(["calibrate", "--dtype", "uint16", src, dest])
    assert result.code == 0 and "DAT004" in result.out
    r = _source_reflectance(src)
    expected = np.where(np.isnan(r), NAN_CODE, np.clip(np.rint(np.nan_to_num(r) * 10000.0), 0, NAN_CODE - 1))
    with hsi_conform.open(dest) as c:
        assert c.layout.data_type.value == 12 and c.header.value("reflectance scale factor") == 10000.0
        assert c.header.value("data ignore value") == NAN_CODE
        assert np.array_equal(c.bip(), expected.astype("<u2"))
        assert (c.bip()[:, 2, 1] == NAN_CODE).all()


@pytest.mark.parametrize(("source", "written"), [("bsq", "bil"), ("bil", "bil"), ("bip", "bip")])
def test_bsq_is_written_bil_and_line_major_interleaves_are_kept(cli: CliRunner, tmp_path: Path, source: str,
                                                                 written: str) -> None:
    src = _small(tmp_path, source)
    dest = tmp_path / "out.hsi"
    assert cli(["calibrate", src, dest]).code == 0
    with hsi_conform.open(dest) as c:
        assert c.layout.interleave.value == written
        assert np.array_equal(c.bip(), _source_reflectance(src))


def test_read_procedures_done_by_the_calibration_are_removed(cli: CliRunner, tmp_path: Path) -> None:
    tail = "read procedures = {microservice:Reflectance, crop:{0:5, 1:8, 0:4}, microservice:denoise}\n"
    src = _small(tmp_path, header_tail=tail)
    dest = tmp_path / "out.hsi"
    result = cli(["calibrate", src, dest])
    assert result.code == 0 and "microservice:Reflectance" in result.out
    with hsi_conform.open(dest) as c:
        assert c.header.value("read procedures") == ("crop:{0:5, 1:8, 0:4}", "microservice:denoise")
        assert json.loads(c.read_bytes(CALIBRATION_RECORD))["removed_procedures"] == ["microservice:Reflectance"]
    (tmp_path / "only").mkdir()
    only = _small(tmp_path / "only", header_tail="read procedures = {microservice:calibrate}\n")
    assert cli(["calibrate", only, tmp_path / "only-out.hsi"]).code == 0
    with hsi_conform.open(tmp_path / "only-out.hsi") as c:
        assert "read procedures" not in c.header


def test_no_thumbnail_writes_none(cli: CliRunner, scene: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out.hsi"
    assert cli(["calibrate", "--no-thumbnail", scene, dest]).code == 0
    with hsi_conform.open(dest) as c:
        assert THUMBNAIL not in c


# -- exit codes -----------------------------------------------------------------------------------------------

def test_usage_errors_exit_2_and_write_nothing(cli: CliRunner, scene: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out.hsi"
    assert cli(["calibrate", "--scale", "100", scene, dest]).code == 2  # a scale with float32
    assert cli(["calibrate", "--dtype", "uint16", "--scale", "-1", scene, dest]).code == 2
    assert cli(["calibrate", "--dtype", "int8", scene, dest]).code == 2
    assert cli(["calibrate", scene, scene]).code == 2  # the output is the input
    arrays = _arrays()
    no_black = raw_container(tmp_path / "bare.hsi", arrays["cube"], white=arrays["white"], black=None)
    assert cli(["calibrate", no_black, dest]).code == 2
    assert not dest.exists()


def test_a_calibrated_container_is_not_calibrated_again(cli: CliRunner, scene: Path, tmp_path: Path) -> None:
    assert cli(["calibrate", scene, tmp_path / "once.hsi"]).code == 0
    assert cli(["calibrate", tmp_path / "once.hsi", tmp_path / "twice.hsi"]).code == 2
    assert cli(["calibrate", "--dtype", "uint16", scene, tmp_path / "u.hsi"]).code == 0
    assert cli(["calibrate", tmp_path / "u.hsi", tmp_path / "u2.hsi"]).code == 2  # reflectance scale factor


def test_a_missing_source_exits_3(cli: CliRunner, tmp_path: Path) -> None:
    assert cli(["calibrate", tmp_path / "none.hsi", tmp_path / "out.hsi"]).code == 3


def test_a_nonconformant_source_is_refused_unless_allowed(cli: CliRunner, tmp_path: Path) -> None:
    src = _small(tmp_path, header_tail="Gain = 2\n")  # an upper-case key: HDR015, an ERROR
    dest = tmp_path / "out.hsi"
    refused = cli(["calibrate", src, dest])
    assert refused.code == 1 and "HDR015" in refused.out and not dest.exists()
    assert cli(["calibrate", "--allow-nonconformant", src, dest]).code == 1  # DST keeps the key: not conformant
    with hsi_conform.open(dest) as c:
        assert "HDR015" in c.read_bytes(SOURCE_REPORT).decode()


def test_saturated_values_are_printed_as_findings(cli: CliRunner, tmp_path: Path) -> None:
    arrays = _arrays()
    cube = arrays["cube"].copy()
    cube[0, 0, 0] = 65535
    src = raw_container(tmp_path / "sat.hsi", cube, white=arrays["white"], black=arrays["black"])
    result = cli(["calibrate", src, tmp_path / "out.hsi"])
    assert result.code == 0 and "warning DAT005" in result.out


# -- the API --------------------------------------------------------------------------------------------------

def test_the_api_takes_an_open_container_and_reports_findings(tmp_path: Path) -> None:
    arrays = _arrays()
    cube = arrays["cube"].copy()
    cube[1, 1, 1] = 65535
    src = raw_container(tmp_path / "sat.hsi", cube, white=arrays["white"], black=arrays["black"],
                        fields={"tint": 10}, ref_fields={"white": {"tint": 5}})
    found: list[Finding] = []
    with hsi_conform.open(src) as c:
        done = hsi_conform.calibrate(c, tmp_path / "out.hsi", findings=found)
        assert isinstance(c, Container) and c.cube is not None  # still open
    assert [f.rule for f in found] == ["DAT005"]
    assert done.record["exposure"]["ratio"] == 2.0 and any("scaled by 2" in n for n in done.notes)
    with hsi_conform.open(done.path) as out:
        assert "x 2)" in out.header.value("description")


def test_a_specim_iq_folder_calibrates_with_its_white_dark(cli: CliRunner, tmp_path: Path) -> None:
    from hsi_conform.testing.specim_samples import write_iq_folder

    for white_dark in (False, True):
        folder = write_iq_folder(tmp_path / f"iq-{white_dark}", white_dark=white_dark)
        src, dest = tmp_path / f"iq-{white_dark}.hsi", tmp_path / f"iq-{white_dark}-refl.hsi"
        assert cli(["convert", folder, src]).code == 0
        assert cli(["calibrate", src, dest]).code == 0
        with hsi_conform.open(dest) as c:
            record = json.loads(c.read_bytes(CALIBRATION_RECORD))
            result = c.bip()
        assert record["references"]["B_w"] == ("Reference/whitedark" if white_dark else "Reference/black")
        if not white_dark:  # the sample's vendor reflectance uses the same formula
            name = folder.name
            vendor = np.fromfile(folder / "results" / f"REFLECTANCE_{name}.dat", "<f4").reshape(8, 12, 6)
            np.testing.assert_allclose(result, vendor.transpose(0, 2, 1), rtol=1e-5, atol=1e-6)


# -- memory ---------------------------------------------------------------------------------------------------

def test_peak_memory_does_not_grow_with_the_cube(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    white, black = np.full((1, 64, 64), 4000, "<u2"), np.full((1, 64, 64), 100, "<u2")

    def peak(lines: int) -> int:
        cube = rng.integers(0, 4000, (lines, 64, 64)).astype("<u2")
        src = raw_container(tmp_path / f"{lines}.hsi", cube, white=white, black=black)
        del cube
        return traced_peak(lambda: hsi_conform.calibrate(src, tmp_path / f"{lines}-out.hsi", thumbnail=False,
                                                         findings=[]))

    small, large = peak(2048), peak(8192)  # 32 and 128 MiB of float32 output, slabs of 8 MiB
    # The next slab is computed while this one is written (spec/pipeline.md#overlap): how long the two overlap
    # depends on the scheduler, so a run with few slabs may never reach the steady peak (two half slabs and their
    # temporaries, ~28 MiB here) and comparing two runs' peaks is flaky. A peak that grew with the cube would pass
    # 40 MiB for the 128 MiB output; a constant one stays under it at every size.
    assert small < 40 << 20 and large < 40 << 20, (small, large)  # a few slabs, never the cube
