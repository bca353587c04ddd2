from __future__ import annotations

import pytest

from hsi_conform.container._file_name import NameIndex, check_name, decode_name, name_problems


def codes(problems: list[tuple[str, str]]) -> set[str]:
    return {code for code, _ in problems}


@pytest.mark.parametrize(
    ("raw", "flags", "name", "expected"),
    [
        (b"data.hdr", 0, "data.hdr", set()),
        (b"data.hdr", 0x800, "data.hdr", set()),
        (b"a\x00b", 0, "a\x00b", set()),
        ("mäsk".encode(), 0x800, "mäsk", set()),
        ("mäsk".encode(), 0, "m├ñsk", {"name-nonascii-noflag"}),
        (b"m\xe4sk", 0x800, "m\ufffdsk", {"name-encoding"}),
        ("ma\u0308sk".encode(), 0x800, "ma\u0308sk", {"name-not-nfc"}),
    ],
)
def test_decode_name(raw: bytes, flags: int, name: str, expected: set[str]) -> None:
    decoded, problems = decode_name(raw, flags)
    assert decoded == name
    assert codes(problems) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("data.hdr", set()),
        ("Reference/white.hdr", set()),
        ("Reference/", set()),
        ("bounding boxes.csv", set()),
        ("", {"name-empty"}),
        ("/", {"name-absolute", "name-empty"}),
        ("a/./b", {"name-empty"}),
        ("a//", {"name-empty"}),
        ("..", {"name-traversal"}),
        ("a/../b", {"name-traversal"}),
        ("a\\..\\b", {"name-traversal", "name-backslash"}),
        ("//server/share", {"name-drive", "name-absolute"}),
        ("c:/x", {"name-drive"}),
        ("x\x7f", {"name-control"}),
        ("x\x85", {"name-control"}),
        ("nul", {"name-reserved"}),
        ("Exploration/com1.txt", {"name-reserved"}),
        ("LPT\u00b9", {"name-reserved"}),
        ("console.txt", set()),
        ("a<b>", {"name-nonportable"}),
        ('a"b', {"name-nonportable"}),
        ("a|b*", {"name-nonportable"}),
    ],
)
def test_check_name(name: str, expected: set[str]) -> None:
    assert codes(check_name(name, name.encode())) == expected


def test_check_name_limits_count_bytes() -> None:
    name = "ä" * 130  # 260 bytes, 130 characters
    assert codes(check_name(name, name.encode())) == {"name-component-too-long"}
    assert codes(check_name("a/b", b"a/b", max_name_bytes=2)) == {"name-too-long"}


def test_check_name_reports_each_code_once() -> None:
    problems = check_name("../../x", b"../../x")
    assert [c for c, _ in problems] == ["name-traversal"]


def test_name_problems_for_writers() -> None:
    assert name_problems("mäsk.envi") == []
    assert codes(name_problems("ma\u0308sk.envi")) == {"name-not-nfc"}
    assert codes(name_problems("\udcff")) == {"name-encoding"}
    assert codes(name_problems("../x")) == {"name-traversal"}


def test_name_index() -> None:
    index = NameIndex()
    assert index.add("Reference/") == []
    assert index.add("Reference/white.hdr") == []
    assert index.add("data.hdr") == []
    assert codes(index.check("data.hdr")) == {"duplicate-name"}
    assert codes(index.check("DATA.hdr")) == {"name-case-collision"}
    assert codes(index.check("Reference")) == {"file-dir-conflict"}
    assert codes(index.check("data.hdr/x")) == {"file-dir-conflict"}
    assert codes(index.check("data.hdr/")) == {"file-dir-conflict"}
    assert index.add("straße") == []
    assert codes(index.check("STRASSE")) == {"name-unicode-collision"}
    assert codes(index.check("m\u00e4sk")) == set()
    assert index.add("m\u00e4sk") == []
    assert codes(index.check("ma\u0308sk")) == {"name-unicode-collision"}
    # check() does not record
    assert index.check("new") == [] and index.check("new") == []
