from __future__ import annotations

import argparse
import importlib
import json
import re
import signal
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import hsi_conform
from hsi_conform.cli import ExitCode
from hsi_conform.cli.main import main
from hsi_conform.errors import HsiConformError
from hsi_conform.finding import Report
from hsi_conform.report import RenderOptions, render_json, render_text
from hsi_conform.testing.samples import sample_members, write_members, write_sample_container
from hsi_conform.validate import CheckOptions
from hsi_conform.validate.batch import check_many
from hsi_conform.validate.engine import Policy
from tests._support import write_tree


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_sample_container(tmp_path / "good.hsi")


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    members = sample_members()
    members["data.hdr"] = members["data.hdr"].replace(b"samples = 12", b"Samples = 12")
    return write_members(tmp_path / "bad.hsi", members)


def test_exit_codes(good: Path, bad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(good)]) == 0
    assert main(["validate", str(bad)]) == 1
    assert main(["validate", str(good), str(bad)]) == 1
    assert main(["validate", str(tmp_path / "missing.hsi")]) == 3
    assert main(["validate", "--fail-on", "bogus", str(good)]) == 2
    assert main(["validate", "--severity", "HDR015", str(good)]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--content", "everything", str(good)])
    assert exc.value.code == 2
    capsys.readouterr()


def test_regrading_and_selection_change_the_verdict(bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--severity", "HDR015=warning", str(bad)]) == 0
    assert main(["validate", "--ignore", "key-case", str(bad)]) == 0
    assert main(["validate", "--profile", "reader", str(bad)]) == 0
    assert main(["validate", "--profile", "reader", "--fail-on", "warning", str(bad)]) == 1
    assert main(["validate", "--select", "ZIP,LAY", str(bad)]) == 0
    capsys.readouterr()


def test_config_file_is_found_upward(bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (bad.parent / "hsi-conform.toml").write_text('[tool.hsi-conform]\nignore = ["HDR015"]\n')
    assert main(["validate", str(bad)]) == 0
    assert main(["validate", "--isolated", str(bad)]) == 1
    capsys.readouterr()


def test_the_command_line_select_beats_the_config_ignore(bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (bad.parent / "hsi-conform.toml").write_text('[tool.hsi-conform]\nignore = ["HDR015"]\n')
    assert main(["validate", "--select", "HDR015", "--format", "json", str(bad)]) == 1
    assert [f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["HDR015"]


def test_every_format_with_outputs(bad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = {fmt: tmp_path / f"r.{fmt}" for fmt in ("json", "sarif", "junit")}
    args = ["validate", str(bad)]
    for fmt, path in out.items():
        args += ["--format", fmt, "-o", str(path)]
    assert main([*args, "--format", "text"]) == 1
    text = capsys.readouterr().out
    assert "HDR015" in text and "data.hdr:3:1" in text
    report = json.loads(out["json"].read_text())
    assert report["conformant"] is False and report["counts"]["error"] == 1
    assert [f["rule"] for f in report["findings"]] == ["HDR015"]
    assert report["findings"][0]["location"]["line"] == 3
    sarif = json.loads(out["sarif"].read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"][0]["ruleId"] == "HDR015"
    assert ET.parse(out["junit"]).getroot().tag in ("testsuites", "testsuite")


def test_report_files_are_published_under_a_fresh_temp_name(good: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reports" / "r.json"
    out.parent.mkdir()
    (out.parent / ".r.json.tmp").mkdir()  # what a fixed temp name would trip over (a concurrent run, say)
    out.write_text("old report")
    assert main(["validate", "--format", "json", "-o", str(out), str(good)]) == 0
    assert json.loads(out.read_text())["conformant"] is True
    assert sorted(p.name for p in out.parent.iterdir()) == [".r.json.tmp", "r.json"]
    capsys.readouterr()


def test_directories_are_searched_for_containers(good: Path, bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", str(good.parent)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert sorted(Path(f["path"]).name for f in report["files"]) == ["bad.hsi", "good.hsi"]


def test_expanded_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path / "c", sample_members())
    assert main(["validate", str(tmp_path / "c")]) == 0
    capsys.readouterr()


def test_rules_sample_and_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert any(r["id"] == "HDR015" for r in rules)
    assert main(["sample", str(tmp_path / "s.hsi"), "--bands", "8", "--dtype", "4", "--interleave", "bip"]) == 0
    assert main(["validate", "--content", "full", str(tmp_path / "s.hsi")]) == 0
    assert main(["demo", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "conformant" in out
    panel = float(re.search(r"panel reflectance at 550 nm: ([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    assert abs(panel - 0.85) < 0.01  # the scene's panel reflects 0.85: the calibration is right
    with Image.open(tmp_path / "demo" / "view-thumbnail.jpg") as thumbnail:
        assert thumbnail.format == "JPEG" and thumbnail.size == (48, 64)
    for name in ("reflectance.hsi", "view.hsi"):
        assert hsi_conform.check(tmp_path / "demo" / name, content="full").conformant


def test_not_a_zip_is_a_finding_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.hsi"
    junk.write_bytes(b"\x00" * 100)
    assert main(["validate", "--format", "json", str(junk)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["fatal"] >= 1


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "HDR026"]) == 0
    out = capsys.readouterr().out
    assert "trailing-comma" in out and "Failing example" in out and "Valid example" in out
    assert main(["explain", "key-case"]) == 0
    assert main(["explain", "NOPE999"]) == 2
    capsys.readouterr()


def test_parallel_batch_gives_the_same_reports(good: Path, bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", str(good), str(bad)]) == 1
    serial = json.loads(capsys.readouterr().out)
    assert main(["validate", "-j", "2", "--format", "json", str(good), str(bad)]) == 1
    parallel = json.loads(capsys.readouterr().out)
    assert serial["files"] == parallel["files"]
    assert main(["validate", "-j", "2", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert out.count("2 files: 1 conformant, 1 nonconformant") == 1 and "of 2 conformant" not in out  # no table


def test_convert_creates_folders_and_reports_io_errors(good: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(good), str(tmp_path / "new" / "deeper" / "out.h5")]) == 0
    assert (tmp_path / "new" / "deeper" / "out.h5").is_file()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["convert", str(good), str(blocker / "out.h5")]) == 5  # an output error, not a traceback
    assert "Traceback" not in capsys.readouterr().err


def test_commands_return_exit_code_members(good: Path, bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(good)]) is ExitCode.OK
    assert main(["validate", str(bad)]) is ExitCode.NONCONFORMANT
    assert main(["rules"]) is ExitCode.OK
    capsys.readouterr()


def test_an_escaping_error_exits_with_the_code_its_class_declares(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import hsi_conform.rules

    class Broken(HsiConformError):
        exit_code = ExitCode.INTERNAL

    def fail() -> None:
        raise Broken()

    monkeypatch.setattr(hsi_conform.rules, "load_builtin_rules", fail)  # `rules` imports it when it runs
    assert main(["rules"]) is ExitCode.INTERNAL
    assert "hsi-conform:" in capsys.readouterr().err


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    import hsi_conform.rules

    def interrupt() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(hsi_conform.rules, "load_builtin_rules", interrupt)
    assert main(["rules"]) == 130


def _choices(parser: argparse.ArgumentParser, command: str) -> dict[str, list[object]]:
    """Return ``{option: choices}`` of a subcommand."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.option_strings[-1]: list(a.choices) for a in sub.choices[command]._actions
            if a.option_strings and a.choices}


def test_cli_choices_come_from_their_registries() -> None:
    from hsi_conform.cli import build_parser
    from hsi_conform.fields import Interleave
    from hsi_conform.report import RENDERERS
    from hsi_conform.rules import PROFILES, catalogue
    from hsi_conform.rules.context import Content

    validate = _choices(build_parser(), "validate")
    assert validate["--format"] == list(RENDERERS)
    assert validate["--content"] == [c.value for c in Content]
    assert validate["--profile"] == list(PROFILES)
    assert _choices(build_parser(), "rules")["--format"] == list(catalogue.RENDERERS)
    assert _choices(build_parser(), "sample")["--interleave"] == [i.value for i in Interleave]


def test_a_new_report_format_is_one_row_of_the_renderer_table(
        good: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import hsi_conform.report

    def count(reports: Sequence[Report], options: RenderOptions) -> str:
        return f"{len(reports)} reports\n"

    monkeypatch.setattr(hsi_conform.report, "RENDERERS", {**hsi_conform.report.RENDERERS, "count": count})
    assert main(["validate", "--format", "count", str(good)]) == 0
    assert capsys.readouterr().out == "1 reports\n"


def test_a_new_catalogue_format_is_one_row_of_its_table(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from hsi_conform.rules import catalogue

    monkeypatch.setattr(catalogue, "RENDERERS", {**catalogue.RENDERERS, "ids": lambda rules: f"{len(rules)}\n"})
    assert main(["rules", "--format", "ids"]) == 0
    assert int(capsys.readouterr().out) > 0


@pytest.mark.parametrize(
    "options",
    [["--select", "HDR999"], ["--ignore", "HDR999"], ["--severity", "HDR999=info"], ["--select", "ZIP,hdr9"],
     ["--ignore", "key_case"], ["--severity", "no-such-rule=error"], ["--select", "HDR", "--ignore", "HDR"]],
)
def test_selectors_that_match_no_rule_are_usage_errors(
        bad: Path, options: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", *options, str(bad)]) == 2
    out, err = capsys.readouterr()
    assert "conformant" not in out and "hsi-conform:" in err


def test_a_selector_typo_in_the_config_file_is_a_usage_error(bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (bad.parent / "pyproject.toml").write_text('[tool.hsi-conform]\nselect = ["HDR999"]\n')
    assert main(["validate", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert "conformant" not in out and "pyproject.toml" in err
    assert main(["validate", "--isolated", "--select", "hdr0", str(bad)]) == 1
    capsys.readouterr()


def test_reports_stream_and_report_files_are_published_only_at_the_end(
        tmp_path: Path, good: Path, bad: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Text reaches standard output file by file; -o files appear whole at the end, or not at all (spec/report.md)."""
    batch = importlib.import_module("hsi_conform.validate.batch")  # the package name is also a function's
    from hsi_conform.errors import Interrupted

    inputs = [good, bad, good]
    report = tmp_path / "report.json"
    argv = ["validate", *map(str, inputs), "--format", "text", "--format", "json", "-o", "-", "-o", str(report)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    expected = check_many([(p, Policy()) for p in inputs], CheckOptions())
    assert out == render_text(expected) and report.read_text() == render_json(expected)
    report.unlink()
    real = batch.check_job
    calls = []

    def stops_at_the_third(job: Any) -> Report:
        calls.append(job)
        if len(calls) == 3:
            raise Interrupted(signal.SIGTERM)
        return real(job)

    monkeypatch.setattr(batch, "check_job", stops_at_the_third)
    assert main(argv) == 128 + signal.SIGTERM
    out = capsys.readouterr().out
    assert f"{good}: conformant" in out and f"{bad}: NONCONFORMANT" in out  # the first two were written
    assert not report.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".report.json")]


def test_documents_on_standard_output_come_at_the_end_in_format_order(
        good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("jinja2")
    assert main(["validate", str(good), "--format", "html", "--format", "json"]) == 0
    out = capsys.readouterr().out
    html, _, rest = out.partition("</html>\n")
    assert html.startswith("<!DOCTYPE html>") and json.loads(rest)["conformant"] is True
