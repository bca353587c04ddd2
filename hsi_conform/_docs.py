"""Generate the parts of ``spec/`` that come from a single source of truth.

- ``spec/header-syntax.md``: the block between the ``generated:grammar`` markers is the grammar file;
- ``spec/fields.md``: the field table (:mod:`hsi_conform.fields`);
- ``spec/rules.md``: the rule registry (:mod:`hsi_conform.rules`);
- ``spec/coverage.md``: the corpus coverage of every rule (registry + ``fixtures/``);
- ``spec/metadata-crosswalk.md``: the block between the ``generated:crosswalk`` markers is the crosswalk table
  (``converters/crosswalk.toml``, :mod:`hsi_conform.crosswalk`);
- ``README.md``: the block between the ``generated:exit_codes`` markers is the table of
  :class:`~hsi_conform.errors.ExitCode`; ``generated:format_options``: every converter's declared options;
- ``docs/hsi-conform.1``: the manual page, from the command line's parser;
- ``spec/info.schema.json``: the enumeration of member kinds, from :class:`~hsi_conform.members.MemberKind`.

``python -m hsi_conform._docs`` rewrites them; ``--check`` exits 1 when one is stale (a test runs the check).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from hsi_conform._atomic import publish_text
from hsi_conform.errors import ExitCode
from hsi_conform.fields import FIELDS, FieldSpec, Scope
from hsi_conform.header.grammar import grammar_text

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"
_BLOCK = re.compile(r"(<!-- generated:(\w+):begin -->\n).*?(<!-- generated:\2:end -->)", re.DOTALL)


def _fill_blocks(text: str, blocks: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        body = blocks.get(m.group(2))
        return m.group(0) if body is None else m.group(1) + body + m.group(3)

    return _BLOCK.sub(repl, text)


def header_syntax(current: str) -> str:
    """Return ``spec/header-syntax.md`` with the grammar block regenerated."""
    return _fill_blocks(current, {"grammar": "```lark\n" + grammar_text() + "```\n"})


def _scopes(scopes: frozenset[Scope]) -> str:
    if scopes == frozenset(Scope):
        return "all"
    return ", ".join(s.value for s in Scope if s in scopes) or "-"


def _field_row(f: FieldSpec) -> str:
    extra = []
    if f.allowed:
        extra.append("one of " + ", ".join(f"`{a}`" for a in f.allowed))
    if f.minimum is not None:
        extra.append(f">= {f.minimum:g}")
    if f.positive:
        extra.append("> 0")
    if f.nonfinite:
        extra.append("NaN/Inf allowed")
    anchor = f.anchor.split("#", 1)[1]
    return (f"| <a id=\"{anchor}\"></a>`{f.key}` | {f.section} | {f.kind.value} | {_scopes(f.required_in)} | "
            f"{_scopes(f.recommended_in)} | {f.count or '-'} | {'; '.join(extra) or '-'} | {f.summary} |")


def fields_md() -> str:
    """Return ``spec/fields.md``, generated from the field table."""
    head = [
        "# Header fields (generated from `hsi_conform/fields.py`; do not edit)",
        "",
        "Regenerate with `python -m hsi_conform._docs`. Scopes: `root` = `data.hdr`, `preview` = `preview*.hdr`,",
        "`reference` = `Reference/*.hdr`, `exploration` = ENVI headers under `Exploration/`. Counts: `bands` = one",
        "value per band, `classes` = one per class, `3*classes` = an RGB triple per class, `1|3` = one or three.",
        "Keys the table does not know are kept verbatim (D4.1 §2.8 allows any further field).",
        "<a id=\"envi-fields\"></a>`ENVI` in the D4.1 column marks a field of ENVI's header format that D4.1 relies",
        "on without listing it (`wavelength units`, `data ignore value`, ...).",
        "",
        "| field | D4.1 | kind | mandatory in | should be in | count | values | summary |",
        "|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join([*head, *(_field_row(f) for f in FIELDS)]) + "\n"


def rules_md() -> str:
    """Return ``spec/rules.md``, generated from the rule registry."""
    from hsi_conform.rules import load_builtin_rules
    from hsi_conform.rules.catalogue import render_rules_markdown

    load_builtin_rules()
    return render_rules_markdown()


def coverage_md() -> str:
    """Return ``spec/coverage.md``: for every rule, the golden cases that exercise it (from the corpus)."""
    from collections import Counter

    from hsi_conform.corpus.golden import load_cases
    from hsi_conform.rules import load_builtin_rules

    cases = load_cases()
    folder: Counter[tuple[str, str]] = Counter()
    expected: Counter[str] = Counter()
    for case in cases:
        folder[(case.path.parent.name.split("-", 1)[0], "valid" if case.verdict == "valid" else "failing")] += 1
        for rule_id in case.rules:
            expected[rule_id] += 1
    lines = [
        "# Corpus coverage (generated from the rule registry and `fixtures/`; do not edit)",
        "",
        "Regenerate with `python -m hsi_conform._docs`. `valid` and `failing` count the cases in the rule's own",
        "fixture folder; `expected in` counts every case (in any folder) whose expected findings include the rule.",
        "",
        f"{len(cases)} cases.",
        "",
        "| rule | name | valid | failing | expected in |",
        "|---|---|---|---|---|",
    ]
    for rule in load_builtin_rules():
        lines.append(f"| {rule.id} | {rule.name} | {folder[(rule.id, 'valid')]} | {folder[(rule.id, 'failing')]} "
                     f"| {expected[rule.id]} |")
    return "\n".join(lines) + "\n"


def crosswalk_table() -> str:
    """Return the crosswalk table of ``spec/metadata-crosswalk.md`` (from ``converters/crosswalk.toml``)."""
    from hsi_conform.crosswalk import crosswalk

    def code(items: tuple[str, ...] | str) -> str:
        values = (items,) if isinstance(items, str) else items
        return ", ".join(f"`{v}`" for v in values if v) or "-"

    rows = ["| D4.1 / ENVI | IEEE 4001 | group | STAC | CF | SPECIM | Headwall | note |",
            "|---|---|---|---|---|---|---|---|"]
    for r in crosswalk().rows:
        source = f"[`{r.field}`](fields.md#{r.field.replace(' ', '-')})" if r.field else code(r.members)
        ieee = (r.ieee4001 + (" *" if r.provisional else "")) if r.ieee4001 else "-"
        cells = [source, ieee, r.group or "-", code(r.stac), code(r.cf), code(r.specim), code(r.headwall),
                 r.note.replace("|", "\\|") or "-"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def metadata_crosswalk(current: str) -> str:
    """Return ``spec/metadata-crosswalk.md`` with the crosswalk block regenerated."""
    return _fill_blocks(current, {"crosswalk": crosswalk_table()})


def exit_code_table() -> str:
    """Return README's exit-code table, generated from :class:`~hsi_conform.errors.ExitCode`."""
    rows = [f"| {int(code)} | `{code.name}` | {code.meaning} |" for code in ExitCode]
    return "\n".join(["| code | `ExitCode` | meaning |", "|---|---|---|", *rows]) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def format_option_table() -> str:
    """Return README's table of converter options, generated from each converter's declared ``OptionSpec``s."""
    from hsi_conform.cli.formats import describe_formats

    rows = ["| format | side | option | default | type | meaning |", "|---|---|---|---|---|---|"]
    for fmt in describe_formats():
        for o in fmt.get("options", ()):
            kind = o["type"] if not o["choices"] else " \\| ".join(f"`{c}`" for c in o["choices"])
            needs = "".join(f"; only when {n}" for n in o["needs"])
            rows.append(f"| `{fmt['name']}` | {o['side']} | `{o['name']}` | `{o['default']}` | {kind} | "
                        f"{_cell(o['help'])}{needs} |")
    return "\n".join(rows) + "\n"


