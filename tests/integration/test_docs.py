"""Generated documents are current, and the spec keeps its anchors and register of decisions."""

from __future__ import annotations

from hsi_conform import _docs
from hsi_conform.header.diagnostics import DIAGNOSTICS


def test_generated_documents_are_current() -> None:
    assert _docs.stale() == [], "run: python -m hsi_conform._docs"


def test_every_syntax_decision_has_its_anchor() -> None:
    text = (_docs.SPEC / "header-syntax.md").read_text(encoding="utf-8")
    for decision in DIAGNOSTICS:
        assert f'id="{decision.code}"' in text, decision.code
        assert decision.id in text, decision.id


def test_header_syntax_quotes_the_grammar_file_exactly() -> None:
    from hsi_conform.header.grammar import grammar_text

    text = (_docs.SPEC / "header-syntax.md").read_text(encoding="utf-8")
    assert "```lark\n" + grammar_text() + "```\n" in text


def test_every_anchor_link_in_the_docs_resolves() -> None:
    import re

    root = _docs.SPEC.parent
    link = re.compile(r"\]\(((?:\.\./)?(?:spec/)?[a-z0-9-]+\.md)#([A-Za-z0-9_-]+)\)")
    for doc in [root / "README.md", *sorted(_docs.SPEC.glob("*.md"))]:
        for target, anchor in link.findall(doc.read_text(encoding="utf-8")):
            page = (doc.parent / target).resolve()
            assert page.is_file(), f"{doc.name}: {target}"
            assert f'id="{anchor}"' in page.read_text(encoding="utf-8"), f"{doc.name}: {target}#{anchor}"


def test_readme_exit_code_table_is_generated_from_exit_code() -> None:
    from hsi_conform.errors import ExitCode

    readme = _docs.ROOT / "README.md"
    assert readme in _docs.documents()
    text = readme.read_text(encoding="utf-8")
    for code in ExitCode:
        assert f"| {int(code)} | `{code.name}` | {code.meaning} |" in text
    tampered = text.replace("| 2 | `USAGE` |", "| 7 | `USAGE` |")
    assert tampered != text and _docs.readme(tampered) == text


def test_info_schema_member_kinds_are_generated_from_member_kind() -> None:
    import json

    from hsi_conform.members import MemberKind

    schema = _docs.SPEC / "info.schema.json"
    assert schema in _docs.documents()
    text = schema.read_text(encoding="utf-8")
    kinds = json.loads(text)["properties"]["members"]["items"]["properties"]["kind"]["enum"]
    assert kinds == [k.value for k in MemberKind]
    tampered = text.replace('"cube index", ', "")
    assert tampered != text and _docs.info_schema(tampered) == text
