"""Hostile sizes give findings and the documented exit code in bounded time and memory, never an exception."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from hsi_conform.finding import Severity
from hsi_conform.testing.samples import sample_members, write_members
from hsi_conform.testing.zipcraft import Entry, build
from hsi_conform.validate import check
from tests._support import CliRunner


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
