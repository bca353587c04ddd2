"""The golden corpus: every fixtures/**/case.json produces exactly its expected findings."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from hsi_conform.corpus.golden import Case, compare, load_cases, run_case
from hsi_conform.finding import Severity
from tests._paths import FIXTURES, SPEC

CASES = load_cases()
SCHEMA = json.loads((FIXTURES / "case.schema.json").read_text(encoding="utf-8"))


def _anchor_exists(anchor: str) -> bool:
    page, _, name = anchor.partition("#")
    path = SPEC / page
    return path.is_file() and f'id="{name}"' in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, tmp_path: Path) -> None:
    report = run_case(case, tmp_path)
    missing, unexpected = compare(case, report.findings)
    assert not missing and not unexpected, (
        f"missing: {missing}\nunexpected: {[(f.rule, str(f.location), f.message) for f in unexpected]}"
    )
    assert not report.internal_errors


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_is_well_formed(case: Case) -> None:
    jsonschema.validate(case.data, SCHEMA)
    for anchor in case.data["spec"]:
        assert _anchor_exists(anchor), anchor
    worst = max((Severity.parse(e.get("severity", "info")) for e in case.expect), default=None)
    expected_prefix = {None: "valid", Severity.INFO: "info", Severity.WARNING: "warning",
                       Severity.ERROR: "error", Severity.FATAL: "error"}[worst]
    if any("severity" not in e for e in case.expect):
        assert case.verdict in ("info", "warning", "error")
    else:
        assert case.verdict == expected_prefix, f"folder prefix {case.verdict!r}, expected {expected_prefix!r}"
    rule_folder = case.path.parent.name
    assert rule_folder.split("-", 1)[0] in {e["rule"] for e in case.expect} or case.verdict == "valid"


def test_corpus_is_not_empty() -> None:
    assert len(CASES) >= 3
