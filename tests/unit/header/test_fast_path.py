"""The fast path of clean headers (spec/header-syntax.md#fast-path) builds what the scanner builds, or declines.

Every property compares the two paths of :meth:`Header.from_text` on the same text: equal lines, keys, typed
values and diagnostics, identical bytes. The fast path must apply to what the canonical writer writes and decline
every input that has a diagnostic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import pickle
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from hsi_conform.errors import FieldValueError
from hsi_conform.header import Header, canonical_bytes, parse_header
from hsi_conform.header.fast import scan_clean
from hsi_conform.header.grammar import parser
from hsi_conform.header.nodes import Entry, clean_entry
from hsi_conform.testing.samples import sample_members
from hsi_conform.testing.strategies import header_sources

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SYNTAX_ALPHABET = st.sampled_from([*"ENVIab =;{},\t\r\n_:.-0123456789A", "é", "\x00", "\x01"])
SAMPLE = sample_members()["data.hdr"].decode()


def assert_same(text: str) -> Header:
    """Both paths agree on ``text``; return the fast path's header."""
    fast = Header.from_text(text)
    full = Header.from_text(text, fast=False)
    clean = scan_clean(text)
    if full.diagnostics:
        assert clean is None, full.diagnostics
    if clean is not None:
        assert clean.lines() == full.lines
    assert fast.diagnostics == full.diagnostics
    assert fast.lines == full.lines
    keys = full.keys()
    assert fast.keys() == keys
    items = Header.from_text(text).items()  # built with the lines before any look-up, then looked up
    assert items == full.items() and [key for key, _ in items] == keys
    assert fast.to_bytes() == full.to_bytes() == text.encode("utf-8", "surrogateescape")
    for key in keys:
        assert fast.get(key) == full.get(key)
        with contextlib.suppress(FieldValueError):
            assert repr(fast.value(key)) == repr(full.value(key))
    assert canonical_bytes(fast) == canonical_bytes(full)
    # Looked up before the lines are built, a clean header builds each entry alone: equal entries, which the lines
    # built afterwards hold (an edit finds its entry among them by identity).
    looked = Header.from_text(text)
    assert {key: _typed(looked, key) for key in [*keys, "no such key"]} == {
        key: _typed(full, key) for key in [*keys, "no such key"]}
    entries = {key: looked.get(key.upper()) for key in [*reversed(keys), "no such key"]}
    assert entries == {key: full.get(key.upper()) for key in entries}
    assert all(any(line is entry for line in looked.lines) for entry in entries.values() if entry is not None)
    assert looked.lines == full.lines
    return fast


def _typed(header: Header, key: str) -> str:
    """The typed value of a key, or its error, as text."""
    try:
        return repr(header.value(key))
    except FieldValueError as exc:
        return f"{type(exc).__name__}: {exc}"


@SETTINGS
@given(header_sources())
def test_generated_headers_agree(text: str) -> None:
    assert_same(text)


@SETTINGS
@given(header_sources())
def test_canonical_headers_take_the_fast_path(text: str) -> None:
    canonical = canonical_bytes(parse_header(text)).decode()
    nested = re.search(r"\{[^}]*\{", canonical)  # read procedures: nested lists are the scanner's
    assert (scan_clean(canonical) is None) == bool(nested)
    assert_same(canonical)


@SETTINGS
@given(from_lark(parser(), start="start"))
def test_grammar_generated_texts_agree(text: str) -> None:
    assert_same(text)


@SETTINGS
@given(st.integers(0, len(SAMPLE)), st.text(SYNTAX_ALPHABET, min_size=1, max_size=3), st.integers(0, 3))
def test_one_edit_of_a_clean_header_agrees(at: int, inserted: str, removed: int) -> None:
    """Small edits anywhere in a clean header: the fast path declines exactly what it must."""
    assert_same(SAMPLE[: max(at, 5)] + inserted + SAMPLE[max(at, 5) + removed :])


