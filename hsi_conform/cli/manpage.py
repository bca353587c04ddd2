"""hsi-conform(1): the manual page in roff, generated from the parser (spec/cli-tools.md#manpage).

``docs/hsi-conform.1`` is this page, written by ``python -m hsi_conform._docs`` (a test fails when it is stale);
``hsi-conform manpage`` prints it for an installed package. Written here rather than with ``argparse-manpage``:
the page needs the exit-code table of :class:`~hsi_conform.errors.ExitCode` and every nested command, and the
roff it takes is a few lines. No date or version is written, so the page changes only when the parser does.
"""

from __future__ import annotations

import argparse

from hsi_conform.cli.parsermodel import Command, Option, walk
from hsi_conform.errors import ExitCode

#: The NAME line's summary.
SUMMARY = "validate, describe and convert HyperImage .hsi hyperspectral containers"
_SPECIAL = str.maketrans({"\\": "\\e", "-": "\\-"})


def roff(text: str) -> str:
    """Escape text for roff: backslashes and hyphens, and a leading ``.`` or ``'`` that would start a request."""
    out = text.translate(_SPECIAL)
    return "\\&" + out if out[:1] in (".", "'") else out


def _option(option: Option) -> list[str]:
    names = ", ".join(f"\\fB{roff(s)}\\fR" for s in option.strings)
    value = f" \\fI{roff(option.metavar)}\\fR" if option.takes_value and option.metavar else ""
    lines = [".TP", names + value]
    text = option.help
    if option.choices and "choices" not in text.lower():
        text = (text + "; " if text else "") + "one of: " + ", ".join(option.choices)
    lines.append(roff(text) if text else "")
    return lines


def _command(command: Command) -> list[str]:
    name = " ".join(command.path)
    lines = [f'.SS "{roff(name)}"', roff(command.help) if command.help else "", ".PP",
             f"\\fBhsi\\-conform {roff(name)}\\fR {roff(command.usage.split(name, 1)[-1].strip())}"]
    if command.description:
        lines += [".PP", roff(command.description)]
    for positional in command.positionals:
        if positional.help:
            lines += [".TP", f"\\fI{roff(positional.metavar)}\\fR", roff(positional.help)]
    for option in command.options:
        lines += _option(option)
    return lines


def manpage(parser: argparse.ArgumentParser) -> str:
    """Return hsi-conform(1) for ``parser``: name, synopsis, every command with its options, exit status."""
    commands = list(walk(parser))
    top = commands[0]
    lines = ['.TH HSI\\-CONFORM 1 "" "hsi-conform" "User Commands"', ".SH NAME",
             f"hsi\\-conform \\- {roff(SUMMARY)}", ".SH SYNOPSIS",
             "\\fBhsi\\-conform\\fR [\\fB\\-\\-version\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]",
             ".SH DESCRIPTION",
             "Validate HyperImage \\fB.hsi\\fR containers against the D4.1 specification, describe them, convert "
             "them from and to other formats, and read them as D4.1 means them. Every command takes "
             "\\fB\\-h\\fR for its help.", ".SH OPTIONS"]
    for option in top.options:
        lines += _option(option)
    lines.append(".SH COMMANDS")
    for command in commands[1:]:
        if command.subcommands:
            lines += [f'.SS "{roff(" ".join(command.path))}"', roff(command.help),
                      ".PP", "Subcommands: " + ", ".join(f"\\fB{roff(s)}\\fR" for s in command.subcommands) + "."]
            continue
        lines += _command(command)
    lines.append(".SH EXIT STATUS")
    for code in ExitCode:
        lines += [".TP", f"\\fB{int(code)}\\fR ({code.name})", roff(code.meaning)]
    lines += [".SH SEE ALSO", "The README and the \\fBspec/\\fR pages of the source distribution; "
              "\\fBhsi\\-conform explain\\fR \\fIID\\fR for one rule."]
    return "\n".join(line for line in lines if line != "") + "\n"