def command_reference() -> str:
    """Return README's reference of every command's arguments and options, generated from the parser."""
    from hsi_conform.cli.main import build_parser
    from hsi_conform.cli.parsermodel import walk

    out: list[str] = []
    for command in walk(build_parser()):
        if not command.path or command.subcommands:
            continue
        args = " ".join(p.metavar for p in command.positionals)
        out += ["", f"#### `hsi-conform {' '.join(command.path)}{' ' + args if args else ''}`", "",
                _cell(command.help) + ".", "", "| argument or option | default | meaning |", "|---|---|---|"]
        out += [f"| `{p.metavar}` | - | {_cell(p.help) or '-'} |" for p in command.positionals]
        for option in command.options:
            if option.strings[0] == "--help":
                continue
            value = f" {option.metavar}" if option.takes_value else ""
            names = ", ".join(f"`{s}{value}`" for s in option.strings)
            meaning = option.help or ""
            if option.choices:
                meaning += ("; " if meaning else "") + "one of " + ", ".join(f"`{c}`" for c in option.choices)
            if option.repeatable and "repeatable" not in meaning:
                meaning += ("; " if meaning else "") + "repeatable"
            out.append(f"| {names} | {f'`{option.default}`' if option.default else '-'} | {_cell(meaning) or '-'} |")
    return "\n".join(out[1:]) + "\n"


