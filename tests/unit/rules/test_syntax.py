"""The ``HDR`` rules through the engine: parser diagnostics become located, graded findings.

Each test builds a small container from the sample (one header defect), validates it and asserts rule ids,
severities and locations (never message text).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hsi_conform.finding import Finding, Level, Report, Severity
from hsi_conform.header import parse_header
from hsi_conform.header.diagnostics import DIAGNOSTICS, SyntaxDecision
from hsi_conform.header.parse import MAX_PER_CODE
from hsi_conform.rules import get_rule, load_builtin_rules
from hsi_conform.testing.samples import sample_members, write_members
from hsi_conform.validate import check
from hsi_conform.validate.engine import Policy
from tests._paths import FIXTURES, SPEC
from tests._support import write_tree

SYNTAX_SPEC = SPEC / "header-syntax.md"
SAMPLE = sample_members()
LINES = SAMPLE["data.hdr"].decode().splitlines()
HDR_ONLY = ("HDR",)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _text(lines: list[str], eol: str = "\n", final: bool = True) -> bytes:
    return (eol.join(lines) + (eol if final else "")).encode("utf-8", "surrogateescape")


def _replace(number: int, line: str) -> bytes:
    return _text([*LINES[: number - 1], line, *LINES[number:]])


def _append(*extra: str) -> bytes:
    return _text([*LINES, *extra])


# One header per diagnostic code, each with exactly that defect (value-on-next-line also makes a junk line and
# an empty value, as spec/header-syntax.md#value-on-next-line says).
DEFECTS: dict[str, bytes] = {
    "not-utf8": _replace(17, "device = camera J\udcfcrgen"),
    "bom": b"\xef\xbb\xbf" + SAMPLE["data.hdr"],
    "nul": _replace(17, "device = cam\x00era"),
    "magic-indented": _replace(1, "  ENVI"),
    "magic-trailing-text": _replace(1, "ENVIRONMENT"),
    "magic-trailing-blanks": _replace(1, "ENVI  "),
    "line-ending-cr": _text(LINES, eol="\r"),
    "line-ending-mixed": b"ENVI\r\n" + _text(LINES[1:]),
    "line-ending-crlf": _text(LINES, eol="\r\n"),
    "no-final-newline": _text(LINES, final=False),
    "line-too-long": _append("; " + "x" * 9_999),
    "junk-line": _append("junk"),
    "empty-key": _append("= orphan"),
    "key-charset": _append("a{b} = 1"),
    "key-case": _append("Operator = somebody"),
    "key-blanks": _replace(8, "data  type = 12"),
    "duplicate-key": _append("bands = 10"),
    "near-duplicate-key": _append("camera_id = 1", "camera id = 1"),
    "indented-entry": _replace(17, "  device = camera"),
    "separator-spacing": _replace(17, "device=camera"),
    "comment-indented": _append("  ; note"),
    "comment-in-list": _append("roi = {a,", "; note", "b}"),
    "text-after-list": _append("roi = {a} b"),
    "unclosed-list": _append("roi = {a"),
    "nesting-too-deep": _append("roi = {{{{{a}}}}}"),
    "trailing-comma": _append("roi = {a, b,}"),
    "empty-item": _append("roi = {a,,b}"),
    "line-break-in-item": _append("roi = {a", "b}"),
    "brace-in-scalar": _append("roi = a{b"),
    "semicolon-in-scalar": _append("roi = a ; b"),
    "value-on-next-line": _append("roi =", "{a, b}"),
    "empty-value": _append("roi ="),
    "control-character": _replace(17, "device = cam\x07era"),
}
BY_CODE = {d.code: d for d in DIAGNOSTICS}


def _container(tmp: Path, members: dict[str, bytes], *, folder: bool = False) -> Path:
    merged = SAMPLE | members
    if not folder:
        return write_members(tmp / "case.hsi", merged)
    return write_tree(tmp / "container", merged)


def _byte_offset(raw: bytes, line: int, column: int) -> int:
    """Independent oracle: the byte offset of a 1-based (line, character column) in a header."""
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw[3 if bom else 0 :].decode("utf-8", "surrogateescape")
    starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]
    char = starts[line - 1] + column - 1
    return (3 if bom else 0) + len(text[:char].encode("utf-8", "surrogateescape"))


def _hdr(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.rule.startswith("HDR")]


def _where(f: Finding) -> tuple[object, ...]:
    loc = f.location
    return (f.rule, loc.member, loc.line, loc.column, loc.end_line, loc.end_column, loc.offset, loc.field,
            loc.item)


@pytest.fixture(scope="module")
def defect_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build one container per diagnostic code once for the module."""
    root = tmp_path_factory.mktemp("defects")
    paths = {}
    for code, raw in DEFECTS.items():
        (root / code).mkdir()
        paths[code] = _container(root / code, {"data.hdr": raw})
    return paths


