"""``ZIP`` rules: the archive structure of a ``.hsi`` file (spec/container.md).

One rule per detection code of the strict reader (:data:`hsi_conform.container.zipread.ISSUE_CODES`),
registered from :data:`ZIP_RULES`, so the reader's vocabulary stays the single source: each rule yields one
problem per :class:`~hsi_conform.container.zipread.ZipIssue` of its code, located at the issue's member and
byte offset. ``ZIP050`` (``zip-crc-mismatch``) is the one ZIP rule that reads member data: in the ``crc`` and
``full`` content tiers it streams every stored member once and compares its CRC-32 with the central directory,
because memory-mapping readers never do (spec/container.md#zero-copy).

An expanded folder has no ZIP structure (``ctx.structure is None``): the ZIP rules yield nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from hsi_conform.container.zipread import ISSUE_CODES, ZipIssue, ZipMember, iter_member_crc
from hsi_conform.finding import Level, Location, Problem, Severity
from hsi_conform.rules import SkipRule, rule
from hsi_conform.rules.context import CheckContext, Content

__all__ = ["BY_CODE", "CRC_RULE_ID", "ZIP_RULES", "ZipRule", "zip_crc_mismatch"]

F, E, W, I = Severity.FATAL, Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741 - a table of letters

CRC_RULE_ID = "ZIP050"
_STORED = 0
_ENCRYPTED_FLAGS = 0x0041  # bit 0 (traditional) and bit 6 (strong encryption)


@dataclass(frozen=True, slots=True)
class ZipRule:
    """The verdict on one detection code of the strict reader.

    Attributes:
        id: Rule id (``ZIP<NNN>``); never reused.
        code: The reader's detection code (a key of ``ISSUE_CODES``).
        severity: Default severity (profile ``exchange``).
        reader: Severity under the lenient ``reader`` profile (portability-only problems are downgraded).
        summary: What a conformant archive does, one line (shown in the rule catalogue).
        fix: The declared fix (spec/fix.md), ``None`` for most: the records are rewritten by every writer.
    """

    id: str
    code: str
    severity: Severity
    reader: Severity
    summary: str
    fix: str | None = None

    @property
    def name(self) -> str:
        """The kebab-case rule name: ``zip-<code>`` (``zip64-*`` codes keep their own prefix)."""
        return self.code if self.code.startswith("zip64") else f"zip-{self.code}"

    @property
    def anchor(self) -> str:
        """The spec anchor: the rule name on spec/container.md."""
        return f"container.md#{self.name}"


# FATAL only where no central directory can be read (or stdlib zipfile refuses to open the archive): nothing
# else can run. ERROR for everything a strict reader must reject; WARNING for what is legal ZIP but unwanted in an
# exchange file (spec/container.md#severity-principle). The reader profile downgrades what only matters when
# extracting to disk.
ZIP_RULES: tuple[ZipRule, ...] = (
    # archive-level structure (spec/container.md#structure)
    ZipRule("ZIP001", "not-a-zip", F, F, "The file is a ZIP archive."),
    ZipRule("ZIP002", "no-eocd", F, F, "The archive ends with an end-of-central-directory record."),
    ZipRule("ZIP003", "truncated", F, F, "The end-of-central-directory record is complete (no truncation)."),
    ZipRule("ZIP004", "cd-bounds", F, F,
            "The central directory lies exactly where the end records say, with no stray bytes after it."),
    ZipRule("ZIP005", "cd-too-large", F, F, "The central directory is not larger than the configured limit."),
    ZipRule("ZIP006", "zip64-locator", F, F, "ZIP64 sentinels in the end record come with a valid ZIP64 locator."),
    ZipRule("ZIP007", "zip64-eocd", E, E, "The ZIP64 end record is well formed and agrees with the classic one."),
    ZipRule("ZIP008", "count-mismatch", E, E, "The entry counts of the end records match the central directory."),
    ZipRule("ZIP009", "multidisk", E, E, "The archive is a single-disk archive (every disk number is 0)."),
    ZipRule("ZIP010", "multiple-eocd", E, E,
            "There is exactly one end-of-central-directory signature outside member data."),
    ZipRule("ZIP011", "comment-length", E, E, "The archive comment length matches the bytes present."),
    ZipRule("ZIP012", "comment-present", W, I, "The archive comment is empty."),
    ZipRule("ZIP013", "prefix-data", E, E, "The archive starts with a local file header (no prefix bytes)."),
    ZipRule("ZIP014", "trailing-data", E, E, "Nothing follows the end-of-central-directory record."),
    ZipRule("ZIP015", "gap", E, E, "Every byte between the records belongs to a member."),
    ZipRule("ZIP016", "overlap", E, E, "No two members (or a member and another record) share bytes."),
    ZipRule("ZIP017", "too-many-entries", E, E, "The archive has no more entries than the configured limit."),
    # local headers versus the central directory (spec/container.md#structure)
    ZipRule("ZIP018", "lfh-missing", E, E, "Every central-directory entry points at a readable local header."),
    ZipRule("ZIP019", "lfh-name-mismatch", E, E, "Every local header names the member of its directory entry."),
    ZipRule("ZIP020", "lfh-mismatch", E, E,
            "Local headers and data descriptors agree with the central directory (method, flags, CRC, sizes).",
            fix="safe"),
    # member content (spec/container.md#stored-members)
    ZipRule("ZIP021", "compressed", E, E, "Every member is stored uncompressed (method 0)."),
    ZipRule("ZIP022", "stored-size", E, E, "A stored member's compressed and uncompressed sizes are equal."),
    ZipRule("ZIP023", "encrypted", E, E, "No member is encrypted."),
    ZipRule("ZIP024", "patched-data", E, E, "No member uses patched data (flag bit 5)."),
    ZipRule("ZIP025", "data-descriptor", E, W, "No member uses a data descriptor (flag bit 3)."),
    ZipRule("ZIP026", "version-needed", E, E, "No member needs a ZIP version above 4.5 to extract."),
    ZipRule("ZIP027", "extra-corrupt", E, E, "Every extra field is well formed and holds the ZIP64 values it must."),
    ZipRule("ZIP028", "unicode-path-extra", E, E, "A Unicode Path extra field (0x7075) names the member itself."),
    ZipRule("ZIP029", "data-bounds", E, E, "Member data ends before the central directory."),
    ZipRule("ZIP030", "dir-with-data", E, E, "Directory entries carry no data."),
    ZipRule("ZIP031", "special-file", E, E, "Members are regular files or directories (no links, FIFOs, devices)."),
    ZipRule("ZIP032", "setuid", W, I, "No member sets the setuid or setgid bit."),
    # member names (spec/container.md#names)
    ZipRule("ZIP033", "name-traversal", E, E, "No member name has a `..` component."),
    ZipRule("ZIP034", "name-absolute", E, E, "No member name starts with `/`."),
    ZipRule("ZIP035", "name-backslash", E, E, "Member names use forward slashes only."),
    ZipRule("ZIP036", "name-drive", E, E, "No member name starts with a drive letter or a UNC prefix."),
    ZipRule("ZIP037", "name-control", E, E, "Member names contain no NUL or other control character."),
    ZipRule("ZIP038", "name-empty", E, E, "Member names are not empty and have no empty or `.` component."),
    ZipRule("ZIP039", "name-too-long", E, W, "Member names are not longer than the configured limit."),
    ZipRule("ZIP040", "name-component-too-long", E, W, "No name component is longer than the configured limit."),
    ZipRule("ZIP041", "name-reserved", E, W, "No name component is a Windows device name or ends in a dot or space."),
    ZipRule("ZIP042", "name-nonportable", E, W, 'Member names contain none of `: < > | " ? *`.'),
    ZipRule("ZIP043", "name-nonascii-noflag", E, W, "Non-ASCII member names set the UTF-8 flag (bit 11)."),
    ZipRule("ZIP044", "name-encoding", E, E, "Member names flagged as UTF-8 are valid UTF-8."),
    ZipRule("ZIP045", "name-not-nfc", W, I, "Member names are in Unicode normalization form C."),
    ZipRule("ZIP046", "duplicate-name", E, E, "No two members have the same name."),
    ZipRule("ZIP047", "name-case-collision", E, W, "No two member names differ only in ASCII letter case."),
    ZipRule("ZIP048", "name-unicode-collision", W, I,
            "No two member names collide after NFC normalization and case folding."),
    ZipRule("ZIP049", "file-dir-conflict", E, W, "No path is used both as a file and as a directory."),
    ZipRule("ZIP051", "name-too-deep", E, W, "Member names have no more components than the configured limit."),
)

BY_CODE: dict[str, ZipRule] = {r.code: r for r in ZIP_RULES}


def _issues_by_code(ctx: CheckContext) -> dict[str, list[ZipIssue]]:
    """Return the structure's issues by code, in their order (an expanded folder has no ZIP structure: none)."""
    found: dict[str, list[ZipIssue]] = {}
    for issue in ctx.structure.issues if ctx.structure is not None else ():
        found.setdefault(issue.code, []).append(issue)
    return found


