"""The argument parser's conventions (spec/cli.md#help).

Help that shows defaults and choices, examples and exit codes; no abbreviations; usage errors that name the
subcommand and suggest the closest spelling.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NoReturn

from hsi_conform.errors import ExitCode

__all__ = ["EXAMPLES", "HelpFormatter", "Parser", "exit_code_lines", "finish", "leaf_parsers"]

EXAMPLES: Mapping[str, tuple[str, ...]] = {
    "validate": ("hsi-conform validate scene.hsi", "hsi-conform validate -q --content full archive/",
                 "hsi-conform validate --format json -o - scene.hsi | jq .conformant"),
    "rules": ("hsi-conform rules", "hsi-conform rules --format markdown"),
    "explain": ("hsi-conform explain HDR015", "hsi-conform explain key-case"),
    "sample": ("hsi-conform sample scene.hsi", "hsi-conform sample --minimal --bands 8 small.hsi"),
    "demo": ("hsi-conform demo", "hsi-conform demo demo-output"),
    "convert": ("hsi-conform convert scene.hsi scene.h5", "hsi-conform convert capture/ scene.hsi --from specim",
                "hsi-conform convert --overwrite scene.hsi scene.tif"),
    "formats": ("hsi-conform formats", "hsi-conform formats | grep hdf5"),
    "migrate": ("hsi-conform migrate archive/ converted/", "hsi-conform migrate --option quantize=int16 old/ new/",
                "hsi-conform migrate archive/ s3://bucket/hsi --storage-option endpoint_url=https://s3.example.org"),
    "corpus export": ("hsi-conform corpus export cases/", "hsi-conform corpus export --generate 50 cases/"),
    "corpus run": ("hsi-conform corpus run --reader gdal", "hsi-conform corpus run --reader 'my-reader {file}' cases/"),
    "procedures": ("hsi-conform procedures scene.hsi view.hsi",
                   "hsi-conform procedures --calibrate raw.hsi view.hsi"),
    "calibrate": ("hsi-conform calibrate raw.hsi reflectance.hsi",
                  "hsi-conform calibrate --dtype uint16 raw.hsi reflectance.hsi"),
    "previews": ("hsi-conform previews scene.hsi with-previews.hsi",
                 "hsi-conform previews --lods 2,4 --bands rgb scene.hsi with-previews.hsi"),
    "fix": ("hsi-conform fix --dry-run scene.hsi", "hsi-conform fix scene.hsi fixed.hsi",
            "hsi-conform fix --in-place scene.hsi"),
    "info": ("hsi-conform info scene.hsi", "hsi-conform info --format json scene.h5",
             "hsi-conform info https://data.example.org/scene.hsi"),
    "refs": ("hsi-conform refs scene.hsi -o scene.json", "hsi-conform refs --combine archive/ -o stack.json",
             "hsi-conform refs scene.hsi --url s3://bucket/scene.hsi -o scene.json"),
    "metadata": ("hsi-conform metadata scene.hsi --to stac -o scene.stac.json",
                 "hsi-conform metadata scene.hsi --to ieee4001",
                 "hsi-conform metadata scene.hsi --from camera.json -o with-camera.hsi"),
    "completion": ("hsi-conform completion bash > ~/.local/share/bash-completion/completions/hsi-conform",
                   "hsi-conform completion fish > ~/.config/fish/completions/hsi-conform.fish"),
    "manpage": ("hsi-conform manpage > hsi-conform.1", "hsi-conform manpage | man -l -"),
}
"""Two or three command lines per subcommand, shown at the end of its ``--help`` (keyed by its path)."""

_SIGNALS = (ExitCode.HANGUP, ExitCode.INTERRUPTED, ExitCode.TERMINATED)


def exit_code_lines() -> list[str]:
    """Return one line per exit code, from :class:`ExitCode` (the signal codes share one line)."""
    lines = [f"  {int(code):<3} {_plain(code.meaning)}" for code in ExitCode if code not in _SIGNALS]
    signals = ", ".join(str(int(code)) for code in _SIGNALS)
    return [*lines, f"  {signals}: stopped by SIGHUP, SIGINT (Ctrl-C) or SIGTERM; temp files removed"]


def _plain(markdown: str) -> str:
    """Return a table cell of README as terminal text: no backticks or emphasis."""
    return re.sub(r"[`*]", "", markdown)


class HelpFormatter(argparse.HelpFormatter):
    """Help with every option's default and choices; the examples and exit codes kept as written (indented lines)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        extra = []
        if action.choices is not None and action.option_strings and action.metavar is not None:
            extra.append("choices: " + ", ".join(str(c) for c in action.choices))
        if _shows_default(action) and "default" not in text:
            extra.append("default: %(default)s")
        return f"{text} ({'; '.join(extra)})" if extra else text

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        # Paragraphs of indented lines (examples, exit codes) keep their lines; the others are wrapped.
        fill = super()._fill_text
        return "\n\n".join(block if block.startswith("  ") or "\n  " in block else fill(block, width, indent)
                           for block in text.split("\n\n"))


def _shows_default(action: argparse.Action) -> bool:
    if not action.option_strings or action.default in (None, False, [], argparse.SUPPRESS):
        return False
    return not isinstance(action, (argparse._StoreTrueAction, argparse._CountAction, argparse._VersionAction,
                                   argparse._HelpAction))


class Parser(argparse.ArgumentParser):
    """An argument parser that never abbreviates a long option and exits 2 with its own usage on an error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)  # --cont must not mean --content
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Print this parser's usage and the error, with the closest spelling when a word was mistyped; exit 2."""
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}{_suggestion(message, self)}", file=sys.stderr)
        raise SystemExit(ExitCode.USAGE)

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        """Parse; an unknown argument is reported by the (sub)command it was given to, with its usage."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            _chosen(self, parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def _chosen(parser: argparse.ArgumentParser, parsed: argparse.Namespace) -> argparse.ArgumentParser:
    """Return the innermost subcommand parser that ``parsed`` went through."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(parsed, action.dest or "", None)
            if isinstance(name, str) and name in action.choices:
                return _chosen(action.choices[name], parsed)
    return parser


def _suggestion(message: str, parser: argparse.ArgumentParser) -> str:
    """Return ``"; did you mean X?"`` for a mistyped choice, subcommand or option, or ``""``."""
    choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if choice:
        words = re.findall(r"'([^']*)'", choice.group(2)) or [w.strip() for w in choice.group(2).split(",")]
        typed = choice.group(1)
    elif message.startswith("unrecognized arguments: "):
        typed = message.split(": ", 1)[1].split()[0]
        words = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
    else:
        return ""
    close = difflib.get_close_matches(typed, words, n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def leaf_parsers(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Yield ``(path, parser)`` for every subcommand that runs something (``"corpus run"``), in order."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs and path:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from leaf_parsers(child, f"{path} {name}".strip())


def finish(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand the common options (-q, -v) and an epilog: its examples, then the exit codes."""
    from hsi_conform.cli.output import add_volume_options

    for path, child in leaf_parsers(parser):
        add_volume_options(child)
        examples = [f"  $ {line}" for line in EXAMPLES.get(path, ())]
        parts = [child.epilog] if child.epilog else []
        parts += ["examples:\n" + "\n".join(examples)] if examples else []
        parts.append("exit codes:\n" + "\n".join(exit_code_lines()))
        child.epilog = "\n\n".join(parts)
