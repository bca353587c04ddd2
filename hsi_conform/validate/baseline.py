"""Baselines: record today's findings, then report only the new ones (spec/report.md#baselines).

``validate --write-baseline FILE PATH...`` records every finding that is not waived, by fingerprint
(spec/report.md#fingerprints), under each input's path relative to FILE's folder, so the baseline stays valid
when the tree is checked out elsewhere. ``validate --baseline FILE PATH...`` marks each finding ``new`` or
``unchanged``; only new ones count toward the verdict, and the entries of an input that are not found again are
its ``absent`` (fixed) ones. The file is JSON (``spec/baseline.schema.json``), sorted, one entry per line, so that
a change of the baseline reads as a short diff.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hsi_conform._atomic import publish_text
from hsi_conform._walk import make_folders
from hsi_conform.errors import ConfigError
from hsi_conform.finding import BaselineEntry, BaselineState, Report
from hsi_conform.validate.config import read_regular

__all__ = ["BASELINE_VERSION", "Baseline", "apply_baseline", "make_baseline", "read_baseline", "render_baseline",
           "write_baseline"]

BASELINE_VERSION = 1
"""The ``schema_version`` of the baseline file; bumped on every incompatible change."""

_FINGERPRINT = re.compile(r"[0-9a-f]{16}:[1-9][0-9]*")
_ENTRY_KEYS = ("rule", "member", "field", "message", "fingerprint")
_REQUIRED = frozenset({"rule", "message", "fingerprint"})


@dataclass(frozen=True, slots=True)
class Baseline:
    """The findings recorded for each input.

    Attributes:
        path: The baseline file; input paths are relative to its folder.
        files: The recorded entries by input path (POSIX, relative to the folder of :attr:`path`).
    """

    path: Path
    files: Mapping[str, tuple[BaselineEntry, ...]]

    def key(self, input_path: str) -> str:
        """Return how the baseline names an input given as ``input_path`` (as given, links not resolved)."""
        folder = os.path.abspath(self.path.parent)
        return Path(os.path.relpath(os.path.abspath(input_path), folder)).as_posix()

    def entries(self, input_path: str) -> tuple[BaselineEntry, ...]:
        """Return the entries recorded for an input (none for an input the baseline does not know)."""
        return self.files.get(self.key(input_path), ())

    @property
    def size(self) -> int:
        """The number of recorded findings."""
        return sum(len(entries) for entries in self.files.values())


def _order(entry: BaselineEntry) -> tuple[str, str, str, int, str]:
    identity, _, number = entry.fingerprint.partition(":")
    return (entry.rule, entry.member or "", entry.field or "", int(number), identity)


def make_baseline(path: str | os.PathLike[str], reports: Iterable[Report]) -> Baseline:
    """Return the baseline of ``reports`` for a file at ``path``: every finding that is not waived.

    A waived finding is left out, so that it comes back as new when its waiver expires. Inputs that could not be
    read, and inputs without findings, have no entries.
    """
    baseline = Baseline(Path(path), {})
    files: dict[str, dict[str, BaselineEntry]] = {}
    for report in reports:
        recorded = files.setdefault(baseline.key(report.path), {})
        for finding, fingerprint in zip(report.findings, report.fingerprints(), strict=True):
            if finding.suppression is None:
                recorded[fingerprint] = BaselineEntry.of(finding, fingerprint)
    entries = {key: tuple(sorted(found.values(), key=_order)) for key, found in sorted(files.items()) if found}
    return Baseline(Path(path), entries)


def _line(data: Any) -> str:
    # Lone surrogates of hostile member names become \udcxx escapes, so the file is always UTF-8.
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8")


def render_baseline(baseline: Baseline) -> str:
    """Return the text of a baseline file: inputs sorted, each entry on one line in a fixed order."""
    blocks = []
    for key in sorted(baseline.files):
        rows = ",\n".join(f"      {_line(entry.to_dict())}" for entry in sorted(baseline.files[key], key=_order))
        blocks.append(f"    {_line(key)}: [\n{rows}\n    ]")
    files = "{\n" + ",\n".join(blocks) + "\n  }" if blocks else "{}"
    return (f'{{\n  "schema_version": {BASELINE_VERSION},\n  "tool": "hsi-conform",\n'
            f'  "files": {files}\n}}\n')


def write_baseline(path: str | os.PathLike[str], reports: Iterable[Report]) -> Baseline:
    """Record ``reports`` in a baseline file at ``path``, published atomically, and return the baseline.

    Missing folders above ``path`` are created.

    Raises:
        OSError: The file cannot be written (nothing is left half-written).
    """
    baseline = make_baseline(path, reports)
    make_folders(baseline.path.parent)
    publish_text(baseline.path, render_baseline(baseline))
    return baseline


def _entry(data: object, where: str, source: str) -> BaselineEntry:
    if not isinstance(data, dict) or not set(data) >= _REQUIRED or not set(data) <= set(_ENTRY_KEYS):
        raise ConfigError(f"{where}: an entry needs rule, message and fingerprint (member, field optional)",
                          source)
    if not all(isinstance(value, str) for value in data.values()):
        raise ConfigError(f"{where}: entry values must be strings", source)
    if not _FINGERPRINT.fullmatch(data["fingerprint"]):
        raise ConfigError(f"{where}: not a fingerprint: {data['fingerprint']!r}", source)
    return BaselineEntry(fingerprint=data["fingerprint"], rule=data["rule"], message=data["message"],
                         member=data.get("member"), field=data.get("field"))


def _files(data: object, source: str) -> dict[str, tuple[BaselineEntry, ...]]:
    if not isinstance(data, dict):
        raise ConfigError("'files' must map input paths to lists of entries", source)
    files = {}
    for key, entries in data.items():
        if not isinstance(entries, list):
            raise ConfigError(f"files[{key!r}] must be a list of entries", source)
        files[key] = tuple(_entry(e, f"files[{key!r}][{i}]", source) for i, e in enumerate(entries))
    return files


def read_baseline(path: str | os.PathLike[str]) -> Baseline:
    """Read a baseline file.

    Raises:
        ConfigError: The file is missing, not a regular file, not JSON, or not a baseline of this version
            (exit code 2, before any input is read).
    """
    source = os.fspath(path)
    try:
        data = json.loads(read_regular(Path(path)))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the baseline: {exc}", source) from exc
    if not isinstance(data, dict) or data.get("tool") != "hsi-conform" or "files" not in data:
        raise ConfigError("not an hsi-conform baseline (spec/baseline.schema.json)", source)
    if data.get("schema_version") != BASELINE_VERSION:
        raise ConfigError(f"baseline schema_version {data.get('schema_version')!r} is not {BASELINE_VERSION}",
                          source)
    return Baseline(Path(path), _files(data["files"], source))


def _compare(report: Report, baseline: Baseline) -> Report:
    marked = replace(report, baseline=os.fspath(baseline.path))
    if report.input_error is not None:  # not read: nothing in it can be called fixed
        return marked
    entries = baseline.entries(report.path)
    known = {entry.fingerprint for entry in entries}
    prints = report.fingerprints()
    findings = tuple(replace(f, baseline_state=BaselineState.UNCHANGED if p in known else BaselineState.NEW)
                     for f, p in zip(report.findings, prints, strict=True))
    # Only a rule that ran to completion can say its finding is gone.
    ran, found = set(report.rules_run), set(prints)
    absent = tuple(e for e in entries if e.fingerprint not in found and e.rule in ran)
    return replace(marked, findings=findings, absent=absent)


def apply_baseline(reports: Sequence[Report], baseline: Baseline) -> list[Report]:
    """Return ``reports`` compared with ``baseline``.

    Each finding is marked ``new`` or ``unchanged`` (an unchanged one no longer counts toward the verdict); an
    entry of an input that is not found again, by a rule that ran, is in that report's ``absent``. Entries of
    inputs that are not among ``reports`` are left alone: validating part of a tree fixes nothing.
    """
    return [_compare(report, baseline) for report in reports]
