"""SARIF 2.1.0 report: one run, rules from the registry, container members as nested artifacts.

Every occurrence is a result of its own, with its location and its ``partialFingerprints``
(spec/report.md#fingerprints). A waived finding carries ``suppressions`` (kind ``external``, the waiver's reason as
justification); after a comparison with a baseline every result has its ``baselineState``, and each baseline
entry not found again is a result with ``baselineState: absent``. Expired waivers are configuration
notifications of the invocation.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from hsi_conform._version import __version__
from hsi_conform.finding import FINGERPRINT_KEY, BaselineEntry, Finding, Location, Report, Severity, Suppression
from hsi_conform.report.json import dump_json
from hsi_conform.rules import RuleSpec

__all__ = ["INFORMATION_URI", "SARIF_SCHEMA", "SARIF_VERSION", "render_sarif", "sarif_level"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/hsi-conform/"

_LEVELS = {
    Severity.FATAL: "error",
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
}


def sarif_level(severity: Severity) -> str:
    """Map a severity to a SARIF level (``error``, ``warning`` or ``note``)."""
    return _LEVELS[severity]


def _file_uri(path: str) -> str:
    pure = PurePath(path)
    if pure.is_absolute():
        return pure.as_uri()
    return quote(path.replace(os.sep, "/"), errors="surrogateescape")  # a lone surrogate: the name's own byte


def _rule_descriptor(rule: RuleSpec, spec_base: str) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.doc or rule.summary},
        "defaultConfiguration": {"level": sarif_level(rule.severity)},
        "helpUri": spec_base + rule.spec,
        "properties": {
            "severity": rule.severity.label,
            "level": rule.level.value,
            "profileSeverity": rule.regrades,
        },
    }


class _Artifacts:
    """The run's artifacts: each input file, and each member nested in it via ``parentIndex``."""

    def __init__(self, reports: Sequence[Report]) -> None:
        self.items: list[dict[str, Any]] = []
        self._index: dict[tuple[int, str | None], int] = {}
        for i, report in enumerate(reports):
            self._add((i, None), {"location": {"uri": _file_uri(report.path)}, "roles": ["analysisTarget"]})

    def _add(self, key: tuple[int, str | None], artifact: dict[str, Any]) -> None:
        self._index[key] = len(self.items)
        self.items.append(artifact)

    def index(self, file_index: int, member: str | None) -> int:
        """Return the artifact index of a member (or of the file itself), adding it on first use."""
        key = (file_index, member)
        if member is not None and key not in self._index:
            uri = "/" + quote(member.lstrip("/"), errors="surrogateescape")
            self._add(key, {"location": {"uri": uri}, "parentIndex": self._index[(file_index, None)]})
        return self._index[key]

    def uri(self, index: int) -> str:
        """Return the URI of an artifact."""
        return str(self.items[index]["location"]["uri"])


def _region(location: Location) -> dict[str, int]:
    names = {
        "line": "startLine",
        "column": "startColumn",
        "end_line": "endLine",
        "end_column": "endColumn",
        "offset": "byteOffset",
    }
    values = {sarif: getattr(location, ours) for ours, sarif in names.items()}
    return {key: value for key, value in values.items() if value is not None}


def _location(location: Location, file_index: int, artifacts: _Artifacts) -> dict[str, Any]:
    index = artifacts.index(file_index, location.member)
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifacts.uri(index), "index": index}}
    region = _region(location)
    if region:
        physical["region"] = region
    if location.excerpt is not None and location.line is not None:
        physical["contextRegion"] = {"startLine": location.line, "snippet": {"text": location.excerpt}}
    result: dict[str, Any] = {"physicalLocation": physical}
    if location.field is not None:
        name = location.field if location.item is None else f"{location.field}[{location.item}]"
        result["logicalLocations"] = [{"name": name, "kind": "member"}]
    return result


def _result(
    finding: Finding, fingerprint: str, report: Report, file_index: int, rule_index: dict[str, int],
    artifacts: _Artifacts,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": sarif_level(finding.severity),
        "message": {"text": finding.message},
        "locations": [_location(finding.location, file_index, artifacts)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": {
            "severity": finding.severity.label,
            "level": finding.level.value,
            "file": report.path,
            "conformant": report.conformant,
        },
    }
    if finding.rule in rule_index:
        result["ruleIndex"] = rule_index[finding.rule]
    if finding.suppression is not None:
        result["suppressions"] = [_suppression(finding.suppression)]
    if finding.baseline_state is not None:
        result["baselineState"] = finding.baseline_state.value
    if finding.count > 1:  # an aggregated finding built by a caller; the engine gives one per occurrence
        result["occurrenceCount"] = finding.count
    if finding.other_locations:
        others = enumerate(finding.other_locations, 1)
        result["relatedLocations"] = [{"id": n, **_location(loc, file_index, artifacts)} for n, loc in others]
    return result


