"""``hsi-conform formats [NAME...]``: every converter, what it reads, writes and takes (spec/cli-tools.md#formats).

Everything shown comes from the converter registry and each converter's declarations (``suffixes``, ``extra``,
``read_options``/``write_options``), so a plugin appears exactly like a built-in. ``--format json`` prints the
same as a list of objects; README's option table is generated from :func:`describe_formats` too.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hsi_conform.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from hsi_conform.converters.base import OptionSpec

FORMATS = ("text", "json")


def add_formats(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform formats``."""
    p = sub.add_parser("formats", help="list the converters: what each reads and writes, needs, and its options",
                       description="List every installed converter: read and write support, suffixes, the extra it "
                                   "needs, and each --option with its type, default, choices and what it needs.")
    p.add_argument("names", nargs="*", metavar="NAME", help="only these converters (e.g. hdf5)")
    p.add_argument("--format", choices=FORMATS, default=FORMATS[0], dest="formats_format",
                   help="text (default) or json")
    p.set_defaults(run=cmd_formats)


def option_dicts(side: str, table: Mapping[str, OptionSpec]) -> list[dict[str, Any]]:
    """Return one JSON-ready description per option of a ``read_options`` or ``write_options`` table."""
    from hsi_conform.converters.base import option_text, option_type

    return [{"name": name, "side": side, "type": option_type(spec), "default": option_text(spec.default),
             "choices": [option_text(c) for c in spec.choices], "needs": [n.describe() for n in spec.needs],
             "help": spec.help} for name, spec in table.items()]


def describe_formats() -> list[dict[str, Any]]:
    """Return every registered converter as a JSON-ready dict, by name (a broken plugin with its load error)."""
    from hsi_conform.converters import missing_requirements, registered
    from hsi_conform.errors import ConverterUnavailableError

    out: list[dict[str, Any]] = []
    for name, entry in registered().items():
        try:
            cls = entry.load()
        except Exception as exc:  # a broken or non-conforming plugin is listed, not fatal
            out.append({"name": name, "state": "broken", "error": f"failed to load: {exc}"})
            continue
        missing = missing_requirements(cls)
        out.append({
            "name": name, "state": "missing" if missing else "available",
            "install": ConverterUnavailableError(name, missing, cls.extra).install_command if missing else None,
            "description": cls.description, "read": True, "write": bool(getattr(cls, "writes", True)),
            "suffixes": list(cls.suffixes), "extra": cls.extra, "requires": list(cls.requires),
            "options": option_dicts("read", cls.read_options) + option_dicts("write", cls.write_options),
        })
    return out


def _selected(rows: list[dict[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    known = [r["name"] for r in rows]
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else f"installed: {', '.join(known)}"
            raise ConfigError(f"no format {name!r} ({hint})")
    return [r for r in rows if not names or r["name"] in names]


def _option_line(option: dict[str, Any]) -> str:
    kind = option["type"]
    if option["choices"]:
        kind = f"one of {', '.join(option['choices'])}" + (" or none" if kind.endswith(" or none") else "")
    needs = "".join(f"; only when {n}" for n in option["needs"])
    return f"{option['side']} {option['name']}={option['default']}  ({kind}{needs})  {option['help']}"


def render_text(rows: list[dict[str, Any]]) -> str:
    """Return the text listing: a line per converter, then its description and one line per option, indented."""
    width = max((len(r["name"]) for r in rows), default=4)
    lines = []
    for row in rows:
        if row["state"] == "broken":
            lines.append(f"{row['name']:<{width}}  broken  {row['error']}")
            continue
        sides = "read, write" if row["write"] else "read only"
        state = row["install"] or "available"
        suffixes = " ".join(row["suffixes"]) or "-"
        extra = f"[{row['extra']}]" if row["extra"] else "core"
        lines.append(f"{row['name']:<{width}}  {state}  {sides}; suffixes {suffixes}; {extra}")
        lines.append(f"{'':<{width}}  {row['description']}")
        lines += [f"{'':<{width}}  {_option_line(o)}" for o in row["options"]]
    return "\n".join(lines) + "\n"


def cmd_formats(args: argparse.Namespace) -> ExitCode:
    """Run ``formats``."""
    rows = _selected(describe_formats(), args.names)
    if args.formats_format == "json":
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(rows))
    return ExitCode.OK
