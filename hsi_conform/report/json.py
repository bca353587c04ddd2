"""Versioned JSON report; its JSON Schema is ``spec/report.schema.json``."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any, TextIO

from hsi_conform._version import __version__
from hsi_conform.finding import Report, Severity
from hsi_conform.report._spool import Spool

__all__ = ["SCHEMA_VERSION", "JsonWriter", "dump_json", "render_json", "report_to_dict"]

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


def _item(value: Any, depth: int) -> str:
    """Return ``value`` as ``json.dumps(..., indent=2)`` writes it as an array item at ``depth``."""
    return " " * (2 * depth) + dump_json(value)[:-1].replace("\n", "\n" + " " * (2 * depth))


def _array(spool: Spool, out: TextIO) -> None:
    out.write("[\n" if spool.items else "[")
    spool.copy_to(out)
    out.write("\n  ]" if spool.items else "]")


class JsonWriter:
    """Writes the JSON report of reports that arrive one at a time, keeping none of them (spec/report.md#streaming).

    The document is the one :func:`render_json` returns, byte for byte: its head (profile, verdict, counts) comes
    before the files but depends on all of them, so each report's ``findings`` and ``files`` items are written,
    indented for their place, to two spools (memory, then an anonymous temporary file) and the document is
    assembled at :meth:`close`. The running counts are all that is kept in memory.
    """

    def __init__(self, out: TextIO, *, tool_version: str = __version__) -> None:
        self._out = out
        self._tool_version = tool_version
        self._profiles: set[str] = set()
        self._conformant = True
        self._counts = _empty_counts()
        self._findings = Spool(",\n")
        self._files = Spool(",\n")

    def write(self, report: Report) -> None:
        """Add one report."""
        data = report_to_dict(report)
        self._profiles.add(report.profile)
        self._conformant = self._conformant and report.conformant
        for label, number in report.counts.items():
            self._counts[label] += number
        for finding in data["findings"]:
            self._findings.add(_item(finding, 2))
        self._files.add(_item(data, 2))

    def close(self) -> None:
        """Write the document."""
        profiles = self._profiles
        profile = next(iter(profiles)) if len(profiles) == 1 else ("mixed" if profiles else "exchange")
        head = dump_json({"schema_version": SCHEMA_VERSION, "tool": "hsi-conform", "tool_version": self._tool_version,
                          "profile": profile, "conformant": self._conformant, "counts": self._counts})
        self._out.write(head[: -len("\n}\n")] + ',\n  "findings": ')
        _array(self._findings, self._out)
        self._out.write(',\n  "files": ')
        _array(self._files, self._out)
        self._out.write("\n}\n")


def render_json(reports: Sequence[Report], *, tool_version: str = __version__) -> str:
    """Render reports as one JSON document (``schema_version`` 1; what :class:`JsonWriter` writes, as a string).

    Args:
        reports: One report per input file.
        tool_version: Version recorded in the document.

    Returns:
        The JSON text.
    """
    out = io.StringIO()
    writer = JsonWriter(out, tool_version=tool_version)
    for report in reports:
        writer.write(report)
    writer.close()
    return out.getvalue()
