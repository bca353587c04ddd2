"""Waived findings, baseline states, fixed entries and expired-waiver notices in every report format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from typing import Any

from hsi_conform.finding import (
    BaselineEntry,
    BaselineState,
    Finding,
    Level,
    Location,
    Notice,
    Report,
    Severity,
    Suppression,
)
from hsi_conform.report import render
from tests.unit.report.test_json_report import schema, validate

WAIVER = Suppression(justification="agreed with partner X", source="hsi-conform.toml", expires=date(2027, 6, 30))
FIXED = BaselineEntry(fingerprint="0123456789abcdef:1", rule="HDR015", message="key is not written in lower case",
                      member="data.hdr", field="lines")
EXPIRED = Notice(kind="waiver-expired", message="the waiver of FLD011 expired", source="hsi-conform.toml")


def f(rule: str, line: int, **marks: Any) -> Finding:
    return Finding(rule=rule, name="n", severity=Severity.ERROR, level=Level.SYNTAX, spec="a.md#b",
                   message=f"problem {rule}", location=Location(member="data.hdr", line=line, field=f"k{line}"),
                   **marks)


def marked() -> list[Report]:
    findings = (
        f("HDR015", 2, baseline_state=BaselineState.NEW),
        f("HDR015", 3, baseline_state=BaselineState.UNCHANGED),
        f("FLD011", 4, baseline_state=BaselineState.NEW, suppression=WAIVER),
    )
    return [Report(path="a.hsi", findings=findings, rules_run=("HDR015", "FLD011"), baseline="ci/b.json",
                   absent=(FIXED,), notices=(EXPIRED,))]


def test_the_verdict_counts_only_new_unwaived_findings() -> None:
    [report] = marked()
    assert [f.location.line for f in report.counted] == [2]
    assert report.counts["error"] == 1 and not report.conformant
    assert Report(path="a.hsi", findings=report.findings[1:]).conformant


def test_json_marks_them_and_matches_the_schema() -> None:
    document = json.loads(render("json", marked()))
    assert validate(document, schema(), schema()) == []
    [file] = document["files"]
    assert [fi.get("baseline_state") for fi in file["findings"]] == ["new", "unchanged", "new"]
    assert file["findings"][2]["suppression"] == {"kind": "external", "justification": "agreed with partner X",
                                                  "source": "hsi-conform.toml", "expires": "2027-06-30"}
    assert "suppression" not in file["findings"][0]
    assert file["baseline"] == "ci/b.json"
    assert [(a["rule"], a["field"], a["fingerprint"]) for a in file["absent"]] == [
        ("HDR015", "lines", "0123456789abcdef:1")]
    assert file["notices"] == [{"kind": "waiver-expired", "message": "the waiver of FLD011 expired",
                                "source": "hsi-conform.toml"}]
    assert (document["counts"]["error"], file["counts"]["error"]) == (1, 1)
    plain = json.loads(render("json", [Report(path="b.hsi", findings=(f("HDR015", 2),))]))["files"][0]
    assert not {"baseline", "absent", "notices"} & set(plain) and "baseline_state" not in plain["findings"][0]


def test_sarif_baseline_states_suppressions_and_configuration_notices() -> None:
    run = json.loads(render("sarif", marked()))["runs"][0]
    results = run["results"]
    assert [r.get("baselineState") for r in results] == ["new", "unchanged", "new", "absent"]
    assert results[2]["suppressions"] == [{"kind": "external", "status": "accepted",
                                           "justification": "agreed with partner X",
                                           "properties": {"source": "hsi-conform.toml", "expires": "2027-06-30"}}]
    assert "suppressions" not in results[0]
    absent = results[3]
    assert (absent["ruleId"], absent["kind"], absent["level"]) == ("HDR015", "pass", "none")
    assert absent["partialFingerprints"] == {"hsiConform/v1": "0123456789abcdef:1"}
    artifact = absent["locations"][0]["physicalLocation"]["artifactLocation"]["index"]
    assert run["artifacts"][artifact]["location"]["uri"] == "/data.hdr"
    [notice] = run["invocations"][0]["toolConfigurationNotifications"]
    assert (notice["level"], notice["descriptor"]["id"]) == ("warning", "waiver-expired")
    assert run["invocations"][0]["executionSuccessful"] is True


def test_junit_fails_only_on_counted_findings_and_lists_the_others() -> None:
    root = ET.fromstring(render("junit", marked()).encode("utf-8"))
    cases = {c.get("name", "").split()[0]: c for c in root.iter("testcase")}
    failure = cases["HDR015"].find("failure")
    assert failure is not None and failure.text is not None
    assert "data.hdr:2" in failure.text and "data.hdr:3" not in failure.text
    out = cases["HDR015"].find("system-out")
    assert out is not None and out.text is not None
    assert "data.hdr:3" in out.text and "[unchanged" in out.text and "fixed HDR015" in out.text
    assert cases["FLD011"].find("failure") is None
    waived = cases["FLD011"].find("system-out")
    assert waived is not None and waived.text is not None and "[waived: agreed with partner X]" in waived.text
    err = root.find("testsuite/system-err")
    assert err is not None and err.text is not None and "the waiver of FLD011 expired" in err.text
    assert root.get("failures") == "1"


def test_text_shows_new_and_waived_hides_unchanged_and_lists_fixed() -> None:
    text = render("text", marked())
    assert "a.hsi:data.hdr:2 [k2]: error HDR015" in text
    assert "data.hdr:3" not in text  # unchanged: counted in the summary only
    assert "problem FLD011 (waived)" in text
    assert "waived: agreed with partner X (hsi-conform.toml, until 2027-06-30)" in text
    assert "a.hsi:data.hdr [lines]: fixed HDR015" in text
    summary = next(line for line in text.splitlines() if line.startswith("a.hsi: NONCONFORMANT"))
    assert "1 error" in summary and "1 waived" in summary  # the waived one is new, but does not count
    assert "2 new, 1 unchanged" in summary and "1 fixed" in summary
    assert "  warning: the waiver of FLD011 expired (hsi-conform.toml)" in text
