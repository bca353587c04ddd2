"""ZIP rules: the verdict table against the reader's vocabulary, issue-to-problem mapping, the CRC rule."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path

import pytest

from hsi_conform.container.zipread import ISSUE_CODES, read_zip_structure
from hsi_conform.corpus.zipcases import align, clean_archive, clean_entries
from hsi_conform.finding import Level, Problem, Severity
from hsi_conform.rules import SkipRule, get_rule, load_builtin_rules
from hsi_conform.rules.container import BY_CODE, CRC_RULE_ID, ZIP_RULES, ZipRule
from hsi_conform.testing.samples import sample_members
from hsi_conform.testing.zipcraft import Entry, build
from hsi_conform.validate import CheckContext, CheckOptions, Content, check
from hsi_conform.validate.engine import Policy, effective_severity
from tests._paths import SPEC
from tests._support import write_tree

CONTAINER_SPEC = SPEC / "container.md"
FATAL_CODES = {"not-a-zip", "no-eocd", "truncated", "cd-bounds", "cd-too-large", "zip64-locator"}
WARNING_CODES = {"comment-present", "setuid", "name-not-nfc", "name-unicode-collision"}
CAMERA = "Metadata/sample-camera.txt"

load_builtin_rules()


def archive(tmp_path: Path, data: bytes, name: str = "case.hsi") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run(rule_id: str, path: Path, content: Content = Content.NONE) -> list[Problem]:
    return list(get_rule(rule_id).check(CheckContext(path, CheckOptions(content=content))))


# -- the table ---------------------------------------------------------------------------------------------

def test_every_issue_code_has_exactly_one_rule() -> None:
    codes = [r.code for r in ZIP_RULES]
    assert sorted(codes) == sorted(ISSUE_CODES)
    assert len(codes) == len(set(codes))


def test_ids_are_unique_and_sequential() -> None:
    ids = sorted([r.id for r in ZIP_RULES] + [CRC_RULE_ID])  # the CRC rule reads data: it is not in the table
    assert ids == [f"ZIP{i:03d}" for i in range(1, len(ZIP_RULES) + 2)]


@pytest.mark.parametrize("entry", ZIP_RULES, ids=[r.id for r in ZIP_RULES])
def test_registered_metadata_comes_from_the_table(entry: ZipRule) -> None:
    row = BY_CODE[entry.code]
    spec = get_rule(row.id)
    assert (spec.name, spec.severity, spec.level, spec.spec) == (row.name, row.severity, Level.CONTAINER,
                                                                 row.anchor)
    assert get_rule(row.name) is spec
    assert effective_severity(spec, Policy(profile="reader")) == row.reader
    assert spec.summary and ISSUE_CODES[row.code] in spec.doc


def test_severities() -> None:
    fatal = {r.code for r in ZIP_RULES if r.severity is Severity.FATAL}
    warning = {r.code for r in ZIP_RULES if r.severity is Severity.WARNING}
    assert fatal == FATAL_CODES
    assert warning == WARNING_CODES
    assert all(r.severity is Severity.ERROR for r in ZIP_RULES if r.code not in fatal | warning)
    assert get_rule(CRC_RULE_ID).severity is Severity.ERROR


def test_reader_profile_only_downgrades() -> None:
    assert all(r.reader <= r.severity for r in ZIP_RULES)
    downgraded = {r.code for r in ZIP_RULES if r.reader < r.severity}
    assert {"data-descriptor", "name-reserved", "name-nonportable", "name-case-collision",
            "comment-present"} <= downgraded
    # what makes two readers see different bytes (or breaks the archive) stays as severe for readers
    kept = {"name-traversal", "name-control", "duplicate-name", "overlap", "lfh-mismatch", "compressed",
            "encrypted", "multiple-eocd", "prefix-data"}
    assert not downgraded & (kept | FATAL_CODES)


def test_every_anchor_exists_on_the_spec_page() -> None:
    text = CONTAINER_SPEC.read_text(encoding="utf-8")
    for rule in (get_rule(r.id) for r in [*ZIP_RULES]):
        page, _, anchor = rule.spec.partition("#")
        assert page == "container.md" and f'id="{anchor}"' in text
    assert 'id="zip-crc-mismatch"' in text


def _fatal_candidates() -> list[bytes]:
    small = build([Entry(b"data.hdr", b"ENVI\n"), Entry(b"data.envi", bytes(64))])
    cases = [small[:n] for n in range(len(small))]
    for pos in range(len(small)):  # every single-byte corruption
        cases.append(small[:pos] + bytes([small[pos] ^ 0xFF]) + small[pos + 1 :])
    return cases


def test_every_fatal_structure_carries_a_fatal_finding() -> None:
    """A structure the reader cannot use always produces a FATAL rule, so later levels are skipped."""
    fatal_seen = 0
    for data in _fatal_candidates():
        structure = read_zip_structure(io.BytesIO(data))
        if structure.fatal:
            fatal_seen += 1
            assert structure.codes & FATAL_CODES, sorted(structure.codes)
    assert fatal_seen > 50


# -- issues become located problems ------------------------------------------------------------------------

def test_one_problem_per_issue_located_at_member_and_offset(tmp_path: Path) -> None:
    extra = [Entry("Reference/../a.txt", b"a"), Entry("Exploration/../../b.txt", b"b")]
    path = archive(tmp_path, build(align(clean_entries(add=extra))))
    structure = read_zip_structure(path)
    problems = run("ZIP033", path)
    expected = [(m.name, m.central_offset) for m in structure.members if ".." in m.name]
    assert [(p.location.member, p.location.offset) for p in problems] == expected
    assert len(expected) == 2


def test_archive_level_issue_has_no_member(tmp_path: Path) -> None:
    path = archive(tmp_path, clean_archive() + b"GARBAGE")
    [problem] = run("ZIP014", path)
    assert problem.location.member is None
    assert problem.location.offset == len(clean_archive())


def test_clean_archive_has_no_zip_finding(tmp_path: Path) -> None:
    report = check(archive(tmp_path, clean_archive()), options=CheckOptions(content=Content.CRC))
    assert report.findings == ()
    assert {r.id for r in ZIP_RULES} | {CRC_RULE_ID} <= set(report.rules_run)


def test_zip_rules_yield_nothing_for_a_folder(tmp_path: Path) -> None:
    write_tree(tmp_path, sample_members())
    ctx = CheckContext(tmp_path, CheckOptions(content=Content.CRC))
    assert ctx.structure is None
    for rule_id in [r.id for r in ZIP_RULES] + [CRC_RULE_ID]:
        assert list(get_rule(rule_id).check(ctx)) == []


def test_fatal_structure_skips_later_levels_and_the_layout_rules(tmp_path: Path) -> None:
    report = check(archive(tmp_path, clean_archive()[:-5]))
    assert [(f.rule, f.severity) for f in report.findings] == [("ZIP003", Severity.FATAL)]
    skipped = {s.target for s in report.skipped}
    assert {"syntax", "semantics", "consistency", "LAY001"} <= skipped


# -- CRC ---------------------------------------------------------------------------------------------------

def _bad_crc(tmp_path: Path, name: str = CAMERA) -> Path:
    return archive(tmp_path, build(align(clean_entries({name: {"crc": 0x12345678}}))))


@pytest.mark.parametrize("content", [Content.CRC, Content.FULL])
def test_crc_mismatch_in_the_crc_tiers(tmp_path: Path, content: Content) -> None:
    path = _bad_crc(tmp_path)
    member = read_zip_structure(path).member(CAMERA)
    assert member is not None
    [problem] = run(CRC_RULE_ID, path, content)
    assert (problem.location.member, problem.location.offset) == (CAMERA, member.data_offset)


def test_crc_is_skipped_in_the_none_tier(tmp_path: Path) -> None:
    with pytest.raises(SkipRule):
        run(CRC_RULE_ID, _bad_crc(tmp_path))
    report = check(_bad_crc(tmp_path))
    assert report.findings == ()
    assert CRC_RULE_ID in {s.target for s in report.skipped}


def test_crc_of_a_corrupted_cube_byte(tmp_path: Path) -> None:
    data = bytearray(clean_archive())
    cube = read_zip_structure(io.BytesIO(bytes(data))).member("data.envi")
    assert cube is not None and cube.data_offset is not None
    offset = cube.data_offset
    data[offset + 17] ^= 0x01  # one flipped bit, exactly what a memmap reader never notices
    path = archive(tmp_path, bytes(data))
    assert [p.location.member for p in run(CRC_RULE_ID, path, Content.CRC)] == ["data.envi"]
    assert check(path).findings == ()


def test_crc_ignores_members_other_rules_reject(tmp_path: Path) -> None:
    plain = sample_members()[CAMERA]
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = packer.compress(plain) + packer.flush()
    changes: dict[str, dict[str, object]] = {CAMERA: {"method": 8, "plain": plain, "data": deflated},
                                              "preview.hdr": {"flags": 1}}
    path = archive(tmp_path, build(align(clean_entries(changes))))
    assert run(CRC_RULE_ID, path, Content.CRC) == []
    rules = {f.rule for f in check(path, options=CheckOptions(content=Content.CRC)).findings}
    assert {"ZIP021", "ZIP023"} <= rules and CRC_RULE_ID not in rules


def test_crc_rule_never_raises_on_hostile_archives(tmp_path: Path) -> None:
    for i, data in enumerate(_fatal_candidates()[::7]):
        path = archive(tmp_path, data, f"c{i}.hsi")
        report = check(path, options=CheckOptions(content=Content.CRC))
        assert not report.internal_errors


def test_summaries_are_positive_statements() -> None:
    for row in ZIP_RULES:
        assert re.match(r"^[A-Z`]", row.summary) and row.summary.endswith(".")
