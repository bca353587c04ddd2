"""Every rule is documented, anchored in spec/, and exercised by at least one valid and one failing fixture."""

from __future__ import annotations

from collections import defaultdict

import pytest

from hsi_conform.corpus.golden import Case, load_cases
from hsi_conform.rules import ID_PATTERN, NAME_PATTERN, RuleSpec, load_builtin_rules
from hsi_conform.rules._retired import RETIRED
from tests._paths import SPEC

RULES = load_builtin_rules()
CASES = load_cases()


def _by_rule_folder() -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = defaultdict(list)
    for case in CASES:
        out[case.path.parent.name.split("-", 1)[0]].append(case)
    return out


FOLDERS = _by_rule_folder()


def test_registry_is_not_empty_and_ids_are_unique() -> None:
    assert len(RULES) >= 100
    assert len({r.id for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)
    assert not {r.id for r in RULES} & set(RETIRED)


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_is_documented_and_anchored(rule: RuleSpec) -> None:
    assert ID_PATTERN.match(rule.id) and NAME_PATTERN.match(rule.name)
    assert rule.summary, "the first docstring line is the catalogue summary"
    page, _, anchor = rule.spec.partition("#")
    text = (SPEC / page).read_text(encoding="utf-8")
    assert f'id="{anchor}"' in text, f"{rule.spec} has no anchor"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_has_a_valid_and_a_failing_fixture(rule: RuleSpec) -> None:
    cases = FOLDERS.get(rule.id, [])
    assert any(c.verdict == "valid" for c in cases), f"no fixtures/*/{rule.id}-*/valid-* case"
    failing = [c for c in cases if c.verdict != "valid"]
    assert failing, f"no fixtures/*/{rule.id}-*/error-|warning-|info-* case"
    assert all(rule.id in c.rules for c in failing)
