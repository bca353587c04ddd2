"""``hsi-conform procedures``: judge the source, re-enact, validate the output (spec/procedures.md#cli)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import hsi_conform
from hsi_conform.errors import ExitCode
from tests._support import CliRunner, member_digests
from tests.unit.pipeline.procedure_helpers import scene_with


def test_procedures_writes_a_conformant_result(tmp_path: Path, cli: CliRunner) -> None:
    path = scene_with(tmp_path, ["crop:{0:23, 0:31, 0:31}", "rotate:clockwise"])
    result = cli(["procedures", path, tmp_path / "out.hsi"])
    assert result.code == ExitCode.OK, result.out + result.err
    with hsi_conform.open(path) as s, hsi_conform.open(tmp_path / "out.hsi") as c:
        assert np.array_equal(c.bip(), np.rot90(np.array(s.bip())[:32, :24], k=-1, axes=(0, 1)))
    assert hsi_conform.check(tmp_path / "out.hsi", content="full").conformant


def test_an_inapplicable_list_exits_1_naming_its_rule_and_writes_nothing(tmp_path: Path, cli: CliRunner) -> None:
    path = scene_with(tmp_path, ["denoise:{3}"])  # unknown: a warning for the validator, so the source conforms
    result = cli(["procedures", path, tmp_path / "out.hsi"])
    assert result.code == ExitCode.NONCONFORMANT
    assert "FLD020" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "out.hsi").exists()


def test_a_nonconformant_source_is_refused_unless_allowed(tmp_path: Path, cli: CliRunner) -> None:
    path = scene_with(tmp_path, ["crop:{0:99, 0:1, 0:1}"])  # FLD022: the source does not conform
    refused = cli(["procedures", path, tmp_path / "out.hsi"])
    assert refused.code == ExitCode.NONCONFORMANT and "FLD022" in refused.out
    assert not (tmp_path / "out.hsi").exists()
    allowed = cli(["procedures", "--allow-nonconformant", path, tmp_path / "out.hsi"])
    assert allowed.code == ExitCode.NONCONFORMANT and "FLD022" in allowed.err  # the executor refuses it too
    assert not (tmp_path / "out.hsi").exists()


def test_without_procedures_the_source_is_copied(tmp_path: Path, cli: CliRunner) -> None:
    path = scene_with(tmp_path, [])
    assert cli(["procedures", path, tmp_path / "out.hsi"]).code == ExitCode.OK
    assert member_digests(tmp_path / "out.hsi") == member_digests(path)


def test_usage_and_input_errors(tmp_path: Path, cli: CliRunner) -> None:
    path = scene_with(tmp_path, ["rotate:180"])
    assert cli(["procedures", path, path]).code == ExitCode.USAGE  # the output is the input
    assert cli(["procedures", tmp_path / "missing.hsi", tmp_path / "out.hsi"]).code == ExitCode.UNREADABLE
    assert cli(["procedures", path]).code == ExitCode.USAGE


def test_calibrate_runs_the_procedures_on_the_reflectance(tmp_path: Path, cli: CliRunner) -> None:
    path = scene_with(tmp_path, ["crop:{2:9, 1:6, 0:3}", "rotate:swap-up-down"])
    dest = tmp_path / "out.hsi"
    result = cli(["procedures", "--calibrate", path, dest])
    assert result.code == ExitCode.OK, result.out + result.err
    with hsi_conform.open(path) as s, hsi_conform.open(dest) as c:
        expected = hsi_conform.reflectance(s, findings=[])[1:7, 2:10, 0:4][::-1]
        assert c.layout.dtype.kind == "f"
        np.testing.assert_array_equal(c.bip(), expected)
        assert c.header.get("read procedures") is None
    assert hsi_conform.check(dest, content="full").conformant
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.hsi", "scene.hsi"]  # no temp left behind


def test_calibrate_into_a_missing_folder_creates_it(tmp_path: Path, cli: CliRunner) -> None:
    path = scene_with(tmp_path, ["rotate:180"])
    result = cli(["procedures", "--calibrate", path, tmp_path / "nope" / "out.hsi"])
    assert result.code == ExitCode.OK and (tmp_path / "nope" / "out.hsi").is_file()  # as every writer does
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = cli(["procedures", "--calibrate", path, blocker / "out.hsi"])
    assert result.code == ExitCode.UNWRITABLE and "a file is in the way" in result.err
