"""Docstrings, comments and documents cite only what the repository holds.

The design notes the project was planned from are not part of it, so nothing may send a reader to them: a
decision is cited by the ``spec/`` section that states it (or the grammar, a mapping table, ``benchmarks/README.md``).
Every ``<page>.md#<anchor>`` citation in the package (and in the tables, grammar and benchmarks beside it) names a
page and an anchor that exist; the rule catalogue test checks the anchors of the rule registry, this covers the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._paths import ROOT, SPEC

#: The design notes (spelled in lower case here so that this file does not cite them itself).
DESIGN_NOTES = ("style", "decisions", "validators", "zip-and-safety", "header-edge-cases", "converters",
                "performance", "wave2")
#: ``NAME.md`` of any note; the bare upper-case names too, as they were cited (a name and a case number), except
#: those of the notes on converters and style, which are ordinary words in upper case.
_NOTE = re.compile(
    r"\b(?:" + "|".join(re.escape(n.upper()) for n in DESIGN_NOTES) + r")\.md\b"
    r"|\b(?:" + "|".join(re.escape(n.upper()) for n in DESIGN_NOTES if n not in ("converters", "style")) + r")\b"
    r"|" + re.escape("shared/" + "design"))

#: Where no file may name a note: the package, its tests, tables, grammar, documents and top-level pages.
SCANNED = ("hsi_conform", "tests", "benchmarks", "scripts", "converters", "grammar", "docs", "spec", "README.md",
           "ARCHITECTURE.md")
_SKIP_PARTS = frozenset({"__pycache__", "_data"})

#: ``page.md#anchor``, optionally with a folder (``spec/``, ``benchmarks/``); a bare page is a ``spec/`` page.
_CITATION = re.compile(r"(?<![\w./-])((?:[\w-]+/)*)([\w-]+\.md)#([A-Za-z0-9_-]+)")
#: Where citations are checked: the package, and the tables, grammar and benchmarks that cite the spec.
CITING = ("hsi_conform", "converters", "grammar", "benchmarks", "scripts")
#: Text that shows the form of a citation and is not one.
PLACEHOLDERS = frozenset({"page.md#name", "file.md#anchor"})


def _files(roots: tuple[str, ...]) -> Iterator[Path]:
    for name in roots:
        root = ROOT / name
        if root.is_file():
            yield root
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not _SKIP_PARTS & set(path.relative_to(ROOT).parts):
                yield path


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def design_note_mentions(text: str) -> list[str]:
    """Return every mention of a design note in ``text``."""
    return [m.group(0) for m in _NOTE.finditer(text)]


def citations(text: str) -> list[tuple[str, str, str]]:
    """Return every ``(folder, page, anchor)`` cited in ``text`` (placeholders left out)."""
    return [(m.group(1), m.group(2), m.group(3)) for m in _CITATION.finditer(text)
            if f"{m.group(2)}#{m.group(3)}" not in PLACEHOLDERS]


def broken(folder: str, page: str, anchor: str) -> str | None:
    """Return why a citation does not resolve (None when the page has the anchor)."""
    target = (ROOT / folder / page) if folder else (SPEC / page)
    if not target.is_file():
        return f"no page {target.relative_to(ROOT)}"
    if f'id="{anchor}"' not in _text(target):
        return f"{target.relative_to(ROOT)} has no anchor {anchor!r}"
    return None


def test_the_patterns_find_what_they_are_for() -> None:
    note = DESIGN_NOTES[4].upper()
    assert design_note_mentions(f"see {note}.md §2 and {note} 65") == [f"{note}.md", note]
    assert design_note_mentions(f"({DESIGN_NOTES[5].upper()}.md §3); CONVERTERS = {{}}") == [
        f"{DESIGN_NOTES[5].upper()}.md"]
    assert design_note_mentions("spec/header-syntax.md#edge-cases, converters/envi.toml") == []
    assert citations("(spec/header-syntax.md#canonical-form, container.md#names; f'x.md#{a}')") == [
        ("spec/", "header-syntax.md", "canonical-form"), ("", "container.md", "names")]
    assert citations("a 'file.md#anchor' reference") == []
    assert broken("", "container.md", "names") is None
    assert broken("", "container.md", "no-such-anchor") is not None
    assert broken("spec/", "no-such-page.md", "x") is not None
    assert broken("benchmarks/", "README.md", "targets") is None


@pytest.mark.parametrize("path", list(_files(SCANNED)), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_file_names_a_design_note(path: Path) -> None:
    assert design_note_mentions(_text(path)) == [], "cite the spec/ section that states it instead"


def test_every_citation_names_an_existing_page_and_anchor() -> None:
    problems = []
    for path in _files(CITING):
        for folder, page, anchor in citations(_text(path)):
            why = broken(folder, page, anchor)
            if why is not None:
                problems.append(f"{path.relative_to(ROOT)}: {folder}{page}#{anchor}: {why}")
    assert problems == []


def test_the_citations_are_checked_at_all() -> None:
    cited = {(folder, page, anchor) for path in _files(CITING) for folder, page, anchor in citations(_text(path))}
    assert ("spec/", "header-syntax.md", "canonical-form") in cited
    assert len(cited) > 50


def test_every_spec_page_is_in_the_table_of_spec_readme() -> None:
    table = _text(SPEC / "README.md")
    missing = [p.name for p in sorted(SPEC.glob("*.md")) if p.name != "README.md" and f"]({p.name})" not in table]
    assert missing == []
