"""Finding model: severities, levels, locations, findings and reports.

Rules yield :class:`Problem` objects; the engine stamps the rule metadata and the effective severity on
them to make immutable :class:`Finding` objects, collected in one :class:`Report` per input file. A finding may
carry a :class:`Suppression` (a waiver of the configuration) and a :class:`BaselineState` (compared with a
baseline); either can take it out of the verdict (spec/report.md#baselines, spec/report.md#waivers).

The fingerprint scheme (a finding's identity across edits) and the baseline's records live in
:mod:`hsi_conform._fingerprint`; this module exports them, and they are documented and pickled under its name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import date
from enum import IntEnum, StrEnum
from typing import Any

from hsi_conform._fingerprint import (
    FINGERPRINT_KEY,
    BaselineEntry,
    BaselineState,
    fingerprints,
    identity,
    normalise_message,
)

__all__ = ["FINGERPRINT_KEY", "INTERNAL_ERROR", "BaselineEntry", "BaselineState", "Finding", "Level", "Location",
           "Notice", "Problem", "Report", "Severity", "Skipped", "Suppression", "fingerprints", "normalise_message"]


# Public names are documented and pickled as hsi_conform.finding.X wherever they are defined (as errors/ does).
for _public in (BaselineEntry, BaselineState, fingerprints, normalise_message):
    _public.__module__ = __name__
del _public

INTERNAL_ERROR = "internal error"
"""Prefix of the reason of a rule or level skipped because the tool crashed on it."""


class Severity(IntEnum):
    """Ordered severity of a finding: ``INFO < WARNING < ERROR < FATAL``.

    FATAL means that the levels depending on the one that produced it cannot run on the input.
    """

    INFO = 1
    WARNING = 2
    ERROR = 3
    FATAL = 4

    @property
    def label(self) -> str:
        """The lower-case name used in configuration, reports and on the command line."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse a severity name, case-insensitively (``"warning"``, ``"ERROR"``).

        Args:
            text: The severity name.

        Returns:
            The matching severity.

        Raises:
            ValueError: If ``text`` names no severity.
        """
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of {choices})") from None


class Level(StrEnum):
    """Conformance level of a rule; the declaration order is the run order."""

    CONTAINER = "container"
    SYNTAX = "syntax"
    SEMANTICS = "semantics"
    CONSISTENCY = "consistency"

    @property
    def rank(self) -> int:
        """Position of the level in the run order (0 for ``container``)."""
        return _LEVEL_ORDER.index(self)


_LEVEL_ORDER: tuple[Level, ...] = tuple(Level)


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """Where a finding applies; every part is optional.

    Attributes:
        member: POSIX path of the member inside the container, or None for the archive itself.
        line: 1-based line in a text member.
        column: 1-based column (characters) in that line.
        end_line: 1-based line where the located span ends.
        end_column: 1-based column where the located span ends (exclusive).
        offset: Byte offset in the member, or in the archive when ``member`` is None.
        field: Normalised header key, e.g. ``"wavelength"``.
        item: 0-based index into a ``{...}`` list value.
        excerpt: The source line text, shown with a caret under ``column``.
        excerpt_start: 1-based column where ``excerpt`` starts when it is a cut of a long line
            (None: the excerpt is the whole line).
    """

    member: str | None = None
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    offset: int | None = None
    field: str | None = None
    item: int | None = None
    excerpt: str | None = None
    excerpt_start: int | None = None

    def __str__(self) -> str:
        text = self.member or ""
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        elif self.offset is not None:
            text += f"@{self.offset}"
        if self.field is not None:
            text += f" [{self.field}]"
            if self.item is not None:
                text += f"[{self.item}]"
        return text.strip()

    def sort_key(self) -> tuple[int, str, int, int, int]:
        """Return a key that orders archive-level locations first, then by member, line, column and offset."""
        return (
            0 if self.member is None else 1,
            self.member or "",
            self.line or 0,
            self.column or 0,
            self.offset or 0,
        )

    def trimmed(self, width: int) -> Location:
        """Return this location with an excerpt longer than ``width`` cut to a window around ``column``.

        Hostile one-line headers can be megabytes long; reports must stay small.
        """
        if self.excerpt is None or len(self.excerpt) <= width:
            return self
        first = (self.excerpt_start or 1) - 1
        index = max((self.column or 1) - 1 - first, 0)
        start = max(0, min(index - width // 2, len(self.excerpt) - width))
        return replace(self, excerpt=self.excerpt[start : start + width], excerpt_start=first + start + 1)

    def to_dict(self) -> dict[str, Any]:
        """Return the non-None parts as a JSON-ready dict."""
        return {name: getattr(self, name) for name in _LOCATION_FIELDS if getattr(self, name) is not None}


_LOCATION_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Location))


@dataclass(frozen=True, slots=True)
class Problem:
    """What a rule check yields: a message about this instance, and where it is.

    Attributes:
        message: Human-readable description of this occurrence.
        location: Where the problem is.
        details: Extra lines of explanation (e.g. the offending values).
    """

    message: str
    location: Location = Location()
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Suppression:
    """Why a finding does not count toward the verdict: a waiver of the configuration (spec/report.md#waivers).

    Attributes:
        justification: The waiver's reason.
        source: The configuration file that holds the waiver (None for one given through the API).
        expires: The last day the waiver applies, or None when it does not expire.
        kind: SARIF's suppression kind: ``external``, kept outside the files it applies to.
    """

    justification: str
    source: str | None = None
    expires: date | None = None
    kind: str = "external"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the non-None parts; the date in ISO form)."""
        data: dict[str, Any] = {"kind": self.kind, "justification": self.justification}
        if self.source is not None:
            data["source"] = self.source
        if self.expires is not None:
            data["expires"] = self.expires.isoformat()
        return data


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem stamped with its rule's metadata and the effective severity.

    Attributes:
        rule: Rule id, e.g. ``"ZIP004"``.
        name: Kebab-case rule name, e.g. ``"zip-name-traversal"``.
        severity: Effective severity after profile and user re-grading.
        level: Level of the rule.
        spec: Spec anchor relative to ``spec/``, e.g. ``"container.md#stored-members"``.
        message: Description of this occurrence.
        location: Where the occurrence is (the first one, for a finding that aggregates several).
        count: Number of occurrences this finding stands for. The engine reports every occurrence as a finding
            of its own (count 1, each with its location); a caller may build aggregated findings.
        other_locations: Locations of the other occurrences of an aggregated finding.
        details: Extra lines of explanation.
        suppression: The waiver that takes it out of the verdict, or None.
        baseline_state: ``new`` or ``unchanged`` once compared with a baseline, else None.
    """

    rule: str
    name: str
    severity: Severity
    level: Level
    spec: str
    message: str
    location: Location = Location()
    count: int = 1
    other_locations: tuple[Location, ...] = ()
    details: tuple[str, ...] = ()
    suppression: Suppression | None = None
    baseline_state: BaselineState | None = None

    @property
    def counted(self) -> bool:
        """True when the finding counts toward the verdict: neither waived nor unchanged since the baseline."""
        return self.suppression is None and self.baseline_state is not BaselineState.UNCHANGED

    def sort_key(self) -> tuple[tuple[int, str, int, int, int], str]:
        """Return the report order key: by location (member, line, column), then rule id."""
        return (self.location.sort_key(), self.rule)

    def relevance_key(self) -> tuple[int, int, tuple[int, str, int, int, int], str]:
        """Return a key whose minimum is the most relevant finding (worst, earliest level and location)."""
        return (-self.severity, self.level.rank, self.location.sort_key(), self.rule)

    def identity(self) -> str:
        """Return what identifies this finding across edits: a hash of rule, member, field and normalised message.

        Line numbers, columns and offsets are left out, so that the identity survives edits elsewhere in the
        member; numbers in the message are normalised away for the same reason (spec/report.md#fingerprints).
        """
        return identity(self)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with the severity and level as lower-case strings."""
        data: dict[str, Any] = {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.label,
            "level": self.level.value,
            "spec": self.spec,
            "message": self.message,
            "location": self.location.to_dict(),
            "count": self.count,
        }
        if self.other_locations:
            data["other_locations"] = [loc.to_dict() for loc in self.other_locations]
        if self.details:
            data["details"] = list(self.details)
        if self.suppression is not None:
            data["suppression"] = self.suppression.to_dict()
        if self.baseline_state is not None:
            data["baseline_state"] = self.baseline_state.value
        return data

    def __str__(self) -> str:
        where = str(self.location)
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.severity.label} {self.rule} [{self.name}] {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A warning about the configuration of a run rather than about the input (e.g. an expired waiver).

    It never changes the verdict: what it is about (the findings an expired waiver no longer waives) does.

    Attributes:
        kind: What it is, e.g. ``"waiver-expired"``.
        message: What happened and what to do.
        source: The configuration file it is about, or None.
    """

    kind: str
    message: str
    source: str | None = None

    def to_dict(self) -> dict[str, str]:
        """Return a JSON-ready dict."""
        return {"kind": self.kind, "message": self.message, **({"source": self.source} if self.source else {})}


@dataclass(frozen=True, slots=True)
class Skipped:
    """A level or a rule that did not run, and why.

    Attributes:
        target: A :class:`Level` value (``"semantics"``) or a rule id (``"XRF001"``).
        reason: Why it did not run.
        needs: The content tier that would have run it (``"crc"`` or ``"full"``), when only the chosen tier
            stopped it; None otherwise.
    """

    target: str
    reason: str
    needs: str | None = None

    @property
    def kind(self) -> str:
        """``"level"`` when a whole level was skipped, else ``"rule"``."""
        return "level" if self.target in _LEVEL_VALUES else "rule"

    @property
    def internal(self) -> bool:
        """True when the tool crashed on it (a bug), rather than a prerequisite being missing."""
        return self.reason.startswith(INTERNAL_ERROR)

    def to_dict(self) -> dict[str, str]:
        """Return a JSON-ready dict."""
        return {"target": self.target, "kind": self.kind, "reason": self.reason,
                **({"needs": self.needs} if self.needs else {})}


_LEVEL_VALUES: frozenset[str] = frozenset(level.value for level in Level)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Report:
    """All findings for one input file under one policy.

    ``repr`` gives the verdict and the counts. ``bool(report)`` raises ``TypeError``: a report of a nonconformant
    file is no less a report, and ``if report:`` read as "conforms" would pass broken files; ask
    :attr:`conformant` (spec/python-api.md#truth-value).

    Attributes:
        path: The input as given (container file or expanded folder).
        profile: Profile that graded the findings.
        findings: Findings in report order.
        skipped: Levels and rules that did not run.
        content: Content tier that was checked (``none``, ``crc`` or ``full``).
        fail_on: Lowest severity that makes the file nonconformant.
        rules_run: Ids of the rules that ran to completion.
        internal_errors: Descriptions of rule crashes (bugs in the tool, exit code 4).
        input_error: Why the input could not be read at all (missing, not a file or folder, an unreadable folder
            of a walked directory, an I/O error); such a report has no findings, is not conformant and gives
            exit code 3. None for an input that was validated.
        baseline: The baseline file the findings were compared with, or None.
        absent: The baseline's entries for this input that were not found again (fixed).
        notices: Warnings about the configuration (expired waivers).
        config: The configuration file whose settings applied, or None (defaults, ``--isolated``).

    Only the findings that are :attr:`Finding.counted` make the verdict, the counts, the maximum severity and the
    best match; the others stay in :attr:`findings`, marked.
    """

    path: str
    profile: str = "exchange"
    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    content: str = "none"
    fail_on: Severity = Severity.ERROR
    rules_run: tuple[str, ...] = ()
    internal_errors: tuple[str, ...] = field(default=())
    input_error: str | None = None
    baseline: str | None = None
    absent: tuple[BaselineEntry, ...] = ()
    notices: tuple[Notice, ...] = ()
    config: str | None = None

    def __repr__(self) -> str:
        if self.input_error is not None:
            return f"<Report {self.path!r}: unreadable ({self.input_error})>"
        verdict = "conformant" if self.conformant else "nonconformant"
        counts = ", ".join(f"{n} {label}" for label, n in self.counts.items())
        return f"<Report {self.path!r}: {verdict}, {counts} (profile {self.profile}, fail on {self.fail_on.label})>"

    def __bool__(self) -> bool:
        raise TypeError("the truth value of a Report is ambiguous: use report.conformant (True when no counted "
                        "finding is at or above fail_on)")

    @classmethod
    def unreadable(cls, path: str, reason: str, *, profile: str = "exchange", content: str = "none",
                   fail_on: Severity = Severity.ERROR) -> Report:
        """Return the report of an input that could not be read: no findings, only ``input_error``."""
        return cls(path=path, profile=profile, content=content, fail_on=fail_on, input_error=reason)

    @property
    def counted(self) -> tuple[Finding, ...]:
        """The findings that count toward the verdict (neither waived nor unchanged since the baseline)."""
        return tuple(f for f in self.findings if f.counted)

    @property
    def conformant(self) -> bool:
        """True when the input was read and no counted finding is at or above ``fail_on``."""
        return self.input_error is None and all(f.severity < self.fail_on for f in self.findings if f.counted)

    @property
    def counts(self) -> dict[str, int]:
        """Number of counted occurrences per severity label, with all four labels present."""
        counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for finding in self.counted:
            counts[finding.severity.label] += finding.count
        return counts

    @property
    def max_severity(self) -> Severity | None:
        """The worst severity of the counted findings, or None when there are none."""
        return max((f.severity for f in self.counted), default=None)

    def best_match(self) -> Finding | None:
        """Return the most relevant counted finding: worst severity, then earliest level, then earliest location."""
        return min(self.counted, key=Finding.relevance_key, default=None)

    def by_member(self) -> dict[str | None, tuple[Finding, ...]]:
        """Group the findings by container member (None for the archive itself), in report order."""
        groups: dict[str | None, list[Finding]] = {}
        for finding in self.findings:
            groups.setdefault(finding.location.member, []).append(finding)
        return {member: tuple(items) for member, items in groups.items()}

    def fingerprints(self) -> list[str]:
        """Return the fingerprint of each finding, in report order (see :func:`fingerprints`)."""
        return fingerprints(self.findings)

    def failures(self) -> Iterator[Finding]:
        """Iterate over the counted findings at or above ``fail_on``."""
        return (f for f in self.findings if f.counted and f.severity >= self.fail_on)