def _issue_check(code: str) -> Callable[[CheckContext], list[Problem]]:
    def check(ctx: CheckContext) -> list[Problem]:
        # Some forty rules each want one code: the issues are grouped once per context, not scanned per rule; a
        # list, not a generator, as nearly every container has none of them.
        issues = ctx.shared(_issues_by_code).get(code)
        if not issues:
            return []
        return [Problem(issue.message, Location(member=issue.member, offset=issue.offset)) for issue in issues]

    return check


def _register(entry: ZipRule) -> None:
    check = _issue_check(entry.code)
    check.__name__ = "zip_" + entry.code.replace("-", "_")
    check.__doc__ = f"{entry.summary}\n\nReader detection code `{entry.code}`: {ISSUE_CODES[entry.code]}."
    profiles = {"reader": entry.reader} if entry.reader != entry.severity else None
    rule(entry.id, entry.name, severity=entry.severity, level=Level.CONTAINER, spec=entry.anchor,
         profiles=profiles, fix=entry.fix, judged_by=(_issues_by_code, entry.code))(check)


for _entry in ZIP_RULES:
    _register(_entry)


def _crc_checkable(member: ZipMember) -> bool:
    """Whether the stored bytes are the plain content the CD CRC covers (others carry their own finding)."""
    return (member.method == _STORED and not member.flags & _ENCRYPTED_FLAGS
            and member.compressed_size == member.uncompressed_size)


_CRC_SKIP = "content tier none: member data is not read"


@rule(CRC_RULE_ID, "zip-crc-mismatch", severity=E, level=Level.CONTAINER, spec="container.md#zip-crc-mismatch",
      needs=Content.CRC.value, needs_reason=_CRC_SKIP)
def zip_crc_mismatch(ctx: CheckContext) -> Iterator[Problem]:
    """Every stored member's data matches its CRC-32 (content tiers `crc` and `full`).

    Each member is streamed once; compressed, encrypted and size-inconsistent members are left to the rules
    that already reject them.
    """
    if ctx.options.content is Content.NONE:
        raise SkipRule(_CRC_SKIP, needs=Content.CRC.value)  # a direct call: the engine skips it up front
    if ctx.structure is None or ctx.structure.fatal:
        return
    members = [m for m in ctx.structure.members if _crc_checkable(m)]
    # The reader the structure came from (a local descriptor or a remote object), not the path again.
    for member, crc in iter_member_crc(ctx.source if ctx.source is not None else ctx.path, ctx.structure, members):
        if crc != member.crc:
            yield Problem(f"the data has CRC-32 {crc:08x}, the central directory says {member.crc:08x}",
                          Location(member=member.name, offset=member.data_offset))
