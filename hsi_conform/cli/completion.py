"""``hsi-conform completion bash|zsh|fish`` and ``hsi-conform manpage`` (spec/cli-tools.md#completion).

The scripts are static, generated from the parser (:mod:`hsi_conform.cli.parsermodel`), with the rule ids and
names and the converter names of the registries written in: a Tab costs the shell a lookup, never a Python start
(importing this package takes seconds, which rules out completers that run the program at every Tab). Regenerate
the script after an upgrade. zsh runs the bash script through ``bashcompinit``, which every zsh ships.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from typing import Any

from hsi_conform.cli.parsermodel import Command, Option, format_words, rule_words, walk
from hsi_conform.errors import ExitCode

SHELLS = ("bash", "zsh", "fish")
PROG = "hsi-conform"
_FUNCTION = "_hsi_conform"


def add_completion(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform completion`` and ``hsi-conform manpage``."""
    p = sub.add_parser("completion", help="print a shell completion script (bash, zsh or fish)",
                       description="Print the completion script of SHELL: subcommands, options, choices, rule ids "
                                   "and format names. bash: eval \"$(hsi-conform completion bash)\" in ~/.bashrc; "
                                   "zsh: the same in ~/.zshrc; fish: hsi-conform completion fish > "
                                   "~/.config/fish/completions/hsi-conform.fish")
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(run=cmd_completion)
    m = sub.add_parser("manpage", help="print the manual page (roff), generated from this parser",
                       description="Print hsi-conform(1) in roff; e.g. hsi-conform manpage > "
                                   "~/.local/share/man/man1/hsi-conform.1")
    m.set_defaults(run=cmd_manpage)


def _root(args: argparse.Namespace) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = args.root_parser
    return parser


def cmd_completion(args: argparse.Namespace) -> ExitCode:
    """Run ``completion SHELL``: print the script."""
    sys.stdout.write(script(args.shell, _root(args)))
    return ExitCode.OK


def cmd_manpage(args: argparse.Namespace) -> ExitCode:
    """Run ``manpage``: print the roff page."""
    from hsi_conform.cli.manpage import manpage

    sys.stdout.write(manpage(_root(args)))
    return ExitCode.OK


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """Return the completion script of ``shell`` for ``parser``."""
    commands = list(walk(parser))
    words = {"rules": rule_words(), "formats": format_words()}
    if shell == "fish":
        return fish(commands, words)
    text = bash(commands, words)
    return f"#compdef {PROG}\nautoload -U +X bashcompinit && bashcompinit\n{text}" if shell == "zsh" else text


# -- bash ------------------------------------------------------------------------------------------------------
def _words(option: Option, words: dict[str, list[str]]) -> str | None:
    """Return the ``compgen`` arguments of an option's value (None: leave it to the shell's file names)."""
    if option.values == "choices":
        return "-W " + shlex.quote(" ".join(option.choices))
    if option.values in words:
        return f'-W "${_FUNCTION}_{option.values}"'
    if option.values == "any":
        return ""
    return None


def _bash_command(command: Command, words: dict[str, list[str]]) -> list[str]:
    key = " ".join(command.path)
    lines = [f"        {shlex.quote(key)})", '            case "$prev" in']
    for option in command.options:
        if option.takes_value:
            value = _words(option, words)
            reply = 'COMPREPLY=(); return 0' if value is None or value == "" else \
                f'COMPREPLY=($(compgen {value} -- "$cur")); return 0'
            if value is None:
                reply = 'COMPREPLY=($(compgen -f -- "$cur")); return 0'
            lines.append(f"                {'|'.join(option.strings)}) {reply};;")
    lines.append("            esac")
    flags = " ".join(s for o in command.options for s in o.strings)
    lines.append(f'            if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W {shlex.quote(flags)} -- "$cur"))')
    if command.subcommands:
        lines.append(f'            else COMPREPLY=($(compgen -W {shlex.quote(" ".join(command.subcommands))} '
                     '-- "$cur"))')
    else:
        positional = next((_words(p, words) for p in command.positionals if p.values != "files"), None)
        if positional:
            lines.append(f'            else COMPREPLY=($(compgen {positional} -- "$cur"))')
    lines += ["            fi;;"]
    return lines


def bash(commands: Sequence[Command], words: dict[str, list[str]]) -> str:
    """Return the bash script: a function that finds the command path, then completes by the previous word."""
    known = "|".join(shlex.quote(" ".join(c.path)) for c in commands if c.path)
    out = [f"# {PROG} completion for bash (generated from the parser by `{PROG} completion bash`)",
           *(f"{_FUNCTION}_{kind}={shlex.quote(' '.join(values))}" for kind, values in words.items()),
           f"{_FUNCTION}() {{",
           '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" path="" i w',
           "    for ((i = 1; i < COMP_CWORD; i++)); do",
           '        w="${COMP_WORDS[i]}"',
           '        case "${path:+$path }$w" in',
           f'            {known}) path="${{path:+$path }}$w";;',
           "        esac",
           "    done",
           '    case "$path" in']
    for command in commands:
        out += _bash_command(command, words)
    out += ["    esac", "}", f"complete -o default -F {_FUNCTION} {PROG}", ""]
    return "\n".join(out)


# -- fish ------------------------------------------------------------------------------------------------------
def _fish_condition(command: Command, commands: Sequence[Command]) -> str:
    if not command.path:
        return "__fish_use_subcommand"
    parts = [f"__fish_seen_subcommand_from {shlex.quote(name)}" for name in command.path]
    if command.subcommands:
        parts.append("not __fish_seen_subcommand_from " + " ".join(map(shlex.quote, command.subcommands)))
    return "; and ".join(parts)


def _fish_values(option: Option, words: dict[str, list[str]]) -> str | None:
    """Return the ``-a`` argument of a value (None: file names); fish expands the variable into its items."""
    if option.values == "choices":
        return shlex.quote(" ".join(option.choices))
    if option.values in words:
        return f"'${_FUNCTION}_{option.values}'"
    return "" if option.values == "any" else None


def _fish_option(option: Option, words: dict[str, list[str]]) -> str:
    flags = []
    for s in option.strings:
        flags.append(f"-l {s[2:]}" if s.startswith("--") else f"-s {s[1:]}")
    if option.takes_value:
        value = _fish_values(option, words)
        flags.append("-r -F" if value is None else "-x" + (f" -a {value}" if value else ""))
    if option.help:
        flags.append(f"-d {shlex.quote(option.help[:80])}")
    return " ".join(flags)


def fish(commands: Sequence[Command], words: dict[str, list[str]]) -> str:
    """Return the fish script: one ``complete`` line per subcommand name, option and positional value list."""
    out = [f"# {PROG} completion for fish (generated from the parser by `{PROG} completion fish`)",
           *(f"set -g {_FUNCTION}_{kind} {' '.join(map(shlex.quote, values))}" for kind, values in words.items()),
           f"complete -c {PROG} -f"]
    helps = {c.path: c.help for c in commands}
    for command in commands:
        condition = shlex.quote(_fish_condition(command, commands))
        for name in command.subcommands:
            description = helps.get((*command.path, name), "")
            out.append(f"complete -c {PROG} -n {condition} -a {shlex.quote(name)} -d {shlex.quote(description[:80])}")
        for option in command.options:
            out.append(f"complete -c {PROG} -n {condition} {_fish_option(option, words)}")
        for positional in command.positionals:
            value = _fish_values(positional, words)
            if value is None:
                out.append(f"complete -c {PROG} -n {condition} -F")
            elif value:
                out.append(f"complete -c {PROG} -n {condition} -a {value}")
    return "\n".join(out) + "\n"
