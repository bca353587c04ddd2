from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from hsi_conform.finding import Finding, Level, Location, Problem, Report, Severity, Skipped
from hsi_conform.report.sarif import SARIF_VERSION, render_sarif, sarif_level
from hsi_conform.rules import RuleSpec


def check(ctx: object) -> Iterator[Problem]:
    yield from ()


RULES = (
    RuleSpec(
        id="ZIP001",
        name="zip-stored",
        severity=Severity.ERROR,
        level=Level.CONTAINER,
        spec="container.md#stored",
        summary="Members are stored.",
        check=check,
    ),
    RuleSpec(
        id="HDR001",
        name="hdr-key-case",
        severity=Severity.WARNING,
        level=Level.SYNTAX,
        spec="header-syntax.md#keys",
        summary="Keys are lower case.",
        check=check,
        profile_severity={"reader": Severity.INFO},
    ),
    RuleSpec(
        id="LAY010",
        name="lay-unknown",
        severity=Severity.INFO,
        level=Level.CONTAINER,
        spec="container.md#layout",
        summary="Unknown members.",
        check=check,
    ),
)


def f(rule: str, severity: Severity, location: Location, **extra: Any) -> Finding:
    return Finding(
        rule=rule,
        name="n",
        severity=severity,
        level=Level.SYNTAX,
        spec="a.md#b",
        message=f"msg {rule}",
        location=location,
        **extra,
    )


def sample() -> list[Report]:
    hdr = Location(
        member="data.hdr",
        line=3,
        column=2,
        end_line=3,
        end_column=9,
        offset=40,
        field="samples",
        excerpt="Samples = 3",
    )
    return [
        Report(
            path="dir/a b.hsi",
            findings=(
                f("ZIP001", Severity.FATAL, Location(offset=12)),
                f(
                    "HDR001",
                    Severity.ERROR,
                    hdr,
                    count=3,
                    other_locations=(Location(member="data.hdr", line=5),),
                ),
                f("LAY010", Severity.INFO, Location(member="Extra/notes.txt")),
            ),
            skipped=(Skipped("semantics", "fatal"),),
        ),
        Report(
            path="/abs/c.hsi",
            findings=(f("XRF009", Severity.WARNING, Location(member="data.hdr")),),
            internal_errors=("XRF001: boom",),
        ),
    ]


def load(reports: list[Report]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_sarif(reports, RULES, tool_version="1.2.3"))
    return document


def test_log_envelope() -> None:
    log = load(sample())
    assert log["version"] == SARIF_VERSION == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("hsi-conform", "1.2.3")
    assert driver["informationUri"].startswith("https://")


def test_rules_come_from_the_registry_metadata() -> None:
    rules = load(sample())["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["ZIP001", "HDR001", "LAY010"]
    assert [r["defaultConfiguration"]["level"] for r in rules] == ["error", "warning", "note"]
    assert rules[1]["name"] == "hdr-key-case"
    assert rules[1]["shortDescription"]["text"] == "Keys are lower case."
    assert rules[1]["helpUri"] == "spec/header-syntax.md#keys"
    assert rules[1]["properties"]["profileSeverity"] == {"reader": "info"}


def test_members_are_artifacts_nested_in_their_container() -> None:
    run = load(sample())["runs"][0]
    artifacts = run["artifacts"]
    uris = [a["location"]["uri"] for a in artifacts]
    assert uris[:2] == ["dir/a%20b.hsi", "file:///abs/c.hsi"]
    nested = [(a["location"]["uri"], a["parentIndex"]) for a in artifacts if "parentIndex" in a]
    assert sorted(nested) == [("/Extra/notes.txt", 0), ("/data.hdr", 0), ("/data.hdr", 1)]


def test_results_levels_locations_and_regions() -> None:
    run = load(sample())["runs"][0]
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("ZIP001", "error"),
        ("HDR001", "error"),
        ("LAY010", "note"),
        ("XRF009", "warning"),
    ]
    archive = results[0]["locations"][0]["physicalLocation"]
    assert archive["artifactLocation"]["index"] == 0
    assert archive["region"] == {"byteOffset": 12}
    header = results[1]["locations"][0]["physicalLocation"]
    index = header["artifactLocation"]["index"]
    assert run["artifacts"][index]["parentIndex"] == 0
    assert header["region"] == {
        "startLine": 3,
        "startColumn": 2,
        "endLine": 3,
        "endColumn": 9,
        "byteOffset": 40,
    }
    assert results[1]["occurrenceCount"] == 3
    assert len(results[1]["relatedLocations"]) == 1
    assert results[1]["ruleIndex"] == 1
    assert "ruleIndex" not in results[3]  # rule unknown to the given metadata
    member_only = results[2]["locations"][0]["physicalLocation"]
    assert "region" not in member_only
    second_file = results[3]["locations"][0]["physicalLocation"]["artifactLocation"]["index"]
    assert run["artifacts"][second_file]["parentIndex"] == 1


def test_every_result_has_its_own_partial_fingerprint() -> None:
    reports = sample()
    results = load(reports)["runs"][0]["results"]
    prints = [r["partialFingerprints"]["hsiConform/v1"] for r in results]
    assert prints == [p for report in reports for p in report.fingerprints()]
    assert "occurrenceCount" not in results[0]  # a single occurrence


def test_invocation_reports_internal_errors_and_skips() -> None:
    invocation = load(sample())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    levels = sorted(n["level"] for n in invocation["toolExecutionNotifications"])
    assert levels == ["error", "note"]
    assert load([Report(path="x.hsi")])["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_severity_mapping() -> None:
    assert [sarif_level(s) for s in Severity] == ["note", "warning", "error", "error"]


def test_an_unreadable_input_is_an_error_notification_on_its_artifact() -> None:
    log = json.loads(render_sarif([Report(path="a.hsi"), Report.unreadable("nope.hsi", "gone")], RULES))
    run = log["runs"][0]
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = [n for n in invocation["toolExecutionNotifications"] if n["level"] == "error"]
    assert note["descriptor"]["id"] == "input-unreadable"
    index = note["locations"][0]["physicalLocation"]["artifactLocation"]["index"]
    assert run["artifacts"][index]["location"]["uri"] == "nope.hsi"
    assert run["results"] == []
