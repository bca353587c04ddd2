"""Hostile sizes give findings and the documented exit code in bounded time and memory, never an exception."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

import hsi_conform
from hsi_conform.errors import ContainerError, FieldValueError, NotAnEnviHeaderError
from hsi_conform.finding import Severity
from hsi_conform.header import parse_header
from hsi_conform.header.values import MAX_INT_DIGITS, parse_int
from hsi_conform.limits import Limits
from hsi_conform.testing.samples import sample_members, write_members
from hsi_conform.testing.zipcraft import Entry, build
from hsi_conform.validate import CheckOptions, check
from tests._support import CliRunner, traced_peak


def _rules(path: Path, **kwargs: object) -> set[str]:
    return {f.rule for f in check(path, **kwargs).findings}  # type: ignore[arg-type]


def test_70000_entries_are_reported_against_the_default_limit(tmp_path: Path) -> None:
    members = sample_members()
    entries = [Entry(name.encode(), data) for name, data in members.items()]
    entries += [Entry(f"Metadata/{i:05x}".encode()) for i in range(70_000)]
    path = tmp_path / "many.hsi"
    path.write_bytes(build(entries))
    report = check(path)
    assert "ZIP017" in {f.rule for f in report.findings}
    assert not report.conformant and not report.internal_errors


def test_one_mebibyte_one_line_header(tmp_path: Path) -> None:
    members = sample_members()
    members["data.hdr"] += b"note = " + b"x" * (1 << 20) + b"\n"
    report = check(write_members(tmp_path / "long.hsi", members))
    assert "HDR011" in {f.rule for f in report.findings}
    assert all(len(f.location.excerpt or "") <= 1000 for f in report.findings)  # reports stay small


def test_one_mebibyte_list_on_one_line(tmp_path: Path) -> None:
    members = sample_members()
    members["data.hdr"] += b"band names = {" + b"n," * (1 << 19) + b"n}\n"
    rules = _rules(write_members(tmp_path / "list.hsi", members))
    assert {"HDR011", "FLD008"} <= rules


@pytest.mark.parametrize("seed", range(20))
def test_fuzzed_bytes_never_raise(tmp_path: Path, seed: int, sample_bytes: bytes, cli: CliRunner) -> None:
    rng = random.Random(seed)
    data = bytearray(sample_bytes)
    for _ in range(rng.randint(1, 40)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    path = tmp_path / "fuzzed.hsi"
    path.write_bytes(bytes(data))
    report = check(path, content="full")
    assert not report.internal_errors
    assert cli(["validate", "--content", "full", path]).code in (0, 1)


@pytest.mark.parametrize("keep", [0, 1, 21, 100, 4096, 9000, -200, -22, -5, -1])
def test_truncated_archives(tmp_path: Path, keep: int, sample_bytes: bytes, cli: CliRunner) -> None:
    path = tmp_path / "cut.hsi"
    path.write_bytes(sample_bytes[:keep])
    report = check(path)
    assert not report.conformant and report.max_severity is not None
    assert report.max_severity >= Severity.ERROR and not report.internal_errors
    assert cli(["validate", path]).code == 1


# -- member names (issue 19 item 5) ------------------------------------------------------------------------------

def _with_member(tmp_path: Path, name: str, file: str = "names.hsi") -> Path:
    entries = [Entry(n.encode(), d) for n, d in sample_members().items()] + [Entry(name.encode(), b"")]
    path = tmp_path / file
    path.write_bytes(build(entries))
    return path


def _found(json_report: str) -> set[str]:
    return {f["rule"] for f in json.loads(json_report)["findings"]}



def test_a_deep_64_kb_name_costs_what_a_flat_one_does(tmp_path: Path) -> None:
    deep = "x/" * 32_000 + "y"  # 32,001 components in one 64 KB name
    deep_path = _with_member(tmp_path, deep, "deep.hsi")
    flat_path = _with_member(tmp_path, "x" * len(deep), "flat.hsi")
    reports = []
    peak_deep = traced_peak(lambda: reports.append(check(deep_path)))
    peak_flat = traced_peak(lambda: reports.append(check(flat_path)))
    assert peak_deep <= 3 * peak_flat + (1 << 20)  # linear: re-joining every parent path takes ~1 GB
    deep_report, flat_report = reports
    assert {"ZIP039", "ZIP051"} <= {f.rule for f in deep_report.findings}
    assert "ZIP051" not in {f.rule for f in flat_report.findings}
    assert not deep_report.internal_errors


def test_name_depth_limit_is_configurable(tmp_path: Path, cli: CliRunner) -> None:
    path = _with_member(tmp_path, "Metadata/a/b/c.txt")
    assert "ZIP051" not in _rules(path)
    assert "ZIP051" in _rules(path, options=CheckOptions(limits=Limits(max_name_depth=3)))
    result = cli(["validate", "--format", "json", "--limit", "max-name-depth=3", path])
    assert result.code == 1 and "ZIP051" in _found(result.out)
    (tmp_path / "hsi-conform.toml").write_text("[limits]\nmax-name-depth = 3\n")
    result = cli(["validate", "--format", "json", path])
    assert result.code == 1 and "ZIP051" in _found(result.out)
    result = cli(["validate", "--format", "json", "--limit", "max-name-depth=4", path])  # the command line wins
    assert "ZIP051" not in _found(result.out)
    assert cli(["validate", "--limit", "max-name-depth=0", path]).code == 2
    assert cli(["validate", "--limit", "max-depth=3", path]).code == 2


# -- header size (issue 11 item 5) -------------------------------------------------------------------------------

def test_a_header_over_16_mib_is_a_finding_and_is_never_read(tmp_path: Path, cli: CliRunner) -> None:
    members = sample_members()
    members["data.hdr"] += b"description = {" + b"x" * (16 << 20) + b"}\n"
    path = write_members(tmp_path / "huge.hsi", members)
    del members
    reports = []
    peak = traced_peak(lambda: reports.append(check(path)))
    (report,) = reports
    assert [(f.rule, f.severity, f.location.member) for f in report.findings if f.rule.startswith("HDR")] == [
        ("HDR034", Severity.FATAL, "data.hdr")]
    assert not report.conformant and not report.internal_errors
    assert peak < 4 << 20  # judged by its stored size: the 16 MiB are never read
    assert cli(["validate", path]).code == 1
    raised = cli(["validate", "--format", "json", "--limit", "max-header-bytes=17MiB", path])
    assert raised.code == 1 and "HDR034" not in _found(raised.out)  # parsed now: its own findings remain


def test_header_limit_is_checked_before_parsing_in_the_api(tmp_path: Path) -> None:
    members = sample_members()
    path = write_members(tmp_path / "s.hsi", members)
    with hsi_conform.open(path, limits=Limits(max_header_bytes=100)) as container, \
            pytest.raises(ContainerError, match="larger than 100 bytes"):
        container.header  # noqa: B018 - the property reads the header
    with pytest.raises(NotAnEnviHeaderError):
        parse_header(members["data.hdr"], max_bytes=100)


# -- integers past Python's int() limit (issue 11 item 6) --------------------------------------------------------

BIG = "1" * 5000

BIG_INTEGERS = {
    "lines": lambda h: h.replace(b"lines = 16", b"lines = " + BIG.encode()),
    "header offset": lambda h: h.replace(b"header offset = 0", b"header offset = -" + BIG.encode()),
    "classes": lambda h: h + b"classes = +" + BIG.encode() + b"\n",
    "default bands": lambda h: h + b"default bands = {1, " + BIG.encode() + b", 2}\n",
}


@pytest.mark.parametrize("edit", BIG_INTEGERS.values(), ids=list(BIG_INTEGERS))
def test_integers_past_the_int_digit_limit_are_findings(tmp_path: Path, edit: Callable[[bytes], bytes],
                                                         cli: CliRunner) -> None:
    members = sample_members()
    members["data.hdr"] = edit(members["data.hdr"])
    path = write_members(tmp_path / "big.hsi", members)
    report = check(path, content="full")
    assert "FLD004" in {f.rule for f in report.findings}
    assert not report.internal_errors
    assert cli(["validate", "--content", "full", path]).code == 1


def test_parse_int_refuses_more_digits_than_the_limit() -> None:
    assert parse_int("0" * 4299 + "7") == 7
    assert parse_int("-" + "9" * MAX_INT_DIGITS) < 0
    with pytest.raises(FieldValueError, match="4301 digits"):
        parse_int("+" + "9" * (MAX_INT_DIGITS + 1), field="lines")
