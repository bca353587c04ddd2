"""A finding's identity across edits, and what a baseline records of it (spec/report.md#fingerprints).

The fingerprint scheme lives here, apart from the finding model of :mod:`hsi_conform.finding`: what is hashed
(rule, member, field, normalised message), the ``<identity>:<n>`` numbering of identical occurrences, the scheme's
name and version, and the two things a baseline comparison gives (spec/report.md#baselines): a finding's
:class:`BaselineState` and the :class:`BaselineEntry` a baseline file holds. :mod:`hsi_conform.finding` exports
them all; import them from there.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hsi_conform.finding import Finding

__all__ = ["FINGERPRINT_KEY", "BaselineEntry", "BaselineState", "fingerprints", "identity", "normalise_message"]

FINGERPRINT_KEY = "hsiConform/v1"
"""Name and version of the fingerprint scheme (the SARIF ``partialFingerprints`` key); spec/report.md#fingerprints."""

_NUMBER = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?)")
_QUOTES = str.maketrans(dict.fromkeys("\"`\u2018\u2019\u201c\u201d", "'"))
_SPACE = re.compile(r"\s+")


def normalise_message(message: str) -> str:
    """Return ``message`` with every number as ``#``, every quote mark as ``'`` and white space runs as one space.

    Values, sizes and offsets in a message change with unrelated edits; the rule, member and field still say
    what the finding is about.
    """
    return _SPACE.sub(" ", _NUMBER.sub("#", message.translate(_QUOTES))).strip()


def identity(finding: Finding) -> str:
    """Return what identifies ``finding`` across edits: a hash of rule, member, field and normalised message.

    Line numbers, columns and offsets are left out, so that the identity survives edits elsewhere in the
    member; numbers in the message are normalised away for the same reason (spec/report.md#fingerprints).
    """
    location = finding.location
    parts = (finding.rule, location.member or "", location.field or "", normalise_message(finding.message))
    # Member names from hostile archives may hold lone surrogates; they still hash.
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def fingerprints(findings: Iterable[Finding]) -> list[str]:
    """Return the fingerprint of each finding, in order: ``<identity>:<n>``.

    ``n`` counts the findings of the same :meth:`Finding.identity` from 1, in report order, so that identical
    occurrences in one member (two upper-case keys) each get their own fingerprint; it stays the same when lines
    move, because the order of the occurrences does not change.
    """
    seen: Counter[str] = Counter()
    result = []
    for finding in findings:
        key = finding.identity()
        seen[key] += 1
        result.append(f"{key}:{seen[key]}")
    return result


class BaselineState(StrEnum):
    """How a finding compares with a baseline (SARIF's ``baselineState``)."""

    NEW = "new"
    """Not in the baseline: it counts toward the verdict."""
    UNCHANGED = "unchanged"
    """In the baseline: reported, but it does not count toward the verdict."""
    ABSENT = "absent"
    """In the baseline but no longer found (fixed); only a :class:`BaselineEntry` of :attr:`Report.absent`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineEntry:
    """A finding recorded in a baseline: what identifies it, and what a reader needs to recognise it.

    Attributes:
        fingerprint: ``<identity>:<n>`` (:func:`fingerprints`).
        rule: Rule id.
        message: The message when it was recorded.
        member: The member, or None for the archive.
        field: The header key, or None.
    """

    fingerprint: str
    rule: str
    message: str
    member: str | None = None
    field: str | None = None

    @classmethod
    def of(cls, finding: Finding, fingerprint: str) -> BaselineEntry:
        """Return the entry that records ``finding`` under its ``fingerprint``."""
        return cls(fingerprint=fingerprint, rule=finding.rule, message=finding.message,
                   member=finding.location.member, field=finding.location.field)

    def to_dict(self) -> dict[str, str]:
        """Return a JSON-ready dict: rule, member and field when known, message, fingerprint."""
        data = {"rule": self.rule}
        if self.member is not None:
            data["member"] = self.member
        if self.field is not None:
            data["field"] = self.field
        data.update(message=self.message, fingerprint=self.fingerprint)
        return data
