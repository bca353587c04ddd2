"""The plan of ``hsi-conform fix``: header edits and member-level actions, all relative to the source container.

A :class:`Plan` grows pass by pass (spec/fix.md#passes): each pass turns the fixable findings of the latest
validation into new header bytes (through the fixers of :mod:`hsi_conform.fix.headers`) or member actions
(re-layout, truncation). Because every entry is relative to the source, the destination is always written from
the source in one go, and every member the plan does not name is copied byte for byte.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hsi_conform.container.reader import Container
from hsi_conform.container.zipread import iter_member_crc
from hsi_conform.errors import HsiConformError
from hsi_conform.finding import Finding, Report
from hsi_conform.fix.headers import HEADER_FIXERS
from hsi_conform.header import parse_header
from hsi_conform.members import scope_of
from hsi_conform.rules import RuleSpec, get_rule
from hsi_conform.validate.engine import Policy, is_selected

__all__ = ["MEMBER_ACTIONS", "Change", "Plan", "fixable", "header_diff"]

MEMBER_ACTIONS: Mapping[str, str] = MappingProxyType({
    "LAY009": "realign",
    "XRF002": "truncate",
    "ZIP020": "records",
})
"""The member-level fixes by rule id: ``realign`` (the writer puts every ``.envi`` member's data at a multiple of
4096 bytes), ``truncate`` (drop the bytes after the cube) and ``records`` (write the member's local header and
central-directory entry anew from its data, once the data proves which record was right: spec/fix.md#records)."""
_LFH_CRC = slice(14, 18)
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Change:
    """One fix of the plan.

    Attributes:
        rule: The rule id whose findings it fixes.
        member: The member it changes.
        kind: ``safe`` or ``unsafe`` (the rule's declared fix).
        action: ``header`` (the header member's text is edited), ``realign`` or ``truncate``.
        detail: What changes, e.g. the new size of a truncated member.
    """

    rule: str
    member: str
    kind: str
    action: str
    detail: str = ""

    def __str__(self) -> str:
        name = get_rule(self.rule).name
        text = f"{self.member}: {self.action} ({self.rule} [{name}], {self.kind})"
        return f"{text}: {self.detail}" if self.detail else text


@dataclass(slots=True)
class Plan:
    """What ``fix`` changes, relative to the source container.

    Attributes:
        headers: New bytes of header members, by member name.
        truncate: New sizes of data members that held bytes after their cube, by member name.
        realign: Members whose data the writer puts at a multiple of 4096 bytes.
        records: Members whose ZIP records are written anew from their data (the data's CRC-32 matched one of
            the disagreeing records), by member name: which record the data proved right.
        changes: Every fix applied, in the order of the passes.
        attempted: ``(rule, member)`` pairs already tried, fixed or not (no pass tries one twice).
    """

    headers: dict[str, bytes] = field(default_factory=dict)
    truncate: dict[str, int] = field(default_factory=dict)
    realign: set[str] = field(default_factory=set)
    records: dict[str, str] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    attempted: set[tuple[str, str]] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        """True when nothing changes: the destination would be a copy of the source."""
        return not (self.headers or self.truncate or self.realign or self.records)

    def extend(self, source: Container, findings: Iterable[Finding]) -> bool:
        """Add the fixes of these findings to the plan; return whether anything new was planned.

        Raises:
            ContainerError, InputUnreadableError: a source member cannot be read.
        """
        grew = False
        for rule, member in _targets(findings):
            self.attempted.add((rule.id, member))
            if rule.id in HEADER_FIXERS:
                grew |= self._fix_header(source, rule, member)
            else:
                grew |= self._member_action(source, rule, member, findings)
        return grew

    def _fix_header(self, source: Container, rule: RuleSpec, member: str) -> bool:
        current = self.headers.get(member)
        try:
            header = parse_header(current if current is not None else source.read_bytes(member))
        except HsiConformError:
            return False  # not an ENVI header (HDR000): nothing to edit
        fixed = HEADER_FIXERS[rule.id](header, scope_of(member))
        if fixed is None:
            return False
        self.headers[member] = fixed.to_bytes()
        self.changes.append(Change(rule.id, member, str(rule.fix), "header"))
        return True

    def _member_action(self, source: Container, rule: RuleSpec, member: str, findings: Iterable[Finding]) -> bool:
        action = MEMBER_ACTIONS[rule.id]
        if member not in source:
            return False
        if action == "realign":
            self.realign.add(member)
            self.changes.append(Change(rule.id, member, str(rule.fix), action, "data at a multiple of 4096 bytes"))
            return True
        if action == "records":
            return self._rewrite_records(source, rule, member)
        size = next((f.location.offset for f in findings
                     if f.rule == rule.id and f.location.member == member and f.location.offset is not None), None)
        if size is None or not 0 <= size < source.info(member).size:
            return False
        self.truncate[member] = size
        self.changes.append(Change(rule.id, member, str(rule.fix), action,
                                   f"{source.info(member).size} -> {size} bytes"))
        return True


    def _rewrite_records(self, source: Container, rule: RuleSpec, member: str) -> bool:
        """Plan new ZIP records for ``member`` when its data's CRC-32 proves one of the disagreeing records right.

        The data is the central directory's extent from the local header's data offset (what every reader of
        this project reads). A stored member whose computed CRC matches neither record is left alone: the
        data itself may be damaged, and ZIP050 says so at content tier ``crc``.
        """
        proven = _proven_record(source, member)
        if proven is None:
            return False
        self.records[member] = proven
        self.changes.append(Change(rule.id, member, str(rule.fix), "records",
                                   f"local header and central directory written anew (the data matches the "
                                   f"{proven}'s CRC-32)"))
        return True


def _proven_record(source: Container, member: str) -> str | None:
    """Return which record of a stored member its data proves right (``central directory`` or ``local header``)."""
    structure = source.structure
    if structure is None or source.remote:
        return None
    entry = next((m for m in structure.members if m.name == member), None)
    if entry is None or entry.method != 0 or entry.compressed_size != entry.uncompressed_size:
        return None
    computed = next((crc for m, crc in iter_member_crc(source.path, structure, [entry])), None)
    if computed is None:
        return None
    if computed == entry.crc:
        return "central directory"
    local = source.reader().read(entry.local_header_offset, 30)
    if len(local) == 30 and int.from_bytes(local[_LFH_CRC], "little") == computed:
        return "local header"
    return None


def _targets(findings: Iterable[Finding]) -> Iterator[tuple[RuleSpec, str]]:
    seen: set[tuple[str, str]] = set()
    for finding in findings:
        member = finding.location.member
        if member is None or (finding.rule, member) in seen:
            continue
        seen.add((finding.rule, member))
        yield get_rule(finding.rule), member


def fixable(report: Report, policy: Policy, *, unsafe: bool, plan: Plan) -> list[Finding]:
    """Return the findings of ``report`` that a fixer may still fix under this selection.

    A finding qualifies when its rule declares a fix (``unsafe`` ones only with ``unsafe``), the selection of
    ``policy`` (``--select``/``--ignore``) takes the rule, a fixer exists for it, and the plan has not tried its
    rule on its member yet.
    """
    found = []
    for finding in report.findings:
        rule = get_rule(finding.rule)
        if rule.fix is None or (rule.fix == "unsafe" and not unsafe) or not is_selected(rule, policy):
            continue
        if rule.id not in HEADER_FIXERS and rule.id not in MEMBER_ACTIONS:
            continue
        if (rule.id, finding.location.member or "") not in plan.attempted:
            found.append(finding)
    return found


def _visible(data: bytes) -> list[str]:
    """Lines of header bytes with what a terminal hides made visible: a BOM, CR line ends."""
    bom = data.startswith(_BOM)
    text = ("<BOM>" if bom else "") + data.removeprefix(_BOM).decode("utf-8", "surrogateescape")
    lines = text.splitlines(keepends=True)
    return [line.replace("\r\n", "<CR>\n").replace("\r", "<CR>\n") if "\r" in line else line for line in lines]


def header_diff(member: str, old: bytes, new: bytes) -> str:
    r"""Return the unified diff of a header member (a BOM shown as ``<BOM>``, a CR line end as ``<CR>``).

    A last line without a line break is followed by ``\ No newline at end of file``, as ``diff`` writes it.
    """
    out = []
    for line in difflib.unified_diff(_visible(old), _visible(new), fromfile=f"a/{member}", tofile=f"b/{member}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