#: A clean header with what the sample lacks: wrapped lists, free text over lines, comments (one with braces).
WRAPPED = ("ENVI\n; written by a test {v1}\ndescription = {first line,\nsecond line, , third}\nsamples = 4\n"
           "wavelength = {\n 400.0, 401.5,\n 403.0 ,404.5\n}\n\nband names = {a b, c}\nbbl = {1, 0,\n1, 1}\n")


@SETTINGS
@given(st.integers(0, len(WRAPPED)), st.text(SYNTAX_ALPHABET, min_size=1, max_size=3), st.integers(0, 3))
def test_one_edit_of_wrapped_lists_agrees(at: int, inserted: str, removed: int) -> None:
    """Edits of lists over lines, of free text and of braces: the fast path declines exactly what it must."""
    assert scan_clean(WRAPPED) is not None
    assert_same(WRAPPED[: max(at, 5)] + inserted + WRAPPED[max(at, 5) + removed :])


def test_the_sample_header_is_clean() -> None:
    header = assert_same(SAMPLE)
    assert scan_clean(SAMPLE) is not None
    assert header["wavelength"][0] == 400.0


UNUSUAL = {
    "crlf": SAMPLE.replace("\n", "\r\n"),
    "bom is decided by the caller": SAMPLE,
    "no final newline": SAMPLE[:-1],
    "tab in a value": SAMPLE.replace("sample-0001", "sample\t0001"),
    "upper-case key": SAMPLE.replace("samples =", "Samples ="),
    "indented key": SAMPLE.replace("lines =", " lines ="),
    "separator without blanks": SAMPLE.replace("bands = ", "bands="),
    "double blank in a key": SAMPLE.replace("header offset", "header  offset"),
    "duplicate key": SAMPLE + "bands = 10\n",
    "near-duplicate key": SAMPLE + "header_offset = 0\n",
    "empty value": SAMPLE + "note =\n",
    "trailing blank after a value": SAMPLE.replace("interleave = bil", "interleave = bil "),
    "brace in a scalar": SAMPLE.replace("sample-0001", "sample}0001"),
    "semicolon after a blank": SAMPLE.replace("sample-0001", "sample ;0001"),
    "comment line inside a list": SAMPLE.replace("{10, 5, 1}", "{10,\n; note\n5, 1}"),
    "indented comment": SAMPLE + " ; note\n",
    "nested list": SAMPLE.replace("{demo}", "{demo, {a}}"),
    "trailing comma": SAMPLE.replace("{10, 5, 1}", "{10, 5, 1,}"),
    "empty item": SAMPLE.replace("{10, 5, 1}", "{10, , 1}"),
    "line break in an item": SAMPLE.replace("{10, 5, 1}", "{10, 5\n1}"),
    "blank line inside a list": SAMPLE.replace("{10, 5, 1}", "{10,\n\n5, 1}"),
    "text after a list": SAMPLE.replace("{10, 5, 1}", "{10, 5, 1} x"),
    "unclosed list": SAMPLE + "x = {1, 2\n",
    "junk line": SAMPLE + "junk\n",
    "value on the next line": SAMPLE + "y =\n{1, 2}\n",
    "non-ASCII": SAMPLE.replace("sample-0001", "échantillon"),
    "control character": SAMPLE.replace("sample-0001", "sample\x010001"),
    "magic with blanks": SAMPLE.replace("ENVI\n", "ENVI \n", 1),
    "line too long": SAMPLE + "long = " + "x" * 10_001 + "\n",
    "empty list": SAMPLE + "bbl = {}\n",
    "unclosed lists": SAMPLE + "x = {1\ny = {2\n",
    "closing brace alone": SAMPLE + "x = 1}\n",
    "lone brace in a comment": SAMPLE + "; {\n",
}


#: Declined although the scanner reports nothing: the fast path recognises a subset of the clean headers.
DECLINED_BUT_CLEAN = {"blank line inside a list", "nested list", "empty list", "non-ASCII", "tab in a value",
                      "trailing blank after a value", "lone brace in a comment"}


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_unusual_headers_fall_back(name: str) -> None:
    text = UNUSUAL[name]
    bom = name.startswith("bom")
    header = Header.from_text(text, bom=bom)
    full = Header.from_text(text, bom=bom, fast=False)
    assert bool(full.diagnostics) != (name in DECLINED_BUT_CLEAN), name
    assert header.diagnostics == full.diagnostics
    assert header.lines == full.lines
    if not bom:
        assert scan_clean(text) is None