def _suppression(suppression: Suppression) -> dict[str, Any]:
    result: dict[str, Any] = {"kind": suppression.kind, "status": "accepted",
                              "justification": suppression.justification}
    properties = {k: v for k, v in suppression.to_dict().items() if k in ("source", "expires")}
    if properties:
        result["properties"] = properties
    return result


def _absent(entry: BaselineEntry, report: Report, file_index: int, rule_index: dict[str, int],
            artifacts: _Artifacts) -> dict[str, Any]:
    """Return the result of a baseline entry not found again: the problem is gone, so it passes (level none)."""
    result: dict[str, Any] = {
        "ruleId": entry.rule,
        "kind": "pass",
        "level": "none",
        "message": {"text": entry.message},
        "locations": [_location(Location(member=entry.member, field=entry.field), file_index, artifacts)],
        "partialFingerprints": {FINGERPRINT_KEY: entry.fingerprint},
        "baselineState": "absent",
        "properties": {"file": report.path},
    }
    if entry.rule in rule_index:
        result["ruleIndex"] = rule_index[entry.rule]
    return result


def _notices(reports: Sequence[Report], artifacts: _Artifacts) -> list[dict[str, Any]]:
    """Return the expired waivers as warnings about the configuration (toolConfigurationNotifications)."""
    return [{"level": "warning", "message": {"text": notice.message}, "descriptor": {"id": notice.kind},
             "locations": [_location(Location(), i, artifacts)],
             **({"properties": {"source": notice.source}} if notice.source else {})}
            for i, report in enumerate(reports) for notice in report.notices]


def _invocation(reports: Sequence[Report], artifacts: _Artifacts) -> dict[str, Any]:
    notes: list[dict[str, Any]] = []
    for i, report in enumerate(reports):
        if report.input_error is not None:
            notes.append({
                "level": "error",
                "message": {"text": f"{report.path}: cannot read: {report.input_error}"},
                "descriptor": {"id": "input-unreadable"},
                "locations": [_location(Location(), i, artifacts)],
            })
        for skipped in report.skipped:
            text = f"{report.path}: skipped {skipped.kind} {skipped.target}: {skipped.reason}"
            notes.append({"level": "note", "message": {"text": text}})
        for error in report.internal_errors:
            notes.append({"level": "error", "message": {"text": f"{report.path}: internal error: {error}"}})
    failed = any(r.internal_errors or r.input_error is not None for r in reports)  # exit code 4 or 3
    invocation: dict[str, Any] = {"executionSuccessful": not failed}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    configuration = _notices(reports, artifacts)
    if configuration:
        invocation["toolConfigurationNotifications"] = configuration
    configs = sorted({r.config for r in reports if r.config is not None})
    if configs:  # the files whose settings applied (a property bag: SARIF has no field for them)
        invocation["properties"] = {"configFiles": configs}
    return invocation


def render_sarif(
    reports: Sequence[Report],
    rules: Sequence[RuleSpec],
    *,
    tool_version: str = __version__,
    spec_base: str = "spec/",
) -> str:
    """Render reports as a SARIF 2.1.0 log with a single run.

    Args:
        reports: One report per input file.
        rules: Rule metadata for ``tool.driver.rules`` (normally every registered rule).
        tool_version: Version recorded for the driver.
        spec_base: Prefix that turns a rule's spec anchor into its ``helpUri``.

    Returns:
        The SARIF JSON text.
    """
    rule_index = {rule.id: i for i, rule in enumerate(rules)}
    artifacts = _Artifacts(reports)
    results = [
        _result(finding, fingerprint, report, i, rule_index, artifacts)
        for i, report in enumerate(reports)
        for finding, fingerprint in zip(report.findings, report.fingerprints(), strict=True)
    ]
    results += [_absent(entry, report, i, rule_index, artifacts)
                for i, report in enumerate(reports) for entry in report.absent]
    driver = {
        "name": "hsi-conform",
        "version": tool_version,
        "semanticVersion": tool_version,
        "informationUri": INFORMATION_URI,
        "rules": [_rule_descriptor(rule, spec_base) for rule in rules],
    }
    run = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "invocations": [_invocation(reports, artifacts)],
        "artifacts": artifacts.items,
        "results": results,
    }
    return dump_json({"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]})
