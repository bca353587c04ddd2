"""The ``convert`` and ``migrate`` subcommands of ``hsi-conform``.

``--option KEY=VALUE`` options go to the converter that declares them: the source's ``read_options`` (e.g. the
legacy reader's ``quantize``), the destination's ``write_options``, or both; an option neither declares exits 2
naming what each accepts (``hsi-conform formats`` lists them all). ``convert`` runs the one pipeline,
:func:`hsi_conform.converters.run_conversion`, prints what the reader noted (inferred values, quantisation error)
and validates ``.hsi`` outputs: it exits ``OK`` when the output has no ERROR
finding, ``NONCONFORMANT`` otherwise, naming the rule of each such finding.

A nonconformant container source is refused (its findings printed, exit ``NONCONFORMANT``, nothing written) unless
``--allow-nonconformant`` is given; an output that is an input is a usage error (spec/safety.md#refused).

``--no-thumbnail`` is the ``hsi`` writer's option ``thumbnail=false``: a ``.hsi`` output gets no ``thumbnail.jpg``
rendered from its cube (spec/previews.md#writers); for another destination it is an unknown option (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hsi_conform.cli.batching import add_executor_options, open_executor
from hsi_conform.errors import ConfigError, ConverterNotFoundError, ExitCode

if TYPE_CHECKING:
    from hsi_conform.finding import Report


def add_convert(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform convert``."""
    p = sub.add_parser("convert", help="convert between .hsi and other formats",
                       description="Convert SRC to DST through the neutral dataset (formats: hsi-conform formats).")
    p.add_argument("source", type=Path, metavar="SRC")
    p.add_argument("dest", type=Path, metavar="DST")
    p.add_argument("--from", dest="from_format", default=None, metavar="FMT", help="source format (default: detected)")
    p.add_argument("--to", dest="to_format", default=None, metavar="FMT",
                   help="destination format: hsi, envi, specim, hdf5, tiff, ... (default: from DST's suffix)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="reader or writer option (repeatable; hsi-conform formats lists them)")
    _add_allow_nonconformant(p)
    _add_no_thumbnail(p)
    p.set_defaults(run=cmd_convert)


def _add_allow_nonconformant(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-nonconformant", action="store_true",
                   help="convert a .hsi source that does not conform anyway (its findings are kept in the output as "
                        "Metadata/hsi-conform/source-report.json); by default it is refused")


def _add_no_thumbnail(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-thumbnail", action="store_true",
                   help="write no thumbnail.jpg when the source has none (the hsi writer's option thumbnail=false); "
                        "by default one is rendered from the cube")


def add_migrate(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``hsi-conform migrate``."""
    p = sub.add_parser("migrate", help="convert every dataset of a tree to validated .hsi files (resumable)",
                       description="Walk SRC_DIR (read only), convert each recognised dataset to DST_DIR/<path>.hsi, "
                                   "validate it and journal it in DST_DIR/migrate-journal.jsonl.")
    p.add_argument("source", metavar="SRC_DIR")  # a str: a URL must reach migrate unmangled, to be refused
    p.add_argument("dest", metavar="DST_DIR")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="reader option, e.g. quantize=int16 (repeatable)")
    _add_allow_nonconformant(p)
    _add_no_thumbnail(p)
    add_executor_options(p, jobs=True)
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


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """Return the ``--option`` values, with ``--no-thumbnail`` as the ``thumbnail`` option of the hsi writer."""
    options: dict[str, Any] = dict(parse_options(args.option))
    if args.no_thumbnail:
        options["thumbnail"] = False
    return options


def cmd_convert(args: argparse.Namespace) -> ExitCode:
    """Run ``convert``."""
    from hsi_conform.converters import run_conversion
    from hsi_conform.errors import InputNotFoundError, NonconformantSourceError

    options = _options(args)
    if not args.source.exists():
        raise InputNotFoundError(str(args.source))
    try:
        done = run_conversion(args.source, args.dest, options, from_format=args.from_format, to_format=args.to_format,
                              allow_nonconformant=args.allow_nonconformant)
    except ConverterNotFoundError as exc:
        usage = _usage_error(exc, args)
        if usage is None:
            raise  # no converter reads the source: exit 3, as for any unreadable input
        raise usage from exc
    except NonconformantSourceError as exc:
        from hsi_conform.report import render

        sys.stdout.write(render("text", [exc.report]))  # the findings, as validate prints them
        raise
    print(f"converted {args.source} ({done.reader}) -> {done.written} ({done.writer})")
    for note in done.notes:
        print(f"  note: {note}")
    if done.writer != "hsi":
        return ExitCode.OK
    from hsi_conform.validate import check

    report = check(done.written)
    counts = ", ".join(f"{n} {label}" for label, n in report.counts.items())
    print(f"  validation: {'conformant' if report.conformant else 'NOT conformant'} ({counts})")
    _print_failures(report)
    return ExitCode.OK if report.conformant else ExitCode.NONCONFORMANT


def _print_failures(report: Report) -> None:
    """Name the rule of every finding that makes the output nonconformant (the exit code alone says too little)."""
    from hsi_conform.report.text import clean

    for finding in report.failures():
        where = f" {finding.location}:" if str(finding.location) else ":"
        print(f"    {finding.severity.label} {finding.rule} [{finding.name}]{clean(where)} {clean(finding.message)}")


def _usage_error(exc: ConverterNotFoundError, args: argparse.Namespace) -> ConfigError | None:
    """Return the usage error (exit 2) a failed lookup means, or None when the source is what no converter reads."""
    if exc.source in (args.from_format, args.to_format):
        return ConfigError(f"unknown format {exc.source!r} (installed: {', '.join(exc.candidates)})")
    if exc.source == str(args.dest):
        return ConfigError(f"cannot tell the format of {args.dest} from its suffix: give --to")
    return None


def cmd_migrate(args: argparse.Namespace) -> ExitCode:
    """Run ``migrate``: print the summary; exit ``OK`` when everything converted without ERROR findings."""
    from hsi_conform.converters.migrate import migrate

    with open_executor(args) as executor:
        summary = migrate(args.source, args.dest, options=_options(args),
                          allow_nonconformant=args.allow_nonconformant, executor=executor)
    for line in summary.lines():
        print(line)
    return summary.exit_code
