"""The member-name table (hsi_conform/members.py): names, pairing, classification, and that it stays the one source."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

import hsi_conform
from hsi_conform import members as m
from hsi_conform.converters.envi import EnviConverter
from hsi_conform.converters.hsi import HsiConverter
from hsi_conform.fields import Scope
from hsi_conform.members import Classified, MemberKind, MemberPair, classify_member, scope_of
from hsi_conform.testing.samples import sample_members, write_members

PACKAGE = Path(hsi_conform.__file__).resolve().parent


def test_documented_names() -> None:
    assert (m.CUBE_HEADER, m.CUBE_DATA, m.THUMBNAIL) == ("data.hdr", "data.envi", "thumbnail.jpg")
    assert m.MANDATORY == ("data.hdr", "data.envi")
    assert m.ROOT_NAMES == ("data.hdr", "data.envi", "data.jxl.json", "thumbnail.jpg", "preview.hdr", "preview.envi")
    assert m.classify_member(m.CUBE_INDEX).kind is m.MemberKind.CUBE_INDEX
    assert m.DOCUMENTED_DIRS == ("Reference", "Exploration", "Metadata")
    assert m.REFERENCE_NAMES == ("white.hdr", "white.envi", "black.hdr", "black.envi", "whitedark.hdr",
                                 "whitedark.envi")
    assert m.REFERENCES == ("white", "black") and m.CALIBRATION_REFERENCES == ("white", "black", "whitedark")
    assert m.CALIBRATION_RECORD == "Metadata/hsi-conform/calibration.json"
    assert m.BOUNDING_BOXES == "Exploration/bounding boxes.csv"


@pytest.mark.parametrize(("stem", "names"), [
    (m.CUBE_STEM, ("data.hdr", "data.envi")),
    (m.preview_stem(), ("preview.hdr", "preview.envi")),
    (m.preview_stem("2"), ("preview_2.hdr", "preview_2.envi")),
    (m.reference_stem(m.WHITE), ("Reference/white.hdr", "Reference/white.envi")),
    (m.reference_stem(m.BLACK), ("Reference/black.hdr", "Reference/black.envi")),
    (m.reference_stem(m.WHITE_DARK), ("Reference/whitedark.hdr", "Reference/whitedark.envi")),
    ("Exploration/a.b", ("Exploration/a.b.hdr", "Exploration/a.b.envi")),
])
def test_envi_names_pair_header_and_data_both_ways(stem: str, names: tuple[str, str]) -> None:
    assert m.envi_names(stem) == names
    assert m.data_of(names[0]) == names[1]
    assert m.header_of(names[1]) == names[0]


def test_pairing_is_plain_suffix_surgery_even_for_a_name_without_stem() -> None:
    # pathlib's with_suffix would turn ".hdr" into ".hdr.envi"; LAY005 and LAY006 must agree on the partner.
    assert m.data_of("Exploration/.hdr") == "Exploration/.envi"
    assert m.header_of("Exploration/.envi") == "Exploration/.hdr"


@pytest.mark.parametrize(("call", "name"), [(m.data_of, "data.envi"), (m.header_of, "data.hdr")])
def test_pairing_refuses_the_wrong_suffix(call: Callable[[str], str], name: str) -> None:
    with pytest.raises(ValueError, match="ENVI"):
        call(name)


@pytest.mark.parametrize(("name", "lod", "ext"), [
    ("preview.hdr", None, "hdr"),
    ("preview.envi", None, "envi"),
    ("preview_2.hdr", "2", "hdr"),
    ("preview_half.envi", "half", "envi"),
    ("preview_a.b.envi", "a.b", "envi"),
])
def test_preview_pattern_captures_the_level(name: str, lod: str | None, ext: str) -> None:
    found = m.PREVIEW_PATTERN.fullmatch(name)
    assert found is not None
    assert (found["lod"], found["ext"]) == (lod, ext)


@pytest.mark.parametrize("name", ["preview_.hdr", "preview_a/b.hdr", "preview.jpg", "Preview.hdr", "xpreview.hdr"])
def test_preview_pattern_rejects_non_previews(name: str) -> None:
    assert m.PREVIEW_PATTERN.fullmatch(name) is None


def test_any_case_pattern_finds_misspelt_previews() -> None:
    found = m.PREVIEW_PATTERN_ANY_CASE.fullmatch("Preview_X.HDR")
    assert found is not None and found["lod"] == "X"


@pytest.mark.parametrize(("name", "expected"), [
    ("data.hdr", Classified(MemberKind.CUBE_HEADER)),
    ("data.envi", Classified(MemberKind.CUBE_DATA)),
    ("thumbnail.jpg", Classified(MemberKind.THUMBNAIL)),
    ("preview.hdr", Classified(MemberKind.PREVIEW_HEADER, lod="")),
    ("preview.envi", Classified(MemberKind.PREVIEW_DATA, lod="")),
    ("preview_2.hdr", Classified(MemberKind.PREVIEW_HEADER, lod="2")),
    ("preview_2.envi", Classified(MemberKind.PREVIEW_DATA, lod="2")),
    ("Reference/white.hdr", Classified(MemberKind.REFERENCE_HEADER, reference="white")),
    ("Reference/black.envi", Classified(MemberKind.REFERENCE_DATA, reference="black")),
    ("Reference/whitedark.envi", Classified(MemberKind.REFERENCE_DATA, reference="whitedark")),
    ("Reference/qe.csv", Classified(MemberKind.REFERENCE_OTHER)),
    ("Reference/old/white.hdr", Classified(MemberKind.REFERENCE_OTHER)),
    ("Reference/", Classified(MemberKind.REFERENCE_OTHER)),
    ("Exploration/bounding boxes.csv", Classified(MemberKind.EXPLORATION)),
    ("Exploration/leaf.hdr", Classified(MemberKind.EXPLORATION)),
    ("Exploration/", Classified(MemberKind.EXPLORATION)),
    ("Metadata/camera.txt", Classified(MemberKind.METADATA)),
    ("Metadata/", Classified(MemberKind.METADATA)),
    ("Data.hdr", Classified(MemberKind.UNKNOWN)),
    ("preview_.hdr", Classified(MemberKind.UNKNOWN)),
    ("notes.txt", Classified(MemberKind.UNKNOWN)),
    ("Metadata", Classified(MemberKind.UNKNOWN)),
    ("reference/white.hdr", Classified(MemberKind.UNKNOWN)),
    ("sub/thumbnail.jpg", Classified(MemberKind.UNKNOWN)),
])
def test_classify_member(name: str, expected: Classified) -> None:
    assert classify_member(name) == expected


@pytest.mark.parametrize(("name", "scope"), [
    ("data.hdr", Scope.ROOT),
    ("preview.hdr", Scope.PREVIEW),
    ("preview_x.hdr", Scope.PREVIEW),
    ("Reference/white.hdr", Scope.REFERENCE),
    ("Reference/qe.hdr", Scope.REFERENCE),
    ("Exploration/leaf.hdr", Scope.EXPLORATION),
    ("Exploration/deep/leaf.hdr", Scope.EXPLORATION),
    ("data.envi", None),
    ("Reference/old/white.hdr", None),
    ("Metadata/camera.hdr", None),
    ("Data.hdr", None),
    ("other.hdr", None),
])
def test_scope_of_header_members(name: str, scope: Scope | None) -> None:
    assert scope_of(name) is scope


def test_member_pair_of_a_header() -> None:
    assert MemberPair.of("preview_2.hdr") == MemberPair("preview_2.hdr", "preview_2.envi", Scope.PREVIEW)
    assert MemberPair.of("Metadata/camera.hdr") is None
    assert MemberPair.of("data.envi") is None


# -- one source --------------------------------------------------------------------------------------------------

FORBIDDEN = ("data.hdr", "data.envi", "thumbnail.jpg")


def literal_member_names(source: str) -> list[tuple[int, str]]:
    """Return ``(line, text)`` of code literals naming a documented member, or a regex of the preview names.

    Docstrings and other bare string statements are prose and may name members; messages may too ("Drop
    data.hdr."). A literal that *is* a member name (or ends one, as in ``f"{folder}/data.hdr"``) is a second
    source of the name, and so is any compiled pattern of the preview names.
    """
    tree = ast.parse(source)
    prose = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes) and id(node) not in prose:
            text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
            if _names_a_member(text) or _is_preview_pattern(text):
                found.append((node.lineno, text))
    return found


def _names_a_member(text: str) -> bool:
    return any(text == name or text.endswith("/" + name) for name in FORBIDDEN)


def _is_preview_pattern(text: str) -> bool:
    return "preview" in text.lower() and any(c in text for c in ("\\.", "(?", "[^", "|"))


def test_the_scan_finds_names_patterns_and_paths_but_not_prose() -> None:
    source = '''"""Open data.hdr."""
import re
A = "data.hdr"
B = b"data.envi"
C = f"{x}/thumbnail.jpg"
D = re.compile(r"preview(_[^/]+)?\\.hdr")
E = "Drop data.hdr."
'''
    assert [line for line, _ in literal_member_names(source)] == [3, 4, 5, 6]


def test_no_module_but_members_names_the_members() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "members.py" and path.parent == PACKAGE:
            continue
        rel = path.relative_to(PACKAGE.parent)
        offenders += [f"{rel}:{line}: {text!r}" for line, text in literal_member_names(path.read_text("utf-8"))]
    assert not offenders, "use hsi_conform.members instead of:\n" + "\n".join(offenders)


# -- the converters use the table's preview pattern ------------------------------------------------------------

def test_envi_round_trip_keeps_a_member_that_only_looks_like_a_preview(tmp_path: Path) -> None:
    # "preview_.hdr" is no preview (spec/container.md#preview-lod): it must come back under its own name and must
    # not replace the real preview.
    members = sample_members()
    members["preview_.hdr"], members["preview_.envi"] = members["preview.hdr"], members["preview.envi"][::-1]
    src = write_members(tmp_path / "s.hsi", members)
    (tmp_path / "out").mkdir()
    hdr = EnviConverter().write(HsiConverter().read(src), tmp_path / "out" / "x.hdr")
    back = HsiConverter().write(EnviConverter().read(hdr), tmp_path / "back.hsi")
    with hsi_conform.open(src) as a, hsi_conform.open(back) as b:
        digests = [{n: hashlib.sha256(c.read_bytes(n)).hexdigest() for n in c.names} for c in (a, b)]
        assert b.previews == ("",)
    assert digests[1] == digests[0]


# -- the SPECIM table pairs vendor prefixes with the documented reference names ---------------------------------

def test_the_specim_table_names_only_documented_references() -> None:
    from hsi_conform.converters.specim.table import _documented_references, specim_table
    from hsi_conform.errors import InternalError

    table = specim_table()
    assert table.reference_prefixes["WHITEDARKREF_"] == m.WHITE_DARK == "whitedark"
    assert set(table.reference_prefixes.values()) | set(table.export_references) <= set(m.CALIBRATION_REFERENCES)
    with pytest.raises(InternalError):
        _documented_references(["white", "grey"])