#: Numbers in README's prose, each with what computes it: (pattern whose group 1 is the number, function).
_RULE_COUNT = re.compile(r"a \*\*validator\*\* with (\d+) rules")
_EXPORT_COUNT = re.compile(r"corpus run --reader hsi-conform --json matrix\.json corpus +# (\d+) cases")
#: The ``--generate`` of README's ``corpus export`` example, whose case count the comment after ``corpus run`` states.
README_GENERATED_CASES = 10


def rule_count() -> int:
    """Return the number of registered rules (README: "a validator with N rules")."""
    from hsi_conform.rules import load_builtin_rules

    return len(load_builtin_rules())


def golden_file_count() -> int:
    """Return how many files ``hsi-conform corpus export`` writes from the golden cases (before generated ones)."""
    from hsi_conform.corpus.export import golden_files

    return len(golden_files())


def _export_count() -> int:
    return golden_file_count() + README_GENERATED_CASES


def _numbers(text: str) -> str:
    for pattern, count in ((_RULE_COUNT, rule_count), (_EXPORT_COUNT, _export_count)):
        match = pattern.search(text)
        if match is not None:
            start, end = match.span(1)
            text = text[:start] + str(count()) + text[end:]
    return text


def readme(current: str) -> str:
    """Return ``README.md`` regenerated: exit codes, converter options, every command's options, counts in prose."""
    text = _fill_blocks(current, {"exit_codes": exit_code_table(), "format_options": format_option_table(),
                                  "command_reference": command_reference()})
    return _numbers(text)


_MEMBER_KINDS = re.compile(r'("kind": \{"enum": )\[[^\]]*\]')


def info_schema(current: str) -> str:
    """Return ``spec/info.schema.json`` with its member kinds regenerated from :class:`~hsi_conform.members.MemberKind`.

    The rest of the schema is written by hand; only the enumeration repeats another table.
    """
    from hsi_conform.members import MemberKind

    kinds = json.dumps([kind.value for kind in MemberKind])
    return _MEMBER_KINDS.sub(lambda m: m.group(1) + kinds, current, count=1)


def documents() -> dict[Path, Callable[[str], str]]:
    """Return each generated document with the function that computes it from its current text."""
    return {
        SPEC / "header-syntax.md": header_syntax,
        SPEC / "fields.md": lambda _current: fields_md(),
        SPEC / "rules.md": lambda _current: rules_md(),
        SPEC / "coverage.md": lambda _current: coverage_md(),
        SPEC / "metadata-crosswalk.md": metadata_crosswalk,
        SPEC / "info.schema.json": info_schema,
        ROOT / "README.md": readme,
        ROOT / "docs" / "hsi-conform.1": lambda _current: man_page(),
    }


def man_page() -> str:
    """Return ``docs/hsi-conform.1``, generated from the command line's parser."""
    from hsi_conform.cli.main import build_parser
    from hsi_conform.cli.manpage import manpage

    return manpage(build_parser())


def stale() -> list[Path]:
    """Return the generated documents whose committed text differs from what the sources give."""
    out = []
    for path, make in documents().items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if make(current) != current:
            out.append(path)
    return out


def main(argv: list[str] | None = None) -> ExitCode:
    """Rewrite the generated documents, or with ``--check`` report the stale ones (exit ``NONCONFORMANT``)."""
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        paths = stale()
        for p in paths:
            print(f"stale: {p.relative_to(ROOT)} (run python -m hsi_conform._docs)")
        return ExitCode.NONCONFORMANT if paths else ExitCode.OK
    for path, make in documents().items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        publish_text(path, make(current))
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
