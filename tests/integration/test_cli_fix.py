"""``hsi-conform fix``: fixes proven by validating DST, everything else byte-identical (spec/fix.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hsi_conform.container.zipread import read_zip_structure
from hsi_conform.corpus.golden import Case, build_input, load_cases
from hsi_conform.errors import ContainerVerifyError, InvalidArgumentError
from hsi_conform.fix import Plan, fix
from hsi_conform.fix.run import _verify
from hsi_conform.rules import get_rule, load_builtin_rules
from hsi_conform.testing.samples import sample_members, write_members
from hsi_conform.validate import check
from tests._support import CliRunner, member_digests

load_builtin_rules()

# Cases whose finding no fix can repair by design: the byte order of multi-byte data is not guessed.
_NOT_FIXABLE = {"fields/FLD002-fld-defaultable-field-missing/error-no-byte-order"}


def _fixable_cases() -> list[Case]:
    return [c for c in load_cases() if c.verdict != "valid" and c.data.get("as") != "folder"
            and any(get_rule(r).fix is not None for r in c.rules)]


def _changed(src: Path, dst: Path) -> set[str]:
    before, after = member_digests(src), member_digests(dst)
    assert set(before) == set(after)
    return {name for name in before if before[name] != after[name]}


@pytest.mark.parametrize("case", _fixable_cases(), ids=lambda c: c.id)
def test_golden_case_rule_gone_after_fix_unsafe(case: Case, tmp_path: Path, cli: CliRunner) -> None:
    src = build_input(case, tmp_path)
    original = src.read_bytes()
    run = cli(["fix", "--unsafe", src, tmp_path / "fixed.hsi"])
    assert "Traceback" not in run.err
    assert src.read_bytes() == original  # SRC is never modified
    remaining = {f.rule for f in check(tmp_path / "fixed.hsi").findings}
    fixed_rules = {r for r in case.rules if get_rule(r).fix is not None}
    if case.id in _NOT_FIXABLE:
        assert fixed_rules <= remaining and run.code == 1
        return
    assert not fixed_rules & remaining
    result = fix(src, tmp_path / "again.hsi", unsafe=True)
    # every member the plan does not name is byte-identical
    assert _changed(src, tmp_path / "again.hsi") == set(result.plan.headers) | set(result.plan.truncate)


def _legacy(tmp_path: Path, name: str = "legacy.hsi") -> Path:
    members = sample_members()
    members["data.hdr"] = members["data.hdr"].replace(b"\nsamples =", b"\nSamples =").replace(b"\n", b"\r\n")
    return write_members(tmp_path / name, members)


def test_fix_writes_dst_lists_fixed_findings_and_exits_0(tmp_path: Path, cli: CliRunner) -> None:
    src = _legacy(tmp_path)
    run = cli(["fix", src, tmp_path / "out.hsi"])
    assert run.code == 0, run.out + run.err
    assert "fixed HDR015" in run.out and "fixed HDR009" in run.out
    assert check(tmp_path / "out.hsi").findings == ()
    assert _changed(src, tmp_path / "out.hsi") == {"data.hdr"}


def test_dry_run_writes_nothing_and_prints_the_diff(tmp_path: Path, cli: CliRunner) -> None:
    src = _legacy(tmp_path)
    run = cli(["fix", "--dry-run", src, tmp_path / "out.hsi"])
    assert run.code == 0
    assert "--- a/data.hdr" in run.out and "-Samples = 12<CR>" in run.out and "+samples = 12" in run.out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["legacy.hsi"]


def test_dry_run_exits_1_when_findings_remain_and_lists_them(tmp_path: Path, cli: CliRunner) -> None:
    members = sample_members()
    members["data.hdr"] = members["data.hdr"].replace(b"byte order = 0\n", b"")  # uint16: not guessed
    src = write_members(tmp_path / "x.hsi", members)
    run = cli(["fix", "--dry-run", src, tmp_path / "out.hsi"])
    assert run.code == 1
    assert "FLD002" in run.out and not (tmp_path / "out.hsi").exists()
    result = fix(src, tmp_path / "out.hsi", dry_run=True)
    assert [f.rule for f in result.result.failures()] == ["FLD002"] and not result.plan.changes


def test_unsafe_fixes_need_unsafe(tmp_path: Path, cli: CliRunner) -> None:
    members = sample_members()
    members["data.hdr"] = members["data.hdr"].replace(b"\nlines = 16\n", b"\nlines = 99\nlines = 16\n")
    src = write_members(tmp_path / "dup.hsi", members)
    safe = cli(["fix", src, tmp_path / "safe.hsi"])
    assert safe.code == 1 and "HDR017" in safe.out
    assert "HDR017" in {f.rule for f in check(tmp_path / "safe.hsi").findings}
    unsafe = cli(["fix", "--unsafe", src, tmp_path / "unsafe.hsi"])
    assert unsafe.code == 0 and "unsafe" in unsafe.out
    assert check(tmp_path / "unsafe.hsi").findings == ()


def test_select_and_ignore_choose_the_fixes(tmp_path: Path) -> None:
    src = _legacy(tmp_path)
    only_case = fix(src, tmp_path / "a.hsi", select=["hdr-key-case"])
    assert {c.rule for c in only_case.plan.changes} == {"HDR015"}
    assert "HDR009" in {f.rule for f in only_case.result.findings}
    no_case = fix(src, tmp_path / "b.hsi", ignore=["HDR015"])
    assert {c.rule for c in no_case.plan.changes} == {"HDR009"}


def test_in_place_keeps_orig_and_refuses_to_replace_it(tmp_path: Path, cli: CliRunner) -> None:
    src = _legacy(tmp_path)
    original = src.read_bytes()
    run = cli(["fix", "--in-place", src])
    assert run.code == 0
    assert (tmp_path / "legacy.hsi.orig").read_bytes() == original
    assert check(src).findings == ()
    again = _legacy(tmp_path)
    refused = cli(["fix", "--in-place", again])
    assert refused.code == 2 and again.read_bytes() == original
    with pytest.raises(InvalidArgumentError):
        fix(again)
    run = cli(["fix", "--in-place", "--no-backup", again])
    assert run.code == 0 and (tmp_path / "legacy.hsi.orig").read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["legacy.hsi", "legacy.hsi.orig"]


def test_in_place_with_nothing_to_fix_leaves_the_file_alone(tmp_path: Path, cli: CliRunner,
                                                            sample_bytes: bytes) -> None:
    src = tmp_path / "ok.hsi"
    src.write_bytes(sample_bytes)
    run = cli(["fix", "--in-place", src])
    assert run.code == 0 and src.read_bytes() == sample_bytes and not (tmp_path / "ok.hsi.orig").exists()
    copy = cli(["fix", src, tmp_path / "copy.hsi"])
    assert copy.code == 0 and (tmp_path / "copy.hsi").read_bytes() == sample_bytes


@pytest.mark.parametrize("argv", [["fix", "a.hsi"], ["fix", "a.hsi", "b.hsi", "--in-place"],
                                  ["fix", "a.hsi", "b.hsi", "--no-backup"], ["fix", "a.hsi", "a.hsi"],
                                  ["fix", "a.hsi", "b.hsi", "--select", "NOPE999"]])
def test_usage_errors_exit_2(argv: list[str], tmp_path: Path, cli: CliRunner, sample_bytes: bytes,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.hsi").write_bytes(sample_bytes)
    run = cli(argv)
    assert run.code == 2 and "Traceback" not in run.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.hsi"]


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04" + b"\x00" * 40, None])
def test_hostile_inputs_never_traceback(content: bytes | None, tmp_path: Path, cli: CliRunner) -> None:
    src = tmp_path / "bad.hsi"
    if content is None:
        src.mkdir()  # a folder is not a .hsi file
    else:
        src.write_bytes(content)
    run = cli(["fix", src, tmp_path / "out.hsi"])
    assert run.code in (1, 3) and "Traceback" not in run.err and "internal error" not in run.err


@pytest.mark.parametrize("case", [c for c in load_cases() if c.path.parts[-3] == "container"
                                  and c.data.get("as") != "folder"], ids=lambda c: c.id)
def test_broken_archives_never_traceback(case: Case, tmp_path: Path, cli: CliRunner) -> None:
    src = build_input(case, tmp_path)
    run = cli(["fix", "--unsafe", src, tmp_path / "out.hsi"])
    assert run.code in (0, 1, 3), run.out + run.err
    assert "Traceback" not in run.err and "internal error" not in run.err


def test_verification_catches_a_member_that_differs_from_the_source(tmp_path: Path) -> None:
    src = _legacy(tmp_path)
    result = fix(src, tmp_path / "out.hsi", select=["HDR015"])
    _verify(src, tmp_path / "out.hsi", result.plan)  # the header is in the plan: fine
    with pytest.raises(ContainerVerifyError):
        _verify(src, tmp_path / "out.hsi", Plan())  # a changed member the plan does not name


def test_realign_keeps_every_member_byte_identical(tmp_path: Path) -> None:
    case = next(c for c in load_cases() if c.id.startswith("container/LAY009") and c.verdict != "valid")
    src = build_input(case, tmp_path)
    result = fix(src, tmp_path / "out.hsi")
    assert result.plan.realign and not result.plan.headers
    assert _changed(src, tmp_path / "out.hsi") == set()
    assert "LAY009" not in {f.rule for f in check(tmp_path / "out.hsi", content="crc").findings}


def test_rules_and_explain_show_the_fix(cli: CliRunner) -> None:
    import json

    listed = {r["id"]: r["fix"] for r in json.loads(cli(["rules", "--format", "json"]).out)}
    assert listed["HDR015"] == "safe" and listed["HDR017"] == "unsafe" and listed["ZIP001"] is None
    row = next(line for line in cli(["rules", "--format", "markdown"]).out.splitlines()
               if line.startswith("| HDR017 "))
    assert "| unsafe |" in row
    assert "fix: unsafe" in cli(["explain", "HDR017"]).out
    assert "fix: none" in cli(["explain", "ZIP001"]).out



def _zip020_source(tmp_path: Path, *, local: int | None, central: int | None) -> tuple[Path, int]:
    """The ZIP020 golden input with the camera file's local and central CRC-32 fields set (None: the true CRC)."""
    import struct
    import zlib

    case = next(c for c in load_cases() if c.id.startswith("container/ZIP020") and c.verdict != "valid")
    data = bytearray(build_input(case, tmp_path).read_bytes())
    name = b"Metadata/sample-camera.txt"
    lfh = next(i for i in range(len(data)) if data.startswith(b"PK\x03\x04", i)
               and data[i + 30:i + 30 + len(name)] == name)
    size, nlen, xlen = struct.unpack_from("<I", data, lfh + 18)[0], *struct.unpack_from("<HH", data, lfh + 26)
    true_crc = zlib.crc32(data[lfh + 30 + nlen + xlen:lfh + 30 + nlen + xlen + size])
    cd = next(i for i in range(len(data))
              if data.startswith(b"PK\x01\x02", i) and data[i + 46:i + 46 + len(name)] == name)
    struct.pack_into("<I", data, lfh + 14, true_crc if local is None else local)
    struct.pack_into("<I", data, cd + 16, true_crc if central is None else central)
    src = tmp_path / "zip020.hsi"
    src.write_bytes(bytes(data))
    return src, true_crc


