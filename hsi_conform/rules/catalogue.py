"""The rule catalogue generated from the registry: ``spec/rules.md`` and the ``hsi-conform rules`` lists.

:data:`RENDERERS` is the table of catalogue formats that ``hsi-conform rules --format`` offers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from hsi_conform.finding import Level
from hsi_conform.rules import RuleSpec, load_builtin_rules
from hsi_conform.rules._retired import RETIRED, RetiredRule

__all__ = ["RENDERERS", "render_rules_json", "render_rules_markdown", "render_rules_text", "rule_to_dict"]

_HEADER = (
    "<!-- GENERATED from the rule registry by hsi_conform.rules.catalogue; do not edit by hand. -->\n\n"
    "# Validation rules\n\n"
    "Every rule hsi-conform checks, generated from its registry. Ids are `<AREA><NNN>` and never reused; "
    "the severity is the default under the `exchange` profile (`strict` turns every warning into an error; "
    "the re-grades column lists other per-profile defaults; the fix column says whether `hsi-conform fix` repairs "
    "a rule's findings, safely or only with `--unsafe` ([fix.md](fix.md))). Links point at the normative spec text.\n"
)


def rule_to_dict(rule: RuleSpec) -> dict[str, Any]:
    """Return the JSON-ready metadata of one rule."""
    return {
        "id": rule.id,
        "name": rule.name,
        "level": rule.level.value,
        "severity": rule.severity.label,
        "profiles": rule.regrades,
        "spec": rule.spec,
        "summary": rule.summary,
        "fix": rule.fix,
    }


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _regrades(rule: RuleSpec) -> str:
    return ", ".join(f"{profile}: {label}" for profile, label in rule.regrades.items()) or "—"


def _table(rules: Sequence[RuleSpec]) -> list[str]:
    lines = [
        "| Id | Name | Level | Severity | Re-grades | Fix | Spec | Summary |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rule in rules:
        link = f"[{_cell(rule.spec)}]({rule.spec})"
        lines.append(
            f"| {rule.id} | `{rule.name}` | {rule.level.value} | {rule.severity.label} | {_regrades(rule)} "
            f"| {rule.fix or '—'} | {link} | {_cell(rule.summary)} |"
        )
    return lines


def _retired_section(retired: Mapping[str, RetiredRule]) -> list[str]:
    lines = ["## Retired rules", "", "These ids and names are never reused.", ""]
    if not retired:
        return [*lines, "None yet."]
    lines += ["| Id | Name | Reason |", "|---|---|---|"]
    for item in sorted(retired.values(), key=lambda r: r.id):
        lines.append(f"| {item.id} | `{item.name}` | {_cell(item.reason)} |")
    return lines


def render_rules_markdown(
    rules: Sequence[RuleSpec] | None = None, retired: Mapping[str, RetiredRule] | None = None
) -> str:
    """Generate the text of ``spec/rules.md``: one table per level, then the retired rules.

    Args:
        rules: The rules to list (default: every registered rule, built-ins loaded).
        retired: The tombstones to list (default: the real ones).

    Returns:
        The Markdown text.
    """
    rules = load_builtin_rules() if rules is None else rules
    lines = [_HEADER]
    for level in Level:
        in_level = sorted((r for r in rules if r.level is level), key=lambda r: r.id)
        lines += [f"## Level `{level.value}`", ""]
        lines += _table(in_level) if in_level else ["No rules yet."]
        lines.append("")
    lines += _retired_section(RETIRED if retired is None else retired)
    return "\n".join(lines) + "\n"


def render_rules_text(rules: Sequence[RuleSpec] | None = None) -> str:
    """List rules one per line: id, default severity, level, name and summary."""
    rules = load_builtin_rules() if rules is None else rules
    return "".join(
        f"{r.id}  {r.severity.label:<7}  {r.level.value:<11}  {r.name}: {r.summary}\n" for r in rules
    )


def render_rules_json(rules: Sequence[RuleSpec] | None = None) -> str:
    """List rules as a JSON array of :func:`rule_to_dict` objects."""
    rules = load_builtin_rules() if rules is None else rules
    return json.dumps([rule_to_dict(r) for r in rules], indent=2, ensure_ascii=False) + "\n"


RENDERERS: Mapping[str, Callable[[Sequence[RuleSpec]], str]] = MappingProxyType({
    "text": render_rules_text,
    "json": render_rules_json,
    "markdown": render_rules_markdown,
})
"""The catalogue formats by name (the first is the default of ``hsi-conform rules``)."""
