"""``hsi-conform explain ID``: a rule's metadata, its spec text and a failing and a valid corpus example."""

from __future__ import annotations

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


def explain(rule_id: str) -> str:
    """Return the explanation of a rule (id or name).

    Raises:
        KeyError: no such rule.
    """
    load_builtin_rules()
    rule = get_rule(rule_id)
    regrades = ", ".join(f"{p}: {label}" for p, label in rule.regrades.items())
    lines = [f"{rule.id} {rule.name}", f"  {rule.summary}",
             f"  level {rule.level.value}; default severity {rule.severity.label}"
             + (f" ({regrades})" if regrades else ""), f"  spec: spec/{rule.spec}",
             f"  fix: {_FIX_TEXT[rule.fix]}"]
    excerpt = spec_excerpt(rule.spec)
    if excerpt:
        lines += ["", *("  " + line for line in excerpt.splitlines())]
    if not FIXTURES.is_dir():
        lines += ["", "  (corpus examples are in the source distribution's fixtures/ folder)"]
        return "\n".join(lines) + "\n"
    failing, valid = _examples(rule)
    for title, case in (("Failing example", failing), ("Valid example", valid)):
        if case is not None:
            lines += ["", f"{title}:", *_describe(case)]
    return "\n".join(lines) + "\n"

