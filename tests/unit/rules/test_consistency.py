from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

import hsi_conform.rules.consistency as xrf
from hsi_conform.finding import Finding, Report, Severity
from hsi_conform.rules import get_rule, load_builtin_rules
from hsi_conform.rules.context import CheckContext
from hsi_conform.testing.samples import jpeg_image, sample_members, write_members
from hsi_conform.validate import CheckOptions, Content, check
from hsi_conform.validate.engine import Policy
from tests._paths import SPEC
from tests._support import write_tree

load_builtin_rules()
XRF = Policy(select=("XRF",))
CSV = "Exploration/bounding boxes.csv"


def run(tmp_path: Path, members: dict[str, bytes], *, policy: Policy = XRF, folder: bool = False,
        content: str = "none") -> Report:
    if folder:
        path = write_tree(tmp_path / "folder", members)
    else:
        tmp_path.mkdir(parents=True, exist_ok=True)
        path = write_members(tmp_path / "c.hsi", members)
    report = check(path, policy=policy, options=CheckOptions(content=Content(content)))
    assert not report.internal_errors
    return report


def edit(members: dict[str, bytes], name: str, old: str, new: str) -> dict[str, bytes]:
    text = members[name].decode()
    assert old in text
    return members | {name: text.replace(old, new, 1).encode()}


def found(report: Report) -> list[tuple[str, str | None, int | None, str | None, int | None]]:
    return [(f.rule, f.location.member, f.location.line, f.location.field, f.location.item)
            for f in report.findings]


def only(report: Report, rule: str) -> Finding:
    hits = [f for f in report.findings if f.rule == rule]
    assert len(hits) == 1, found(report)
    return hits[0]


@pytest.mark.parametrize("content", ["none", "full"])
@pytest.mark.parametrize("folder", [False, True])
def test_sample_is_clean(tmp_path: Path, folder: bool, content: str) -> None:
    report = run(tmp_path, sample_members(), policy=Policy(), folder=folder, content=content)
    assert report.findings == ()
    assert not [s for s in report.skipped if s.target.startswith("XRF")]


def test_rules_are_registered_with_spec_anchors() -> None:
    for number in range(1, 17):
        rule = get_rule(f"XRF{number:03d}")
        page, _, anchor = rule.spec.partition("#")
        assert f'id="{anchor}"' in (SPEC / page).read_text(encoding="utf-8"), rule.id
    assert get_rule("XRF002").profile_severity == {"reader": Severity.WARNING}


def test_truncated_and_trailing_sizes_are_located(tmp_path: Path) -> None:
    members = sample_members()
    short = run(tmp_path, members | {"data.envi": members["data.envi"][:100]})
    assert only(short, "XRF001").location.offset == 100
    long = run(tmp_path, members | {"data.envi": members["data.envi"] + b"\0" * 3})
    assert only(long, "XRF002").location.offset == len(members["data.envi"])


def test_one_trailing_byte_is_called_one_byte_after_the_cube(tmp_path: Path) -> None:
    members = sample_members()
    one = run(tmp_path, members | {"data.envi": members["data.envi"] + b"\0"})
    # issue 12 item 8: the message must say what the file has, not leave the user to subtract two sizes
    assert "1 byte after the cube" in only(one, "XRF002").message


def test_size_arithmetic_does_not_overflow(tmp_path: Path) -> None:
    members = edit(sample_members(), "data.hdr", "samples = 12", f"samples = {2**21}")
    members = edit(members, "data.hdr", "lines = 16", f"lines = {2**21}")
    report = run(tmp_path, members)
    assert only(report, "XRF001").location.offset == len(members["data.envi"])
    ctx = CheckContext(tmp_path / "c.hsi")
    # Exact Python ints: numpy's int64 product of these dimensions would wrap.
    assert ("data.envi", len(members["data.envi"]), 2**21 * 2**21 * 10 * 2) in xrf._sizes(ctx)


def test_compressed_member_size_comes_from_the_central_directory(tmp_path: Path) -> None:
    members = sample_members()
    path = tmp_path / "deflated.hsi"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            method = zipfile.ZIP_DEFLATED if name == "data.envi" else zipfile.ZIP_STORED
            zf.writestr(name, data[:-2] if name == "data.envi" else data, compress_type=method)
    report = check(path, policy=XRF)
    assert only(report, "XRF001").location.offset == len(members["data.envi"]) - 2


def test_invalid_root_layout_skips_the_dependent_rules(tmp_path: Path) -> None:
    report = run(tmp_path, edit(sample_members(), "data.hdr", "data type = 12", "data type = 7"))
    skipped = {s.target for s in report.skipped}
    assert {"XRF003", "XRF004"} <= skipped
    assert "XRF001" not in skipped  # the other pairs are still checked
    assert report.findings == ()


def test_no_valid_layout_at_all_skips_the_size_rules(tmp_path: Path) -> None:
    members = {k: v for k, v in sample_members().items() if k.startswith("data.")}
    report = run(tmp_path, edit(members, "data.hdr", "interleave = bil", "interleave = xyz"))
    assert {"XRF001", "XRF002"} <= {s.target for s in report.skipped}