FREE_TEXT = {
    "line break in free text": "ENVI\ndescription = {line one\nline two}\nsamples = 4\nbands = {1, 2}\n",
    "free text alone": "ENVI\ndescription = {a, b}\nsamples = 4\n",
    "empty items in free text": "ENVI\nband names = {a}\ndescription = {a,,b,}\nbbl = {1,\n 0}\n",
    "empty free text": "ENVI\ndescription = {}\n",
    "braces in a comment": "ENVI\n; {a} and {}\nsamples = 4\n",
}


@pytest.mark.parametrize("name", sorted(FREE_TEXT))
def test_free_text_lists_take_the_fast_path(name: str) -> None:
    """Free text need not pass the item checks: the lists of other fields are judged without it."""
    text = FREE_TEXT[name]
    assert scan_clean(text) is not None
    assert not assert_same(text).diagnostics


def test_list_items_are_split_when_first_read() -> None:
    header = parse_header(SAMPLE)
    entry = header.get("wavelength")
    assert entry is not None
    assert entry.items == tuple(entry.value_raw[1:-1].replace(" ", "").split(","))
    assert pickle.loads(pickle.dumps(entry)) == entry
    copy = pickle.loads(pickle.dumps(header))
    assert copy.lines == header.lines and copy.to_bytes() == header.to_bytes()


def test_an_edited_clean_header_keeps_its_other_bytes() -> None:
    header = parse_header(SAMPLE)
    header.set("bands", 11)
    assert header.to_text() == SAMPLE.replace("bands = 10", "bands = 11")
    assert header["bands"] == 11 and not header.diagnostics


def test_a_clean_header_is_built_as_the_constructor_builds_it() -> None:
    """The fast path's constructor sets every field of :class:`Header` to what the dataclass constructor sets."""
    fast = Header.from_text(SAMPLE)
    clean = fast._clean
    assert clean is not None
    made = Header(lines=[], _text=SAMPLE, _clean=clean)
    for spec in dataclasses.fields(Header):
        if spec.name != "lines":  # the property builds the lines from the scan: compared below
            assert getattr(fast, spec.name) == getattr(made, spec.name), spec.name
    assert fast.lines == made.lines == Header.from_text(SAMPLE, fast=False).lines


@pytest.mark.parametrize(("key", "value", "is_list", "opaque"), [
    ("samples", "16", False, False),
    ("wavelength", "{400, 500}", True, False),
    ("description", "{free, text}", True, True),
])
def test_a_clean_entry_is_built_as_the_constructor_builds_it(key: str, value: str, is_list: bool,
                                                             opaque: bool) -> None:
    """The fast path's entry constructor sets every field of :class:`Entry` to what the dataclass constructor sets."""
    made = clean_entry(key, value, 7, is_list=is_list, opaque=opaque)
    inner = value[1:-1]
    items = ((inner,) if opaque else tuple(inner.split(", "))) if is_list else None
    expected = Entry(text=f"{key} = {value}\n", start=7, key_raw=key, key=key, key_start=7, value_raw=value,
                     value_start=7 + len(key) + 3, is_list=is_list, items=items, opaque=opaque, eol="\n")
    for spec in dataclasses.fields(Entry):
        assert getattr(made, spec.name) == getattr(expected, spec.name), spec.name
    assert made == expected


def test_the_keys_of_a_clean_header_build_no_entry() -> None:
    header = Header.from_text(SAMPLE)
    keys = header.keys()
    clean = header._clean
    assert clean is not None and clean._built is None  # neither the lines nor one entry were built
    assert keys == Header.from_text(SAMPLE, fast=False).keys()
    assert header.get("samples") is not None and len(clean._built or ()) == 1
