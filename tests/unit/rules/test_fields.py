"""``FLD`` rules: each rule on small edits of the sample container (as an expanded folder, no ZIP: fast)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsi_conform.fields import FIELDS, FieldSpec
from hsi_conform.finding import Problem, Severity
from hsi_conform.rules import RuleSpec, get_rule, load_builtin_rules
from hsi_conform.rules import fields as fields_rules
from hsi_conform.testing.samples import sample_members
from hsi_conform.validate import CheckContext, check
from hsi_conform.validate.engine import Policy
from tests._paths import FIXTURES, SPEC
from tests._support import write_tree

BASE = sample_members()
FLD_RULES = [r for r in load_builtin_rules() if r.id.startswith("FLD")]
CLASS_HDR = ("ENVI\nsamples = 12\nlines = 16\nbands = 1\nfile type = {ftype}\ndata type = 1\ninterleave = bsq\n"
             "byte order = 0\n")


def edit(member: str = "data.hdr", *, set: dict[str, str] | None = None, drop: tuple[str, ...] = (),
         add: tuple[str, ...] = ()) -> str:
    """Return a sample header with lines replaced (by key), dropped or appended."""
    out = []
    for line in BASE[member].decode().splitlines():
        key = line.split(" = ", 1)[0]
        if key in drop:
            continue
        out.append((set or {}).get(key, line))
    return "\n".join([*out, *add]) + "\n"


def folder(tmp_path: Path, members: dict[str, str | bytes | None]) -> Path:
    """Write the sample with members replaced (None removes one) as an expanded container folder."""
    return write_tree(tmp_path / "container", {**BASE, **members})


def run(rule_id: str, tmp_path: Path, members: dict[str, str | bytes | None]) -> list[Problem]:
    ctx = CheckContext(folder(tmp_path, members))
    return list(get_rule(rule_id).check(ctx))


def where(problems: list[Problem]) -> list[tuple[str | None, str | None, int | None]]:
    return [(p.location.member, p.location.field, p.location.item) for p in problems]


def test_the_sample_has_no_field_findings(tmp_path: Path) -> None:
    ctx = CheckContext(folder(tmp_path, {}))
    assert {r.id: list(r.check(ctx)) for r in FLD_RULES} == {r.id: [] for r in FLD_RULES}


WL = "wavelength = {400.0, 466.667, 533.333, 600.0, 666.667, 733.333, 800.0, 866.667, 933.333, 1000.0}"

CASES: list[tuple[str, dict[str, str | bytes | None], list[tuple[str | None, str | None, int | None]]]] = [
    ("FLD001", {"preview.hdr": edit("preview.hdr", drop=("lines",))}, [("preview.hdr", "lines", None)]),
    ("FLD001", {"data.hdr": edit(drop=("wavelength",))}, [("data.hdr", "wavelength", None)]),
    ("FLD001", {"data.hdr": edit(set={"samples": "samples ="})}, [("data.hdr", "samples", None)]),
    ("FLD002", {"Reference/black.hdr": edit("Reference/black.hdr", drop=("byte order",))},
     [("Reference/black.hdr", "byte order", None)]),
    ("FLD002", {"data.hdr": edit(drop=("header offset",))}, []),
    ("FLD003", {"preview.hdr": edit("preview.hdr", drop=("wavelength",))}, [("preview.hdr", "wavelength", None)]),
    ("FLD004", {"data.hdr": edit(set={"bands": "bands = 2e1"})}, [("data.hdr", "bands", None)]),
    ("FLD004", {"data.hdr": edit(set={"wavelength": WL.replace("533.333", "٤")})}, [("data.hdr", "wavelength", 2)]),
    ("FLD004", {"data.hdr": edit(set={"device": "device = {a, b}"})}, [("data.hdr", "device", None)]),
    ("FLD004", {"data.hdr": edit(add=("temperature = {1, 2}", "data offset values = 3"))}, []),
    ("FLD005", {"data.hdr": edit(set={"data type": "data type = 0x4"})}, [("data.hdr", "data type", None)]),
    ("FLD005", {"data.hdr": edit(set={"interleave": "interleave = Bil"})}, []),
    ("FLD006", {"preview.hdr": edit("preview.hdr", set={"file type": "file type = TIFF"})},
     [("preview.hdr", "file type", None)]),
    ("FLD006", {"Exploration/pca.hdr": CLASS_HDR.format(ftype="PCA"), "Exploration/pca.envi": bytes(192)}, []),
    ("FLD006", {"Exploration/x.hdr": CLASS_HDR.format(ftype="TIFF"), "Exploration/x.envi": bytes(192)},
     [("Exploration/x.hdr", "file type", None)]),
    ("FLD007", {"data.hdr": edit(set={"data type": "data type = 14"})}, [("data.hdr", "data type", None)]),
    ("FLD008", {"data.hdr": edit(add=("band names = {a, b}",))}, [("data.hdr", "band names", None)]),
    ("FLD008", {"data.hdr": edit(add=("classes = 2", "class names = {a, b, c}"))}, [("data.hdr", "class names", None)]),
    ("FLD008", {"data.hdr": edit(set={"bands": "bands = x"}, add=("band names = {a}",))}, []),
    ("FLD009", {"data.hdr": edit(set={"header offset": "header offset = -5"})}, [("data.hdr", "header offset", None)]),
    ("FLD009", {"data.hdr": edit(set={"fwhm": "fwhm = {5, 5, 0, 5, 5, 5, 5, 5, 5, 5}"})}, [("data.hdr", "fwhm", 2)]),
    ("FLD009", {"data.hdr": edit(add=("classes = 0",))}, [("data.hdr", "classes", None)]),
    ("FLD010", {"data.hdr": edit(set={"wavelength": WL.replace("{400.0", "{999.0")})}, [("data.hdr", "wavelength", 1)]),
    ("FLD011", {"data.hdr": edit(set={"wavelength units": "wavelength units = Nanometer"})},
     [("data.hdr", "wavelength units", None)]),
    ("FLD012", {"data.hdr": edit(set={"acquisition time": "acquisition time = 2025-06-30 12:00"})},
     [("data.hdr", "acquisition time", None)]),
    ("FLD013", {"data.hdr": edit(set={"problem": "problem = {a, {b}}"})}, [("data.hdr", "problem", 1)]),
    ("FLD013", {"data.hdr": edit(set={"description": "description = {a {b} c}"})}, []),
    ("FLD014", {"data.hdr": edit(add=("temperature = {147.00, 28.19}",))}, [("data.hdr", "temperature", None)]),
    ("FLD015", {"data.hdr": edit(add=("data offset values = abc",))}, [("data.hdr", "data offset values", None)]),
    ("FLD016", {"data.hdr": edit(add=("coordinate system string = PROJCS",))},
     [("data.hdr", "coordinate system string", None)]),
    ("FLD017", {"data.hdr": edit(add=("pixel size = {0, x}",))}, [("data.hdr", "pixel size", 0),
                                                               ("data.hdr", "pixel size", 1)]),
    ("FLD018", {"data.hdr": edit(add=("data ignore value = 65536",))}, [("data.hdr", "data ignore value", None)]),
    ("FLD018", {"data.hdr": edit(set={"data type": "data type = 4"}, add=("data ignore value = nan",))}, []),
    ("FLD019", {"data.hdr": edit(add=("read procedures = {rotate:180, crop:{1:0, 0:1, 0:1}}",))},
     [("data.hdr", "read procedures", 1)]),
    ("FLD020", {"data.hdr": edit(add=("read procedures = {rotate:180, sharpen:2}",))},
     [("data.hdr", "read procedures", 1)]),
    ("FLD021", {"data.hdr": edit(add=("read procedures = {microservice:a.b, microservice:c}",))},
     [("data.hdr", "read procedures", 0), ("data.hdr", "read procedures", 1)]),
    ("FLD022", {"data.hdr": edit(add=("read procedures = {crop:{0:11, 0:15, 0:10}}",))},
     [("data.hdr", "read procedures", 0)]),
    ("FLD022", {"data.hdr": edit(set={"bands": "bands = x"}, add=("read procedures = {crop:{0:99, 0:99, 0:99}}",))},
     []),
    ("FLD023", {"data.hdr": edit(add=("classification file = /abs/classes.envi",))},
     [("data.hdr", "classification file", None)]),
    ("FLD023", {"data.hdr": edit(add=("bounding boxes = C:boxes.csv",))}, [("data.hdr", "bounding boxes", None)]),
    ("FLD024", {"data.hdr": edit(add=("classification file = Exploration/classes.envi",)),
                "Exploration/classes.envi": bytes(192)}, []),
    ("FLD024", {"data.hdr": edit(add=("classification file = ../classes.envi",))}, []),
    ("FLD025", {"data.hdr": edit(set={"sensor type": "sensor type = Metadata/sample-camera.txt"})}, []),
    ("FLD025", {"Metadata/sample-camera.txt": None}, [("data.hdr", "sensor type", None)]),
    ("FLD025", {"data.hdr": edit(set={"sensor type": "sensor type = Unknown"})}, []),  # names no sensor
    ("FLD025", {"data.hdr": edit(set={"sensor type": "sensor type = UNKNOWN"})}, []),
]


@pytest.mark.parametrize(("rule_id", "members", "expected"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule(rule_id: str, members: dict[str, str | bytes | None],
              expected: list[tuple[str | None, str | None, int | None]], tmp_path: Path) -> None:
    assert where(run(rule_id, tmp_path, members)) == expected


def test_findings_carry_line_and_column(tmp_path: Path) -> None:
    problems = run("FLD009", tmp_path, {"data.hdr": edit(set={"default bands": "default bands = {10, 5, 0}"})})
    assert [(p.location.line, p.location.column) for p in problems] == [(14, 25)]


def test_unknown_fields_are_never_reported(tmp_path: Path) -> None:
    members: dict[str, str | bytes | None] = {
        "data.hdr": edit(add=("fps = {a, {b}}", "errors = none", "binning = x"))}
    ctx = CheckContext(folder(tmp_path, members))
    assert [p for r in FLD_RULES for p in r.check(ctx)] == []


def test_a_header_that_is_not_envi_is_left_to_hdr000(tmp_path: Path) -> None:
    ctx = CheckContext(folder(tmp_path, {"preview.hdr": "not a header\n"}))
    assert [p for r in FLD_RULES for p in r.check(ctx)] == []


def test_the_last_of_duplicate_entries_is_judged(tmp_path: Path) -> None:
    problems = run("FLD004", tmp_path, {"data.hdr": edit(add=("samples = x",))})
    assert [(p.location.field, p.location.line) for p in problems] == [("samples", 20)]


def test_hostile_lists_give_bounded_findings_quickly(tmp_path: Path) -> None:
    junk = "wavelength = {" + ", ".join(["x"] * 100_000) + "}"
    procedures = "read procedures = {" + ", ".join(["rotate:sideways"] * 3000) + "}"
    ctx = CheckContext(folder(tmp_path, {"data.hdr": edit(set={"wavelength": junk}, add=(procedures,))}))
    start = time.perf_counter()
    found = {r.id: len(list(r.check(ctx))) for r in FLD_RULES}
    assert time.perf_counter() - start < 10
    assert found["FLD004"] == 20
    assert found["FLD019"] == 21  # 20 items, then "the rest is not checked"


def test_reader_profile_regrades_defaults_and_file_type(tmp_path: Path) -> None:
    members: dict[str, str | bytes | None] = {
        "data.hdr": edit(drop=("byte order",), set={"file type": "file type = ENVI"})}
    report = check(folder(tmp_path, members), policy=Policy(profile="reader"))
    graded = {(f.rule, f.severity) for f in report.findings if f.rule.startswith("FLD")}
    assert graded == {("FLD002", Severity.WARNING), ("FLD006", Severity.WARNING)}


@pytest.mark.parametrize("rule", FLD_RULES, ids=[r.id for r in FLD_RULES])
def test_rule_has_anchor_and_fixtures(rule: RuleSpec) -> None:
    page, _, anchor = rule.spec.partition("#")
    assert f'id="{anchor}"' in (SPEC / page).read_text(encoding="utf-8")
    folders = list((FIXTURES / "fields").glob(f"{rule.id}-{rule.name}/*/case.json"))
    verdicts = {p.parent.name.split("-", 1)[0] for p in folders}
    assert "valid" in verdicts and verdicts - {"valid"}
    for path in folders:
        expect = json.loads(path.read_text(encoding="utf-8"))["expect"]
        assert path.parent.name.startswith("valid") or rule.id in {e["rule"] for e in expect}


@pytest.mark.parametrize("extra", [0, 1, 40])
def test_short_and_long_lists_are_judged_alike(tmp_path: Path, extra: int) -> None:
    # Lists up to SHORT_LIST items are judged with Python floats, longer ones with numpy: same findings at the same
    # items (FLD009 ranges, FLD010 order), whatever the path.
    from hsi_conform.rules.fields_common import SHORT_LIST

    n = SHORT_LIST + extra
    values = [400.0 + i for i in range(n)]
    values[3], values[7], values[9] = -1.0, 0.0, 5.0  # two out of range (wavelength > 0); 9 drops below 8
    bbl = ["1"] * n
    bbl[5] = "2"
    header = edit(set={"bands": f"bands = {n}", "wavelength": "wavelength = {" + ", ".join(map(str, values)) + "}",
                       "fwhm": "fwhm = {" + ", ".join(["5"] * n) + "}"}, add=("bbl = {" + ", ".join(bbl) + "}",))
    members = {"data.hdr": header, "preview.hdr": None, "preview.envi": None}
    ranges = run("FLD009", tmp_path / "ranges", members)
    assert [(p.location.field, p.location.item, p.message) for p in ranges] == [
        ("wavelength", 3, "wavelength: item 3: -1 is not > 0"),
        ("wavelength", 7, "wavelength: item 7: 0 is not > 0"),
        ("bbl", 5, "bbl: item 5: 2 is above 1"),
    ]
    order = run("FLD010", tmp_path / "order", members)
    assert [(p.location.item, p.message) for p in order] == [(3, "wavelength: item 3: -1 follows 402")]


_NUMBERS = st.lists(st.one_of(st.floats(), st.sampled_from([0.0, 1.0, -1.0, 1e308, -1e308, 255.0, 256.0])),
                    max_size=12)


@settings(max_examples=300, deadline=None)
@given(values=_NUMBERS, spec=st.sampled_from([s for s in FIELDS if s.kind in fields_rules._NUMERIC]),
       maximum=st.sampled_from([None, 3.0, 255.0]))
def test_short_lists_mark_every_value_out_of_range(values: list[float], spec: FieldSpec, maximum: float | None
                                                   ) -> None:
    # The C-level short cut (sum, min, max) of FLD009 never hides a value the exact judgement objects to.
    marked = set(fields_rules._short_suspects(spec, values, maximum))
    assert {i for i, v in enumerate(values) if fields_rules._range_error(spec, v, maximum)} <= marked


@given(value=st.floats())
def test_fields_without_bounds_have_no_range_error(value: float) -> None:
    for spec in FIELDS:
        if spec.key in fields_rules._UNBOUNDED:
            assert fields_rules._range_error(spec, value, fields_rules._MAXIMUM.get(spec.key)) is None
