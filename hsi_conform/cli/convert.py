"""The ``convert``, ``formats`` and ``migrate`` subcommands of ``hsi-conform``.

``--option KEY=VALUE`` options go to the source converter when its ``read`` takes that keyword (e.g. the legacy
reader's ``quantize``), otherwise to the destination converter's ``write``. ``convert`` prints what the reader
noted (inferred values, quantisation error) and validates ``.hsi`` outputs: it exits ``OK`` when the output has
no ERROR finding, ``NONCONFORMANT`` otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hsi_conform.errors import ConfigError, ConverterNotFoundError, ExitCode


def add_convert(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform convert``."""
    p = sub.add_parser("convert", help="convert between .hsi and other formats",
                       description="Convert SRC to DST through the neutral dataset (formats: hsi-conform formats).")
    p.add_argument("source", type=Path, metavar="SRC")
    p.add_argument("dest", type=Path, metavar="DST")
    p.add_argument("--from", dest="from_format", default=None, metavar="FMT", help="source format (default: detected)")
    p.add_argument("--to", dest="to_format", default=None, metavar="FMT",
                   help="destination format: hsi, envi, specim, hdf5, tiff, ... (default: from DST's suffix)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="format option (repeatable)")
    p.set_defaults(run=cmd_convert)


def add_formats(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform formats``."""
    p = sub.add_parser("formats", help="list the converters and whether they are available")
    p.set_defaults(run=cmd_formats)


def add_migrate(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform migrate``."""
    p = sub.add_parser("migrate", help="convert every dataset of a tree to validated .hsi files (resumable)",
                       description="Walk SRC_DIR (read only), convert each recognised dataset to DST_DIR/<path>.hsi, "
                                   "validate it and journal it in DST_DIR/migrate-journal.jsonl.")
    p.add_argument("source", type=Path, metavar="SRC_DIR")
    p.add_argument("dest", type=Path, metavar="DST_DIR")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="reader option, e.g. quantize=int16 (repeatable)")
    p.set_defaults(run=cmd_migrate)


def parse_options(values: list[str]) -> dict[str, str]:
    """Parse ``KEY=VALUE`` strings.

    Raises:
        ConfigError: an item without ``=`` or with an empty key.
    """
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _converter(name: str) -> Any:
    from hsi_conform.converters import get_converter

    try:
        return get_converter(name)
    except ConverterNotFoundError as exc:
        raise ConfigError(f"unknown format {name!r} (installed: {', '.join(exc.candidates)})") from exc


def cmd_convert(args: argparse.Namespace) -> ExitCode:
    """Run ``convert``."""
    from hsi_conform.converters import detect, format_for
    from hsi_conform.converters.migrate import split_options
    from hsi_conform.errors import InputUnreadableError

    options = parse_options(args.option)
    if not args.source.exists():
        raise InputUnreadableError(str(args.source), "no such file or directory")
    try:
        to_format = args.to_format or format_for(args.dest)
    except ConverterNotFoundError as exc:
        raise ConfigError(f"cannot tell the format of {args.dest} from its suffix: give --to") from exc
    writer = _converter(to_format)
    reader = _converter(args.from_format) if args.from_format else detect(args.source)
    read_opts, write_opts = split_options(reader, options)
    dataset = reader.read(args.source, **read_opts)
    args.dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        written = writer.write(dataset, args.dest, **write_opts)
    except TypeError as exc:  # unknown writer options
        raise ConfigError(str(exc)) from exc
    print(f"converted {args.source} ({reader.name}) -> {written} ({writer.name})")
    for note in dataset.notes:
        print(f"  note: {note}")
    if writer.name != "hsi":
        return ExitCode.OK
    from hsi_conform.validate import check

    report = check(written)
    counts = ", ".join(f"{n} {label}" for label, n in report.counts.items())
    print(f"  validation: {'conformant' if report.conformant else 'NOT conformant'} ({counts})")
    return ExitCode.OK if report.conformant else ExitCode.NONCONFORMANT


def cmd_formats(args: argparse.Namespace) -> ExitCode:
    """Run ``formats``: name, availability (or the pip command) and description of every converter."""
    from hsi_conform.converters import missing_requirements, registered
    from hsi_conform.errors import ConverterUnavailableError

    rows = []
    for name, entry in registered().items():
        try:
            cls = entry.load()
        except Exception as exc:  # a broken plugin is listed, not fatal
            rows.append((name, "broken", f"failed to load: {exc}"))
            continue
        missing = missing_requirements(cls)
        state = ConverterUnavailableError(name, missing, cls.extra).install_command if missing else "available"
        rows.append((name, state, cls.description))
    width = max((len(r[0]) for r in rows), default=4)
    state_width = max((len(r[1]) for r in rows), default=9)
    for name, state, description in rows:
        sys.stdout.write(f"{name:<{width}}  {state:<{state_width}}  {description}\n")
    return ExitCode.OK


def cmd_migrate(args: argparse.Namespace) -> ExitCode:
    """Run ``migrate``: print the summary; exit ``OK`` when everything converted without ERROR findings."""
    from hsi_conform.converters.migrate import migrate

    summary = migrate(args.source, args.dest, options=parse_options(args.option))
    for line in summary.lines():
        print(line)
    return summary.exit_code
