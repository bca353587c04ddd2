"""Versioned JSON report; its JSON Schema is ``spec/report.schema.json``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hsi_conform._version import __version__
from hsi_conform.finding import Report, Severity

__all__ = ["SCHEMA_VERSION", "dump_json", "render_json", "report_to_dict"]

SCHEMA_VERSION = 1
"""Bumped on every incompatible change of the report structure."""


def dump_json(data: Any) -> str:
    r"""Serialise to indented UTF-8-safe JSON text.

    Member names decoded from hostile archives may hold lone surrogates; they are written as ``\udcxx``
    escapes so that the output always encodes as UTF-8.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n"


def _empty_counts() -> dict[str, int]:
    return {s.label: 0 for s in sorted(Severity, reverse=True)}


def report_to_dict(report: Report) -> dict[str, Any]:
    """Return the JSON-ready form of one report (the items of the top-level ``files`` array).

    An input that could not be read has ``input_error`` (the reason) and no findings; the key is absent for
    every input that was validated. A report compared with a baseline has ``baseline`` (the file) and ``absent``
    (its entries not found again); ``notices`` (expired waivers) is there when there are any, ``config`` (the
    configuration file whose settings applied) when one did.
    """
    data: dict[str, Any] = {
        "path": report.path,
        "profile": report.profile,
        "content": report.content,
        "fail_on": report.fail_on.label,
        "conformant": report.conformant,
        "max_severity": None if report.max_severity is None else report.max_severity.label,
        "counts": report.counts,
        "findings": [{"file": report.path, **f.to_dict(), "fingerprint": fingerprint}
                     for f, fingerprint in zip(report.findings, report.fingerprints(), strict=True)],
        "skipped": [s.to_dict() for s in report.skipped],
        "rules_run": list(report.rules_run),
        "internal_errors": list(report.internal_errors),
    }
    if report.input_error is not None:
        data["input_error"] = report.input_error
    if report.baseline is not None:
        data["baseline"] = report.baseline
        data["absent"] = [{"file": report.path, **entry.to_dict()} for entry in report.absent]
    if report.config is not None:
        data["config"] = report.config
    if report.notices:
        data["notices"] = [notice.to_dict() for notice in report.notices]
    return data


def _profile(reports: Sequence[Report]) -> str:
    profiles = {r.profile for r in reports}
    return profiles.pop() if len(profiles) == 1 else ("mixed" if profiles else "exchange")


def render_json(reports: Sequence[Report], *, tool_version: str = __version__) -> str:
    """Render reports as one JSON document (``schema_version`` 1).

    Args:
        reports: One report per input file.
        tool_version: Version recorded in the document.

    Returns:
        The JSON text.
    """
    files = [report_to_dict(r) for r in reports]
    counts = _empty_counts()
    for report in reports:
        for label, number in report.counts.items():
            counts[label] += number
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": "hsi-conform",
        "tool_version": tool_version,
        "profile": _profile(reports),
        "conformant": all(r.conformant for r in reports),
        "counts": counts,
        "findings": [finding for file in files for finding in file["findings"]],
        "files": files,
    }
    return dump_json(document)