def test_zip020_fix_follows_the_record_the_data_proves(tmp_path: Path) -> None:
    src, true_crc = _zip020_source(tmp_path, local=None, central=0xDEADBEEF)  # the central directory is wrong
    assert {"ZIP020", "ZIP050"} <= {f.rule for f in check(src, content="crc").findings}
    result = fix(src, tmp_path / "out.hsi")
    assert result.plan.records == {"Metadata/sample-camera.txt": "local header"}
    after = check(tmp_path / "out.hsi", content="crc")
    assert after.conformant and not {"ZIP020", "ZIP050"} & {f.rule for f in after.findings}
    assert _changed(src, tmp_path / "out.hsi") == set()  # every member's bytes are the source's
    written = read_zip_structure(tmp_path / "out.hsi").members
    assert next(m.crc for m in written if m.name == "Metadata/sample-camera.txt") == true_crc


def test_zip020_is_left_when_the_data_matches_neither_record(tmp_path: Path, cli: CliRunner) -> None:
    src, _ = _zip020_source(tmp_path, local=0x01020304, central=0xDEADBEEF)
    run = cli(["fix", src, tmp_path / "out.hsi"])
    assert run.code == 1 and "Traceback" not in run.err
    assert "ZIP020" in {f.rule for f in fix(src, dry_run=True).result.findings}
