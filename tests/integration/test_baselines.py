"""``validate --write-baseline / --baseline`` and configuration waivers, end to end (issue 15, sections 2 and 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hsi_conform.testing.samples import sample_members
from tests._support import CliRunner, write_tree


def header(**edits: bytes) -> dict[str, bytes]:
    """Sample members whose header has each ``old=new`` replacement applied (``key=b"New = "``)."""
    members = sample_members()
    for old, new in edits.items():
        members["data.hdr"] = members["data.hdr"].replace(f"\n{old.replace('_', ' ')} = ".encode(), b"\n" + new)
    return members


def edit(folder: Path, old: bytes, new: bytes) -> None:
    path = folder / "data.hdr"
    text = path.read_bytes()
    assert old in text
    path.write_bytes(text.replace(old, new))


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp/archive/2019/{a,b}/ and tmp/new/c/: expanded containers with upper-case keys (HDR015); cwd = tmp."""
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path / "archive" / "2019" / "a", header(samples=b"Samples = ", lines=b"Lines = "))
    write_tree(tmp_path / "archive" / "2019" / "b", header(bands=b"Bands = "))
    write_tree(tmp_path / "new" / "c", header(samples=b"Samples = "))
    return tmp_path


def states(output: str) -> list[tuple[str, int | None, str, str | None]]:
    document = json.loads(output)
    return [(Path(f["file"]).as_posix(), f["location"].get("line"), f["rule"], f.get("baseline_state"))
            for f in document["findings"]]


def test_write_then_compare_across_line_shifts_new_and_fixed(cli: CliRunner, tree: Path) -> None:
    written = cli(["validate", "--write-baseline", "ci/baseline.json", "archive", "new"])
    assert written.code == 0, written.err  # everything is in the baseline just written
    baseline = json.loads((tree / "ci" / "baseline.json").read_text())
    assert list(baseline["files"]) == ["../archive/2019/a", "../archive/2019/b", "../new/c"]
    assert cli(["validate", "--baseline", "ci/baseline.json", "archive", "new"]).code == 0

    a = tree / "archive" / "2019" / "a"
    edit(a, b"ENVI\n", b"ENVI\n; a comment\n\n")          # every finding of a moves two lines down
    edit(tree / "new" / "c", b"\nSamples = ", b"\nsamples = ")  # fixed
    edit(tree / "archive" / "2019" / "b", b"\nlines = ", b"\nLines = ")  # new
    result = cli(["validate", "--baseline", "ci/baseline.json", "--format", "json", "archive", "new"])
    assert result.code == 1  # the new finding drives the exit code
    assert states(result.out) == [
        ("archive/2019/a", 5, "HDR015", "unchanged"),
        ("archive/2019/a", 6, "HDR015", "unchanged"),
        ("archive/2019/b", 4, "HDR015", "new"),
        ("archive/2019/b", 5, "HDR015", "unchanged"),
    ]
    files = {Path(f["path"]).as_posix(): f for f in json.loads(result.out)["files"]}
    assert [(e["rule"], e["field"]) for e in files["new/c"]["absent"]] == [("HDR015", "samples")]
    assert files["new/c"]["conformant"] and files["archive/2019/a"]["conformant"]
    assert not files["archive/2019/b"]["conformant"]

    sarif = cli(["validate", "--baseline", "ci/baseline.json", "--format", "sarif", "archive", "new"])
    results = json.loads(sarif.out)["runs"][0]["results"]
    assert sorted(r["baselineState"] for r in results) == ["absent", "new", "unchanged", "unchanged", "unchanged"]
    assert all(r["partialFingerprints"]["hsiConform/v1"] for r in results)

    text = cli(["validate", "--baseline", "ci/baseline.json", "archive", "new"]).out
    assert text.count("error HDR015") == 1 and "fixed HDR015" in text  # only the new one, and the fixed one


