from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

from hsi_conform.finding import Finding, Level, Location, Problem, Report, Severity, Skipped
from hsi_conform.report.junit import render_junit
from hsi_conform.rules import RuleSpec


def check(ctx: object) -> Iterator[Problem]:
    yield from ()


RULES = (
    RuleSpec(
        id="HDR001",
        name="hdr-key-case",
        severity=Severity.ERROR,
        level=Level.SYNTAX,
        spec="h.md#k",
        summary="s",
        check=check,
    ),
)


def f(rule: str, severity: Severity, member: str = "data.hdr") -> Finding:
    return Finding(
        rule=rule,
        name=rule.lower(),
        severity=severity,
        level=Level.CONTAINER,
        spec="a.md#b",
        message=f"msg {rule}",
        location=Location(member=member, line=1),
    )


def sample() -> list[Report]:
    return [
        Report(
            path="a.hsi",
            findings=(
                f("HDR001", Severity.ERROR),
                f("HDR001", Severity.ERROR, "preview.hdr"),
                f("LAY010", Severity.INFO),
            ),
            rules_run=("ZIP001", "LAY010", "HDR001"),
            skipped=(
                Skipped("semantics", "HDR fatal"),
                Skipped("XRF002", "data type invalid"),
                Skipped("XRF003", "internal error: boom"),
            ),
            internal_errors=("XRF003: boom",),
        ),
        Report(path="b\x01.hsi", rules_run=("ZIP001",)),
    ]


def parse(reports: list[Report]) -> ET.Element:
    text = render_junit(reports, RULES, tool_version="1.0")
    assert text.startswith("<?xml")
    return ET.fromstring(text.encode("utf-8"))


def test_one_suite_per_file_with_totals() -> None:
    root = parse(sample())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["a.hsi", "b\\x{1}.hsi"]
    first = suites[0]
    assert (first.get("tests"), first.get("failures"), first.get("errors"), first.get("skipped")) == (
        "6",
        "1",
        "1",
        "2",
    )
    assert (root.get("tests"), root.get("failures")) == ("7", "1")
    properties = {p.get("name"): p.get("value") for p in first.iter("property")}
    assert properties["profile"] == "exchange" and properties["conformant"] == "false"
    assert properties["tool_version"] == "1.0"


def test_a_testcase_per_rule_that_ran_failing_at_fail_on() -> None:
    cases = {c.get("name"): c for c in parse(sample()).find("testsuite").iter("testcase")}  # type: ignore[union-attr]
    assert set(cases) == {
        "ZIP001",
        "LAY010 lay010",
        "HDR001 hdr-key-case",
        "level semantics",
        "XRF002",
        "XRF003",
    }
    failure = cases["HDR001 hdr-key-case"].find("failure")
    assert failure is not None and failure.get("type") == "HDR001"
    assert failure.text is not None and len(failure.text.splitlines()) == 2
    assert cases["HDR001 hdr-key-case"].get("classname") == "hsi-conform.syntax"
    assert cases["LAY010 lay010"].find("failure") is None
    assert cases["LAY010 lay010"].find("system-out") is not None
    assert cases["ZIP001"].find("failure") is None
    assert cases["level semantics"].find("skipped") is not None
    assert cases["XRF002"].find("skipped") is not None
    assert cases["XRF003"].find("error") is not None


def test_fail_on_moves_the_failure_threshold() -> None:
    report = Report(
        path="a.hsi", findings=(f("LAY010", Severity.INFO),), rules_run=("LAY010",), fail_on=Severity.INFO
    )
    root = parse([report])
    assert root.get("failures") == "1"


def test_empty_input() -> None:
    root = parse([])
    assert (root.tag, root.get("tests"), len(root)) == ("testsuites", "0", 0)


def test_an_unreadable_input_is_a_suite_with_one_error() -> None:
    root = parse([Report.unreadable("nope.hsi", "gone"), Report(path="a.hsi", rules_run=("HDR001",))])
    suite = root.find("testsuite[@name='nope.hsi']")
    assert suite is not None
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("1", "1", "0")
    error = suite.find("testcase/error")
    assert error is not None and error.get("type") == "input-unreadable"
    assert (root.get("tests"), root.get("errors")) == ("2", "1")