def test_references_may_differ_in_type_and_interleave_but_not_in_shape(tmp_path: Path) -> None:
    members = edit(sample_members(), "Reference/black.hdr", "interleave = bil", "interleave = bsq")
    assert run(tmp_path, members).findings == ()
    members = edit(members, "Reference/black.hdr", "lines = 1", "lines = 16")
    members = edit(members, "Reference/black.hdr", "samples = 12", "samples = 11")
    report = run(tmp_path, members | {"Reference/black.envi": bytes(16 * 11 * 10 * 2)})
    assert found(report) == [("XRF003", "Reference/black.hdr", 2, "samples", None)]


def test_masks_are_not_required_with_a_classification_file(tmp_path: Path) -> None:
    members = edit(sample_members(), "data.hdr", "measurement = sample-0001\n",
                   "measurement = sample-0001\nclass names = {a, b}\n")
    report = run(tmp_path, members)
    assert [(f.rule, f.location.item) for f in report.findings] == [("XRF005", 0), ("XRF005", 1)]
    with_file = edit(members, "data.hdr", "class names", "classification file = c.envi\nclass names")
    assert run(tmp_path, with_file).findings == ()  # c.envi missing is FLD024's, not XRF's


def test_half_a_mask_is_left_to_the_layout_rules(tmp_path: Path) -> None:
    members = edit(sample_members(), "data.hdr", "measurement = sample-0001\n",
                   "measurement = sample-0001\nclass names = {a}\n")
    report = run(tmp_path, members | {"Exploration/a.envi": bytes(192)})
    assert "XRF005" not in {f.rule for f in report.findings}


def test_bbox_csv_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xrf, "MAX_CSV_BYTES", 10)
    report = run(tmp_path, sample_members() | {CSV: b"leaf,1,1,1,1\n"})
    assert found(report) == [("XRF010", CSV, None, None, None)]


def test_bbox_issue_cap_is_reported(tmp_path: Path) -> None:
    report = run(tmp_path, sample_members() | {CSV: b"a,1\n" * 1500})
    ten = [f for f in report.findings if f.rule == "XRF010"]
    assert len(ten) == 1 and ten[0].location.line == 1000
    assert sum(f.count for f in report.findings if f.rule == "XRF011") == 1000


def test_bbox_csv_named_by_the_header(tmp_path: Path) -> None:
    members = edit(sample_members(), "data.hdr", "measurement = sample-0001\n",
                   "measurement = sample-0001\nbounding boxes = boxes.csv\n")
    report = run(tmp_path, members | {"Exploration/boxes.csv": b"a,0,0,13,1\n", CSV: b"b,0,0,99,1\n"})
    assert found(report) == [("XRF012", "Exploration/boxes.csv", 1, None, 3)]


def test_bbox_outside_skips_without_cube_layout(tmp_path: Path) -> None:
    members = edit(sample_members(), "data.hdr", "lines = 16", "lines = -1")
    report = run(tmp_path, members | {CSV: b"a,0,0,1,1\n"})
    assert "XRF012" in {s.target for s in report.skipped}


def test_thumbnail_sizes(tmp_path: Path) -> None:
    report = run(tmp_path, sample_members() | {"thumbnail.jpg": jpeg_image(13, 4)})
    finding = only(report, "XRF015")
    assert finding.severity == Severity.INFO and finding.location.member == "thumbnail.jpg"
    assert finding.location.offset is not None


def test_thumbnail_frame_header_beyond_the_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xrf, "MAX_THUMBNAIL_PREFIX", 100)
    jpeg = jpeg_image(12, 16)
    app = b"\xff\xe1" + (200).to_bytes(2, "big") + bytes(198)
    report = run(tmp_path, sample_members() | {"thumbnail.jpg": jpeg[:2] + app + jpeg[2:]})
    assert only(report, "XRF014").location.offset == 2


def test_thumbnail_not_jpeg_is_located_where_the_walk_stopped(tmp_path: Path) -> None:
    jpeg = jpeg_image(12, 16)
    report = run(tmp_path, sample_members() | {"thumbnail.jpg": jpeg[:2] + b"\x00" + jpeg[2:]})
    assert only(report, "XRF014").location.offset == 2


def test_hostile_auxiliary_members_never_crash(tmp_path: Path) -> None:
    rng = random.Random(7)
    base = sample_members()
    for i in range(15):
        junk = {name: rng.randbytes(rng.randrange(0, 200)) for name in
                ("thumbnail.jpg", CSV, "Reference/white.hdr", "Exploration/classes.hdr")}
        junk["Reference/white.hdr"] = b"ENVI\n" + junk["Reference/white.hdr"]
        members = edit(base, "data.hdr", "measurement = sample-0001\n",
                       "measurement = sample-0001\nclassification file = classes.envi\nclass names = {a}\n")
        run(tmp_path / str(i), members | junk | {"Exploration/classes.envi": b"\x01" * 7}, policy=Policy(),
            content="full")


@pytest.mark.parametrize("extra", [
    "classification file = /\n", "classification file = ..\n", "classification file = Exploration/\n",
    "classification file = {a, b}\n", "class names = {, ../x, a/b, \u00e9}\n", "bounding boxes = /\n",
    "bounding boxes = {x}\n", "classes = -3\nclassification file = c.envi\n", "class names = {a\n",
])
def test_hostile_link_values_never_crash(tmp_path: Path, extra: str) -> None:
    members = edit(sample_members(), "data.hdr", "measurement = sample-0001\n", "measurement = sample-0001\n" + extra)
    members |= {"Exploration/c.envi": b"\0", "Exploration/c.hdr": b"ENVI\nclasses = {1}\nclass names = x\n"}
    run(tmp_path, members, policy=Policy(), content="full")
