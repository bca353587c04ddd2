"""The command line as data, read from the argparse parser: what completion scripts and the manual page show.

One walk of the parser gives every command (``corpus run`` included), its options, their value choices and its
positional arguments, so the shell scripts, ``docs/hsi-conform.1`` and README's option tables cannot drift from the
parser (spec/cli-tools.md#completion). What a value can be is the argument's ``choices``, else a kind this module
gives by the argument's destination: rule ids and names, format names, or files.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: Destinations whose values are rule selectors (ids, names), and the ones whose values are converter names.
RULE_DESTS = frozenset({"select", "ignore", "rule", "prefixes"})
FORMAT_DESTS = frozenset({"from_format", "to_format", "names"})
#: Metavars that name a file or folder (``SRC``, ``OUT.hsi``, ``SRC_DIR``...): their values complete to paths.
_FILE_WORDS = ("PATH", "FILE", "SRC", "DST", "DIR", "OUT", "IN")


@dataclass(frozen=True, slots=True)
class Option:
    """One option (``--content``/``-j``) of a command.

    Attributes:
        strings: its spellings, long ones first.
        takes_value: whether a value follows it.
        values: what the value can be: ``choices:a b c``, ``rules``, ``formats``, ``files`` or ``any``.
        choices: the allowed values, when the parser declares them.
        help: its help line, with ``%(default)s`` and the like expanded.
        metavar: the name of its value in usage (``N``, ``FILE``), when it takes one.
        default: its default as typed on the command line (empty when it has none worth showing).
        repeatable: whether it may be given more than once.
    """

    strings: tuple[str, ...]
    takes_value: bool
    values: str
    choices: tuple[str, ...]
    help: str
    metavar: str
    default: str = ""
    repeatable: bool = False


@dataclass(slots=True)
class Command:
    """One command: ``validate``, or ``corpus run`` (the path of names from the top)."""

    path: tuple[str, ...]
    help: str
    description: str
    usage: str
    options: list[Option] = field(default_factory=list)
    positionals: list[Option] = field(default_factory=list)
    subcommands: list[str] = field(default_factory=list)


def _values(action: argparse.Action) -> str:
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        return "choices"
    if action.dest in RULE_DESTS:
        return "rules"
    if action.dest in FORMAT_DESTS:
        return "formats"
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if action.type is Path or any(word in metavar for word in _FILE_WORDS):
        return "files"
    return "any"


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    formatter = parser._get_formatter()
    return " ".join(formatter._expand_help(action).split())


def _option(parser: argparse.ArgumentParser, action: argparse.Action) -> Option:
    strings = tuple(sorted(action.option_strings, key=lambda s: (not s.startswith("--"), s)))
    takes_value = action.nargs != 0
    choices = tuple(str(c) for c in action.choices) if action.choices is not None else ()
    metavar = action.metavar if isinstance(action.metavar, str) else (action.dest.upper() if takes_value else "")
    if not action.option_strings:  # a positional: its metavar shows how many it takes
        metavar = {"+": f"{metavar}...", "*": f"[{metavar}...]", "?": f"[{metavar}]"}.get(str(action.nargs), metavar)
    default = action.default
    hidden = default is None or default is False or default == [] or default == argparse.SUPPRESS
    shown = "" if hidden or not takes_value else str(default)
    return Option(strings, takes_value, _values(action) if takes_value else "none", choices, _help(parser, action),
                  metavar, shown, isinstance(action, argparse._AppendAction))


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = (), help_line: str = "") -> Iterator[Command]:
    """Yield the command of ``parser`` and then every command below it, depth first, in the parser's order."""
    command = Command(path, help_line, parser.description or "", " ".join(parser.format_usage().split()[1:]))
    children: list[tuple[str, argparse.ArgumentParser, str]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                command.subcommands.append(name)
                children.append((name, sub, helps.get(name, "")))
        elif action.option_strings:
            command.options.append(_option(parser, action))
        else:
            command.positionals.append(_option(parser, action))
    yield command
    for name, sub, sub_help in children:
        yield from walk(sub, (*path, name), sub_help)


def rule_words() -> list[str]:
    """Return every rule id and name, the words a rule selector completes to (from the rule registry)."""
    from hsi_conform.rules import load_builtin_rules

    rules = load_builtin_rules()
    return [r.id for r in rules] + [r.name for r in rules]


def format_words() -> list[str]:
    """Return every converter name (from the entry-point group; also the ones whose extra is missing)."""
    from hsi_conform.converters import registered

    return sorted(registered())
