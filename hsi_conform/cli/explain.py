"""``hsi-conform explain ID`` and ``hsi-conform rules [PREFIX]``.

``explain`` prints a rule's metadata, its spec text as plain text (spec/cli-tools.md#plain-text) and a failing and a
valid corpus example; an unknown id or name is a usage error naming the closest ids and names. ``rules PREFIX``
lists the rules a selector matches, with the same selector rules as ``validate --select``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hsi_conform._resources import data_folder, spec_excerpt
from hsi_conform.corpus.golden import FIXTURES, Case, case_files, load_cases
from hsi_conform.rules import RuleSpec, get_rule, load_builtin_rules

SPEC = data_folder("spec")
_FIX_TEXT = {"safe": "safe (hsi-conform fix repairs it; spec/fix.md)",
             "unsafe": "unsafe (hsi-conform fix --unsafe repairs it; spec/fix.md)",
             None: "none (hsi-conform fix leaves it)"}


def _examples(rule: RuleSpec) -> tuple[Case | None, Case | None]:
    cases = [c for c in load_cases() if c.path.parent.name.split("-", 1)[0] == rule.id]
    failing = next((c for c in cases if c.verdict != "valid"), None)
    valid = next((c for c in cases if c.verdict == "valid"), None)
    return failing, valid


def _describe(case: Case) -> list[str]:
    out = [f"  {case.id}", f"    {case.data['description']}"]
    expanded = case.path / "expanded"
    if expanded.is_dir():
        files = sorted(case_files(case))
        out.append(f"    input: the sample container with {', '.join(files)} replaced"
                   if case.data.get("input", "sample") == "sample" else f"    input: {', '.join(files)}")
    for e in case.expect:
        where = ":".join(str(e[k]) for k in ("member", "line", "column") if k in e)
        out.append(f"    expects {e['rule']} {e.get('severity', '')} at {where or 'the archive'}".rstrip())
        if "member" in e and "line" in e and expanded.joinpath(e["member"]).is_file():
            text = expanded.joinpath(e["member"]).read_bytes().decode("utf-8", "replace").splitlines()
            if 0 < e["line"] <= len(text):
                out.append(f"      | {text[e['line'] - 1][:200]}")
    return out


_ANCHOR = re.compile(r"<a id=\"[^\"]*\"></a>")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def plain_text(markdown: str) -> str:
    """Return spec Markdown as a terminal shows it (spec/cli-tools.md#plain-text).

    Anchors (``<a id=…></a>``) go, ``**bold**`` keeps its words, a link keeps its text with the target in
    parentheses (``spec/fix.md`` style paths stay readable), and backquotes stay: they mark literal header text.
    """
    text = _ANCHOR.sub("", markdown)
    text = _EMPHASIS.sub(r"\2", text)
    text = _LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})", text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def find_rule(id_or_name: str) -> RuleSpec:
    """Return the rule with this id or name (ids case-insensitive).

    Raises:
        UnknownSelectorError: no such rule (a usage error naming the closest ids and names, or why it was retired).
        ConfigError: a prefix that names several rules (a usage error naming the ``rules`` command that lists them).
    """
    from hsi_conform.errors import ConfigError
    from hsi_conform.validate.engine import Policy, check_selection, is_selected

    rules = load_builtin_rules()
    for key in (id_or_name, id_or_name.upper()):
        try:
            return get_rule(key)
        except KeyError:
            pass
    check_selection(Policy(select=(id_or_name,)), rules)  # raises with the suggestions when it names nothing
    matched = [r.id for r in rules if is_selected(r, Policy(select=(id_or_name,)))]
    raise ConfigError(f"{id_or_name!r} names {len(matched)} rules ({', '.join(matched[:3])}, ...), not one: "
                      f"hsi-conform rules {id_or_name} lists them")


def select_rules(prefixes: Sequence[str]) -> list[RuleSpec]:
    """Return the rules that any of ``prefixes`` selects (ids, id prefixes or names, as ``--select`` takes them).

    Raises:
        UnknownSelectorError: a prefix that matches no rule (with the closest ids and names).
    """
    from hsi_conform import rules as registry  # looked up when called (tests replace the loader)
    from hsi_conform.validate.engine import Policy, check_selection, is_selected

    rules = registry.load_builtin_rules()
    if not prefixes:
        return list(rules)
    policy = Policy(select=tuple(prefixes))
    check_selection(policy, rules)
    return [r for r in rules if is_selected(r, policy)]


def explain(rule_id: str) -> str:
    """Return the explanation of a rule (id or name) as plain text.

    Raises:
        UnknownSelectorError: no such rule (see :func:`find_rule`).
    """
    rule = find_rule(rule_id)
    regrades = ", ".join(f"{p}: {label}" for p, label in rule.regrades.items())
    lines = [f"{rule.id} {rule.name}", f"  {rule.summary}",
             f"  level {rule.level.value}; default severity {rule.severity.label}"
             + (f" ({regrades})" if regrades else ""), f"  spec: spec/{rule.spec}",
             f"  fix: {_FIX_TEXT[rule.fix]}"]
    excerpt = spec_excerpt(rule.spec)
    if excerpt:
        lines += ["", *("  " + line for line in plain_text(excerpt).splitlines())]
    if not FIXTURES.is_dir():
        lines += ["", "  (corpus examples are in the source distribution's fixtures/ folder)"]
        return "\n".join(lines) + "\n"
    failing, valid = _examples(rule)
    for title, case in (("Failing example", failing), ("Valid example", valid)):
        if case is not None:
            lines += ["", f"{title}:", *_describe(case)]
    return "\n".join(lines) + "\n"