def test_every_decision_has_a_defect() -> None:
    assert set(DEFECTS) == set(BY_CODE)


@pytest.mark.parametrize("decision", DIAGNOSTICS, ids=[d.id for d in DIAGNOSTICS])
def test_diagnostic_surfaces_as_its_rule_at_the_parsers_location(
        decision: SyntaxDecision, defect_paths: dict[str, Path]) -> None:
    raw = DEFECTS[decision.code]
    diagnostics = parse_header(raw).diagnostics
    assert decision.code in {d.code for d in diagnostics}
    report = check(defect_paths[decision.code], policy=Policy(select=HDR_ONLY))
    findings = _hdr(report)
    assert decision.id in {f.rule for f in findings}
    expected = sorted((BY_CODE[d.code].id, "data.hdr", d.line, d.column, d.end_line, d.end_column, d.offset,
                       d.key, d.item) for d in diagnostics)
    assert sorted(_where(f) for f in findings) == expected
    for f in findings:
        assert f.name == get_rule(f.rule).name
        assert f.level is Level.SYNTAX
        assert f.location.line is not None and f.location.column is not None
        # The BOM finding points at the BOM itself (bytes 0..3), every other one at its character.
        at = 0 if f.rule == BY_CODE["bom"].id else _byte_offset(raw, f.location.line, f.location.column)
        assert f.location.offset == at
    assert not report.internal_errors


@pytest.mark.parametrize("profile", ["exchange", "reader", "strict"])
@pytest.mark.parametrize("decision", DIAGNOSTICS, ids=[d.id for d in DIAGNOSTICS])
def test_profiles_regrade(decision: SyntaxDecision, profile: str, defect_paths: dict[str, Path]) -> None:
    expected = {"exchange": decision.severity, "reader": decision.reader,
                "strict": Severity.ERROR if decision.severity is Severity.WARNING else decision.severity}[profile]
    report = check(defect_paths[decision.code], policy=Policy(profile=profile, select=(decision.id,)))
    assert {f.severity for f in report.findings} == {expected}


def test_located_values() -> None:
    """Spot checks of locations computed by hand (the byte offsets land on the defect)."""
    raw = DEFECTS["not-utf8"]
    d = next(d for d in parse_header(raw).diagnostics if d.code == "not-utf8")
    assert (d.line, d.column) == (17, 18) and raw[d.offset : d.offset + 1] == b"\xfc"
    raw = DEFECTS["nul"]
    d = next(d for d in parse_header(raw).diagnostics if d.code == "nul")
    assert (d.line, d.column) == (17, 13) and raw[d.offset : d.offset + 1] == b"\x00"


def test_findings_in_other_header_members_are_located_there(tmp_path: Path) -> None:
    preview = SAMPLE["preview.hdr"] + b"lines = 8\n"
    black = SAMPLE["Reference/black.hdr"].replace(b"\n", b"\r\n")
    path = _container(tmp_path, {"preview.hdr": preview, "Reference/black.hdr": black})
    findings = _hdr(check(path, policy=Policy(select=HDR_ONLY)))
    assert sorted((f.rule, f.location.member, f.location.line, f.location.column) for f in findings) == [
        ("HDR009", "Reference/black.hdr", 1, 5),
        ("HDR017", "preview.hdr", 12, 1),
    ]


def test_expanded_folder_gives_the_same_findings(tmp_path: Path) -> None:
    members = {"data.hdr": DEFECTS["indented-entry"]}
    as_file = _hdr(check(_container(tmp_path, members), policy=Policy(select=HDR_ONLY)))
    as_folder = _hdr(check(_container(tmp_path, members, folder=True), policy=Policy(select=HDR_ONLY)))
    assert [_where(f) for f in as_folder] == [_where(f) for f in as_file]
    assert [f.rule for f in as_file] == ["HDR019"]


def test_repeated_defect_is_capped(tmp_path: Path) -> None:
    path = _container(tmp_path, {"data.hdr": _append(*(["junk"] * (MAX_PER_CODE + 50)))})
    findings = _hdr(check(path, policy=Policy(select=HDR_ONLY)))
    assert {f.rule for f in findings} == {"HDR012"}
    assert sum(f.count for f in findings) == MAX_PER_CODE + 1
    assert min(f.location.line or 0 for f in findings) == len(LINES) + 1


def test_sample_has_no_syntax_findings(tmp_path: Path) -> None:
    report = check(_container(tmp_path, {}), policy=Policy(select=HDR_ONLY))
    assert report.findings == ()
    assert {f"HDR{n:03d}" for n in range(34)} <= set(report.rules_run)


# -- HDR000 ----------------------------------------------------------------------------------------------------

