from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hsi_conform.errors import ConfigError
from hsi_conform.finding import BaselineState, Finding, Level, Location, Report, Severity, Suppression
from hsi_conform.validate.baseline import (
    Baseline,
    apply_baseline,
    make_baseline,
    read_baseline,
    render_baseline,
    write_baseline,
)
from tests._paths import SPEC

SCHEMA: dict[str, Any] = json.loads((SPEC / "baseline.schema.json").read_text(encoding="utf-8"))


def finding(rule: str = "HDR015", member: str | None = "data.hdr", line: int = 2, field: str | None = "samples",
            message: str = "key is not written in lower case", **kwargs: Any) -> Finding:
    return Finding(rule=rule, name="n", severity=Severity.ERROR, level=Level.SYNTAX, spec="a.md#b",
                   message=message, location=Location(member=member, line=line, field=field), **kwargs)


def report(path: str, *findings: Finding, ran: tuple[str, ...] = ("HDR015", "FLD011", "ZIP001")) -> Report:
    return Report(path=path, findings=findings, rules_run=ran)


def test_the_file_is_sorted_one_entry_per_line_and_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    reports = [
        report("b.hsi", finding(field="lines", line=3), finding(line=2)),
        report("a.hsi", finding("FLD011", field="wavelength units", message="unknown units 'nanometres'"),
               finding("ZIP001", member=None, field=None, message="bad \udcff name")),
        report("clean.hsi"),
    ]
    path = write_baseline(tmp_path / "ci" / "baseline.json", reports).path  # the folder is created
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    jsonschema.validate(data, SCHEMA)
    assert list(data["files"]) == ["../a.hsi", "../b.hsi"]  # sorted; a file without findings has no entry
    assert [e["rule"] for e in data["files"]["../a.hsi"]] == ["FLD011", "ZIP001"]
    assert [e["field"] for e in data["files"]["../b.hsi"]] == ["lines", "samples"]
    assert "member" not in data["files"]["../a.hsi"][1]
    entry_lines = [line for line in text.splitlines() if line.lstrip().startswith('{"rule"')]
    assert len(entry_lines) == 4  # one line each: a fixed finding is a one-line diff
    # Nothing that changes from run to run: the same findings give the same bytes, in any input order.
    assert render_baseline(make_baseline(path, reversed(reports))) == text


def test_read_gives_back_what_was_written(tmp_path: Path) -> None:
    written = write_baseline(tmp_path / "b.json", [report("x.hsi", finding(), finding("ZIP001", member=None))])
    read = read_baseline(tmp_path / "b.json")
    assert read.files == written.files and read.size == 2


def test_waived_findings_are_not_recorded(tmp_path: Path) -> None:
    waived = finding(suppression=Suppression(justification="agreed"))
    baseline = make_baseline(tmp_path / "b.json", [report(str(tmp_path / "x.hsi"), waived, finding(field="lines"))])
    assert [e.field for e in baseline.entries(str(tmp_path / "x.hsi"))] == ["lines"]


def test_paths_are_relative_to_the_baseline_folder_so_it_moves_with_the_tree(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for root in (old, new):
        (root / "data").mkdir(parents=True)
    monkeypatch.chdir(old)
    write_baseline("ci/b.json", [report("data/x.hsi", finding())])
    os.replace(old / "ci", new / "ci")
    monkeypatch.chdir(new / "data")  # another checkout, another working folder, the input named otherwise
    [compared] = apply_baseline([report("x.hsi", finding(line=9))], read_baseline("../ci/b.json"))
    assert [f.baseline_state for f in compared.findings] == [BaselineState.UNCHANGED]


def test_new_unchanged_and_absent(tmp_path: Path) -> None:
    before = [report(str(tmp_path / "x.hsi"), finding(line=2), finding(field="lines", line=3),
                     finding("FLD011", field="wavelength", message="12 values, expected 10"))]
    baseline = write_baseline(tmp_path / "b.json", before)
    # A comment above moves every line; a value count changes; `lines` is fixed; `bands` is new.
    after = report(str(tmp_path / "x.hsi"), finding(line=3),
                   finding(field="bands", line=5),
                   finding("FLD011", field="wavelength", message="13 values, expected 10"))
    [compared] = apply_baseline([after], read_baseline(baseline.path))
    assert [(f.location.field, f.baseline_state) for f in compared.findings] == [
        ("samples", BaselineState.UNCHANGED), ("bands", BaselineState.NEW), ("wavelength", BaselineState.UNCHANGED)]
    assert [(e.rule, e.field) for e in compared.absent] == [("HDR015", "lines")]
    assert compared.baseline == str(baseline.path)
    assert not compared.conformant and compared.counts["error"] == 1  # only the new one counts
    assert [f.location.field for f in compared.failures()] == ["bands"]


def test_a_second_identical_occurrence_is_new(tmp_path: Path) -> None:
    baseline = make_baseline(tmp_path / "b.json", [report(str(tmp_path / "x.hsi"), finding(field=None))])
    twice = report(str(tmp_path / "x.hsi"), finding(field=None, line=2), finding(field=None, line=8))
    [compared] = apply_baseline([twice], baseline)
    assert [f.baseline_state for f in compared.findings] == [BaselineState.UNCHANGED, BaselineState.NEW]


def test_only_rules_that_ran_and_readable_inputs_have_absent_entries(tmp_path: Path) -> None:
    x = str(tmp_path / "x.hsi")
    baseline = make_baseline(tmp_path / "b.json", [report(x, finding(), finding("FLD011", field="wavelength"))])
    [selected] = apply_baseline([report(x, ran=("HDR015",))], baseline)  # FLD011 did not run
    assert [e.rule for e in selected.absent] == ["HDR015"]
    [unreadable] = apply_baseline([Report.unreadable(x, "gone")], baseline)
    assert unreadable.absent == () and unreadable.baseline == str(tmp_path / "b.json")
    [other] = apply_baseline([report(str(tmp_path / "y.hsi"))], baseline)  # x was not validated: not fixed
    assert other.absent == ()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"schema_version": 1, "files": {}}',
        '{"schema_version": 2, "tool": "hsi-conform", "files": {}}',
        '{"schema_version": 1, "tool": "hsi-conform", "files": []}',
        '{"schema_version": 1, "tool": "hsi-conform", "files": {"a.hsi": {}}}',
        '{"schema_version": 1, "tool": "hsi-conform", "files": {"a.hsi": [{"rule": "HDR015"}]}}',
        '{"schema_version": 1, "tool": "hsi-conform", "files": {"a.hsi": '
        '[{"rule": "HDR015", "message": "m", "fingerprint": "abc:1"}]}}',
        '{"schema_version": 1, "tool": "hsi-conform", "files": {"a.hsi": '
        '[{"rule": "HDR015", "message": "m", "fingerprint": "0123456789abcdef:1", "line": 3}]}}',
    ],
)
def test_a_malformed_baseline_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        read_baseline(path)
    assert info.value.source == str(path) and info.value.exit_code == 2


def test_a_missing_or_special_baseline_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        read_baseline(tmp_path / "missing.json")
    with pytest.raises(ConfigError):
        read_baseline(tmp_path)  # a folder
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError):  # refused from its stat: never opened, never blocks
        read_baseline(fifo)


def test_an_empty_baseline() -> None:
    empty = Baseline(Path("b.json"), {})
    assert json.loads(render_baseline(empty)) == {"schema_version": 1, "tool": "hsi-conform", "files": {}}
    jsonschema.validate(json.loads(render_baseline(empty)), SCHEMA)
