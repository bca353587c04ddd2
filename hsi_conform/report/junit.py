"""JUnit XML report for CI: a test suite per file, a test case per rule that ran or was skipped.

A rule's test case fails on the findings that count toward the verdict; waived findings and those unchanged since
a baseline are listed, marked, in its ``system-out``, with the baseline's entries that were not found again.
Expired waivers are warnings in the suite's ``system-err``.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TextIO

from hsi_conform._version import __version__
from hsi_conform.finding import BaselineState, Finding, Report, Skipped
from hsi_conform.report._spool import Spool
from hsi_conform.rules import RuleSpec

__all__ = ["JunitWriter", "render_junit"]

# XML 1.0 cannot carry these even as character references; hostile member names may contain them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml(text: str) -> str:
    return _XML_INVALID.sub(lambda m: f"\\x{{{ord(m.group()):x}}}", text)


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _xml(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _xml(text)
    return element


def _rule_case(suite: ET.Element, report: Report, rule_id: str, rules: dict[str, RuleSpec]) -> int:
    """Add the test case of a rule that ran; return 1 when it failed."""
    findings = [f for f in report.findings if f.rule == rule_id]
    spec = rules.get(rule_id)
    name = spec.name if spec else (findings[0].name if findings else "")
    level = spec.level.value if spec else (findings[0].level.value if findings else "rules")
    case = _element(suite, "testcase", classname=f"hsi-conform.{level}", name=f"{rule_id} {name}".strip())
    failing = [f for f in findings if f.counted and f.severity >= report.fail_on]
    passing = [_line(f) for f in findings if not (f.counted and f.severity >= report.fail_on)]
    passing += [f"{e.member or ''} [{e.field or ''}]: fixed {e.rule} {e.message} (in the baseline, not found again)"
                for e in report.absent if e.rule == rule_id]
    if failing:
        _element(
            case,
            "failure",
            "\n".join(_line(f) for f in failing),
            type=rule_id,
            message=failing[0].message,
        )
    if passing:
        _element(case, "system-out", "\n".join(passing))
    return 1 if failing else 0


def _line(finding: Finding) -> str:
    more = f" (x{finding.count})" if finding.count > 1 else ""
    if finding.suppression is not None:
        more += f" [waived: {finding.suppression.justification}]"
    if finding.baseline_state is BaselineState.UNCHANGED:
        more += " [unchanged: in the baseline]"
    return f"{finding}{more}"


def _suite(root: ET.Element, report: Report, rules: dict[str, RuleSpec], tool_version: str) -> dict[str, int]:
    suite = _element(root, "testsuite", name=report.path)
    properties = _element(suite, "properties")
    values = {
        "tool_version": tool_version,
        "profile": report.profile,
        "content": report.content,
        "fail_on": report.fail_on.label,
        "conformant": str(report.conformant).lower(),
    }
    for key, value in values.items():
        _element(properties, "property", name=key, value=value)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if report.input_error is not None:  # nothing ran: one test case that errs
        case = _element(suite, "testcase", classname="hsi-conform.input", name="input readable")
        _element(case, "error", report.input_error, type="input-unreadable", message=report.input_error)
        totals.update(tests=1, errors=1)
    for rule_id in report.rules_run:
        totals["failures"] += _rule_case(suite, report, rule_id, rules)
        totals["tests"] += 1
    for skipped in report.skipped:
        name = skipped.target if skipped.kind == "rule" else f"level {skipped.target}"
        kind = _skipped_case(suite, name, skipped)
        totals[kind] += 1
        totals["tests"] += 1
    if report.notices:
        _element(suite, "system-err", "\n".join(f"warning: {n.message}" + (f" ({n.source})" if n.source else "")
                                                for n in report.notices))
    for key, count in totals.items():
        suite.set(key, str(count))
    return totals


def _skipped_case(suite: ET.Element, name: str, skipped: Skipped) -> str:
    """Add a test case for a skipped level or rule; return the counter it adds to."""
    case = _element(suite, "testcase", classname="hsi-conform.skipped", name=name)
    _element(case, "error" if skipped.internal else "skipped", message=skipped.reason)
    return "errors" if skipped.internal else "skipped"


class JunitWriter:
    """Writes the JUnit report of reports that arrive one at a time, keeping none of them (spec/report.md#streaming).

    Each report's ``testsuite`` is rendered as it arrives, indented for its place, into a spool; the root's totals
    are counted as they go and the document is written at :meth:`close`, the one :func:`render_junit` returns.
    """

    def __init__(self, out: TextIO, rules: Sequence[RuleSpec] = (), *, tool_version: str = __version__) -> None:
        self._out = out
        self._rules = {rule.id: rule for rule in rules}
        self._tool_version = tool_version
        self._totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        self._suites = Spool("\n  ")

    def write(self, report: Report) -> None:
        """Add one report's test suite."""
        parent = ET.Element("testsuites")
        for key, value in _suite(parent, report, self._rules, self._tool_version).items():
            self._totals[key] += value
        (suite,) = parent
        ET.indent(suite, level=1)
        self._suites.add(ET.tostring(suite, encoding="unicode"))

    def close(self) -> None:
        """Write the document."""
        root = ET.Element("testsuites", {"name": "hsi-conform"})
        for key, value in self._totals.items():
            root.set(key, str(value))
        empty = ET.tostring(root, encoding="unicode")
        self._out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        if not self._suites.items:
            self._suites.copy_to(self._out)
            self._out.write(empty + "\n")
            return
        self._out.write(empty.removesuffix(" />") + ">\n  ")
        self._suites.copy_to(self._out)
        self._out.write("\n</testsuites>\n")


def render_junit(
    reports: Sequence[Report], rules: Sequence[RuleSpec] = (), *, tool_version: str = __version__
) -> str:
    """Render reports as JUnit XML (what :class:`JunitWriter` writes, as one string).

    A rule's test case fails when it has a finding at or above the report's ``fail_on``; lower findings go
    to its ``system-out``. Skipped levels and rules are skipped test cases; crashed rules are errors.

    Args:
        reports: One report per input file.
        rules: Rule metadata used for test case names and class names (optional).
        tool_version: Version recorded as a suite property.

    Returns:
        The XML document text.
    """
    out = io.StringIO()
    writer = JunitWriter(out, rules, tool_version=tool_version)
    for report in reports:
        writer.write(report)
    writer.close()
    return out.getvalue()
