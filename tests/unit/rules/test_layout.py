"""LAY rules: name classification, mandatory members, pairs, locations and alignment, on folders and .hsi."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hsi_conform.corpus.zipcases import clean_entries
from hsi_conform.finding import Severity
from hsi_conform.rules import get_rule, load_builtin_rules
from hsi_conform.rules.layout import Placement, classify, documented_spelling
from hsi_conform.testing.samples import sample_members, write_members
from hsi_conform.testing.zipcraft import Entry, build
from hsi_conform.validate import CheckContext, check
from tests._support import write_tree

load_builtin_rules()
LAY_IDS = [f"LAY{i:03d}" for i in range(1, 10)]


def members(remove: tuple[str, ...] = (), add: dict[str, bytes] | None = None) -> dict[str, bytes]:
    out = {k: v for k, v in sample_members().items() if k not in remove}
    out.update(add or {})
    return out


def folder(tmp_path: Path, content: dict[str, bytes]) -> Path:
    return write_tree(tmp_path / "folder", content)


def hsi(tmp_path: Path, content: dict[str, bytes]) -> Path:
    return write_members(tmp_path / "case.hsi", content)


def lay_findings(path: Path) -> list[tuple[str, str | None]]:
    return sorted((f.rule, f.location.member) for f in check(path).findings if f.rule.startswith("LAY"))


Make = Callable[[Path, dict[str, bytes]], Path]
BOTH = pytest.mark.parametrize("make", [folder, hsi], ids=["folder", "hsi"])


# -- classification ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "placement"), [
    ("data.hdr", Placement.DOCUMENTED),
    ("data.envi", Placement.DOCUMENTED),
    ("thumbnail.jpg", Placement.DOCUMENTED),
    ("preview.envi", Placement.DOCUMENTED),
    ("preview_2.hdr", Placement.DOCUMENTED),
    ("preview_half.envi", Placement.DOCUMENTED),
    ("Reference/", Placement.DOCUMENTED),
    ("Reference/white.envi", Placement.DOCUMENTED),
    ("Reference/qe/curve.csv", Placement.DOCUMENTED),
    ("Exploration/masks/leaf.envi", Placement.DOCUMENTED),
    ("Metadata/camera.txt", Placement.DOCUMENTED),
    ("Data.hdr", Placement.MANDATORY_CASE),
    ("DATA.ENVI", Placement.MANDATORY_CASE),
    ("Thumbnail.JPG", Placement.CASE),
    ("Preview_LOD1.HDR", Placement.CASE),
    ("reference/", Placement.CASE),
    ("reference/white.hdr", Placement.CASE),
    ("Reference/White.envi", Placement.CASE),
    ("METADATA/camera.txt", Placement.CASE),
    ("Metadata/thumbnail.jpg", Placement.THUMBNAIL),
    ("Other/THUMBNAIL.JPG", Placement.THUMBNAIL),
    ("notes.txt", Placement.UNKNOWN),
    ("thumbnail.jpeg", Placement.UNKNOWN),
    ("preview_.hdr", Placement.UNKNOWN),
    ("Reference", Placement.UNKNOWN),
    ("Calibration/qe.csv", Placement.UNKNOWN),
    ("../evil.txt", Placement.UNKNOWN),
    ("", Placement.UNKNOWN),
    ("/", Placement.UNKNOWN),
    ("data.hdr\x00.evil", Placement.UNKNOWN),
])
def test_classify(name: str, placement: Placement) -> None:
    assert classify(name) is placement


@pytest.mark.parametrize(("name", "spelled"), [
    ("Data.hdr", "data.hdr"),
    ("Preview_LOD1.HDR", "preview_LOD1.hdr"),
    ("reference/White.envi", "Reference/white.envi"),
    ("EXPLORATION/x.csv", "Exploration/x.csv"),
    ("data.hdr", None),
    ("Reference/Other.csv", None),
])
def test_documented_spelling(name: str, spelled: str | None) -> None:
    assert documented_spelling(name) == spelled


def test_layout_rules_are_registered_at_the_container_level() -> None:
    severities = {rid: get_rule(rid).severity for rid in LAY_IDS}
    assert severities["LAY001"] is Severity.FATAL
    assert severities["LAY008"] is Severity.INFO and severities["LAY009"] is Severity.INFO
    assert {severities[r] for r in ("LAY002", "LAY003", "LAY005", "LAY006")} == {Severity.ERROR}
    assert {severities[r] for r in ("LAY004", "LAY007")} == {Severity.WARNING}
    assert all(get_rule(r).spec == f"container.md#{get_rule(r).name}" for r in LAY_IDS)


# -- rules on folders and .hsi -----------------------------------------------------------------------------

@BOTH
def test_sample_has_no_layout_finding(tmp_path: Path, make: Make) -> None:
    assert lay_findings(make(tmp_path, members())) == []


@BOTH
def test_missing_header_is_fatal(tmp_path: Path, make: Make) -> None:
    path = make(tmp_path, members(remove=("data.hdr",)))
    report = check(path)
    assert [(f.rule, f.severity, f.location.member) for f in report.findings] == [
        ("LAY001", Severity.FATAL, None)]
    assert {"syntax", "semantics", "consistency"} <= {s.target for s in report.skipped}


@BOTH
def test_case_variant_of_the_header(tmp_path: Path, make: Make) -> None:
    content = members(remove=("data.hdr",), add={"Data.hdr": sample_members()["data.hdr"]})
    path = make(tmp_path, content)
    assert lay_findings(path) == [("LAY001", None), ("LAY003", "Data.hdr")]
    [missing] = [f for f in check(path).findings if f.rule == "LAY001"]
    assert "Data.hdr" in missing.message


@BOTH
def test_missing_cube(tmp_path: Path, make: Make) -> None:
    assert lay_findings(make(tmp_path, members(remove=("data.envi",)))) == [("LAY002", None)]


@BOTH
def test_pairs(tmp_path: Path, make: Make) -> None:
    add = {"Exploration/classes/mask.hdr": b"ENVI\n", "Metadata/vendor.hdr": b"not an ENVI pair"}
    content = members(remove=("preview.hdr", "Reference/black.envi"), add=add)
    path = make(tmp_path, content)
    found = [f for f in lay_findings(path) if f[0] in ("LAY005", "LAY006")]
    assert found == [("LAY005", "preview.envi"), ("LAY006", "Exploration/classes/mask.hdr"),
                     ("LAY006", "Reference/black.hdr")]


@BOTH
def test_locations(tmp_path: Path, make: Make) -> None:
    add = {"Metadata/thumbnail.jpg": b"x", "notes.txt": b"x", "Calibration/qe.csv": b"x", "Reference/qe.csv": b"x",
           "Exploration/boxes.csv": b"x", "Thumbnail.JPG": b"x"}
    content = members(remove=("thumbnail.jpg",), add=add)
    assert lay_findings(make(tmp_path, content)) == [
        ("LAY004", "Thumbnail.JPG"), ("LAY007", "Metadata/thumbnail.jpg"), ("LAY008", "Calibration/qe.csv"),
        ("LAY008", "notes.txt")]


def test_directory_entries_are_judged_only_when_empty(tmp_path: Path) -> None:
    extra = [Entry("Reference/"), Entry("Other/"), Entry("Empty/"), Entry("Other/x.txt", b"x"), Entry("Metadata/")]
    data = build([*clean_entries(), *extra])
    path = tmp_path / "dirs.hsi"
    path.write_bytes(data)
    assert [f for f in lay_findings(path) if f[0] == "LAY008"] == [("LAY008", "Empty/"), ("LAY008", "Other/x.txt")]


def test_folder_lists_directories_without_reporting_them(tmp_path: Path) -> None:
    root = folder(tmp_path, members(add={"Other/x.txt": b"x"}))
    (root / "Exploration").mkdir()
    assert "Other/" in CheckContext(root).names
    assert lay_findings(root) == [("LAY008", "Other/x.txt")]


def test_alignment_only_for_hsi(tmp_path: Path) -> None:
    unaligned = tmp_path / "unaligned.hsi"
    unaligned.write_bytes(build(clean_entries()))
    found = [f for f in check(unaligned).findings if f.rule == "LAY009"]
    assert sorted(str(f.location.member) for f in found) == [
        "Reference/black.envi", "Reference/white.envi", "data.envi", "preview.envi"]
    assert all(f.location.offset is not None and f.location.offset % 4096 for f in found)
    assert [f for f in lay_findings(folder(tmp_path, members())) if f[0] == "LAY009"] == []


def test_layout_rules_skip_an_unreadable_container(tmp_path: Path) -> None:
    path = tmp_path / "broken.hsi"
    path.write_bytes(b"PK\x03\x04 not really")
    report = check(path)
    reasons = {s.target: s.reason for s in report.skipped}
    assert all(rid in reasons and "could not be opened" in reasons[rid] for rid in LAY_IDS)
    assert not report.internal_errors


@pytest.mark.parametrize("name", ["", "/", "//", "a//", "\x00", "Reference//", "ä/" * 300, ".envi",
                                  "Reference/.envi", "x/" * 2000 + "thumbnail.jpg"])
def test_hostile_names_never_raise(tmp_path: Path, name: str) -> None:
    classify(name)
    documented_spelling(name)
    path = tmp_path / "hostile.hsi"
    path.write_bytes(build([*clean_entries(), Entry(name, b"x")]))
    assert not check(path).internal_errors