NOT_ENVI: dict[str, Callable[[bytes], bytes]] = {
    "lower-case": lambda raw: b"envi" + raw[4:],
    "comment-first": lambda raw: b"; comment\n" + raw,
    "blank-first": lambda raw: b"\n" + raw,
    "binary": lambda raw: bytes(range(256)),
    "empty": lambda raw: b"",
}


@pytest.mark.parametrize("make", NOT_ENVI.values(), ids=list(NOT_ENVI))
def test_not_an_envi_header_is_fatal_and_skips_later_levels(make: Callable[[bytes], bytes], tmp_path: Path
                                                           ) -> None:
    path = _container(tmp_path, {"data.hdr": make(SAMPLE["data.hdr"])})
    report = check(path)
    hdr = _hdr(report)
    assert [(f.rule, f.severity, f.location.member, f.location.line, f.location.column, f.location.offset)
            for f in hdr] == [("HDR000", Severity.FATAL, "data.hdr", 1, 1, 0)]
    skipped = {s.target: s.reason for s in report.skipped}
    assert {Level.SEMANTICS.value, Level.CONSISTENCY.value} <= set(skipped)
    assert "HDR000" in skipped[Level.SEMANTICS.value]
    assert Level.SYNTAX.value not in skipped
    later = {r.id for r in load_builtin_rules() if r.level in (Level.SEMANTICS, Level.CONSISTENCY)}
    assert not later & set(report.rules_run)
    assert all(f.level in (Level.CONTAINER, Level.SYNTAX) for f in report.findings)
    assert not report.conformant
    assert not report.internal_errors


def test_not_an_envi_header_stays_fatal_under_reader(tmp_path: Path) -> None:
    path = _container(tmp_path, {"data.hdr": b"envi\n"})
    report = check(path, policy=Policy(profile="reader", select=HDR_ONLY))
    assert [(f.rule, f.severity) for f in report.findings] == [("HDR000", Severity.FATAL)]
    assert Level.SEMANTICS.value in {s.target for s in report.skipped}


@pytest.mark.parametrize("folder", [False, True], ids=["hsi", "folder"])
def test_non_envi_white_reference_is_located_at_that_member(folder: bool, tmp_path: Path) -> None:
    members = {"Reference/white.hdr": b"white reference: 4000 counts\n"}
    report = check(_container(tmp_path, members, folder=folder), policy=Policy(select=HDR_ONLY))
    assert [(f.rule, f.severity, f.location.member, f.location.line, f.location.column)
            for f in report.findings] == [("HDR000", Severity.FATAL, "Reference/white.hdr", 1, 1)]
    assert {Level.SEMANTICS.value, Level.CONSISTENCY.value} <= {s.target for s in report.skipped}


def test_hdr_files_outside_envi_locations_are_not_judged(tmp_path: Path) -> None:
    report = check(_container(tmp_path, {"Metadata/notes.hdr": b"not a header\n"}),
                   policy=Policy(select=HDR_ONLY))
    assert report.findings == ()


def test_other_headers_are_still_judged_next_to_a_non_envi_one(tmp_path: Path) -> None:
    members = {"data.hdr": DEFECTS["junk-line"], "Reference/white.hdr": b"white\n"}
    report = check(_container(tmp_path, members), policy=Policy(select=HDR_ONLY))
    assert sorted((f.rule, f.location.member) for f in report.findings) == [
        ("HDR000", "Reference/white.hdr"), ("HDR012", "data.hdr")]


# -- registration and corpus coverage ---------------------------------------------------------------------------

def test_rules_are_registered_from_the_table() -> None:
    load_builtin_rules()
    spec = SYNTAX_SPEC.read_text(encoding="utf-8")
    for decision in DIAGNOSTICS:
        r = get_rule(decision.id)
        assert (r.name, r.severity, r.level) == (f"hdr-{decision.code}", decision.severity, Level.SYNTAX)
        assert r.old_names == (decision.code,) and get_rule(decision.code) is r
        assert dict(r.profile_severity) == {"reader": decision.reader}
        assert f'id="{decision.code}"' in spec
    magic = get_rule("HDR000")
    assert (magic.name, magic.severity, magic.level) == ("hdr-not-an-envi-header", Severity.FATAL, Level.SYNTAX)
    assert 'id="magic"' in spec


@pytest.mark.parametrize("rid", [f"HDR{n:03d}" for n in range(34)])
def test_every_rule_has_golden_cases(rid: str) -> None:
    load_builtin_rules()
    folder = FIXTURES / "header-syntax" / f"{rid}-{get_rule(rid).name}"
    verdicts = {p.parent.name.split("-", 1)[0] for p in folder.glob("*/case.json")}
    assert "valid" in verdicts
    assert verdicts & {"error", "warning", "info"}