def test_the_same_baseline_in_parallel_and_from_another_folder(cli: CliRunner, tree: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli(["validate", "--write-baseline", "baseline.json", "-j", "2", "archive", "new"]).code == 0
    edit(tree / "new" / "c", b"\nbands = ", b"\nBands = ")
    serial = cli(["validate", "--baseline", "baseline.json", "--format", "json", "archive", "new"])
    parallel = cli(["validate", "--baseline", "baseline.json", "--format", "json", "-j", "2", "archive", "new"])
    assert serial.code == parallel.code == 1
    assert states(serial.out) == states(parallel.out)
    assert [s for s in states(parallel.out) if s[3] == "new"] == [("new/c", 5, "HDR015", "new")]
    monkeypatch.chdir(tree / "archive")  # the inputs named from elsewhere: the same paths in the baseline
    inside = cli(["validate", "--baseline", "../baseline.json", "--format", "json", "2019"])
    assert inside.code == 0 and {s[3] for s in states(inside.out)} == {"unchanged"}


def test_baseline_usage_errors(cli: CliRunner, tree: Path) -> None:
    assert cli(["validate", "--baseline", "missing.json", "new"]).code == 2
    (tree / "bad.json").write_text('{"schema_version": 9}')
    assert cli(["validate", "--baseline", "bad.json", "new"]).code == 2
    assert cli(["validate", "--baseline", "bad.json", "--write-baseline", "b.json", "new"]).code == 2
    result = cli(["validate", "--write-baseline", "new/c/data.hdr", "new"])  # never replaces an input
    assert result.code == 2 and (tree / "new" / "c" / "data.hdr").read_bytes().startswith(b"ENVI")


def waiver(**table: Any) -> str:
    lines = ["[[tool.hsi-conform.waiver]]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def test_a_waiver_suppresses_by_path_and_shows_in_every_format(cli: CliRunner, tree: Path) -> None:
    (tree / "pyproject.toml").write_text(waiver(rule="HDR015", paths=["archive/2019/**"], reason="agreed with X",
                                                expires="2999-12-31"))
    result = cli(["validate", "--format", "json", "archive", "new"])
    assert result.code == 1  # new/c is not covered
    document = json.loads(result.out)
    waived = {(Path(f["file"]).as_posix(), "suppression" in f) for f in document["findings"]}
    assert waived == {("archive/2019/a", True), ("archive/2019/b", True), ("new/c", False)}
    assert cli(["validate", "archive"]).code == 0
    sarif = json.loads(cli(["validate", "--format", "sarif", "archive"]).out)["runs"][0]["results"]
    assert {s["kind"] for r in sarif for s in r["suppressions"]} == {"external"}
    assert {s["justification"] for r in sarif for s in r["suppressions"]} == {"agreed with X"}
    assert "(waived)" in cli(["validate", "archive"]).out
    everything = cli(["validate", "--no-waivers", "--format", "json", "archive"])
    assert everything.code == 1 and all("suppression" not in f for f in json.loads(everything.out)["findings"])
    assert cli(["validate", "--isolated", "archive"]).code == 1


def test_an_expired_waiver_counts_again_and_warns(cli: CliRunner, tree: Path) -> None:
    (tree / "hsi-conform.toml").write_text(waiver(rule="hdr-key-case", reason="old deal", expires="2001-01-01"))
    result = cli(["validate", "--format", "json", "new"])
    assert result.code == 1
    [file] = json.loads(result.out)["files"]
    assert [n["kind"] for n in file["notices"]] == ["waiver-expired"]
    assert all("suppression" not in f for f in file["findings"])
    [line] = [line for line in cli(["validate", "new"]).out.splitlines() if line.startswith("  warning:")]
    assert "hdr-key-case" in line and "2001-01-01" in line and "hsi-conform.toml" in line


def test_a_waived_finding_is_not_recorded_in_a_baseline(cli: CliRunner, tree: Path) -> None:
    (tree / "hsi-conform.toml").write_text(waiver(rule="HDR015", paths=["new/**"], reason="r"))
    assert cli(["validate", "--write-baseline", "b.json", "new"]).code == 0
    assert json.loads((tree / "b.json").read_text())["files"] == {}
    assert cli(["validate", "--baseline", "b.json", "--no-waivers", "new"]).code == 1


@pytest.mark.parametrize(
    "table",
    [
        {"rule": "HDR015"},                                              # no reason
        {"rule": "HDR999", "reason": "r"},                               # no such rule
        {"rule": "hdr-key-cas", "reason": "r"},                          # a typo of a name
        {"rule": "HDR015", "reason": "r", "expires": "2027-02-30"},      # no such day
        {"rule": "HDR015", "reason": "r", "expires": "June 2027"},
    ],
)
def test_a_bad_waiver_is_exit_2_before_anything_is_validated(cli: CliRunner, tree: Path,
                                                             table: dict[str, Any]) -> None:
    (tree / "hsi-conform.toml").write_text(waiver(**table))
    result = cli(["validate", "new"])
    assert result.code == 2
    assert "hsi-conform.toml" in result.err and "conformant" not in result.out.lower()
