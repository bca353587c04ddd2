from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hsi_conform.container._file_name import (
    _ASCII_LOWER,
    NameIndex,
    _ascii_lower,
    check_name,
    decode_name,
    name_problems,
)
from tests._support import traced_peak


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


# -- depth and linearity (issue 19 item 5) ----------------------------------------------------------------------

def test_check_name_depth_counts_components() -> None:
    assert codes(check_name("a/b/c", b"a/b/c", max_name_depth=3)) == set()
    assert codes(check_name("a/b/c/", b"a/b/c/", max_name_depth=3)) == set()  # a trailing '/' starts nothing
    assert codes(check_name("a/b/c/d", b"a/b/c/d", max_name_depth=3)) == {"name-too-deep"}
    deep = "x/" * 64 + "y"
    assert codes(check_name(deep, deep.encode())) == {"name-too-deep"}  # the default limit is 64
    assert codes(name_problems(deep)) == {"name-too-deep"}  # writers refuse what readers report


def _naive_conflicts(names: list[str]) -> list[bool]:
    """The file/directory rule spelt out with every parent path (quadratic, for small names only)."""
    files: set[str] = set()
    dirs: set[str] = set()
    out = []
    for name in names:
        is_dir = name.endswith("/")
        path = name[:-1] if is_dir else name
        parts = path.split("/")
        parents = {"/".join(parts[:i]) for i in range(1, len(parts))}
        out.append((path in files if is_dir else path in dirs) or bool(parents & files))
        (dirs if is_dir else files).add(path)
        dirs.update(parents)
    return out


@pytest.mark.parametrize("seed", range(30))
def test_tree_index_agrees_with_every_parent_spelt_out(seed: int) -> None:
    rng = random.Random(seed)
    names = ["/".join(rng.choice("ab") for _ in range(rng.randint(1, 4))) + rng.choice(["", "/"])
             for _ in range(rng.randint(1, 12))]
    index = NameIndex()
    got = [any(code == "file-dir-conflict" for code, _ in index.add(name)) for name in names]
    assert got == _naive_conflicts(names), names



def _judge(names: list[str]) -> None:
    index = NameIndex()
    for name in names:
        check_name(name, name.encode())
        index.add(name)


def test_deep_names_are_judged_in_linear_memory() -> None:
    # Re-joining every parent of a 32,000-component name builds ~1 GB of strings; a linear check stays near the
    # size of the name. Memory, not time, is asserted: it is deterministic.
    deep = "x/" * 32_000 + "y"
    flat = "x" * len(deep)
    peak_deep = traced_peak(lambda: _judge([deep, deep + "/z", "x/" * 100 + "q"]))
    peak_flat = traced_peak(lambda: _judge([flat, flat + "/z", "x" * 200 + "q"]))
    assert peak_deep <= 50 * len(deep)
    assert peak_deep <= 3 * peak_flat + (256 << 10)


def test_plain_names_short_cut_agrees_with_the_full_judgement() -> None:
    # check_name skips the full judgement for names of letters, digits, "_-", inner dots and "/": it must find
    # exactly what the full judgement finds, for names near every limit, device names and odd dots and slashes.
    from hsi_conform.container._file_name import _judge_name

    rng = random.Random(16)
    alphabet = "aZ0_-./ :\\C\u00e9"
    pieces = ["con", "CON.txt", "aux ", "com1", "LPT9.x", "nul", "data.hdr", "Reference", "..", ".", ""]
    clean = 0
    for _ in range(6000):
        if rng.random() < 0.5:
            name = "/".join(rng.choice(pieces) if rng.random() < 0.3 else
                            "".join(rng.choice(alphabet[:6]) for _ in range(rng.randint(1, 9)))
                            for _ in range(rng.randint(1, 5)))
        else:
            name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
        raw = name.encode()
        if not raw:
            continue  # the empty name is judged before either path
        limits = (rng.randint(4, 30), rng.randint(2, 8), rng.randint(1, 5))
        fast = check_name(name, raw, max_name_bytes=limits[0], max_component_bytes=limits[1],
                          max_name_depth=limits[2])
        assert fast == _judge_name(name, raw, *limits), (name, limits)
        clean += not fast
    assert clean > 500  # clean names (the short cut's case) were common, not only broken ones


@given(st.text() | st.text(alphabet="AZaz_./-\u0130\u212a\u00c4"))
def test_the_ascii_lower_case_changes_only_a_to_z(name: str) -> None:
    # The case-collision key: str.lower() for an ASCII name, the A-Z table otherwise (U+0130 and the Kelvin sign
    # lower to ASCII under str.lower()).
    assert _ascii_lower(name) == name.translate(_ASCII_LOWER)
